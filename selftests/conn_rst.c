// SPDX-License-Identifier: GPL-2.0
/*
 * RST on the wire: a segment for no socket gets one (built as RFC 9293
 * 3.10.7.1 says), a RST never answers a RST, and a RST is accepted only
 * when its sequence number is right (RFC 9293 3.10.7.4 with RFC 5961, as
 * Linux does it: outside the window it is dropped, exactly RCV.NXT resets,
 * elsewhere in the window it only draws a challenge ACK).  A RST that
 * resets counts in InRsts and fires the toytcp_reset tracepoint; an abort
 * of our own (RFC 2525: data for a closed reader) does neither.
 *
 * Segments are handed to namespace a by the emulated link of toytcp_test.h
 * (link_inject()) as if the peer in b had sent them; the link's log shows
 * what a answers.
 *
 *	TOYTCP_PROTO=6 ./conn_rst	# the reference, Linux TCP: must pass
 *	./conn_rst			# toytcp
 *
 * vm-timeout: 120
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"

#define A_IP		"10.9.0.1"
#define B_IP		"10.9.0.2"
#define CLOSED_PORT	9	/* nobody listens there in a */

FIXTURE(rst) {
	int a, b;
	struct link *l;
	int ca, sb;		/* client in a, server in b */
	int cport, sport;
};

FIXTURE_SETUP(rst)
{
	self->a = ns_new();
	ASSERT_LE(0, self->a);
	self->b = ns_new();
	ASSERT_LE(0, self->b);
	self->l = link_new(self->a, A_IP, self->b, B_IP, 1);
	ASSERT_NE(NULL, self->l);
	ASSERT_EQ(0, tpair_ns(self->b, self->a, B_IP, &self->ca, &self->sb));
	self->cport = local_port(self->ca);
	self->sport = local_port(self->sb);
	/* Some data each way, and quiet. */
	ASSERT_EQ(5, send(self->ca, "hello", 5, 0));
	ASSERT_EQ(5, send(self->sb, "world", 5, 0));
	sleep_ms(300);
}

FIXTURE_TEARDOWN(rst)
{
	if (!_metadata->passed && self->l)
		link_dump(self->l, 40);
	close(self->ca);
	close(self->sb);
	link_free(self->l);
}

/* Segments a sent (A_TO_B), all kinds, dropped or not. */
static int sent_by_a(struct link *l)
{
	return link_count(l, A_TO_B, 0, 0, true);
}

/* The last segment a sent, or NULL. */
static struct seg last_from_a(struct link *l)
{
	struct seg none = {};
	int i;

	pthread_mutex_lock(&l->lock);
	for (i = l->nlog - 1; i >= 0; i--)
		if (l->log[i].dir == A_TO_B && l->log[i].proto == test_proto())
			break;
	none = i >= 0 ? l->log[i] : none;
	pthread_mutex_unlock(&l->lock);
	return none;
}

/* The connection still works: data both ways. */
static void still_works(struct __test_metadata *_metadata,
			FIXTURE_DATA(rst) *self)
{
	char buf[16];

	EXPECT_EQ(TCP_ESTABLISHED, tstate(self->ca));
	ASSERT_EQ(0, set_timeo(self->ca, SO_RCVTIMEO, 2000));
	ASSERT_EQ(0, set_timeo(self->sb, SO_RCVTIMEO, 2000));
	EXPECT_EQ(5, recv_all(self->ca, buf, 5));
	EXPECT_EQ(5, recv_all(self->sb, buf, 5));
	EXPECT_EQ(2, send(self->ca, "ok", 2, 0));
	EXPECT_EQ(2, recv_all(self->sb, buf, 2));
	EXPECT_EQ(0, so_error(self->ca));
}

#define TRACEFS "/sys/kernel/tracing"

static int write_file(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ok;

	if (!f)
		return -1;
	ok = fputs(val, f) >= 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* toytcp_reset events on, the trace emptied; -1 without tracefs. */
static int resets_trace_begin(void)
{
	if (write_file(TRACEFS "/tracing_on", "0") ||
	    write_file(TRACEFS "/trace", "") ||
	    write_file(TRACEFS "/events/toytcp/toytcp_reset/enable", "1") ||
	    write_file(TRACEFS "/tracing_on", "1"))
		return -1;
	return 0;
}

/*
 * Events off, and the toytcp_reset events since resets_trace_begin() of
 * the socket bound to ip:port (the tracepoint sees every namespace).
 */
static int resets_trace_end(const char *ip, int port)
{
	char line[512], src[64];
	FILE *f;
	int n = 0;

	snprintf(src, sizeof(src), " src=%s:%d ", ip, port);

	write_file(TRACEFS "/tracing_on", "0");
	write_file(TRACEFS "/events/toytcp/toytcp_reset/enable", "0");
	f = fopen(TRACEFS "/trace", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, "toytcp_reset:") &&
		    strstr(line, src))
			n++;
	fclose(f);
	return n;
}

/* InRsts of namespace ns (toytcp's counter). */
static long in_rsts(int ns)
{
	if (ns_enter(ns))
		return -1;
	return stat_get("InRsts");
}

static long in_rsts_a(FIXTURE_DATA(rst) *self)
{
	return in_rsts(self->a);
}

/* RCV.NXT of a's connection: what b sent last, and its end. */
static uint32_t rcv_nxt_a(FIXTURE_DATA(rst) *self)
{
	return link_next_seq(self->l, B_TO_A);
}

TEST_F(rst, out_of_window_rst_is_dropped)
{
	int n = sent_by_a(self->l);

	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, self->sport, A_IP, self->cport,
				 rcv_nxt_a(self) + 0x40000000, 0, TH_RST, 0));
	sleep_ms(200);
	EXPECT_EQ(n, sent_by_a(self->l)) TH_LOG("a answered a RST");
	still_works(_metadata, self);
}

TEST_F(rst, exact_rst_resets)
{
	long rsts = in_rsts_a(self);
	char buf[16];
	int n = sent_by_a(self->l);
	bool traced = !testing_tcp() && resets_trace_begin() == 0;

	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, self->sport, A_IP, self->cport,
				 rcv_nxt_a(self), 0, TH_RST, 0));
	EXPECT_TRUE(wait_state(self->ca, TCP_CLOSE, 1000))
		TH_LOG("a: %s", state_name(tstate(self->ca)));
	if (!testing_tcp()) {
		EXPECT_EQ(rsts + 1, in_rsts_a(self));
		ASSERT_TRUE(traced) TH_LOG("no tracefs at " TRACEFS);
		EXPECT_EQ(1, resets_trace_end(A_IP, self->cport));
	}
	/* What came before the RST is still there to read, then the error. */
	EXPECT_EQ(5, recv(self->ca, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(-1, recv(self->ca, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(n, sent_by_a(self->l)) TH_LOG("a answered a RST");
}

/*
 * Data for a reader that has closed (RFC 2525 2.17): a aborts with a RST
 * of its own.  Not a RST received: InRsts and the toytcp_reset event stay.
 */
TEST_F(rst, closed_reader_abort_is_not_a_reset)
{
	long rsts_a, rsts_b;
	char buf[16];
	bool traced;
	struct seg s;

	/* nothing unread on either side: else close() itself resets */
	ASSERT_EQ(0, set_timeo(self->ca, SO_RCVTIMEO, 2000));
	ASSERT_EQ(0, set_timeo(self->sb, SO_RCVTIMEO, 2000));
	ASSERT_EQ(5, recv_all(self->ca, buf, 5));
	ASSERT_EQ(5, recv_all(self->sb, buf, 5));
	rsts_a = in_rsts_a(self);
	rsts_b = in_rsts(self->b);
	traced = !testing_tcp() && resets_trace_begin() == 0;
	/* a closes: FIN-WAIT-2 once b has ACKed its FIN; b keeps sending */
	close(self->ca);
	self->ca = -1;
	ASSERT_TRUE(wait_state(self->sb, TCP_CLOSE_WAIT, 2000));
	ASSERT_EQ(4, send(self->sb, "late", 4, 0));
	/* b is reset by a's answer, the RST */
	EXPECT_TRUE(wait_state(self->sb, TCP_CLOSE, 2000))
		TH_LOG("b: %s", state_name(tstate(self->sb)));
	s = last_from_a(self->l);
	EXPECT_EQ(TH_RST, s.flags & (TH_RST | TH_SYN | TH_FIN))
		TH_LOG("a's last segment has flags 0x%x", s.flags);
	/* As on TCP: b read a's FIN first, so EOF; the RST is EPIPE there. */
	EXPECT_EQ(0, recv(self->sb, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EPIPE, so_error(self->sb));
	if (!testing_tcp()) {
		/* a's abort is no RST received; b's RST is one */
		EXPECT_EQ(rsts_a, in_rsts_a(self)) TH_LOG("a counted a RST received");
		EXPECT_EQ(rsts_b + 1, in_rsts(self->b));
		ASSERT_TRUE(traced) TH_LOG("no tracefs at " TRACEFS);
		EXPECT_EQ(1, resets_trace_end(B_IP, self->sport));
		EXPECT_EQ(0, resets_trace_end(A_IP, self->cport))
			TH_LOG("a's abort traced as a RST received");
	}
}

/* In the window, not RCV.NXT: a challenge ACK (RFC 5961 3.2), no reset. */
TEST_F(rst, in_window_rst_gets_challenge_ack)
{
	uint32_t nxt = rcv_nxt_a(self);
	int n = sent_by_a(self->l);
	struct seg s;

	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, self->sport, A_IP, self->cport,
				 nxt + 100, 0, TH_RST, 0));
	sleep_ms(200);
	EXPECT_EQ(n + 1, sent_by_a(self->l));
	s = last_from_a(self->l);
	EXPECT_EQ(TH_ACK, s.flags & (TH_ACK | TH_RST | TH_SYN | TH_FIN));
	EXPECT_EQ(nxt, s.ack);
	still_works(_metadata, self);
}

/* A RST for no connection: nothing answers it. */
TEST_F(rst, rst_never_answers_rst)
{
	int n = sent_by_a(self->l);

	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, 4242, A_IP, CLOSED_PORT,
				 1000, 0, TH_RST, 0));
	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, 4242, A_IP, CLOSED_PORT,
				 1000, 2000, TH_RST | TH_ACK, 0));
	/* Nor for a connection, whatever its sequence number. */
	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, self->sport, A_IP, self->cport,
				 rcv_nxt_a(self) - 100000, 0, TH_RST | TH_ACK, 0));
	sleep_ms(200);
	EXPECT_EQ(n, sent_by_a(self->l)) TH_LOG("a answered a RST");
}

/* An ACK for no connection: RST with SEQ = SEG.ACK, no ACK bit. */
TEST_F(rst, no_socket_ack_gets_rst)
{
	int n = sent_by_a(self->l);
	struct seg s;

	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, 4242, A_IP, CLOSED_PORT,
				 1000, 5000, TH_ACK, 1000));
	sleep_ms(200);
	ASSERT_EQ(n + 1, sent_by_a(self->l));
	s = last_from_a(self->l);
	EXPECT_EQ(TH_RST, s.flags);
	EXPECT_EQ(5000, s.seq);
	EXPECT_EQ(CLOSED_PORT, s.sport);
	EXPECT_EQ(4242, s.dport);
}

/* A SYN (or data) without ACK for no connection: RST|ACK, ACK = SEG.SEQ+SEG.LEN. */
TEST_F(rst, no_socket_syn_gets_rst_ack)
{
	int n = sent_by_a(self->l);
	struct seg s;

	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, 4242, A_IP, CLOSED_PORT,
				 1000, 0, TH_SYN, 1000));
	sleep_ms(200);
	ASSERT_EQ(n + 1, sent_by_a(self->l));
	s = last_from_a(self->l);
	EXPECT_EQ(TH_RST | TH_ACK, s.flags);
	EXPECT_EQ(0, s.seq);
	EXPECT_EQ(1001, s.ack);
	/* A FIN counts one as well. */
	ASSERT_EQ(0, link_inject(self->l, 0, B_IP, 4242, A_IP, CLOSED_PORT,
				 3000, 0, TH_FIN, 1000));
	sleep_ms(200);
	ASSERT_EQ(n + 2, sent_by_a(self->l));
	s = last_from_a(self->l);
	EXPECT_EQ(TH_RST | TH_ACK, s.flags);
	EXPECT_EQ(3001, s.ack);
}

/* A segment with a bad checksum is dropped: it neither resets nor is answered. */
TEST_F(rst, bad_checksum_dropped)
{
	int n = sent_by_a(self->l);

	ASSERT_EQ(0, link_inject_csum(self->l, 0, B_IP, self->sport, A_IP,
				      self->cport, rcv_nxt_a(self), 0, TH_RST,
				      0, true));
	ASSERT_EQ(0, link_inject_csum(self->l, 0, B_IP, 4242, A_IP, CLOSED_PORT,
				      1000, 5000, TH_ACK, 1000, true));
	sleep_ms(200);
	EXPECT_EQ(n, sent_by_a(self->l));
	still_works(_metadata, self);
}

TOYTCP_HARNESS_MAIN
