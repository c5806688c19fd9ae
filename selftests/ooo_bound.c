// SPDX-License-Identifier: GPL-2.0
/*
 * Out-of-order data cannot make the receive queue exceed its buffer
 * (issue 4).
 *
 * A connection from namespace a (the receiver, SO_RCVBUF 4096 set before
 * connect(), so 8192 of buffer and a window of about 4 KB) to b over the
 * emulated link of toytcp_test.h.  Once it is established the link is cut
 * both ways and this test plays the peer: it hands a segments carrying
 * bytes of a known stream (stream_fill()) at chosen sequence numbers --
 * holes, 1-byte segments, overlaps, duplicates, segments far ahead inside
 * and beyond the window a advertised -- and after every one reads
 * getsockopt(SO_MEMINFO) of a's socket.  What a sends back (ACKs) is logged
 * by the link and dropped.
 *
 * The invariant, as module/input.c implements it: a segment that arrives
 * out of order is queued only if the receive memory it adds still fits in
 * SO_RCVBUF (SK_MEMINFO_RMEM_ALLOC + truesize <= SK_MEMINFO_RCVBUF), else
 * it is dropped and counted (RcvQDrop).  So an out-of-order segment never
 * takes receive memory above the buffer, and while only out-of-order data
 * is held, RMEM_ALLOC <= RCVBUF.  In-order data inside the offered window
 * is taken up to twice the buffer (the window is offered from an estimate
 * of the data/truesize ratio).  Linux TCP, the reference, checks the
 * buffer before adding an skb (tcp_try_rmem_schedule()), so it may go over
 * it by one skb: TCP_SKB_SLACK below, used only when testing TCP.
 *
 * Segments that start at or beyond the right edge of the window a offered
 * are dropped (toytcp: counted in OutOfWindow): delivering the stream in
 * order up to exactly that point then leaves nothing more to read.
 *
 * Whatever was dropped, the application reads exactly the in-order stream:
 * once the hole is filled, the bytes read are stream bytes 0..n-1 where n is
 * what a acknowledges, and the stream completes when the rest is resent.
 *
 * The /proc/net/toytcp_stat counters are toytcp's; with TOYTCP_PROTO=6 the
 * same segments go to Linux TCP and everything but the counters is checked
 * (ooo_bound_tcp_reference.sh).
 *
 * vm-timeout: 300
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"
#include <linux/sock_diag.h>	/* SK_MEMINFO_* */
#include <linux/sockios.h>	/* SIOCINQ */

#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif

#define A_IP		"10.9.4.1"
#define B_IP		"10.9.4.2"
#define PORT		7400
#define RCVBUF_SET	4096	/* SO_RCVBUF; the kernel doubles it */
#define MSS_MAX		1460	/* tun's MTU 1500 */
/*
 * Linux TCP checks rmem_alloc against the buffer before it adds an skb, so
 * it can end one skb over.  A tun skb of at most 1500 bytes has a truesize
 * under 4.5 KB on x86-64 (a kmalloc-4k head plus struct sk_buff).
 */
#define TCP_SKB_SLACK	4608
/*
 * How long a's ACK may take: it is sent at once, but a loaded host running
 * the guest under emulation can hold the link thread for seconds.
 */
#define ACK_WAIT_MS	10000

FIXTURE(ooo) {
	int a, b;
	struct link *l;
	int c;			/* the receiver, in a */
	int s;			/* its peer in b, silent: the link is cut */
	int cport, sport;
	uint32_t irs;		/* a's RCV.NXT at the start: stream byte 0 */
	uint32_t ack;		/* a's SND.NXT: what the injected segments ACK */
	uint32_t edge;		/* offset of the right edge a offered */
	int wscale;		/* a's window scale */
	uint32_t rcvbuf;	/* SK_MEMINFO_RCVBUF */
	uint32_t max_rmem;	/* highest RMEM_ALLOC seen */
	uint64_t seed;
	size_t got;		/* stream bytes read by the application */
	uint64_t hash;		/* fnv1a of them */
	int injected;
};

/* ---------------------------------------------------------------------- */
/* Helpers */

static int meminfo(int fd, uint32_t *rmem, uint32_t *rcvbuf)
{
	uint32_t mi[SK_MEMINFO_VARS] = {};
	socklen_t len = sizeof(mi);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mi, &len))
		return -errno;
	if (len < sizeof(mi))
		return -EINVAL;
	*rmem = mi[SK_MEMINFO_RMEM_ALLOC];
	if (rcvbuf)
		*rcvbuf = mi[SK_MEMINFO_RCVBUF];
	return 0;
}

static uint32_t rmem_of(int fd)
{
	uint32_t r = 0;

	meminfo(fd, &r, NULL);
	return r;
}

struct counters {
	long oow, ofo, qdrop;
};

static struct counters counters_now(void)
{
	struct counters c = {
		.oow = stat_get("OutOfWindow"),
		.ofo = stat_get("OfoQueued"),
		.qdrop = stat_get("RcvQDrop"),
	};

	return c;
}

static int inq(int fd)
{
	int n = 0;

	return ioctl(fd, SIOCINQ, &n) ? -errno : n;
}

/* The largest ACK a sent (logged though dropped), sequence-space max. */
static uint32_t max_ack_from_a(struct link *l, uint32_t floor)
{
	uint32_t best = floor;
	int i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->dir != A_TO_B || s->proto != test_proto() ||
		    !(s->flags & TH_ACK) || (s->flags & TH_RST))
			continue;
		if ((int32_t)(s->ack - best) > 0)
			best = s->ack;
	}
	pthread_mutex_unlock(&l->lock);
	return best;
}

/* The right edge of the window a offered: max of ACK + (window << scale). */
static uint32_t right_edge_from_a(struct link *l, int wscale, uint32_t floor)
{
	uint32_t best = floor, e;
	int i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->dir != A_TO_B || s->proto != test_proto() ||
		    !(s->flags & TH_ACK) || (s->flags & TH_RST))
			continue;
		/* a SYN's window is never scaled */
		e = s->ack + ((uint32_t)s->win << (s->flags & TH_SYN ? 0 : wscale));
		if ((int32_t)(e - best) > 0)
			best = e;
	}
	pthread_mutex_unlock(&l->lock);
	return best;
}

static int wscale_of_a(struct link *l)
{
	int i, ws = -1;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++)
		if (l->log[i].dir == A_TO_B && l->log[i].proto == test_proto() &&
		    (l->log[i].flags & TH_SYN))
			ws = l->log[i].wscale;
	pthread_mutex_unlock(&l->lock);
	return ws < 0 ? 0 : ws;
}

static bool wait_ack(struct link *l, uint32_t want, int ms)
{
	int64_t end = now_ms() + ms;

	do {
		if ((int32_t)(max_ack_from_a(l, want - 1) - want) >= 0)
			return true;
		usleep(1000);
	} while (now_ms() < end);
	return false;
}

/*
 * Hand a, as if b sent it, a segment with stream bytes off..off+len-1
 * (sequence number irs + off).  off may be "negative" (before the stream:
 * old data), any bytes do then.
 */
static int inject(FIXTURE_DATA(ooo) *self, uint32_t off, int len)
{
	struct sockaddr_in s = sin_of(B_IP, 0), d = sin_of(A_IP, 0);
	uint8_t p[40 + MSS_MAX] = {}, pseudo[12] = {};
	uint32_t seq = self->irs + off;
	uint16_t sum;
	int n, tot = 40 + len;

	if (len < 0 || len > MSS_MAX)
		return -EINVAL;
	p[0] = 0x45;
	p[2] = tot >> 8;
	p[3] = tot;
	p[8] = 64;
	p[9] = test_proto();
	memcpy(p + 12, &s.sin_addr, 4);
	memcpy(p + 16, &d.sin_addr, 4);
	sum = csum_fold(csum_add(0, p, 20));
	p[10] = sum >> 8;
	p[11] = sum;
	p[20] = self->sport >> 8;
	p[21] = self->sport;
	p[22] = self->cport >> 8;
	p[23] = self->cport;
	p[24] = seq >> 24;
	p[25] = seq >> 16;
	p[26] = seq >> 8;
	p[27] = seq;
	p[28] = self->ack >> 24;
	p[29] = self->ack >> 16;
	p[30] = self->ack >> 8;
	p[31] = self->ack;
	p[32] = 5 << 4;
	p[33] = TH_ACK | TH_PUSH;
	p[34] = 0xff;		/* b's window: anything, a sends nothing */
	p[35] = 0xff;
	stream_fill(p + 40, self->seed, off, len);
	memcpy(pseudo, p + 12, 8);
	pseudo[9] = IPPROTO_TCP;
	pseudo[10] = (20 + len) >> 8;
	pseudo[11] = 20 + len;
	sum = csum_fold(csum_add(csum_add(0, pseudo, 12), p + 20, 20 + len));
	p[36] = sum >> 8;
	p[37] = sum;
	pthread_mutex_lock(&self->l->lock);
	n = write(self->l->fd[0], p, tot);
	pthread_mutex_unlock(&self->l->lock);
	self->injected++;
	return n == tot ? 0 : -EIO;
}

/*
 * Inject, then check what a's receive memory did.  @ooo: the segment
 * starts after a's RCV.NXT.  Returns false (after logging) on a breach.
 */
static bool inject_checked(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ooo) *self, uint32_t off, int len)
{
	uint32_t before, after, rcv_nxt_off;
	uint32_t slack = testing_tcp() ? TCP_SKB_SLACK : 0;
	int q = inq(self->c);
	bool ooo;

	if (q < 0 || meminfo(self->c, &before, NULL)) {
		TH_LOG("SIOCINQ/SO_MEMINFO failed: %s", strerror(errno));
		return false;
	}
	rcv_nxt_off = self->got + q;
	ooo = (int32_t)(off - rcv_nxt_off) > 0;
	if (inject(self, off, len)) {
		TH_LOG("inject %u+%d failed", off, len);
		return false;
	}
	if (meminfo(self->c, &after, NULL))
		return false;
	if (after > self->max_rmem)
		self->max_rmem = after;
	/* Out of order: queued only if it fits in the buffer. */
	if (ooo && after > (before > self->rcvbuf + slack ? before :
			    self->rcvbuf + slack)) {
		TH_LOG("out-of-order segment %u+%d took rmem_alloc from %u to %u, rcvbuf %u",
		       off, len, before, after, self->rcvbuf);
		return false;
	}
	/* Anything: at most twice the buffer, plus one skb. */
	if (after > 2 * self->rcvbuf + TCP_SKB_SLACK) {
		TH_LOG("segment %u+%d (%s) took rmem_alloc from %u to %u, rcvbuf %u",
		       off, len, ooo ? "out of order" : "in order", before,
		       after, self->rcvbuf);
		return false;
	}
	return true;
}

/* Read all a has to read now; check the bytes are the stream's. */
static bool read_available(struct __test_metadata *_metadata,
			   FIXTURE_DATA(ooo) *self)
{
	uint8_t buf[16384], want[16384];
	ssize_t n;

	for (;;) {
		n = recv(self->c, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return true;
		if (n <= 0) {
			TH_LOG("recv: %zd (%s)", n, n ? strerror(errno) : "EOF");
			return false;
		}
		stream_fill(want, self->seed, self->got, n);
		if (memcmp(buf, want, n)) {
			ssize_t i;

			for (i = 0; buf[i] == want[i]; i++)
				;
			TH_LOG("byte %zu is not the stream's", self->got + i);
			return false;
		}
		self->hash = fnv1a(self->hash, buf, n);
		self->got += n;
	}
}

/*
 * What a peer's retransmissions would do: send the stream in order from
 * what a has read up to @end, reading as it comes, and check it all
 * arrives: a acknowledges @end and the application has read @end bytes.
 */
static bool complete_to(struct __test_metadata *_metadata,
			FIXTURE_DATA(ooo) *self, uint32_t end)
{
	int64_t deadline = now_ms() + 30000;

	while (self->got < end) {
		uint32_t off = self->got + inq(self->c);
		int len = end - off < 1000 ? end - off : 1000;

		if (now_ms() > deadline) {
			TH_LOG("no progress: read %zu of %u", self->got, end);
			return false;
		}
		if (len > 0 && !inject_checked(_metadata, self, off, len))
			return false;
		if (!read_available(_metadata, self))
			return false;
		/* not taken (a window not yet reopened): let a's ACK go out */
		if (self->got + inq(self->c) == off)
			usleep(1000);
	}
	if (!wait_ack(self->l, self->irs + end, ACK_WAIT_MS)) {
		TH_LOG("a acknowledged %u, not %u", max_ack_from_a(self->l, self->irs) - self->irs, end);
		return false;
	}
	return true;
}

/* Nothing to read while a hole holds the data back. */
static void expect_nothing_to_read(struct __test_metadata *_metadata,
				   FIXTURE_DATA(ooo) *self)
{
	char b;

	EXPECT_EQ(0, inq(self->c));
	EXPECT_EQ(-1, recv(self->c, &b, 1, MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
}

/*
 * Fill the hole [0, hole): then a acknowledges n bytes, the application
 * reads exactly stream bytes 0..n-1, and n covers at least @min.
 */
static void fill_hole_and_read(struct __test_metadata *_metadata,
			       FIXTURE_DATA(ooo) *self, uint32_t hole,
			       uint32_t min)
{
	struct counters c0 = counters_now();
	uint32_t acked;

	ASSERT_TRUE(inject_checked(_metadata, self, 0, hole));
	/*
	 * On a timeout, say whether a took the data (its queue) and whether
	 * it dropped the segment (RcvQDrop), to tell a segment a refused
	 * from an ACK lost on the way (seen once on 6.12 with a debug-kernel
	 * guest beside it on two cores).
	 */
	ASSERT_TRUE(wait_ack(self->l, self->irs + min, ACK_WAIT_MS))
		TH_LOG("a acknowledged %u bytes, want at least %u; a holds %d bytes to read, RcvQDrop +%ld",
		       max_ack_from_a(self->l, self->irs) - self->irs, min,
		       inq(self->c), counters_now().qdrop - c0.qdrop);
	/* the ACK follows the queueing: everything a holds in order is in */
	ASSERT_TRUE(read_available(_metadata, self));
	sleep_ms(50);	/* a late ACK, if any, is logged by now */
	acked = max_ack_from_a(self->l, self->irs) - self->irs;
	EXPECT_EQ(acked, self->got)
		TH_LOG("a acknowledged %u bytes, the application read %zu",
		       acked, self->got);
	TH_LOG("hole of %u filled: %zu bytes in order, read and checked",
	       hole, self->got);
}

/* ---------------------------------------------------------------------- */

FIXTURE_SETUP(ooo)
{
	int lfd, i;

	self->c = self->s = -1;
	self->seed = 0x6f6f6fULL;
	self->hash = FNV_INIT;
	self->a = ns_new();
	ASSERT_LE(0, self->a);
	self->b = ns_new();
	ASSERT_LE(0, self->b);
	self->l = link_new(self->a, A_IP, self->b, B_IP, 0);
	ASSERT_NE(NULL, self->l);

	ASSERT_EQ(0, ns_enter(self->b));
	lfd = tlisten(B_IP, PORT, 4);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, ns_enter(self->a));
	self->c = tsock();
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, set_int_opt(self->c, SOL_SOCKET, SO_RCVBUF, RCVBUF_SET));
	ASSERT_EQ(0, tconnect_fd(self->c, B_IP, PORT));
	self->s = taccept(lfd);
	ASSERT_LE(0, self->s);
	close(lfd);
	self->cport = local_port(self->c);
	self->sport = PORT;

	/* a's ACK of the SYN-ACK is logged: the handshake is all there. */
	for (i = 0; i < 1000 && !link_count(self->l, A_TO_B, TH_ACK, TH_SYN, true); i++)
		usleep(1000);
	ASSERT_LT(0, link_count(self->l, A_TO_B, TH_ACK, TH_SYN, true));
	link_block(self->l, A_TO_B, true);
	link_block(self->l, B_TO_A, true);

	self->irs = link_next_seq(self->l, B_TO_A);
	self->ack = link_next_seq(self->l, A_TO_B);
	self->wscale = wscale_of_a(self->l);
	self->edge = right_edge_from_a(self->l, self->wscale, self->irs) - self->irs;
	ASSERT_EQ(0, meminfo(self->c, &self->max_rmem, &self->rcvbuf));
	EXPECT_EQ(0, self->max_rmem);
	ASSERT_EQ(2 * RCVBUF_SET, self->rcvbuf);
	/* the window follows from the buffer: a few KB */
	ASSERT_LT(MSS_MAX, self->edge);
	ASSERT_GE(self->rcvbuf, self->edge);
	TH_LOG("%s: rcvbuf %u, window offered %u (wscale %d)", proto_name(),
	       self->rcvbuf, self->edge, self->wscale);
}

FIXTURE_TEARDOWN(ooo)
{
	if (!_metadata->passed && self->l)
		link_dump(self->l, 60);
	if (self->c >= 0)
		set_linger0(self->c);
	close(self->c);
	close(self->s);
	link_free(self->l);
}

/* ---------------------------------------------------------------------- */

/*
 * The cheapest way to eat memory: 1-byte segments, each its own skb, at
 * every offset of the window behind a 1-byte hole.
 */
TEST_F_TIMEOUT(ooo, one_byte_segments, 120)
{
	struct counters c0 = counters_now(), c1;
	uint32_t off;
	int n = 0;

	for (off = 1; off < self->edge; off++, n++) {
		ASSERT_TRUE(inject_checked(_metadata, self, off, 1));
	}
	TH_LOG("%d one-byte segments, rmem_alloc at most %u of %u",
	       n, self->max_rmem, self->rcvbuf);
	expect_nothing_to_read(_metadata, self);
	EXPECT_LT(0, rmem_of(self->c)) TH_LOG("nothing held out of order");
	if (!testing_tcp()) {
		/* rmem_alloc only: an OOO segment never takes it past the buffer */
		EXPECT_GE(self->rcvbuf, self->max_rmem);
		c1 = counters_now();
		TH_LOG("OfoQueued +%ld RcvQDrop +%ld OutOfWindow +%ld",
		       c1.ofo - c0.ofo, c1.qdrop - c0.qdrop, c1.oow - c0.oow);
		/* in order, each segment is new: queued or dropped, once */
		EXPECT_LT(0, c1.ofo - c0.ofo);
		EXPECT_LT(0, c1.qdrop - c0.qdrop) TH_LOG("the buffer never filled");
		EXPECT_EQ(n, (c1.ofo - c0.ofo) + (c1.qdrop - c0.qdrop));
		EXPECT_EQ(0, c1.oow - c0.oow);
	}
	fill_hole_and_read(_metadata, self, 1, 2);
	if (!testing_tcp()) {
		/* it all went in order and was read: nothing is charged */
		EXPECT_EQ(0, rmem_of(self->c));
	}
	/* the rest of the stream, as a sender's retransmissions bring it */
	ASSERT_TRUE(complete_to(_metadata, self, 4 * self->edge));
}

/*
 * Holes, overlaps and duplicates: segments of various sizes in a shuffled
 * order, in the window behind a hole of 700 bytes, some straddling its
 * right edge, many of them more than once.
 */
TEST_F_TIMEOUT(ooo, holes_overlaps_duplicates, 120)
{
	struct { uint32_t off; int len; } segs[512];
	struct counters c0 = counters_now(), c1;
	uint64_t rng = 0x5eed;
	const uint32_t hole = 700;
	int n = 0, i, j;

#define RND(m) ((int)((rng = rng * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (m))
	/* a tiling of the window in 300-byte pieces, with holes */
	for (i = 0; hole + i * 300 < self->edge; i++)
		if (i % 4 != 2)
			segs[n++] = (typeof(segs[0])){ hole + i * 300, 300 };
	/* overlapping the tiling by half, and across its holes */
	for (i = 0; hole + 150 + i * 300 < self->edge; i++)
		segs[n++] = (typeof(segs[0])){ hole + 150 + i * 300, 300 };
	/* big ones covering several, one straddling the right edge */
	segs[n++] = (typeof(segs[0])){ hole + 100, MSS_MAX };
	segs[n++] = (typeof(segs[0])){ self->edge - 200, 400 };
	/* random ones, anywhere in the window */
	for (i = 0; i < 64; i++) {
		uint32_t off = hole + 1 + RND(self->edge - hole - 1);
		int len = 1 + RND(MSS_MAX);

		if (off + len > self->edge)
			len = self->edge - off;
		segs[n++] = (typeof(segs[0])){ off, len };
	}
	/* every one of them again */
	for (i = 0, j = n; i < j; i++)
		segs[n++] = segs[i];
	/* shuffle */
	for (i = n - 1; i > 0; i--) {
		typeof(segs[0]) t = segs[i];

		j = RND(i + 1);
		segs[i] = segs[j];
		segs[j] = t;
	}
#undef RND
	for (i = 0; i < n; i++) {
		ASSERT_TRUE(inject_checked(_metadata, self, segs[i].off, segs[i].len))
			TH_LOG("segment %d of %d", i, n);
	}
	TH_LOG("%d segments, rmem_alloc at most %u of %u", n, self->max_rmem,
	       self->rcvbuf);
	expect_nothing_to_read(_metadata, self);
	EXPECT_LT(0, rmem_of(self->c));
	if (!testing_tcp()) {
		EXPECT_GE(self->rcvbuf, self->max_rmem);
		c1 = counters_now();
		TH_LOG("OfoQueued +%ld RcvQDrop +%ld OutOfWindow +%ld",
		       c1.ofo - c0.ofo, c1.qdrop - c0.qdrop, c1.oow - c0.oow);
		EXPECT_LT(0, c1.ofo - c0.ofo);
		/* none starts beyond the window */
		EXPECT_EQ(0, c1.oow - c0.oow);
	}
	fill_hole_and_read(_metadata, self, hole, hole);
	ASSERT_TRUE(complete_to(_metadata, self, 4 * self->edge));
}

/*
 * Segments that start at or beyond the right edge of the window a offered
 * are not kept, however far ahead: delivering the stream in order up to
 * that edge leaves nothing more to read, and a acknowledges exactly it.
 */
TEST_F_TIMEOUT(ooo, beyond_window_dropped, 120)
{
	const uint32_t far[] = {
		0,		/* exactly at the right edge */
		1,
		1000,
		64 * 1024,
		1u << 20,
		1u << 30,	/* a quarter of the sequence space ahead */
	};
	struct counters c0 = counters_now(), c1;
	int i, k, n = 0;

	for (k = 0; k < 2; k++) {	/* each twice */
		for (i = 0; i < (int)(sizeof(far) / sizeof(far[0])); i++, n++) {
			ASSERT_TRUE(inject_checked(_metadata, self,
						   self->edge + far[i], 500));
		}
	}
	/* old data, all of it before RCV.NXT: not acceptable either */
	ASSERT_TRUE(inject_checked(_metadata, self, -5000, 500));
	n++;
	/* nothing was kept */
	EXPECT_EQ(0, rmem_of(self->c));
	EXPECT_EQ(0, self->max_rmem);
	expect_nothing_to_read(_metadata, self);
	if (!testing_tcp()) {
		c1 = counters_now();
		TH_LOG("OutOfWindow +%ld OfoQueued +%ld RcvQDrop +%ld",
		       c1.oow - c0.oow, c1.ofo - c0.ofo, c1.qdrop - c0.qdrop);
		EXPECT_EQ(n, c1.oow - c0.oow);
		EXPECT_EQ(0, c1.ofo - c0.ofo);
		EXPECT_EQ(0, c1.qdrop - c0.qdrop);
	}
	/* in order up to the edge: the segment at the edge is not there */
	ASSERT_TRUE(complete_to(_metadata, self, self->edge));
	sleep_ms(100);
	ASSERT_TRUE(read_available(_metadata, self));
	EXPECT_EQ(self->edge, self->got);
	EXPECT_EQ(0, inq(self->c));
	EXPECT_EQ(self->edge, max_ack_from_a(self->l, self->irs) - self->irs);
	if (!testing_tcp()) {
		EXPECT_EQ(0, rmem_of(self->c));
	}
	/* and the stream goes on past it */
	ASSERT_TRUE(complete_to(_metadata, self, self->edge + 64 * 1024));
}

/*
 * A network that reorders, duplicates and splits at random: 192 KiB
 * delivered as segments at random offsets and sizes in and past the
 * window, the next in-order segment only now and then.  The application
 * reads after every round; the stream must come out whole.
 */
TEST_F_TIMEOUT(ooo, random_reordering, 600)
{
	const size_t total = 192 * 1024;
	struct counters c0 = counters_now(), c1;
	uint64_t rng = 0xc0ffee, t0 = now_ns();
	int rounds = 0, k;

#define RND(m) ((int)((rng = rng * 6364136223846793005ull + 1442695040888963407ull) >> 33) % (m))
	while (self->got < total) {
		uint32_t base = self->got + inq(self->c);

		ASSERT_GT(100000, ++rounds) TH_LOG("read %zu of %zu", self->got, total);
		for (k = 0; k < 6; k++) {
			uint32_t off = base + 1 + RND(2 * self->edge);
			int len = 1 + RND(MSS_MAX);

			if (off + len > total)
				continue;
			ASSERT_TRUE(inject_checked(_metadata, self, off, len));
		}
		if (!RND(3)) {
			int len = 1 + RND(MSS_MAX);

			base = self->got + inq(self->c);
			if (base + len > total)
				len = total - base;
			if (len > 0) {
				ASSERT_TRUE(inject_checked(_metadata, self, base, len));
			}
		}
		ASSERT_TRUE(read_available(_metadata, self));
	}
#undef RND
	EXPECT_EQ(total, self->got);
	c1 = counters_now();
	TH_LOG("%zu bytes in %d rounds, %d segments, %.1f s; rmem_alloc at most %u of %u",
	       self->got, rounds, self->injected, (now_ns() - t0) / 1e9,
	       self->max_rmem, self->rcvbuf);
	if (!testing_tcp()) {
		TH_LOG("OfoQueued +%ld RcvQDrop +%ld OutOfWindow +%ld",
		       c1.ofo - c0.ofo, c1.qdrop - c0.qdrop, c1.oow - c0.oow);
		EXPECT_LT(0, c1.ofo - c0.ofo);
		EXPECT_LT(0, c1.oow - c0.oow);
	}
}

TOYTCP_HARNESS_MAIN
