/* SPDX-License-Identifier: GPL-2.0 */
/*
 * "toytcp ladder": a real connection, traced through toytcp's tracepoints,
 * drawn as the classic sequence diagram (ladder.c: scenarios, trace
 * parsing, the terminal drawing; ladder_svg.c: the SVG drawing).
 */
#ifndef TOYTCP_LADDER_H
#define TOYTCP_LADDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* "toytcp ladder ARGS": argv[0] is "ladder".  Returns the exit status. */
int ladder_main(int argc, char **argv);

/* ---- the model both drawings share (built by ladder.c) ---- */

enum { CLIENT, SERVER };

struct ladder_arrow {
	int from;		/* CLIENT or SERVER: the sender */
	bool has_out, has_in;	/* seen sent / seen received */
	double t_out, t_in;	/* seconds since the connection's first event */
	char flags[32];		/* "SYN|ACK" as the trace prints them */
	uint32_t seq, ack, len;	/* seq and ack relative to the ISNs, unless --absolute */
	bool has_ack;		/* the ACK flag: ack is meaningful */
};

enum ladder_row_kind {
	ROW_ARROW,		/* a segment: arrow, states after it, notes */
	ROW_STATE,		/* a state change not tied to an arrow */
	ROW_GAP,		/* time passes: text says how long */
	ROW_HEAD,		/* a phase begins: text names it */
};

struct ladder_row {
	enum ladder_row_kind kind;
	double t;
	int arrow;		/* ROW_ARROW: index into arrows */
	const char *state[2];	/* the state each side enters on this row */
	char text[96];		/* ROW_GAP, ROW_HEAD */
	char note[1024];	/* notes, '\n' between them; may be empty */
};

struct ladder {
	const char *title;
	char end[2][32];	/* "127.0.0.1:40000" */
	const char *side_name[2];
	const char *initial[2];	/* states before the first row */
	uint32_t isn[2];
	bool absolute;
	struct ladder_arrow *arrows;
	int n_arrows;
	struct ladder_row *rows;
	int n_rows;
	char relative[160];	/* "seq and ack are relative to..." */
	char summary[2048];	/* lines printed below the drawing */
};

/* Display width of UTF-8 text (CJK characters count two columns). */
int ladder_width(const char *s);
/*
 * Wrap @text (one paragraph) to @width columns: calls @line for each line.
 */
void ladder_wrap(const char *text, int width,
		 void (*line)(const char *s, int len, void *arg), void *arg);
/* "SYN|ACK seq=0 ack=1 len=0" */
void ladder_label(const struct ladder *l, const struct ladder_arrow *a,
		  char *buf, size_t size);

int ladder_write_svg(const struct ladder *l, FILE *f);

#endif /* TOYTCP_LADDER_H */
