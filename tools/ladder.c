// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp ladder - a real connection drawn as a sequence diagram.
 *
 * The tool runs one scenario (client and server sockets in this process,
 * in two network namespaces if asked) with the toytcp tracepoints on, then
 * reads the trace back and keeps the events of that connection's 4-tuple
 * (not the hashed sk=%p, which can be the same for every socket early in a
 * boot):
 *
 *   toytcp_segment out/in  each segment once as an arrow from the sender
 *                          to the receiver; "out" without "in" is lost
 *   toytcp_state           the state each side enters, beside the arrow
 *                          that made it (received) or that it sends next
 *
 * and draws the ladder in the terminal (and as SVG, ladder_svg.c), with
 * notes on what each handshake step teaches and why the close takes four
 * segments.  --trace FILE draws an already captured trace instead.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#if __has_include("toytcp.h")
#include "toytcp.h"
#endif
#ifndef IPPROTO_TOYTCP
#define IPPROTO_TOYTCP 253
#endif

#include "ladder.h"

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

/* How long the server's application "works" before closing (CLOSE-WAIT). */
#define APP_CLOSE_MS	100

enum ladder_case { CASE_NORMAL, CASE_HALF_CLOSE, CASE_SIMULTANEOUS,
		   CASE_SYN_RETRANSMIT };

static const char *const case_names[] = {
	"normal", "half-close", "simultaneous-close", "syn-retransmit",
};

static const char ladder_usage[] =
"Usage: toytcp ladder [--case CASE] [--lang en|zh] [--svg FILE]\n"
"                     [--server-ns NAME --client-ns NAME --addr IP]\n"
"                     [--save-trace FILE] [--absolute]\n"
"       toytcp ladder --trace FILE [--case CASE] [--client ADDR:PORT] ...\n"
"\n"
"Runs a connection over toytcp with the toytcp tracepoints on and draws it\n"
"from the trace as a sequence diagram: each segment an arrow (flags, seq,\n"
"ack, data length), the state each side enters, notes on the handshake\n"
"and the close.  Needs root (tracefs, /sys/kernel/tracing).\n"
"\n"
"  --case CASE      normal (default): handshake, data each way, four-way close\n"
"                   half-close: the client shuts down its sending side, the\n"
"                     server still sends after the client's FIN\n"
"                   simultaneous-close: both close at once (the FINs cross\n"
"                     only if the path has a delay: use namespaces + netem)\n"
"                   syn-retransmit: the listener's queue is full, the SYN is\n"
"                     dropped and sent again after the 1 s initial RTO\n"
"  --lang en|zh     language of the notes (zh: Chinese)\n"
"  --svg FILE       also write the diagram as SVG\n"
"  --server-ns NAME, --client-ns NAME\n"
"                   create each side's socket in /run/netns/NAME\n"
"  --addr IP        the server's address (default 127.0.0.1)\n"
"  --port PORT      the server's port (default: an ephemeral one)\n"
"  --trace FILE     draw a captured trace (a copy of /sys/kernel/tracing/trace,\n"
"                   - for stdin) instead of running a connection\n"
"  --client ADDR:PORT  with --trace: the connection's client (default: the\n"
"                   last connection opened in the trace)\n"
"  --save-trace FILE   keep the raw trace lines of the run\n"
"  --absolute       raw sequence numbers (default: relative to each ISN)\n";

/* ---- small helpers ---- */

static void fatal(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("toytcp ladder: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_RUNTIME);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (!p)
		fatal("out of memory");
	return p;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Append to a note: notes on one row are separate paragraphs. */
static void note_add(char *note, size_t size, const char *fmt, ...)
{
	size_t n = strlen(note);
	va_list ap;

	if (n && n + 1 < size)
		note[n++] = '\n';
	va_start(ap, fmt);
	vsnprintf(note + n, size - n, fmt, ap);
	va_end(ap);
}

/* ---- UTF-8 display width and wrapping ---- */

static int cp_width(uint32_t c)
{
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6))
		return 2;
	return 1;
}

/* Decode one code point at @s; returns its length in bytes. */
static int utf8_next(const char *s, uint32_t *cp)
{
	const unsigned char *u = (const unsigned char *)s;

	if (u[0] < 0x80) {
		*cp = u[0];
		return 1;
	}
	if ((u[0] & 0xe0) == 0xc0 && u[1]) {
		*cp = (u[0] & 0x1f) << 6 | (u[1] & 0x3f);
		return 2;
	}
	if ((u[0] & 0xf0) == 0xe0 && u[1] && u[2]) {
		*cp = (u[0] & 0x0f) << 12 | (u[1] & 0x3f) << 6 | (u[2] & 0x3f);
		return 3;
	}
	if ((u[0] & 0xf8) == 0xf0 && u[1] && u[2] && u[3]) {
		*cp = (u[0] & 0x07) << 18 | (u[1] & 0x3f) << 12 |
		      (u[2] & 0x3f) << 6 | (u[3] & 0x3f);
		return 4;
	}
	*cp = '?';
	return 1;
}

int ladder_width(const char *s)
{
	uint32_t cp;
	int w = 0;

	while (*s) {
		s += utf8_next(s, &cp);
		w += cp_width(cp);
	}
	return w;
}

/* Chinese punctuation that must not begin a line */
static bool closing_punct(const char *s)
{
	static const char *const p[] = { "。", "，", "、", "）", "：", "；",
					 "！", "？" };
	unsigned int i;

	for (i = 0; i < sizeof(p) / sizeof(p[0]); i++)
		if (!strncmp(s, p[i], strlen(p[i])))
			return true;
	return false;
}

void ladder_wrap(const char *text, int width,
		 void (*line)(const char *s, int len, void *arg), void *arg)
{
	const char *p = text;

	while (*p) {
		const char *q = p, *brk = NULL;
		uint32_t cp;
		int w = 0, n;

		while (*p == ' ')
			p++;
		q = p;
		while (*q) {
			n = utf8_next(q, &cp);
			if (w + cp_width(cp) > width)
				break;
			w += cp_width(cp);
			q += n;
			/*
			 * break after a space, or after a wide character
			 * unless punctuation that closes follows
			 */
			if (*q == ' ' || (cp_width(cp) == 2 && !closing_punct(q)))
				brk = q;
		}
		if (*q && brk && brk > p)
			q = brk;
		if (q == p)	/* one character wider than the line */
			q += utf8_next(q, &cp);
		line(p, (int)(q - p), arg);
		p = q;
	}
}

/* ---- the trace ---- */

struct ep {
	uint32_t addr;		/* network order */
	uint16_t port;
};

enum tev_type { TEV_STATE, TEV_SEG, TEV_RETX, TEV_RESET };

struct tev {
	enum tev_type type;
	double t;
	struct ep src, dst;
	bool out;
	char flags[32];
	uint32_t seq, ack, len;
	char from[16], to[16];
};

struct trace {
	struct tev *ev;
	int n;
};

static bool ep_eq(struct ep a, struct ep b)
{
	return a.addr == b.addr && a.port == b.port;
}

static bool parse_ep(const char *s, struct ep *ep)
{
	char buf[32];
	const char *colon = strrchr(s, ':');
	struct in_addr a;

	if (!colon || colon - s >= (long)sizeof(buf))
		return false;
	memcpy(buf, s, colon - s);
	buf[colon - s] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		return false;
	ep->addr = a.s_addr;
	ep->port = (uint16_t)strtoul(colon + 1, NULL, 10);
	return true;
}

static void fmt_ep(struct ep ep, char *buf, size_t size)
{
	char a[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &ep.addr, a, sizeof(a));
	snprintf(buf, size, "%s:%u", a, ep.port);
}

/* One line of /sys/kernel/tracing/trace; false if it is not a toytcp event. */
static bool parse_line(const char *line, struct tev *e)
{
	static const struct { const char *name; enum tev_type type; } names[] = {
		{ ": toytcp_state: ", TEV_STATE },
		{ ": toytcp_segment: ", TEV_SEG },
		{ ": toytcp_retransmit: ", TEV_RETX },
		{ ": toytcp_reset: ", TEV_RESET },
	};
	const char *p = NULL, *ts;
	char buf[512], *tok, *save;
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]) && !p; i++) {
		p = strstr(line, names[i].name);
		if (p)
			e->type = names[i].type;
	}
	if (!p)
		return false;
	/* the timestamp: "   1234.567890: toytcp_..." */
	ts = p;
	while (ts > line && ts[-1] != ' ')
		ts--;
	e->t = strtod(ts, NULL);
	p = strchr(p + 2, ':') + 2;
	snprintf(buf, sizeof(buf), "%s", p);
	buf[strcspn(buf, "\r\n")] = '\0';
	e->flags[0] = e->from[0] = e->to[0] = '\0';
	e->seq = e->ack = e->len = 0;
	e->out = false;
	memset(&e->src, 0, sizeof(e->src));
	memset(&e->dst, 0, sizeof(e->dst));
	for (tok = strtok_r(buf, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save)) {
		if (!strcmp(tok, "out"))
			e->out = true;
		else if (!strncmp(tok, "src=", 4))
			parse_ep(tok + 4, &e->src);
		else if (!strncmp(tok, "dst=", 4))
			parse_ep(tok + 4, &e->dst);
		else if (!strncmp(tok, "flags=", 6))
			snprintf(e->flags, sizeof(e->flags), "%s", tok + 6);
		else if (!strncmp(tok, "seq=", 4))
			e->seq = (uint32_t)strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "ack=", 4))
			e->ack = (uint32_t)strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "len=", 4))
			e->len = (uint32_t)strtoul(tok + 4, NULL, 10);
		else if (!strncmp(tok, "from=", 5))
			snprintf(e->from, sizeof(e->from), "%s", tok + 5);
		else if (!strncmp(tok, "to=", 3))
			snprintf(e->to, sizeof(e->to), "%s", tok + 3);
	}
	return true;
}

static void trace_parse(struct trace *tr, const char *text)
{
	const char *p = text;
	int cap = 0;

	tr->n = 0;
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		char line[512];
		struct tev e;

		if (len < sizeof(line)) {
			memcpy(line, p, len);
			line[len] = '\0';
			if (parse_line(line, &e)) {
				if (tr->n == cap) {
					cap = cap ? 2 * cap : 256;
					tr->ev = xrealloc(tr->ev, cap * sizeof(*tr->ev));
				}
				tr->ev[tr->n++] = e;
			}
		}
		p += len;
		if (*p)
			p++;
	}
}

static char *read_file(const char *path)
{
	size_t n = 0, cap = 65536;
	char *buf = xrealloc(NULL, cap);
	ssize_t r;
	int fd;

	fd = strcmp(path, "-") ? open(path, O_RDONLY) : 0;
	if (fd < 0)
		fatal("%s: %s", path, strerror(errno));
	for (;;) {
		if (cap - n < 4096) {
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fatal("%s: %s", path, strerror(errno));
		if (r == 0)
			break;
		n += r;
	}
	if (fd)
		close(fd);
	buf[n] = '\0';
	return buf;
}

/*
 * Which side an event belongs to: for a state change, the socket's own
 * side; for a segment, its sender.  -1: another connection.
 */
static int ev_side(const struct tev *e, struct ep cl, struct ep sv)
{
	if (ep_eq(e->src, cl) && ep_eq(e->dst, sv))
		return CLIENT;
	if (ep_eq(e->src, sv) && ep_eq(e->dst, cl))
		return SERVER;
	return -1;
}

/* The last connection opened in the trace: the client of the last SYN. */
static bool find_connection(const struct trace *tr, struct ep *cl, struct ep *sv)
{
	int i;

	for (i = tr->n - 1; i >= 0; i--) {
		const struct tev *e = &tr->ev[i];

		if (e->type == TEV_SEG && !strcmp(e->flags, "SYN")) {
			*cl = e->src;
			*sv = e->dst;
			return true;
		}
	}
	return false;
}

/* The last state each side of the connection reached ("" if none). */
static void last_states(const struct trace *tr, struct ep cl, struct ep sv,
			const char *st[2])
{
	int i, s;

	st[0] = st[1] = "";
	for (i = 0; i < tr->n; i++) {
		if (tr->ev[i].type != TEV_STATE)
			continue;
		s = ev_side(&tr->ev[i], cl, sv);
		if (s >= 0)
			st[s] = tr->ev[i].to;
	}
}

static bool closed_state(const char *s)
{
	return !strcmp(s, "CLOSED") || !strcmp(s, "TIME-WAIT");
}

/* ---- building the ladder ---- */

struct notes {
	const char *heading_handshake, *heading_data, *heading_close;
	const char *side[2];
	const char *syn;		/* the SYN that is answered */
	const char *synack;
	const char *ack3;
	const char *syn_dropped_full;	/* syn-retransmit: the listener dropped it */
	const char *unanswered;
	const char *lost;
	const char *retx_syn;		/* %.2f s */
	const char *retx;		/* %.2f s */
	const char *fin1;		/* %s side */
	const char *finack1;		/* %s side */
	const char *halfdata;		/* %s, %s */
	const char *fin2;		/* %s side, %.1f ms */
	const char *fin2_piggy;		/* %s side */
	const char *finack2;		/* %s side */
	const char *crossed;
	const char *not_crossed;
	const char *closing;		/* %s side */
	const char *reset;
	const char *gap;		/* %s time */
	const char *relative;		/* %u, %u */
	const char *states;		/* %s side */
	const char *in_flight;		/* %.1f ms */
	const char *title[4];
};

static const struct notes notes_en = {
	.heading_handshake = "three-way handshake",
	.heading_data = "data",
	.heading_close = "four-way close",
	.side = { "client", "server" },
	.syn = "server learns: the client can send, and its own receiving works",
	.synack = "client learns: both directions work (its SYN arrived, and the answer came back)",
	.ack3 = "server learns: the client can receive, and its own sending works. Three segments: the three-way handshake",
	.syn_dropped_full = "arrived, but no answer: the listener's accept queue is full (backlog 0, one connection not accepted yet), so it drops the SYN",
	.unanswered = "arrived, but got no answer",
	.lost = "lost: sent, never arrived",
	.retx_syn = "the same SYN again, %.2f s later: the retransmission timer (initial RTO 1 s); same seq",
	.retx = "sent again %.2f s later (retransmission), same seq",
	.fin1 = "FIN: the %s has nothing more to send (close or shutdown); it can still receive",
	.finack1 = "the %s can only ACK the FIN: its own FIN waits until its application closes (CLOSE-WAIT)",
	.halfdata = "data after the FIN: the %s->%s direction is still open (half-close)",
	.fin2 = "the %s's application closed after %.1f ms in CLOSE-WAIT: now its FIN",
	.fin2_piggy = "the %s's application had closed already: its ACK and FIN in one segment",
	.finack2 = "one FIN and one ACK each way: the four-way close. The %s waits in TIME-WAIT (2 MSL) in case this ACK is lost",
	.crossed = "the FINs crossed: each side received the other's FIN before the ACK of its own (simultaneous close: CLOSING)",
	.not_crossed = "both sides closed at once, but the FINs did not cross: the first FIN arrived before the other side closed (no delay on this path). Two namespaces joined by a veth with a netem delay make them cross",
	.closing = "the %s got a FIN while its own is not acknowledged: CLOSING",
	.reset = "RST: the connection is aborted",
	.gap = "%s later",
	.states = "%s states: ",
	.in_flight = "in flight for %.1f ms: the next arrow left before this one arrived, they cross",
	.relative = "seq and ack are relative to each side's ISN (client %u, server %u)",
	.title = { "handshake, data, four-way close",
		   "half-close: data after the FIN",
		   "simultaneous close",
		   "retransmitted SYN" },
};

static const struct notes notes_zh = {
	.heading_handshake = "三次握手",
	.heading_data = "数据传输",
	.heading_close = "四次挥手",
	.side = { "客户端", "服务器" },
	.syn = "服务器得知：客户端能发送，自己能接收",
	.synack = "客户端得知：双向都通（自己的 SYN 到达了，回答也回来了）",
	.ack3 = "服务器得知：客户端能接收，自己的发送也正常。三个报文段：三次握手",
	.syn_dropped_full = "到达了，但没有回答：监听套接字的全连接队列已满（backlog 0，已有一个连接尚未 accept），SYN 被丢弃",
	.unanswered = "到达了，但没有回答",
	.lost = "丢失：已发出，未到达",
	.retx_syn = "%.2f 秒后再次发送同一个 SYN：重传定时器（初始 RTO 1 秒），序号相同",
	.retx = "%.2f 秒后重传，序号相同",
	.fin1 = "FIN：%s没有数据要发送了（close 或 shutdown），但仍可接收",
	.finack1 = "%s只能先回 ACK：自己的 FIN 要等应用程序关闭（CLOSE-WAIT）",
	.halfdata = "FIN 之后仍有数据：%s→%s方向仍然打开（半关闭）",
	.fin2 = "%s的应用程序在 CLOSE-WAIT 中停留 %.1f 毫秒后关闭：现在发出它的 FIN",
	.fin2_piggy = "%s的应用程序已经关闭：ACK 和 FIN 合在一个报文段里",
	.finack2 = "每个方向一个 FIN 一个 ACK：四次挥手。%s进入 TIME-WAIT（2 MSL），以防这个 ACK 丢失",
	.crossed = "两个 FIN 交叉而过：双方都在自己的 FIN 被确认之前收到对方的 FIN（同时关闭：CLOSING）",
	.not_crossed = "双方同时关闭，但两个 FIN 没有交叉：第一个 FIN 在对方关闭之前就到达了（这条路径没有延迟）。用 veth 连接的两个网络命名空间加上 netem 延迟，FIN 才会交叉",
	.closing = "%s在自己的 FIN 被确认之前收到了 FIN：CLOSING",
	.reset = "RST：连接被中止",
	.gap = "%s 之后",
	.states = "%s状态：",
	.in_flight = "在途 %.1f 毫秒：它到达之前，下一个箭头已经发出，两者交叉",
	.relative = "seq 和 ack 均相对于各自的初始序号 ISN（客户端 %u，服务器 %u）",
	.title = { "三次握手、数据传输、四次挥手",
		   "半关闭：FIN 之后的数据",
		   "同时关闭",
		   "SYN 重传" },
};

static const struct notes *N = &notes_en;

static bool has_flag(const char *flags, const char *f)
{
	char buf[40], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", flags);
	for (tok = strtok_r(buf, "|", &save); tok; tok = strtok_r(NULL, "|", &save))
		if (!strcmp(tok, f))
			return true;
	return false;
}

void ladder_label(const struct ladder *l, const struct ladder_arrow *a,
		  char *buf, size_t size)
{
	(void)l;
	if (a->has_ack)
		snprintf(buf, size, "%s seq=%u ack=%u len=%u", a->flags,
			 a->seq, a->ack, a->len);
	else
		snprintf(buf, size, "%s seq=%u len=%u", a->flags, a->seq, a->len);
}

/* Working data of the build: arrows with their trace indexes. */
struct arrow_ix {
	int i_out, i_in;	/* trace indexes, -1 if not seen */
	uint32_t raw_seq, raw_ack;
};

static void fmt_duration(double s, char *buf, size_t size)
{
	if (s >= 1)
		snprintf(buf, size, "%.2f s", s);
	else
		snprintf(buf, size, "%.0f ms", s * 1000);
}

static struct ladder_row *new_row(struct ladder *l, enum ladder_row_kind k, double t)
{
	struct ladder_row *r;

	l->rows = xrealloc(l->rows, (l->n_rows + 1) * sizeof(*l->rows));
	r = &l->rows[l->n_rows++];
	memset(r, 0, sizeof(*r));
	r->kind = k;
	r->t = t;
	r->arrow = -1;
	return r;
}

static void build(struct ladder *l, const struct trace *tr, struct ep cl,
		  struct ep sv, enum ladder_case lcase, bool absolute)
{
	int n = 0, i, j, s, last_row_arrow = -1;
	struct arrow_ix *ix = NULL;
	int *arrow_of_out;		/* trace index -> arrow, or -1 */
	double t0 = -1, last_t = -1;
	bool seen_syn = false, head_data = false, head_close = false, app;
	int syn_answered = -1, synack = -1, ack3 = -1;
	int fin[2] = { -1, -1 }, finack[2] = { -1, -1 }, first_fin_side = -1;
	double cw_enter = -1, cw_time = -1;
	bool closing[2] = { false, false };
	const char *path[2][16];
	int npath[2] = { 0, 0 };
	char *sum = l->summary;
	size_t sz = sizeof(l->summary);

	memset(l, 0, sizeof(*l));
	l->absolute = absolute;
	fmt_ep(cl, l->end[CLIENT], sizeof(l->end[CLIENT]));
	fmt_ep(sv, l->end[SERVER], sizeof(l->end[SERVER]));
	l->side_name[CLIENT] = N->side[CLIENT];
	l->side_name[SERVER] = N->side[SERVER];
	l->initial[CLIENT] = "CLOSED";
	l->initial[SERVER] = "LISTEN";
	l->title = N->title[lcase];
	arrow_of_out = xrealloc(NULL, (tr->n + 1) * sizeof(int));

	/* 1. the segments: pair each "out" with the next matching "in" */
	for (i = 0; i < tr->n; i++) {
		const struct tev *e = &tr->ev[i];

		arrow_of_out[i] = -1;
		s = ev_side(e, cl, sv);
		if (s < 0)
			continue;
		if (t0 < 0)
			t0 = e->t;
		if (e->type != TEV_SEG)
			continue;
		if (!e->out) {
			/* an "in" whose "out" was not matched yet: find it */
			for (j = n - 1; j >= 0; j--) {
				const struct tev *o = ix[j].i_out >= 0 ? &tr->ev[ix[j].i_out] : NULL;

				if (ix[j].i_in < 0 && o && l->arrows[j].from == s &&
				    o->seq == e->seq && o->ack == e->ack &&
				    o->len == e->len && !strcmp(o->flags, e->flags))
					break;
			}
			/* the oldest unmatched one of those */
			while (j > 0 && ix[j - 1].i_in < 0 && ix[j - 1].i_out >= 0 &&
			       l->arrows[j - 1].from == s &&
			       tr->ev[ix[j - 1].i_out].seq == e->seq &&
			       tr->ev[ix[j - 1].i_out].ack == e->ack &&
			       tr->ev[ix[j - 1].i_out].len == e->len &&
			       !strcmp(tr->ev[ix[j - 1].i_out].flags, e->flags))
				j--;
			if (j >= 0) {
				ix[j].i_in = i;
				l->arrows[j].has_in = true;
				l->arrows[j].t_in = e->t - t0;
				continue;
			}
		}
		l->arrows = xrealloc(l->arrows, (n + 1) * sizeof(*l->arrows));
		ix = xrealloc(ix, (n + 1) * sizeof(*ix));
		memset(&l->arrows[n], 0, sizeof(l->arrows[n]));
		l->arrows[n].from = s;
		snprintf(l->arrows[n].flags, sizeof(l->arrows[n].flags), "%s", e->flags);
		l->arrows[n].len = e->len;
		l->arrows[n].has_ack = has_flag(e->flags, "ACK");
		ix[n].raw_seq = e->seq;
		ix[n].raw_ack = e->ack;
		if (e->out) {
			l->arrows[n].has_out = true;
			l->arrows[n].t_out = e->t - t0;
			ix[n].i_out = i;
			ix[n].i_in = -1;
		} else {
			l->arrows[n].has_in = true;
			l->arrows[n].t_in = l->arrows[n].t_out = e->t - t0;
			ix[n].i_out = -1;
			ix[n].i_in = i;
		}
		arrow_of_out[i] = n;
		n++;
	}
	l->n_arrows = n;

	/* 2. the ISNs, and the numbers relative to them */
	for (j = 0; j < n; j++) {
		if (has_flag(l->arrows[j].flags, "SYN")) {
			s = l->arrows[j].from;
			if (!l->isn[s])
				l->isn[s] = ix[j].raw_seq;
		}
	}
	for (j = 0; j < n; j++) {
		struct ladder_arrow *a = &l->arrows[j];

		a->seq = ix[j].raw_seq - (absolute ? 0 : l->isn[a->from]);
		a->ack = ix[j].raw_ack - (absolute || !a->has_ack ? 0 : l->isn[!a->from]);
		if (!a->has_ack)
			a->ack = 0;
	}

	/* 3. the steps the notes are about */
	for (j = 0; j < n; j++) {
		const struct ladder_arrow *a = &l->arrows[j];
		bool syn = has_flag(a->flags, "SYN");

		if (syn && a->from == CLIENT && !a->has_ack && synack < 0)
			syn_answered = j;
		if (syn && a->from == SERVER && a->has_ack && synack < 0)
			synack = j;
		if (!syn && a->from == CLIENT && synack >= 0 && ack3 < 0 &&
		    a->has_ack && ix[j].raw_ack == l->isn[SERVER] + 1)
			ack3 = j;
		if (has_flag(a->flags, "FIN") && fin[a->from] < 0) {
			fin[a->from] = j;
			if (first_fin_side < 0)
				first_fin_side = a->from;
		}
	}
	for (s = 0; s < 2; s++) {
		uint32_t want;

		if (fin[s] < 0)
			continue;
		want = ix[fin[s]].raw_seq + l->arrows[fin[s]].len + 1;
		for (j = fin[s] + 1; j < n; j++)
			if (l->arrows[j].from == !s && l->arrows[j].has_ack &&
			    (int32_t)(ix[j].raw_ack - want) >= 0) {
				finack[s] = j;
				break;
			}
	}

	/* 4. the rows, in the order of the trace */
	for (i = 0; i < tr->n; i++) {
		const struct tev *e = &tr->ev[i];
		struct ladder_row *r;
		double t;

		s = ev_side(e, cl, sv);
		if (s < 0)
			continue;
		t = e->t - t0;
		if (e->type == TEV_STATE) {
			if (npath[s] == 0)
				path[s][npath[s]++] = e->from;
			if (npath[s] < 16)
				path[s][npath[s]++] = e->to;
			if (!strcmp(e->to, "CLOSE-WAIT"))
				cw_enter = t;
			if (!strcmp(e->from, "CLOSE-WAIT") && cw_enter >= 0)
				cw_time = t - cw_enter;
			if (!strcmp(e->to, "CLOSING"))
				closing[s] = true;
			/*
			 * Beside the arrow just received (the state it made),
			 * else beside the arrow this side sends next.  The
			 * states an application's call enters (connect,
			 * close) go with the segment that call sends.
			 */
			app = !strcmp(e->to, "SYN-SENT") ||
			      !strcmp(e->to, "FIN-WAIT-1") ||
			      !strcmp(e->to, "LAST-ACK");
			if (!app && last_row_arrow >= 0 && l->n_rows &&
			    l->rows[l->n_rows - 1].kind == ROW_ARROW &&
			    l->rows[l->n_rows - 1].arrow == last_row_arrow &&
			    l->arrows[last_row_arrow].from == !s &&
			    l->arrows[last_row_arrow].has_in &&
			    ix[last_row_arrow].i_in < i &&
			    !l->rows[l->n_rows - 1].state[s]) {
				l->rows[l->n_rows - 1].state[s] = e->to;
				continue;
			}
			/* skip what happens meanwhile on the other side */
			for (j = i + 1; j < tr->n; j++) {
				const struct tev *f = &tr->ev[j];
				int s2 = ev_side(f, cl, sv);

				if (s2 < 0 ||
				    (f->type == TEV_SEG && !f->out && s2 == s) ||
				    (f->type == TEV_STATE && s2 != s))
					continue;
				break;
			}
			if (j < tr->n && arrow_of_out[j] >= 0 &&
			    l->arrows[arrow_of_out[j]].from == s && ix[arrow_of_out[j]].i_out == j) {
				/* the next arrow carries it: see below */
				arrow_of_out[i] = -2 - j;
				continue;
			}
			r = new_row(l, ROW_STATE, t);
			r->state[s] = e->to;
			if (!strcmp(e->to, "CLOSING"))
				note_add(r->note, sizeof(r->note), N->closing, N->side[s]);
			last_t = t;
			continue;
		}
		if (e->type == TEV_RESET) {
			r = new_row(l, ROW_STATE, t);
			note_add(r->note, sizeof(r->note), "%s", N->reset);
			continue;
		}
		if (e->type != TEV_SEG || arrow_of_out[i] < 0)
			continue;
		j = arrow_of_out[i];
		if (last_t >= 0 && t - last_t >= 0.05) {
			char d[32];

			fmt_duration(t - last_t, d, sizeof(d));
			r = new_row(l, ROW_GAP, t);
			snprintf(r->text, sizeof(r->text), N->gap, d);
		}
		if (!seen_syn && has_flag(l->arrows[j].flags, "SYN")) {
			seen_syn = true;
			r = new_row(l, ROW_HEAD, t);
			snprintf(r->text, sizeof(r->text), "%s", N->heading_handshake);
		}
		if (!head_data && l->arrows[j].len &&
		    (first_fin_side < 0 || j < fin[first_fin_side]) &&
		    !has_flag(l->arrows[j].flags, "SYN")) {
			head_data = true;
			r = new_row(l, ROW_HEAD, t);
			snprintf(r->text, sizeof(r->text), "%s", N->heading_data);
		}
		if (!head_close && has_flag(l->arrows[j].flags, "FIN")) {
			head_close = true;
			r = new_row(l, ROW_HEAD, t);
			snprintf(r->text, sizeof(r->text), "%s", N->heading_close);
		}
		r = new_row(l, ROW_ARROW, t);
		r->arrow = j;
		last_row_arrow = j;
		last_t = t;
		/* a state change just before it, on the sending side */
		for (int k = i - 1; k >= 0; k--) {
			if (arrow_of_out[k] == -2 - i) {
				r->state[l->arrows[j].from] = tr->ev[k].to;
				break;
			}
		}
	}

	/* 5. the notes, on the arrows they are about */
	for (int k = 0; k < l->n_rows; k++) {
		struct ladder_row *r = &l->rows[k];
		const struct ladder_arrow *a;
		char *no = r->note;
		size_t nsz = sizeof(r->note);

		if (r->kind != ROW_ARROW)
			continue;
		j = r->arrow;
		a = &l->arrows[j];
		/* an earlier segment with the same seq, flags and length */
		if (has_flag(a->flags, "SYN") || has_flag(a->flags, "FIN") || a->len) {
			for (i = 0; i < j; i++) {
				const struct ladder_arrow *b = &l->arrows[i];

				if (b->from == a->from && ix[i].raw_seq == ix[j].raw_seq &&
				    b->len == a->len && !strcmp(b->flags, a->flags)) {
					note_add(no, nsz, has_flag(a->flags, "SYN") ?
						 N->retx_syn : N->retx, a->t_out - b->t_out);
					break;
				}
			}
		}
		/* in flight while the other side sent: the two cross */
		for (i = j + 1; a->has_in && i < n; i++)
			if (l->arrows[i].from != a->from && l->arrows[i].has_out &&
			    l->arrows[i].t_out < a->t_in) {
				note_add(no, nsz, N->in_flight,
					 (a->t_in - a->t_out) * 1000);
				break;
			}
		if (!a->has_in)
			note_add(no, nsz, "%s", N->lost);
		else if (has_flag(a->flags, "SYN") && a->from == CLIENT &&
			 j != syn_answered && synack >= 0)
			note_add(no, nsz, "%s", lcase == CASE_SYN_RETRANSMIT ?
				 N->syn_dropped_full : N->unanswered);
		if (j == syn_answered && synack >= 0)
			note_add(no, nsz, "%s", N->syn);
		if (j == synack)
			note_add(no, nsz, "%s", N->synack);
		if (j == ack3)
			note_add(no, nsz, "%s", N->ack3);
		for (s = 0; s < 2; s++) {
			bool other_first = fin[!s] >= 0 && fin[!s] < fin[s];

			if (j == fin[s] && s == first_fin_side)
				note_add(no, nsz, N->fin1, N->side[s]);
			if (j == fin[s] && other_first && finack[!s] == j)
				note_add(no, nsz, N->fin2_piggy, N->side[s]);
			else if (j == fin[s] && other_first && cw_time >= 0 && !closing[s])
				note_add(no, nsz, N->fin2, N->side[s], cw_time * 1000);
			if (j == finack[s] && j != fin[!s] && s == first_fin_side &&
			    (fin[!s] < 0 || fin[!s] > j))
				note_add(no, nsz, N->finack1, N->side[!s]);
			if (j == finack[s] && s != first_fin_side && !closing[!s])
				note_add(no, nsz, N->finack2, N->side[!s]);
		}
		if (first_fin_side >= 0 && a->len && a->from != first_fin_side &&
		    j > fin[first_fin_side] &&
		    (fin[!first_fin_side] < 0 || j <= fin[!first_fin_side]))
			note_add(no, nsz, N->halfdata, N->side[a->from],
				 N->side[!a->from]);
		if (closing[CLIENT] && closing[SERVER] && j == fin[!first_fin_side])
			note_add(no, nsz, "%s", N->crossed);
	}

	snprintf(l->relative, sizeof(l->relative), N->relative, l->isn[CLIENT],
		 l->isn[SERVER]);

	/* 6. the summary below the drawing */
	for (s = 0; s < 2; s++) {
		size_t k = strlen(sum);

		snprintf(sum + k, sz - k, N->states, N->side[s]);
		k = strlen(sum);
		snprintf(sum + k, sz - k, "%s",
			 s == SERVER ? "LISTEN" : "");
		for (i = 0; i < npath[s]; i++) {
			k = strlen(sum);
			/* the child starts CLOSED: after the listener's LISTEN */
			if (i == 0 && s == SERVER && !strcmp(path[s][i], "CLOSED"))
				continue;
			snprintf(sum + k, sz - k, "%s%s",
				 (i == 0 && s == CLIENT) ? "" : " -> ", path[s][i]);
		}
		k = strlen(sum);
		snprintf(sum + k, sz - k, "\n");
	}
	if (lcase == CASE_SIMULTANEOUS && !(closing[CLIENT] && closing[SERVER])) {
		size_t k = strlen(sum);

		snprintf(sum + k, sz - k, "note: %s\n", N->not_crossed);
	}
	free(ix);
	free(arrow_of_out);
}

/* ---- the terminal drawing ---- */

#define TIME_W	8
#define STATE_W	12

static int mid_w = 46;

static void put_padded(const char *s, int len, int width, bool right)
{
	char buf[1024];
	int w;

	snprintf(buf, sizeof(buf), "%.*s", len, s);
	w = ladder_width(buf);
	if (right)
		printf("%*s%s", width > w ? width - w : 0, "", buf);
	else
		printf("%s%*s", buf, width > w ? width - w : 0, "");
}

/* "    time  STATE |MIDDLE| STATE" */
static void text_line(const char *time, const char *ls, const char *mid,
		      int mid_len, const char *rs)
{
	put_padded(time, (int)strlen(time), TIME_W, true);
	printf("  ");
	put_padded(ls ? ls : "", ls ? (int)strlen(ls) : 0, STATE_W, true);
	printf(" |");
	put_padded(mid, mid_len, mid_w, false);
	if (rs)
		printf("| %s\n", rs);
	else
		printf("|\n");
}

static void note_line(const char *s, int len, void *arg)
{
	char buf[1024];

	(void)arg;
	snprintf(buf, sizeof(buf), "  %.*s", len, s);
	text_line("", NULL, buf, (int)strlen(buf), NULL);
}

static void centered(const char *time, const char *text, char fill)
{
	char buf[256];
	int w = ladder_width(text) + 2, left, right, k = 0;

	left = (mid_w - w) / 2;
	right = mid_w - w - left;
	for (; left > 0 && k < 100; left--)
		buf[k++] = fill;
	k += snprintf(buf + k, sizeof(buf) - k, " %s ", text);
	for (; right > 0 && k < (int)sizeof(buf) - 1; right--)
		buf[k++] = fill;
	buf[k] = '\0';
	text_line(time, NULL, buf, k, NULL);
}

static void write_text(const struct ladder *l)
{
	char label[128], mid[256], tm[32];
	int k, w;

	for (k = 0; k < l->n_arrows; k++) {
		ladder_label(l, &l->arrows[k], label, sizeof(label));
		if ((int)strlen(label) + 10 > mid_w)
			mid_w = (int)strlen(label) + 10;
	}
	printf("toytcp ladder: %s\n", l->title);
	printf("%s %s, %s %s\n", l->side_name[CLIENT], l->end[CLIENT],
	       l->side_name[SERVER], l->end[SERVER]);
	if (!l->absolute)
		printf("%s\n", l->relative);
	printf("\n");
	snprintf(mid, sizeof(mid), "%*s", mid_w, "");
	w = ladder_width(l->side_name[SERVER]);
	printf("%*s  %*s%s%*s%s\n", TIME_W, "ms", STATE_W + 1 -
	       ladder_width(l->side_name[CLIENT]), "", l->side_name[CLIENT],
	       mid_w + 2, "", l->side_name[SERVER]);
	(void)w;
	text_line("", l->initial[CLIENT], mid, mid_w, l->initial[SERVER]);
	for (k = 0; k < l->n_rows; k++) {
		const struct ladder_row *r = &l->rows[k];
		const struct ladder_arrow *a;
		int len, fill, m;

		snprintf(tm, sizeof(tm), "%.3f", r->t * 1000);
		switch (r->kind) {
		case ROW_HEAD:
			centered("", r->text, '=');
			break;
		case ROW_GAP:
			centered("", r->text, ' ');
			break;
		case ROW_STATE:
			text_line(tm, r->state[CLIENT], "", 0, r->state[SERVER]);
			break;
		case ROW_ARROW:
			a = &l->arrows[r->arrow];
			ladder_label(l, a, label, sizeof(label));
			len = (int)strlen(label);
			if (!a->has_in) {
				/* lost: the arrow stops half way */
				if (a->from == CLIENT)
					m = snprintf(mid, sizeof(mid), "-- %s --X", label);
				else
					m = snprintf(mid, sizeof(mid), "%*sX-- %s --",
						     mid_w / 2 > len + 8 ? mid_w / 2 - 8 : 0,
						     "", label);
			} else if (a->from == CLIENT) {
				fill = mid_w - len - 5;
				m = snprintf(mid, sizeof(mid), "-- %s %.*s>", label, fill,
					     "------------------------------------------------------------------------------------------------");
			} else {
				fill = mid_w - len - 5;
				m = snprintf(mid, sizeof(mid), "<%.*s %s --", fill,
					     "------------------------------------------------------------------------------------------------",
					     label);
			}
			text_line(tm, r->state[CLIENT], mid, m, r->state[SERVER]);
			break;
		}
		if (r->note[0]) {
			char buf[1024], *p, *save;

			snprintf(buf, sizeof(buf), "%s", r->note);
			for (p = strtok_r(buf, "\n", &save); p; p = strtok_r(NULL, "\n", &save))
				ladder_wrap(p, mid_w - 4, note_line, NULL);
		}
	}
	snprintf(mid, sizeof(mid), "%*s", mid_w, "");
	text_line("", NULL, mid, mid_w, NULL);
	printf("\n%s", l->summary);
}

/* ---- running a connection ---- */

static const char *tracefs;

static void tfs_write(const char *file, const char *val, bool must)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tracefs, file);
	fd = open(path, O_WRONLY | O_TRUNC);
	if (fd < 0 || write(fd, val, strlen(val)) < 0) {
		if (must)
			fatal("%s: %s", path, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
}

static int toytcp_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_TOYTCP);
	struct timeval tv = { 10, 0 };

	if (fd < 0)
		fatal("socket(AF_INET, SOCK_STREAM, %d): %s (is toytcp loaded?)",
		      IPPROTO_TOYTCP, strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

static void trace_start(void)
{
	static const char *const dirs[] = { "/sys/kernel/tracing",
					    "/sys/kernel/debug/tracing" };
	char path[256];
	unsigned int i;

	/* the module may not be loaded yet: a socket autoloads it */
	close(toytcp_socket());
	for (i = 0; i < 2 && !tracefs; i++) {
		snprintf(path, sizeof(path), "%s/events/toytcp/enable", dirs[i]);
		if (access(path, W_OK) == 0)
			tracefs = dirs[i];
	}
	if (!tracefs)
		fatal("cannot write %s/events/toytcp/enable: %s (needs root and "
		      "tracefs: mount -t tracefs nodev /sys/kernel/tracing; "
		      "\"ip netns exec\" mounts a /sys without it: use "
		      "--server-ns and --client-ns instead)",
		      dirs[0], strerror(errno));
	tfs_write("tracing_on", "0", true);
	/* timestamps comparable across CPUs: a segment's out and in */
	tfs_write("trace_clock", "global", false);
	tfs_write("trace", "", true);
	tfs_write("events/toytcp/enable", "1", true);
	tfs_write("tracing_on", "1", true);
}

static char *trace_read(void)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/trace", tracefs);
	return read_file(path);
}

static void trace_stop(void)
{
	tfs_write("tracing_on", "0", false);
	tfs_write("events/toytcp/enable", "0", false);
}

static void enter_ns(const char *name)
{
	char path[256];
	int fd;

	if (!name)
		return;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		fatal("%s: %s", path, strerror(errno));
	if (setns(fd, CLONE_NEWNET))
		fatal("setns(%s): %s", path, strerror(errno));
	close(fd);
}

static int listener(const char *ns, struct in_addr addr, uint16_t port,
		    int backlog, struct sockaddr_in *sa)
{
	socklen_t len = sizeof(*sa);
	int fd, one = 1;

	enter_ns(ns);
	fd = toytcp_socket();
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(port);
	if (bind(fd, (struct sockaddr *)sa, sizeof(*sa)) || listen(fd, backlog))
		fatal("bind/listen: %s", strerror(errno));
	if (getsockname(fd, (struct sockaddr *)sa, &len))
		fatal("getsockname: %s", strerror(errno));
	sa->sin_addr = addr;
	return fd;
}

static void xconnect(int fd, const struct sockaddr_in *sa)
{
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)))
		fatal("connect: %s", strerror(errno));
}

static int xaccept(int lfd)
{
	int fd = accept(lfd, NULL, NULL);
	struct timeval tv = { 10, 0 };

	if (fd < 0)
		fatal("accept: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static void xsend(int fd, const char *s)
{
	if (send(fd, s, strlen(s), 0) != (ssize_t)strlen(s))
		fatal("send: %s", strerror(errno));
}

/* Read exactly @n bytes (n > 0), or until EOF (n == 0). */
static void xrecv(int fd, size_t n)
{
	char buf[256];
	size_t got = 0;
	ssize_t r;

	do {
		r = recv(fd, buf, n ? n - got : sizeof(buf), 0);
		if (r < 0)
			fatal("recv: %s", strerror(errno));
		got += r;
	} while (n ? got < n : r > 0);
}

static void endpoints(int fd, struct ep *local, struct ep *peer)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len))
		fatal("getsockname: %s", strerror(errno));
	local->addr = sa.sin_addr.s_addr;
	local->port = ntohs(sa.sin_port);
	len = sizeof(sa);
	if (getpeername(fd, (struct sockaddr *)&sa, &len))
		fatal("getpeername: %s", strerror(errno));
	peer->addr = sa.sin_addr.s_addr;
	peer->port = ntohs(sa.sin_port);
}

struct run_opts {
	enum ladder_case lcase;
	const char *server_ns, *client_ns;
	struct in_addr addr;
	uint16_t port;
};

#define REQUEST	"GET /ladder\n"
#define REPLY	"here is the ladder\n"

/* Run the case; the connection's ends in @cl, @sv. */
static void run_case(const struct run_opts *o, struct ep *cl, struct ep *sv)
{
	int lfd, c, s, f = -1, fs = -1, fl;
	struct sockaddr_in sa;
	struct pollfd pfd;
	socklen_t len;
	int err = 0;

	lfd = listener(o->server_ns, o->addr, o->port,
		       o->lcase == CASE_SYN_RETRANSMIT ? 0 : 4, &sa);
	enter_ns(o->client_ns);
	if (o->lcase == CASE_SYN_RETRANSMIT) {
		/* one connection fills the ready queue of listen(fd, 0) */
		f = toytcp_socket();
		xconnect(f, &sa);
		/* our SYN now finds the queue full and is dropped */
		c = toytcp_socket();
		fl = fcntl(c, F_GETFL);
		fcntl(c, F_SETFL, fl | O_NONBLOCK);
		if (!connect(c, (struct sockaddr *)&sa, sizeof(sa)) || errno != EINPROGRESS)
			fatal("connect did not wait: %s", strerror(errno));
		sleep_ms(300);
		fs = xaccept(lfd);	/* room for the next SYN */
		pfd.fd = c;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 10000) != 1)
			fatal("connect: no answer to the retransmitted SYN");
		len = sizeof(err);
		getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			fatal("connect: %s", strerror(err));
		fcntl(c, F_SETFL, fl);
	} else {
		c = toytcp_socket();
		xconnect(c, &sa);
	}
	s = xaccept(lfd);
	endpoints(c, cl, sv);

	xsend(c, REQUEST);
	xrecv(s, strlen(REQUEST));
	switch (o->lcase) {
	case CASE_NORMAL:
	case CASE_SYN_RETRANSMIT:
		xsend(s, REPLY);
		xrecv(c, strlen(REPLY));
		close(c);		/* FIN */
		xrecv(s, 0);		/* EOF: the server is in CLOSE-WAIT */
		sleep_ms(APP_CLOSE_MS);	/* its application finishes */
		close(s);
		break;
	case CASE_HALF_CLOSE:
		shutdown(c, SHUT_WR);	/* FIN: the client can still receive */
		xrecv(s, 0);
		sleep_ms(APP_CLOSE_MS / 2);
		xsend(s, REPLY);	/* data after the client's FIN */
		sleep_ms(APP_CLOSE_MS / 2);
		close(s);
		xrecv(c, 0);		/* the reply, then EOF */
		close(c);
		break;
	case CASE_SIMULTANEOUS:
		xsend(s, REPLY);
		xrecv(c, strlen(REPLY));
		sleep_ms(APP_CLOSE_MS);	/* let the ACKs settle */
		close(c);		/* both at once: the FINs cross */
		close(s);
		break;
	}
	close(lfd);
	if (fs >= 0)
		close(fs);
	if (f >= 0)
		close(f);
}

/* ---- main ---- */

int ladder_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "case", required_argument, NULL, 'c' },
		{ "lang", required_argument, NULL, 'l' },
		{ "svg", required_argument, NULL, 's' },
		{ "server-ns", required_argument, NULL, 'S' },
		{ "client-ns", required_argument, NULL, 'C' },
		{ "addr", required_argument, NULL, 'a' },
		{ "port", required_argument, NULL, 'P' },
		{ "trace", required_argument, NULL, 't' },
		{ "client", required_argument, NULL, 'e' },
		{ "save-trace", required_argument, NULL, 'T' },
		{ "absolute", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct run_opts ro = { .lcase = CASE_NORMAL };
	const char *svg = NULL, *trace_file = NULL, *save = NULL, *client = NULL;
	struct trace tr = { NULL, 0 };
	bool absolute = false;
	struct ep cl = { 0, 0 }, sv = { 0, 0 };
	struct ladder l;
	char *text;
	unsigned int i;
	int c;

	ro.addr.s_addr = htonl(INADDR_LOOPBACK);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			for (i = 0; i < 4 && strcmp(optarg, case_names[i]); i++)
				;
			if (i == 4)
				goto usage;
			ro.lcase = (enum ladder_case)i;
			break;
		case 'l':
			if (!strcmp(optarg, "zh"))
				N = &notes_zh;
			else if (!strcmp(optarg, "en"))
				N = &notes_en;
			else
				goto usage;
			break;
		case 's':
			svg = optarg;
			break;
		case 'S':
			ro.server_ns = optarg;
			break;
		case 'C':
			ro.client_ns = optarg;
			break;
		case 'a':
			if (inet_pton(AF_INET, optarg, &ro.addr) != 1)
				goto usage;
			break;
		case 'P':
			ro.port = (uint16_t)strtoul(optarg, NULL, 10);
			break;
		case 't':
			trace_file = optarg;
			break;
		case 'e':
			client = optarg;
			break;
		case 'T':
			save = optarg;
			break;
		case 'A':
			absolute = true;
			break;
		case 'h':
			fputs(ladder_usage, stdout);
			return 0;
		default:
			goto usage;
		}
	}
	if (optind != argc)
		goto usage;

	if (trace_file) {
		text = read_file(trace_file);
		trace_parse(&tr, text);
		if (client) {
			int k;

			if (!parse_ep(client, &cl))
				goto usage;
			for (k = 0; k < tr.n; k++)
				if (ep_eq(tr.ev[k].src, cl) && tr.ev[k].type == TEV_SEG) {
					sv = tr.ev[k].dst;
					break;
				}
			if (k == tr.n)
				fatal("no segment from %s in %s", client, trace_file);
		} else if (!find_connection(&tr, &cl, &sv)) {
			fatal("no connection (no SYN) in %s", trace_file);
		}
	} else {
		const char *st[2];
		double deadline;

		trace_start();
		run_case(&ro, &cl, &sv);
		/* until both ends have closed (the last segments in softirq) */
		deadline = now() + 10;
		for (;;) {
			text = trace_read();
			trace_parse(&tr, text);
			last_states(&tr, cl, sv, st);
			if ((closed_state(st[0]) && closed_state(st[1])) ||
			    now() > deadline)
				break;
			free(text);
			sleep_ms(50);
		}
		trace_stop();
		if (!closed_state(st[0]) || !closed_state(st[1]))
			fprintf(stderr, "toytcp ladder: the connection did not finish "
				"closing (client %s, server %s): drawn as far as it went\n",
				st[0], st[1]);
	}
	if (save) {
		FILE *f = fopen(save, "w");

		if (!f || fputs(text, f) < 0 || fclose(f))
			fatal("%s: %s", save, strerror(errno));
	}

	build(&l, &tr, cl, sv, ro.lcase, absolute);
	if (!l.n_arrows)
		fatal("no segments of the connection in the trace");
	write_text(&l);
	if (svg) {
		FILE *f = fopen(svg, "w");

		if (!f)
			fatal("%s: %s", svg, strerror(errno));
		ladder_write_svg(&l, f);
		if (fclose(f))
			fatal("%s: %s", svg, strerror(errno));
		printf("SVG: %s\n", svg);
	}
	free(text);
	free(tr.ev);
	free(l.arrows);
	free(l.rows);
	return 0;

usage:
	fputs(ladder_usage, stderr);
	return EXIT_USAGE;
}
