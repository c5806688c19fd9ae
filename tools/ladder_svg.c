// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp ladder as SVG: the same rows as the terminal drawing (ladder.c),
 * as a standalone SVG 1.1 document.  Two lifelines, a slanted arrow per
 * segment (a lost one stops half way at a cross), the state each side
 * enters in a box beside its lifeline, notes in a column on the right.
 */
#include <stdlib.h>
#include <string.h>

#include "ladder.h"

#define SVG_W		1140
#define X_TIME		14
#define X_CLIENT	250
#define X_SERVER	630
#define BOX_W		112
#define X_NOTES		770
#define NOTE_COLS	56	/* display columns of a note line, ~6.3 px each */
#define LINE_H		16
#define SLANT		14	/* an arrow drops this much on its way across */

static void xml_text(FILE *f, const char *s, int len)
{
	int i;

	for (i = 0; i < len && s[i]; i++) {
		switch (s[i]) {
		case '&':
			fputs("&amp;", f);
			break;
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		default:
			fputc(s[i], f);
		}
	}
}

struct note_ctx {
	FILE *f;	/* NULL: only count the lines */
	int y, lines;
};

static void note_line(const char *s, int len, void *arg)
{
	struct note_ctx *c = arg;

	if (c->f) {
		fprintf(c->f, "<text class=\"note\" x=\"%d\" y=\"%d\">",
			X_NOTES, c->y + c->lines * LINE_H);
		xml_text(c->f, s, len);
		fputs("</text>\n", c->f);
	}
	c->lines++;
}

/* The row's notes, one paragraph per line of r->note; returns the lines. */
static int notes(const struct ladder_row *r, FILE *f, int y)
{
	struct note_ctx c = { f, y, 0 };
	const char *p = r->note;
	char para[1024];

	while (*p) {
		size_t n = strcspn(p, "\n");

		snprintf(para, sizeof(para), "%.*s", (int)n, p);
		ladder_wrap(para, NOTE_COLS, note_line, &c);
		p += n;
		if (*p)
			p++;
	}
	return c.lines;
}

static int row_height(const struct ladder_row *r)
{
	int h = r->kind == ROW_ARROW ? 40 : 30;
	int n = notes(r, NULL, 0) * LINE_H + 10;

	return n > h ? n : h;
}

static void state_box(FILE *f, int side, int y, const char *state)
{
	int x = side == 0 ? X_CLIENT - 8 - BOX_W : X_SERVER + 8;

	fprintf(f, "<rect class=\"state\" x=\"%d\" y=\"%d\" width=\"%d\" height=\"20\" rx=\"4\"/>\n",
		x, y - 14, BOX_W);
	fprintf(f, "<text class=\"statet\" x=\"%d\" y=\"%d\">", x + BOX_W / 2, y);
	xml_text(f, state, (int)strlen(state));
	fputs("</text>\n", f);
}

static void side_head(FILE *f, const struct ladder *l, int side, int x)
{
	fprintf(f, "<rect class=\"head\" x=\"%d\" y=\"44\" width=\"180\" height=\"40\" rx=\"6\"/>\n",
		x - 90);
	fprintf(f, "<text class=\"headt\" x=\"%d\" y=\"60\">", x);
	xml_text(f, l->side_name[side], (int)strlen(l->side_name[side]));
	fprintf(f, "</text>\n<text class=\"addr\" x=\"%d\" y=\"77\">", x);
	xml_text(f, l->end[side], (int)strlen(l->end[side]));
	fputs("</text>\n", f);
}

int ladder_write_svg(const struct ladder *l, FILE *f)
{
	int k, y, h = 130, mid = (X_CLIENT + X_SERVER) / 2, *ypos;
	char label[128];

	for (k = 0; k < l->n_rows; k++)
		h += row_height(&l->rows[k]);
	h += 30;
	/* the summary lines below */
	for (const char *p = l->summary; *p; p++)
		if (*p == '\n')
			h += LINE_H;
	h += 20;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" "
		"width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\">\n",
		SVG_W, h, SVG_W, h);
	fputs("<title>toytcp ladder: ", f);
	xml_text(f, l->title, (int)strlen(l->title));
	fputs("</title>\n", f);
	fputs("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" "
	      "markerWidth=\"8\" markerHeight=\"8\" orient=\"auto\">"
	      "<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#222\"/></marker></defs>\n", f);
	fputs("<style>\n"
	      "text { font-family: 'DejaVu Sans', 'Noto Sans CJK SC', sans-serif; font-size: 12px; fill: #222; }\n"
	      ".title { font-size: 16px; font-weight: bold; }\n"
	      ".head { fill: #e8eef8; stroke: #4a6fa5; }\n"
	      ".headt { font-weight: bold; text-anchor: middle; font-size: 14px; }\n"
	      ".addr, .statet, .label, .phase, .gap { text-anchor: middle; }\n"
	      ".addr, .label, .time { font-family: 'DejaVu Sans Mono', monospace; }\n"
	      ".label { paint-order: stroke; stroke: #fff; stroke-width: 4px; }\n"
	      ".time { fill: #777; font-size: 11px; }\n"
	      ".life { stroke: #4a6fa5; stroke-width: 2; }\n"
	      ".seg { stroke: #222; stroke-width: 1.5; fill: none; }\n"
	      ".lost { stroke: #c03030; stroke-width: 1.5; stroke-dasharray: 5,3; }\n"
	      ".cross { fill: #c03030; font-weight: bold; font-size: 16px; text-anchor: middle; }\n"
	      ".state { fill: #fff4d6; stroke: #b8860b; }\n"
	      ".statet { font-size: 11px; font-weight: bold; }\n"
	      ".phase { font-weight: bold; fill: #4a6fa5; }\n"
	      ".phasel { stroke: #4a6fa5; stroke-dasharray: 2,3; }\n"
	      ".gap { fill: #777; font-style: italic; }\n"
	      ".note { fill: #1e5a32; }\n"
	      "</style>\n", f);
	fprintf(f, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
		SVG_W, h);
	fputs("<text class=\"title\" x=\"14\" y=\"26\">toytcp ladder: ", f);
	xml_text(f, l->title, (int)strlen(l->title));
	fputs("</text>\n", f);
	if (!l->absolute)
	{
		fprintf(f, "<text class=\"time\" x=\"%d\" y=\"26\">", X_NOTES - 120);
		xml_text(f, l->relative, (int)strlen(l->relative));
		fputs("</text>\n", f);
	}
	side_head(f, l, 0, X_CLIENT);
	side_head(f, l, 1, X_SERVER);
	fprintf(f, "<line class=\"life\" x1=\"%d\" y1=\"84\" x2=\"%d\" y2=\"%d\"/>\n",
		X_CLIENT, X_CLIENT, h - 20 - LINE_H * 3);
	fprintf(f, "<line class=\"life\" x1=\"%d\" y1=\"84\" x2=\"%d\" y2=\"%d\"/>\n",
		X_SERVER, X_SERVER, h - 20 - LINE_H * 3);
	fprintf(f, "<text class=\"time\" x=\"%d\" y=\"112\">ms</text>\n", X_TIME);
	state_box(f, 0, 112, l->initial[0]);
	state_box(f, 1, 112, l->initial[1]);

	ypos = malloc((l->n_rows + 1) * sizeof(int));
	if (!ypos)
		return -1;
	for (k = 0, y = 130; k < l->n_rows; k++) {
		ypos[k] = y;
		y += row_height(&l->rows[k]);
	}
	y = 130;
	for (k = 0; k < l->n_rows; k++) {
		const struct ladder_row *r = &l->rows[k];
		const struct ladder_arrow *a;
		int rh = row_height(r), x1, x2, yc = y + 16, s, y2 = yc + SLANT, m;

		switch (r->kind) {
		case ROW_HEAD:
			fprintf(f, "<line class=\"phasel\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
				X_CLIENT - 120, yc, SVG_W - 14, yc);
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"200\" height=\"18\" fill=\"#fff\"/>\n",
				mid - 100, yc - 13);
			fprintf(f, "<text class=\"phase\" x=\"%d\" y=\"%d\">", mid, yc);
			xml_text(f, r->text, (int)strlen(r->text));
			fputs("</text>\n", f);
			break;
		case ROW_GAP:
			fprintf(f, "<text class=\"gap\" x=\"%d\" y=\"%d\">&#8942; ", mid, yc);
			xml_text(f, r->text, (int)strlen(r->text));
			fputs(" &#8942;</text>\n", f);
			break;
		case ROW_STATE:
			fprintf(f, "<text class=\"time\" x=\"%d\" y=\"%d\">%.3f</text>\n",
				X_TIME, yc, r->t * 1000);
			break;
		case ROW_ARROW:
			a = &l->arrows[r->arrow];
			fprintf(f, "<text class=\"time\" x=\"%d\" y=\"%d\">%.3f</text>\n",
				X_TIME, yc, r->t * 1000);
			x1 = a->from == 0 ? X_CLIENT : X_SERVER;
			x2 = a->from == 0 ? X_SERVER : X_CLIENT;
			/*
			 * Still in flight when later rows happen (the FINs
			 * of a simultaneous close): the arrow ends there.
			 */
			for (m = k + 1; a->has_in && m < l->n_rows; m++) {
				if (l->rows[m].kind != ROW_ARROW && l->rows[m].kind != ROW_STATE)
					continue;
				if (l->rows[m].t > a->t_in) {
					/* it arrives before this row */
					if (y2 != yc + SLANT)
						y2 = ypos[m] + 8;
					break;
				}
				y2 = ypos[m] + 16 + 2 * SLANT;
			}
			if (a->has_in) {
				fprintf(f, "<line class=\"seg\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" "
					"marker-end=\"url(#arrow)\"/>\n", x1, yc, x2, y2);
			} else {
				fprintf(f, "<line class=\"lost\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\"/>\n",
					x1, yc, mid, yc + SLANT / 2);
				fprintf(f, "<text class=\"cross\" x=\"%d\" y=\"%d\">&#215;</text>\n",
					mid, yc + SLANT / 2 + 5);
			}
			ladder_label(l, a, label, sizeof(label));
			fprintf(f, "<text class=\"label\" x=\"%d\" y=\"%d\">", mid, yc - 2);
			xml_text(f, label, (int)strlen(label));
			fputs("</text>\n", f);
			break;
		}
		/* the sender's state where its arrow leaves, the receiver's
		 * where it arrives */
		for (s = 0; s < 2; s++)
			if (r->state[s])
				state_box(f, s, yc + (r->kind == ROW_ARROW &&
						      l->arrows[r->arrow].from != s ?
						      y2 - yc : 0) + 4,
					  r->state[s]);
		notes(r, f, y + 14);
		y += rh;
	}

	y += 30;
	for (const char *p = l->summary; *p; ) {
		size_t n = strcspn(p, "\n");

		fprintf(f, "<text x=\"%d\" y=\"%d\">", X_TIME, y);
		xml_text(f, p, (int)n);
		fputs("</text>\n", f);
		y += LINE_H;
		p += n;
		if (*p)
			p++;
	}
	fputs("</svg>\n", f);
	free(ypos);
	return ferror(f) ? -1 : 0;
}
