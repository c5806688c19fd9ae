// SPDX-License-Identifier: GPL-2.0
/*
 * Bad input from the wire (issue 4): hand-built segments of IP protocol 253
 * sent with a raw socket (IP_HDRINCL) from namespace b at toytcp sockets in
 * namespace a, over a veth pair.  Namespace a holds only toytcp sockets; b
 * holds the peer of the connections and the raw sockets (one to send, one
 * that sees every protocol-253 datagram a sends back).
 *
 *  - malformed segments at a listener: dropped, counted (InErrs,
 *    InCsumErrors), never answered;
 *  - segments for a closed port: a RST built as RFC 9293 3.10.7.1 says;
 *  - RFC 5961 on an established connection: challenge ACKs, exact RST,
 *    out-of-window RST, SYN, ACK of data never sent, out-of-window data;
 *  - all of these at a connection carrying 1 MiB, which must arrive intact;
 *  - a fuzzer: FUZZ_COUNT random and mutated segments (fixed seed, printed)
 *    at a listener and at a connection carrying 512 KiB.
 *
 * The counters checked are those of /proc/net/toytcp_stat in a.
 *
 * vm-timeout: 400
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"
#include <netinet/ip.h>

#define A_IP		"10.9.1.1"
#define B_IP		"10.9.1.2"
#define CLOSED_PORT	9
#define FUZZ_COUNT	100000
#define FUZZ_SEED	0x70795443ull	/* "pyTC" */

/* ---------------------------------------------------------------------- */
/* Counters of a */

struct stats {
	long in_errs, csum, challenge, nosock, out_rsts, estab_resets;
};

static struct stats stats_now(int ns_a)
{
	struct stats s;

	ns_enter(ns_a);
	s.in_errs = stat_get("InErrs");
	s.csum = stat_get("InCsumErrors");
	s.challenge = stat_get("ChallengeAcks");
	s.nosock = stat_get("NoSocket");
	s.out_rsts = stat_get("OutRsts");
	s.estab_resets = stat_get("EstabResets");
	return s;
}

/* ---------------------------------------------------------------------- */
/* Building segments */

enum { CSUM_GOOD, CSUM_BAD };

struct tseg {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	const uint8_t *opt;	/* raw option bytes */
	int optlen;		/* padded with zeros (EOL) to 4 */
	int doff;		/* 0: 5 + options; else written as is */
	const uint8_t *data;
	int dlen;
	int tcp_len;		/* 0: header + data; else the TCP bytes sent (truncate) */
	int csum;		/* CSUM_GOOD / CSUM_BAD */
};

static uint16_t tcp_csum(const uint8_t *ip, const uint8_t *tcp, int len)
{
	uint8_t pseudo[12] = {};

	memcpy(pseudo, ip + 12, 8);
	pseudo[9] = IPPROTO_TCP;	/* SPEC: protocol 6 in the pseudo header */
	pseudo[10] = len >> 8;
	pseudo[11] = len;
	return csum_fold(csum_add(csum_add(0, pseudo, 12), tcp, len));
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/*
 * Lay the IP header and the TCP bytes in buf; the checksum is computed
 * over the bytes actually sent.  Returns the datagram length.
 */
static int seg_build(uint8_t *buf, const struct tseg *t)
{
	struct in_addr s, d;
	uint8_t *p = buf + 20;
	int olen = (t->optlen + 3) & ~3, hlen = 20 + olen, len;
	uint16_t sum;

	inet_pton(AF_INET, B_IP, &s);
	inet_pton(AF_INET, A_IP, &d);
	memset(buf, 0, 20 + hlen);
	buf[0] = 0x45;
	buf[8] = 64;
	buf[9] = IPPROTO_TOYTCP;
	memcpy(buf + 12, &s, 4);
	memcpy(buf + 16, &d, 4);
	p[0] = t->sport >> 8;
	p[1] = t->sport;
	p[2] = t->dport >> 8;
	p[3] = t->dport;
	put32(p + 4, t->seq);
	put32(p + 8, t->ack);
	p[12] = (t->doff ? t->doff : hlen / 4) << 4;
	p[13] = t->flags;
	p[14] = t->win >> 8;
	p[15] = t->win;
	if (t->optlen)
		memcpy(p + 20, t->opt, t->optlen);
	if (t->dlen)
		memcpy(p + hlen, t->data, t->dlen);
	len = t->tcp_len ? t->tcp_len : hlen + t->dlen;
	if (len >= 18) {
		sum = tcp_csum(buf, p, len);
		if (t->csum == CSUM_BAD)
			sum ^= 0x5a5a;
		p[16] = sum >> 8;
		p[17] = sum;
	}
	buf[2] = (20 + len) >> 8;
	buf[3] = 20 + len;
	return 20 + len;
}

/* The raw sockets of namespace b. */
struct raw {
	int tx, rx;
	struct sockaddr_in dst;
};

static int raw_open(struct raw *r, int ns_b)
{
	int one = 1;

	if (ns_enter(ns_b))
		return -1;
	r->tx = socket(AF_INET, SOCK_RAW, IPPROTO_TOYTCP);
	r->rx = socket(AF_INET, SOCK_RAW | SOCK_NONBLOCK, IPPROTO_TOYTCP);
	if (r->tx < 0 || r->rx < 0)
		return -1;
	if (setsockopt(r->tx, IPPROTO_IP, IP_HDRINCL, &one, sizeof(one)))
		return -1;
	set_int_opt(r->tx, SOL_SOCKET, SO_RCVBUF, 4096);
	set_int_opt(r->tx, SOL_SOCKET, SO_SNDBUF, 1 << 20);
	set_int_opt(r->rx, SOL_SOCKET, SO_RCVBUF, 1 << 20);
	r->dst = sin_of(A_IP, 0);
	return 0;
}

static void raw_close(struct raw *r)
{
	close(r->tx);
	close(r->rx);
}

static int raw_send_bytes(struct raw *r, const uint8_t *buf, int len)
{
	int n;

	for (;;) {
		n = sendto(r->tx, buf, len, 0, (struct sockaddr *)&r->dst,
			   sizeof(r->dst));
		if (n == len)
			return 0;
		if (n < 0 && (errno == ENOBUFS || errno == EAGAIN ||
			      errno == EINTR)) {
			usleep(100);
			continue;
		}
		return -1;
	}
}

static int raw_send(struct raw *r, const struct tseg *t)
{
	uint8_t buf[2048];

	return raw_send_bytes(r, buf, seg_build(buf, t));
}

/* A segment a sent to b:dport (any if 0), within ms; true if one came. */
static bool raw_recv(struct raw *r, int dport, struct seg *out, int ms)
{
	uint8_t buf[2048];
	int64_t end = now_ms() + ms;
	int n;

	do {
		while ((n = recv(r->rx, buf, sizeof(buf), 0)) > 0) {
			seg_parse(out, buf, n);
			if (out->proto != IPPROTO_TOYTCP)
				continue;
			if (!dport || out->dport == dport)
				return true;
		}
		if (ms)
			poll1(r->rx, POLLIN, 10);
	} while (now_ms() < end);
	return false;
}

static void raw_drain(struct raw *r)
{
	uint8_t buf[2048];

	while (recv(r->rx, buf, sizeof(buf), 0) > 0)
		;
}

/* ---------------------------------------------------------------------- */
/* Namespaces: a (toytcp only), b (the peer, the raw sockets) */

struct env {
	int a, b;
	struct raw r;
};

static int env_new(struct env *e)
{
	e->a = ns_new();
	e->b = ns_new();
	if (e->a < 0 || e->b < 0)
		return -1;
	if (veth_pair(e->a, "wa", A_IP, e->b, "wb", B_IP))
		return -1;
	if (raw_open(&e->r, e->b))
		return -1;
	return 0;
}

/*
 * A connection from b to a listener in a: *cfd in b, *sfd in a; the
 * SYN-ACK a sent tells a's ISN and RCV.NXT (b's ISN + 1).
 */
struct conn {
	int cfd, sfd, lfd;
	int cport, sport;
	uint32_t a_iss, a_rcv_nxt;
};

static int conn_new(struct env *e, struct conn *c)
{
	struct seg s;
	int64_t end;

	if (ns_enter(e->a))
		return -1;
	c->lfd = tlisten(A_IP, 0, 16);
	if (c->lfd < 0)
		return -1;
	c->sport = local_port(c->lfd);
	if (ns_enter(e->b))
		return -1;
	raw_drain(&e->r);
	c->cfd = tconnect(A_IP, c->sport);
	if (c->cfd < 0)
		return -1;
	c->cport = local_port(c->cfd);
	c->sfd = taccept(c->lfd);
	if (c->sfd < 0)
		return -1;
	end = now_ms() + 1000;
	while (now_ms() < end) {
		if (!raw_recv(&e->r, c->cport, &s, 100))
			continue;
		if ((s.flags & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK)) {
			c->a_iss = s.seq;
			c->a_rcv_nxt = s.ack;
			return 0;
		}
	}
	return -1;
}

static void conn_free(struct conn *c)
{
	close(c->cfd);
	close(c->sfd);
	close(c->lfd);
}

/* ---------------------------------------------------------------------- */
/* The malformed segments, each of which a must drop and count */

static const uint8_t opt_overrun[] = { 2, 4, 5, 0xb4, 8, 10, 1, 2 };	/* TS of 10 in 4 */
static const uint8_t opt_zero[] = { 1, 1, 30, 0 };			/* length 0 */
static const uint8_t opt_one[] = { 1, 1, 30, 1 };			/* length 1 */
static const uint8_t opt_big[] = { 30, 40, 0, 0 };			/* length 40 in 4 */
static const uint8_t opt_bad_mss[] = { 2, 3, 5, 0 };			/* MSS of 3 */
static const uint8_t opt_trunc[] = { 1, 1, 1, 2 };			/* MSS kind, no length */

/*
 * Fill t with malformed segment number i (of MALFORMED) around base; what
 * it is in *what.  csum: whether it is a checksum error.
 */
#define MALFORMED 15
static void malformed(int i, const struct tseg *base, struct tseg *t,
		      const char **what, bool *csum)
{
	static const uint8_t data[64] = "garbage";

	*t = *base;
	*csum = false;
	switch (i) {
	case 0: *what = "8 bytes of header"; t->tcp_len = 8; break;
	case 1: *what = "19 bytes of header"; t->tcp_len = 19; break;
	case 2: *what = "data offset 0"; break;	/* patched in send_malformed() */
	case 3: *what = "data offset 4"; t->doff = 4; break;
	case 4: *what = "data offset 15, 20 bytes"; t->doff = 15; break;
	case 5: *what = "data offset 8, 28 bytes"; t->doff = 8; t->tcp_len = 28; break;
	case 6: *what = "option overruns"; t->opt = opt_overrun; t->optlen = 8; break;
	case 7: *what = "zero-length option"; t->opt = opt_zero; t->optlen = 4; break;
	case 8: *what = "one-length option"; t->opt = opt_one; t->optlen = 4; break;
	case 9: *what = "oversize option"; t->opt = opt_big; t->optlen = 4; break;
	case 10: *what = "MSS option of length 3"; t->opt = opt_bad_mss; t->optlen = 4; break;
	case 11: *what = "option without length"; t->opt = opt_trunc; t->optlen = 4; break;
	case 12: *what = "SYN+FIN"; t->flags = TH_SYN | TH_FIN; break;
	case 13: *what = "SYN+RST"; t->flags = TH_SYN | TH_RST; break;
	case 14: *what = "no flags, with data"; t->flags = 0; t->data = data; t->dlen = 7; break;
	}
	(void)csum;
}

/* Send malformed segment i; data offset 0 needs the header byte patched. */
static int send_malformed(struct raw *r, int i, const struct tseg *base,
			  const char **what)
{
	uint8_t buf[2048];
	struct tseg t;
	bool csum;
	uint16_t sum;
	int len;

	malformed(i, base, &t, what, &csum);
	len = seg_build(buf, &t);
	if (i == 2) {
		buf[20 + 12] = 0;
		buf[20 + 16] = buf[20 + 17] = 0;
		sum = tcp_csum(buf, buf + 20, len - 20);
		buf[20 + 16] = sum >> 8;
		buf[20 + 17] = sum;
	}
	return raw_send_bytes(r, buf, len);
}

/* ---------------------------------------------------------------------- */

FIXTURE(wire) {
	struct env e;
};

FIXTURE_SETUP(wire)
{
	ASSERT_EQ(0, env_new(&self->e));
}

FIXTURE_TEARDOWN(wire)
{
	raw_close(&self->e.r);
}

/* Every malformed segment at a listener: dropped, counted, unanswered. */
TEST_F(wire, listener_malformed)
{
	struct env *e = &self->e;
	struct stats s0, s1;
	struct tseg base = { .seq = 1000, .flags = TH_SYN, .win = 8192 },
		    t;
	const char *what;
	struct seg s;
	int lfd, port, i, cfd, afd;

	ASSERT_EQ(0, ns_enter(e->a));
	lfd = tlisten(A_IP, 0, 16);
	ASSERT_LE(0, lfd);
	port = local_port(lfd);
	base.dport = port;
	s0 = stats_now(e->a);
	ASSERT_LE(0, s0.in_errs) TH_LOG("no /proc/net/toytcp_stat");
	raw_drain(&e->r);
	for (i = 0; i < MALFORMED; i++) {
		base.sport = 20000 + i;
		ASSERT_EQ(0, send_malformed(&e->r, i, &base, &what)) TH_LOG("%s", what);
	}
	/* Bad checksums: a SYN, an ACK, a RST, with data. */
	t = base;
	t.sport = 20100;
	t.csum = CSUM_BAD;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	t.sport++;
	t.flags = TH_ACK;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	t.sport++;
	t.flags = TH_RST;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	t.sport++;
	t.flags = TH_ACK | TH_PUSH;
	t.data = (const uint8_t *)"0123456789";
	t.dlen = 10;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	sleep_ms(300);
	s1 = stats_now(e->a);
	EXPECT_EQ(MALFORMED + 4, s1.in_errs - s0.in_errs);
	EXPECT_EQ(4, s1.csum - s0.csum);
	EXPECT_EQ(0, s1.nosock - s0.nosock);
	while (raw_recv(&e->r, 0, &s, 0)) {
		EXPECT_TRUE(s.dport < 20000 || s.dport > 20103)
			TH_LOG("a answered a malformed segment to port %u: flags %#x",
			       s.dport, s.flags);
	}

	/* A SYN with data: a SYN-ACK that acknowledges the SYN only. */
	t = base;
	t.sport = 20200;
	t.data = (const uint8_t *)"early data";
	t.dlen = 10;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	ASSERT_TRUE(raw_recv(&e->r, 20200, &s, 1000));
	EXPECT_EQ(TH_SYN | TH_ACK, s.flags & (TH_SYN | TH_ACK | TH_RST | TH_FIN));
	EXPECT_EQ(1001, s.ack);

	/* The listener still works. */
	ASSERT_EQ(0, ns_enter(e->b));
	cfd = tconnect(A_IP, port);
	ASSERT_LE(0, cfd);
	afd = taccept(lfd);
	ASSERT_LE(0, afd);
	EXPECT_EQ(2, send(cfd, "ok", 2, 0));
	char buf[4];
	ASSERT_EQ(0, set_timeo(afd, SO_RCVTIMEO, 2000));
	EXPECT_EQ(2, recv_all(afd, buf, 2));
	close(cfd);
	close(afd);
	close(lfd);
}

/* RFC 9293 3.10.7.1: a segment for no socket draws a RST built from it. */
TEST_F(wire, closed_port_rst)
{
	struct env *e = &self->e;
	struct stats s0, s1;
	struct tseg t = { .sport = 4242, .dport = CLOSED_PORT, .win = 1000 };
	struct seg s;

	s0 = stats_now(e->a);
	raw_drain(&e->r);

	/* ACK: <SEQ=SEG.ACK><CTL=RST> */
	t.seq = 1000;
	t.ack = 5000;
	t.flags = TH_ACK;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	/* the first answer waits for ARP: more time than the others */
	ASSERT_TRUE(raw_recv(&e->r, 4242, &s, 5000));
	EXPECT_EQ(TH_RST, s.flags);
	EXPECT_EQ(5000, s.seq);
	EXPECT_EQ(CLOSED_PORT, s.sport);

	/* SYN: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, the SYN counts one */
	t.sport = 4243;
	t.seq = 0xfffffff0;
	t.ack = 0;
	t.flags = TH_SYN;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	ASSERT_TRUE(raw_recv(&e->r, 4243, &s, 1000));
	EXPECT_EQ(TH_RST | TH_ACK, s.flags);
	EXPECT_EQ(0, s.seq);
	EXPECT_EQ(0xfffffff1, s.ack);

	/* Data and FIN without ACK: ACK = SEQ + data + 1 */
	t.sport = 4244;
	t.seq = 7000;
	t.flags = TH_FIN | TH_PUSH;
	t.data = (const uint8_t *)"0123456789";
	t.dlen = 10;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	ASSERT_TRUE(raw_recv(&e->r, 4244, &s, 1000));
	EXPECT_EQ(TH_RST | TH_ACK, s.flags);
	EXPECT_EQ(0, s.seq);
	EXPECT_EQ(7011, s.ack);

	/* Data with ACK: SEQ = SEG.ACK, no ACK bit */
	t.sport = 4245;
	t.ack = 123456;
	t.flags = TH_ACK | TH_PUSH;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	ASSERT_TRUE(raw_recv(&e->r, 4245, &s, 1000));
	EXPECT_EQ(TH_RST, s.flags);
	EXPECT_EQ(123456, s.seq);

	/* A RST: nothing */
	t.sport = 4246;
	t.flags = TH_RST;
	t.dlen = 0;
	ASSERT_EQ(0, raw_send(&e->r, &t));
	EXPECT_FALSE(raw_recv(&e->r, 4246, &s, 300));

	s1 = stats_now(e->a);
	EXPECT_EQ(5, s1.nosock - s0.nosock);
	EXPECT_EQ(4, s1.out_rsts - s0.out_rsts);
	EXPECT_EQ(0, s1.in_errs - s0.in_errs);
}

/* ---------------------------------------------------------------------- */
/* RFC 5961 on a quiet established connection */

FIXTURE(est) {
	struct env e;
	struct conn c;
	uint32_t rcv_nxt, snd_nxt;	/* a's */
};

FIXTURE_SETUP(est)
{
	char buf[8];
	struct seg s;

	ASSERT_EQ(0, env_new(&self->e));
	ASSERT_EQ(0, conn_new(&self->e, &self->c));
	ASSERT_EQ(0, set_timeo(self->c.cfd, SO_RCVTIMEO, 2000));
	ASSERT_EQ(0, set_timeo(self->c.sfd, SO_RCVTIMEO, 2000));
	ASSERT_EQ(5, send(self->c.cfd, "hello", 5, 0));
	ASSERT_EQ(5, recv_all(self->c.sfd, buf, 5));
	ASSERT_EQ(5, send(self->c.sfd, "world", 5, 0));
	ASSERT_EQ(5, recv_all(self->c.cfd, buf, 5));
	sleep_ms(300);	/* delayed ACKs out */
	while (raw_recv(&self->e.r, self->c.cport, &s, 0))
		;
	self->rcv_nxt = self->c.a_rcv_nxt + 5;
	self->snd_nxt = self->c.a_iss + 1 + 5;
}

FIXTURE_TEARDOWN(est)
{
	conn_free(&self->c);
	raw_close(&self->e.r);
}

static struct tseg est_seg(FIXTURE_DATA(est) *self, uint32_t seq,
			   uint32_t ack, uint8_t flags)
{
	struct tseg t = {
		.sport = self->c.cport, .dport = self->c.sport,
		.seq = seq, .ack = ack, .flags = flags, .win = 1000,
	};

	return t;
}

/* Data both ways still flows, nothing injected was taken. */
static void est_works(struct __test_metadata *_metadata, FIXTURE_DATA(est) *self)
{
	char buf[16];

	EXPECT_EQ(TCP_ESTABLISHED, tstate(self->c.sfd));
	EXPECT_EQ(-1, recv(self->c.sfd, buf, sizeof(buf), MSG_DONTWAIT))
		TH_LOG("a received injected data");
	EXPECT_EQ(2, send(self->c.cfd, "ok", 2, 0));
	EXPECT_EQ(2, recv_all(self->c.sfd, buf, 2));
	EXPECT_EQ(2, send(self->c.sfd, "ko", 2, 0));
	EXPECT_EQ(2, recv_all(self->c.cfd, buf, 2));
	EXPECT_EQ(0, memcmp(buf, "ko", 2));
}

/* An ACK with SEQ = a's SND.NXT and ACK = a's RCV.NXT, within ms. */
static bool got_ack(FIXTURE_DATA(est) *self, int ms)
{
	struct seg s;

	if (!raw_recv(&self->e.r, self->c.cport, &s, ms))
		return false;
	return (s.flags & (TH_ACK | TH_SYN | TH_RST | TH_FIN)) == TH_ACK &&
	       s.seq == self->snd_nxt && s.ack == self->rcv_nxt && !s.len;
}

TEST_F(est, in_window_rst_challenge_ack)
{
	struct stats s0 = stats_now(self->e.a), s1;
	struct tseg t = est_seg(self, self->rcv_nxt + 1000, 0, TH_RST);

	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	EXPECT_TRUE(got_ack(self, 1000));
	s1 = stats_now(self->e.a);
	EXPECT_EQ(1, s1.challenge - s0.challenge);
	est_works(_metadata, self);
}

TEST_F(est, exact_rst_resets)
{
	struct tseg t = est_seg(self, self->rcv_nxt, 0, TH_RST);
	struct seg s;
	char buf[4];

	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	EXPECT_TRUE(wait_state(self->c.sfd, TCP_CLOSE, 1000));
	EXPECT_EQ(-1, recv(self->c.sfd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_FALSE(raw_recv(&self->e.r, self->c.cport, &s, 200))
		TH_LOG("a answered a RST: flags %#x", s.flags);
}

TEST_F(est, out_of_window_rst_ignored)
{
	struct stats s0 = stats_now(self->e.a), s1;
	struct tseg t = est_seg(self, self->rcv_nxt + 0x40000000, 0, TH_RST);
	struct seg s;

	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	t.seq = self->rcv_nxt - 1;
	t.flags = TH_RST | TH_ACK;
	t.ack = self->snd_nxt;
	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	EXPECT_FALSE(raw_recv(&self->e.r, self->c.cport, &s, 300))
		TH_LOG("a answered: flags %#x", s.flags);
	s1 = stats_now(self->e.a);
	EXPECT_EQ(0, s1.challenge - s0.challenge);
	est_works(_metadata, self);
}

TEST_F(est, syn_challenge_ack)
{
	struct stats s0 = stats_now(self->e.a), s1;
	struct tseg t = est_seg(self, self->rcv_nxt, 0, TH_SYN);

	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	EXPECT_TRUE(got_ack(self, 1000));
	sleep_ms(200);	/* past the challenge ACK rate limit */
	/* a SYN outside the window too (RFC 5961 4.2: any SYN) */
	t.seq = self->rcv_nxt + 0x30000000;
	t.flags = TH_SYN | TH_ACK;
	t.ack = self->snd_nxt;
	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	EXPECT_TRUE(got_ack(self, 1000));
	s1 = stats_now(self->e.a);
	EXPECT_LE(1, s1.challenge - s0.challenge);
	est_works(_metadata, self);
}

/* An ACK of data never sent, with data: dropped (maybe answered), not taken. */
TEST_F(est, ack_of_unsent_data_dropped)
{
	struct tseg t = est_seg(self, self->rcv_nxt, self->snd_nxt + 100000,
				TH_ACK | TH_PUSH);
	struct seg s;

	t.data = (const uint8_t *)"INJECTED";
	t.dlen = 8;
	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	if (raw_recv(&self->e.r, self->c.cport, &s, 300)) {
		EXPECT_EQ(TH_ACK, s.flags & (TH_ACK | TH_SYN | TH_RST | TH_FIN));
		EXPECT_EQ(self->rcv_nxt, s.ack) TH_LOG("a took the data");
	}
	est_works(_metadata, self);
}

/* Data outside the window, ahead and behind: a duplicate ACK, not taken. */
TEST_F(est, out_of_window_data_dropped)
{
	struct tseg t = est_seg(self, self->rcv_nxt + 0x20000000, self->snd_nxt,
				TH_ACK | TH_PUSH);

	t.data = (const uint8_t *)"INJECTED";
	t.dlen = 8;
	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	EXPECT_TRUE(got_ack(self, 1000));
	t.seq = self->rcv_nxt - 100;
	ASSERT_EQ(0, raw_send(&self->e.r, &t));
	EXPECT_TRUE(got_ack(self, 1000));
	est_works(_metadata, self);
}

/* Malformed segments on the connection's own 4-tuple: counted, no effect. */
TEST_F(est, malformed_dropped)
{
	struct stats s0 = stats_now(self->e.a), s1;
	struct tseg base = est_seg(self, self->rcv_nxt, self->snd_nxt, TH_RST);
	const char *what;
	struct seg s;
	int i;

	for (i = 0; i < MALFORMED; i++)
		ASSERT_EQ(0, send_malformed(&self->e.r, i, &base, &what));
	base.csum = CSUM_BAD;
	ASSERT_EQ(0, raw_send(&self->e.r, &base));
	EXPECT_FALSE(raw_recv(&self->e.r, self->c.cport, &s, 300))
		TH_LOG("a answered: flags %#x", s.flags);
	s1 = stats_now(self->e.a);
	EXPECT_EQ(MALFORMED + 1, s1.in_errs - s0.in_errs);
	EXPECT_EQ(1, s1.csum - s0.csum);
	est_works(_metadata, self);
}

/* ---------------------------------------------------------------------- */
/* Attacks on a connection carrying data (a sends to b) */

/*
 * a sends to b in PACE_CHUNKS chunks; chunk i leaves only once the
 * attacker has opened the gate to i (bulk_gate()), so that the attacks
 * really hit a connection in the middle of its transfer, however fast the
 * link is.
 */
#define PACE_CHUNKS	64

struct bulk {
	struct conn c;
	struct xfer tx, rx;
	size_t len;
	volatile int gate;
	pthread_t pacer;
};

static void *paced_send(void *arg)
{
	struct bulk *k = arg;
	struct xfer *x = &k->tx;
	size_t chunk = k->len / PACE_CHUNKS, n;
	char *buf = malloc(chunk + PACE_CHUNKS);
	/*
	 * Only a safety valve for an attacker that never opens the gate: past
	 * the longest attack (the fuzzer: 6 s on Debian's kernel, about 130 s
	 * on the debug kernel under emulation), and its harness timeout.
	 */
	int64_t end = now_ms() + 400000;
	int i;

	x->hash = FNV_INIT;
	for (i = 0; buf && x->done < x->len; i++) {
		while (__atomic_load_n(&k->gate, __ATOMIC_ACQUIRE) < i &&
		       now_ms() < end)
			usleep(200);
		n = x->len - x->done < chunk ? x->len - x->done : chunk;
		stream_fill(buf, x->seed, x->done, n);
		x->err = send_all(x->fd, buf, n, MSG_NOSIGNAL);
		if (x->err)
			break;
		x->hash = fnv1a(x->hash, buf, n);
		x->done += n;
	}
	if (!buf)
		x->err = -ENOMEM;
	if (!x->err && shutdown(x->fd, SHUT_WR))
		x->err = -errno;
	free(buf);
	return NULL;
}

static void bulk_gate(struct bulk *k, int i)
{
	__atomic_store_n(&k->gate, i, __ATOMIC_RELEASE);
}

static int bulk_start(struct env *e, struct bulk *k, size_t len)
{
	if (conn_new(e, &k->c))
		return -1;
	k->len = len;
	k->gate = 0;
	k->tx = (struct xfer){ .fd = k->c.sfd, .len = len, .seed = 77 };
	k->rx = (struct xfer){ .fd = k->c.cfd, .len = len + 1, .seed = 77 };
	set_timeo(k->c.cfd, SO_RCVTIMEO, 60000);
	set_timeo(k->c.sfd, SO_SNDTIMEO, 60000);
	if (xfer_start(&k->rx, xfer_recv) ||
	    start_thread(&k->tx.thread, paced_send, k))
		return -1;
	return 0;
}

static bool bulk_done(struct bulk *k)
{
	return k->rx.done >= k->len || k->rx.err || k->tx.err;
}

/* Join, check the stream and that a received nothing at all. */
static void bulk_finish(struct __test_metadata *_metadata, struct bulk *k)
{
	char buf[16];

	xfer_wait(&k->tx);
	xfer_wait(&k->rx);
	EXPECT_EQ(0, k->tx.err);
	EXPECT_EQ(0, k->rx.err);
	EXPECT_EQ(k->len, k->rx.done);
	EXPECT_FALSE(k->rx.mismatch) TH_LOG("stream differs at %zu", k->rx.mismatch_at);
	EXPECT_EQ(k->tx.hash, k->rx.hash);
	/* b closes; a must read EOF and nothing before it */
	shutdown(k->c.cfd, SHUT_WR);
	set_timeo(k->c.sfd, SO_RCVTIMEO, 5000);
	EXPECT_EQ(0, recv(k->c.sfd, buf, sizeof(buf), 0))
		TH_LOG("a received injected data or an error (%d)", errno);
}

TEST_F(wire, attacks_during_transfer)
{
	struct env *e = &self->e;
	struct stats s0, s1;
	struct bulk k;
	struct tseg base, t;
	const char *what;
	uint64_t t0 = now_ns();
	int i, rounds = 0;
	uint32_t far_ack;

	ASSERT_EQ(0, bulk_start(e, &k, 1 << 20));
	s0 = stats_now(e->a);
	/* a's SND.NXT never gets past ISS + 1 + 1 MiB + 1 */
	far_ack = k.c.a_iss + (4 << 20);
	base = (struct tseg){ .sport = k.c.cport, .dport = k.c.sport,
			      .seq = k.c.a_rcv_nxt, .ack = k.c.a_iss + 1,
			      .flags = TH_ACK, .win = 65535 };
	while (!bulk_done(&k) || rounds < 3) {
		bulk_gate(&k, rounds);
		for (i = 0; i < MALFORMED; i++)
			ASSERT_EQ(0, send_malformed(&e->r, i, &base, &what));
		t = base;			/* bad checksum, exact RST */
		t.flags = TH_RST;
		t.csum = CSUM_BAD;
		ASSERT_EQ(0, raw_send(&e->r, &t));
		t = base;			/* in-window RST, not exact */
		t.seq += 1 + rounds;
		t.flags = TH_RST;
		ASSERT_EQ(0, raw_send(&e->r, &t));
		t = base;			/* out-of-window RST */
		t.seq -= 0x10000000;
		t.flags = TH_RST | TH_ACK;
		ASSERT_EQ(0, raw_send(&e->r, &t));
		t = base;			/* SYN */
		t.flags = TH_SYN;
		ASSERT_EQ(0, raw_send(&e->r, &t));
		t = base;			/* in-window data acking the unsent */
		t.ack = far_ack;
		t.flags = TH_ACK | TH_PUSH;
		t.data = (const uint8_t *)"INJECTED";
		t.dlen = 8;
		ASSERT_EQ(0, raw_send(&e->r, &t));
		t.ack = far_ack;		/* ... with FIN */
		t.flags = TH_ACK | TH_FIN;
		ASSERT_EQ(0, raw_send(&e->r, &t));
		t.ack = base.ack;		/* out-of-window data, ahead */
		t.flags = TH_ACK | TH_PUSH;
		t.seq = base.seq + 0x20000000;
		ASSERT_EQ(0, raw_send(&e->r, &t));
		t.seq = base.seq - 1000;	/* and behind */
		ASSERT_EQ(0, raw_send(&e->r, &t));
		t = base;			/* zero window, acking the unsent */
		t.ack = far_ack;
		t.win = 0;
		ASSERT_EQ(0, raw_send(&e->r, &t));
		rounds++;
		sleep_ms(5);
		ASSERT_LT(now_ns() - t0, 120ull * 1000000000) TH_LOG("transfer stalled");
	}
	bulk_finish(_metadata, &k);
	s1 = stats_now(e->a);
	TH_LOG("%d rounds of attacks during 1 MiB in %.2f s", rounds,
	       (now_ns() - t0) / 1e9);
	EXPECT_EQ(rounds * (MALFORMED + 1), s1.in_errs - s0.in_errs);
	EXPECT_EQ(rounds, s1.csum - s0.csum);
	EXPECT_LE(1, s1.challenge - s0.challenge);
	EXPECT_EQ(0, s1.estab_resets - s0.estab_resets);
	conn_free(&k.c);
}

/* ---------------------------------------------------------------------- */
/* The fuzzer */

static uint64_t rng_state;

static uint32_t rnd(void)
{
	uint64_t x = rng_state;		/* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return (x * 0x2545f4914f6cdd1dull) >> 32;
}

static uint32_t rnd_n(uint32_t n)
{
	return n ? rnd() % n : 0;
}

struct fuzz_target {
	uint16_t lport;			/* the listener */
	uint16_t cport, sport;		/* the connection: b's, a's port */
	uint32_t rcv_nxt, rwnd_end;	/* a's RCV.NXT, beyond its window */
	uint32_t iss;			/* a's ISS */
};

/*
 * One fuzzed segment into buf; its length.  Segments aimed at the
 * connection's exact 4-tuple with a good checksum never carry a sequence
 * number the receiver could accept together with an acceptable ACK: an
 * in-window blind injection with a right ACK is data to any TCP (and
 * would corrupt the stream by design).  In the window they ack data a
 * never sent (must be dropped); otherwise they are outside the window.
 */
static int fuzz_one(uint8_t *buf, const struct fuzz_target *f, uint64_t *bad_csum)
{
	static uint8_t opts[40], data[1400];
	struct tseg t = {};
	int kind = rnd_n(100), i, len, pos;
	bool flipped;
	uint32_t r;

	t.flags = rnd() & 0xff;
	if (rnd_n(4))
		t.flags &= TH_SYN | TH_ACK | TH_FIN | TH_RST | TH_PUSH;
	if (rnd_n(2) && (t.flags & TH_SYN))	/* half: legal combinations */
		t.flags &= ~(TH_FIN | TH_RST);
	t.win = rnd_n(3) ? rnd() : 0;
	t.seq = rnd();
	t.ack = rnd();
	t.sport = f->cport;
	if (kind < 30) {			/* at the listener */
		t.dport = f->lport;
		t.sport = 1024 + rnd_n(60000);
		if (t.sport == f->cport)
			t.sport++;
	} else if (kind < 40) {			/* random ports */
		t.dport = rnd();
		t.sport = rnd();
		if (t.sport == f->cport)
			t.sport++;
	} else {				/* the connection */
		t.dport = f->sport;
		r = rnd_n(3);
		if (r == 0) {			/* in the window, acking the unsent */
			t.seq = f->rcv_nxt + rnd_n(60000);
			t.ack = f->iss + (4 << 20) + rnd_n(1 << 28);
			t.flags |= TH_ACK;
			if (t.seq == f->rcv_nxt)
				t.flags &= ~TH_RST;
		} else if (r == 1) {		/* behind the window */
			t.seq = f->rcv_nxt - 1600 - (rnd_n(2) ? rnd_n(65536) : rnd_n(1 << 30));
			t.ack = f->iss + rnd_n(2 << 20);
		} else {			/* ahead of it */
			t.seq = f->rwnd_end + (rnd_n(2) ? rnd_n(65536) : rnd_n(1 << 30));
			t.ack = f->iss + rnd_n(2 << 20);
		}
	}
	/* options: none (1/2), valid ones (1/4), random bytes (1/4) */
	r = rnd_n(4);
	if (r == 2) {
		static const uint8_t good[] = { 2, 4, 5, 0xb4, 1, 3, 3, 7, 4, 2, 1, 1 };
		t.optlen = sizeof(good);
		memcpy(opts, good, sizeof(good));
	} else if (r == 3) {
		t.optlen = 1 + rnd_n(40);
		for (i = 0; i < t.optlen; i++)
			opts[i] = rnd_n(2) ? rnd_n(10) : rnd();
	}
	t.opt = opts;
	if (rnd_n(2)) {
		t.dlen = rnd_n(4) ? rnd_n(64) : rnd_n(1400);
		for (i = 0; i < t.dlen; i += 4)
			put32(data + i, rnd());
		t.data = data;
	}
	/* lengths and data offset */
	r = rnd_n(10);
	if (r == 0)
		t.doff = rnd_n(16);
	else if (r == 1)
		t.tcp_len = rnd_n(20 + t.optlen + t.dlen + 1);
	t.csum = rnd_n(10) ? CSUM_GOOD : CSUM_BAD;
	len = seg_build(buf, &t);
	/* a few: flip a bit of the TCP header after the checksum */
	flipped = !rnd_n(20) && len > 20;
	if (flipped) {
		pos = 20 + rnd_n(len - 20 < 20 ? len - 20 : 20);
		buf[pos] ^= 1 << rnd_n(8);
	}
	/* a checksum error that a must see: the header itself holds up */
	if ((flipped || t.csum == CSUM_BAD) && len - 20 >= 20 &&
	    buf[32] >> 4 >= 5 && (buf[32] >> 4) * 4 <= len - 20)
		++*bad_csum;
	return len;
}

/* 6 s on Debian's kernel, about 130 s on the debug kernel (KASAN, lockdep) */
TEST_F_TIMEOUT(wire, fuzz, 300)
{
	struct env *e = &self->e;
	struct stats s0, s1;
	struct fuzz_target f;
	struct bulk k;
	uint8_t buf[2048];
	uint64_t t0, t1, bad = 0;
	int lfd, i, len, rcvbuf;

	ASSERT_EQ(0, ns_enter(e->a));
	lfd = tlisten(A_IP, 0, 64);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bulk_start(e, &k, 512 << 10));
	rcvbuf = get_int_opt(k.c.sfd, SOL_SOCKET, SO_RCVBUF);
	ASSERT_LT(0, rcvbuf);
	f = (struct fuzz_target){
		.lport = local_port(lfd), .cport = k.c.cport,
		.sport = k.c.sport, .rcv_nxt = k.c.a_rcv_nxt,
		.rwnd_end = k.c.a_rcv_nxt + 4 * rcvbuf + (1 << 20),
		.iss = k.c.a_iss,
	};
	rng_state = FUZZ_SEED;
	TH_LOG("seed %#llx, %d segments", (unsigned long long)FUZZ_SEED, FUZZ_COUNT);
	s0 = stats_now(e->a);
	t0 = now_ns();
	for (i = 0; i < FUZZ_COUNT; i++) {
		/* chunks 0..PACE_CHUNKS-2 go during the fuzzing, the last after */
		if (!(i & 255))
			bulk_gate(&k, (int)((uint64_t)i * (PACE_CHUNKS - 1) / FUZZ_COUNT));
		len = fuzz_one(buf, &f, &bad);
		ASSERT_EQ(0, raw_send_bytes(&e->r, buf, len)) TH_LOG("segment %d", i);
		if (!(i & 1023))
			raw_drain(&e->r);
	}
	t1 = now_ns();
	EXPECT_FALSE(bulk_done(&k)) TH_LOG("the transfer ended before the fuzzer did");
	bulk_gate(&k, PACE_CHUNKS + 1);
	bulk_finish(_metadata, &k);
	s1 = stats_now(e->a);
	TH_LOG("%d segments sent in %.2f s; transfer done %.2f s after start",
	       FUZZ_COUNT, (t1 - t0) / 1e9, (now_ns() - t0) / 1e9);
	TH_LOG("a: InErrs +%ld InCsumErrors +%ld (%llu sent with a bad checksum and a sound header) ChallengeAcks +%ld NoSocket +%ld OutRsts +%ld",
	       s1.in_errs - s0.in_errs, s1.csum - s0.csum,
	       (unsigned long long)bad, s1.challenge - s0.challenge,
	       s1.nosock - s0.nosock, s1.out_rsts - s0.out_rsts);
	EXPECT_EQ(bad, (uint64_t)(s1.csum - s0.csum));
	EXPECT_LE(s1.csum - s0.csum, s1.in_errs - s0.in_errs);
	EXPECT_LT(0, s1.nosock - s0.nosock);
	EXPECT_EQ(0, s1.estab_resets - s0.estab_resets);
	conn_free(&k.c);

	/* The listener still takes a connection. */
	{
		int cfd, afd;

		ASSERT_EQ(0, ns_enter(e->b));
		cfd = tconnect(A_IP, f.lport);
		ASSERT_LE(0, cfd);
		afd = taccept(lfd);
		ASSERT_LE(0, afd);
		close(cfd);
		close(afd);
	}
	close(lfd);
}

TOYTCP_HARNESS_MAIN
