// SPDX-License-Identifier: GPL-2.0
/*
 * TIME-WAIT: it answers a retransmitted FIN with an ACK (whether the
 * application still holds the socket or not), and it lasts 2 MSL, 60 s as
 * on Linux.
 *
 * The FIN is made to be retransmitted by dropping, on the emulated link of
 * toytcp_test.h, the first two ACKs of it from the end that enters
 * TIME-WAIT: the peer resends its FIN twice, and the third ACK gets through.
 *
 * Through the fd, a connection in TIME-WAIT reads TCP_CLOSE on Linux TCP and
 * TCP_TIME_WAIT on toytcp (fd_time_wait_state()); /proc shows TIME-WAIT for
 * both.
 *
 *	TOYTCP_PROTO=6 ./conn_timewait	# the reference, Linux TCP: must pass
 *	./conn_timewait			# toytcp
 *	TOYTCP_TESTS=fin ./conn_timewait	# without the 60 s tests
 *
 * vm-timeout: 400
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"

#define A_IP		"10.9.0.1"
#define B_IP		"10.9.0.2"
#define LINK_DELAY_MS	50

/* 2 MSL, and how far off a measure of it may be (timers, emulation). */
#define TIME_WAIT_MS	60000
#define TIME_WAIT_SLACK	(TIME_WAIT_MS / 10)

FIXTURE(tw) {
	int a, b;
	struct link *l;
	int ca, sb;	/* client in a, server in b */
	int cport, sport;
	int drop_left;	/* drop_from_a(): A's segments still to lose */
};

FIXTURE_SETUP(tw)
{
	self->ca = self->sb = -1;
	self->a = ns_new();
	ASSERT_LE(0, self->a);
	self->b = ns_new();
	ASSERT_LE(0, self->b);
	self->l = link_new(self->a, A_IP, self->b, B_IP, LINK_DELAY_MS);
	ASSERT_NE(NULL, self->l);
	ASSERT_EQ(0, tpair_ns(self->b, self->a, B_IP, &self->ca, &self->sb));
	self->cport = local_port(self->ca);
	self->sport = local_port(self->sb);
}

FIXTURE_TEARDOWN(tw)
{
	if (!_metadata->passed && self->l)
		link_dump(self->l, 40);
	close(self->ca);
	close(self->sb);
	link_free(self->l);
}

/* B's FIN, and A's segments acknowledging it (sent, and let through). */
static int fins_from_b(struct link *l)
{
	return link_count(l, B_TO_A, TH_FIN, 0, true);
}

static int acks_of_fin(struct link *l, bool dropped)
{
	uint32_t fin_end = 0;
	int i, n = 0;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->proto != test_proto())
			continue;
		if (s->dir == B_TO_A && (s->flags & TH_FIN))
			fin_end = s->seq + s->len + 1;
		else if (s->dir == A_TO_B && fin_end && (s->flags & TH_ACK) &&
			 s->ack == fin_end && s->dropped == dropped)
			n++;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

/*
 * The link drops the first `left` segments A sends once armed: A has
 * nothing else to send by then, so they are its ACKs of B's FIN.  Counted
 * by the link's thread as the segments pass, not by the test when it gets
 * to look: a test thread slowed by a loaded host loses nothing it should
 * not.  Called under the link's lock.
 */
static bool drop_from_a(struct link *l, const struct seg *s, void *arg)
{
	int *left = arg;

	if (s->proto != test_proto() || s->dir != A_TO_B || *left <= 0)
		return false;
	--*left;
	return true;
}

/* Wait up to ms for the link to have seen n ACKs of B's FIN. */
static bool wait_acks_of_fin(struct link *l, bool dropped, int n, int ms)
{
	int64_t end = now_ms() + ms;

	while (acks_of_fin(l, dropped) < n) {
		if (now_ms() > end)
			return false;
		sleep_ms(5);
	}
	return true;
}

/*
 * A closes first and is in FIN-WAIT-2; the link is set to lose A's next two
 * segments; B closes: A enters TIME-WAIT and its ACK of B's FIN is lost, so
 * B stays in LAST-ACK and will resend its FIN.
 */
static void lose_ack_of_fin(struct __test_metadata *_metadata,
			    FIXTURE_DATA(tw) *self)
{
	ASSERT_EQ(0, shutdown(self->ca, SHUT_WR));
	ASSERT_TRUE(wait_state(self->ca, TCP_FIN_WAIT2, 3000));
	ASSERT_TRUE(wait_state(self->sb, TCP_CLOSE_WAIT, 3000));
	self->drop_left = 2;
	link_set_filter(self->l, drop_from_a, &self->drop_left);
	ASSERT_EQ(0, shutdown(self->sb, SHUT_WR));
	ASSERT_TRUE(wait_state(self->ca, fd_time_wait_state(), 3000));
	ASSERT_EQ(0, ns_enter(self->a));
	EXPECT_EQ(TCP_TIME_WAIT, proc_state(self->cport, self->sport));
	/* A's ACK leaves as it enters TIME-WAIT: give the link time to see it */
	EXPECT_TRUE(wait_acks_of_fin(self->l, true, 1, 2000))
		TH_LOG("TIME-WAIT did not acknowledge the FIN");
	/* B cannot have been acknowledged: both of A's first ACKs are lost */
	EXPECT_EQ(TCP_LAST_ACK, tstate(self->sb));
}

/*
 * B resends its FIN; A, in TIME-WAIT, acknowledges it (lost too); B resends
 * it again, A acknowledges it again, this time through: B is CLOSED.
 */
static void fin_resent_and_acked(struct __test_metadata *_metadata,
				 FIXTURE_DATA(tw) *self)
{
	EXPECT_TRUE(wait_acks_of_fin(self->l, true, 2, 5000))
		TH_LOG("TIME-WAIT did not acknowledge the resent FIN");
	EXPECT_TRUE(wait_state(self->sb, TCP_CLOSE, 10000))
		TH_LOG("B: %s", state_name(tstate(self->sb)));
	/* what the link saw is exact: the two lost ACKs cost B two resends */
	EXPECT_EQ(3, fins_from_b(self->l));
	EXPECT_EQ(2, acks_of_fin(self->l, true));
	EXPECT_EQ(1, acks_of_fin(self->l, false))
		TH_LOG("TIME-WAIT never acknowledged the resent FIN");
	EXPECT_LE(2, total_retrans(self->sb));
	/* A is still in TIME-WAIT. */
	ASSERT_EQ(0, ns_enter(self->a));
	EXPECT_EQ(TCP_TIME_WAIT, proc_state(self->cport, self->sport));
	/* No RST anywhere. */
	EXPECT_EQ(0, link_count(self->l, A_TO_B, TH_RST, 0, true));
	EXPECT_EQ(0, link_count(self->l, B_TO_A, TH_RST, 0, true));
}

/* The application still holds the socket in TIME-WAIT. */
TEST_F(tw, acks_retransmitted_fin)
{
	lose_ack_of_fin(_metadata, self);
	fin_resent_and_acked(_metadata, self);
	EXPECT_EQ(fd_time_wait_state(), tstate(self->ca));
}

/* The application closed it: the TIME-WAIT connection alone answers. */
TEST_F(tw, acks_retransmitted_fin_after_close)
{
	lose_ack_of_fin(_metadata, self);
	close(self->ca);
	self->ca = -1;
	fin_resent_and_acked(_metadata, self);
}

/*
 * How long a connection stays in TIME-WAIT in /proc: 60 s.  Two at once:
 * one whose socket the application closed, one it keeps (toytcp: the fd
 * reads TIME-WAIT all along, then CLOSED).
 */
TEST_F_TIMEOUT(tw, lasts_2msl, 150)
{
	int c2, s2, cport2, sport2, st;
	int64_t t0, gone = 0, gone2 = 0, fd_closed = 0, now;
	/* On Linux TCP the fd reads CLOSED from the start. */
	bool watch_fd = !testing_tcp();

	ASSERT_EQ(0, tpair_ns(self->b, self->a, B_IP, &c2, &s2));
	cport2 = local_port(c2);
	sport2 = local_port(s2);
	/* Quicker without the delay. */
	link_set_delay(self->l, 1);
	ASSERT_EQ(0, shutdown(self->ca, SHUT_WR));
	ASSERT_EQ(0, shutdown(c2, SHUT_WR));
	ASSERT_TRUE(wait_state(self->sb, TCP_CLOSE_WAIT, 3000));
	ASSERT_TRUE(wait_state(s2, TCP_CLOSE_WAIT, 3000));
	ASSERT_EQ(0, shutdown(self->sb, SHUT_WR));
	ASSERT_EQ(0, shutdown(s2, SHUT_WR));
	ASSERT_TRUE(wait_state(self->ca, fd_time_wait_state(), 3000));
	ASSERT_TRUE(wait_state(c2, fd_time_wait_state(), 3000));
	t0 = now_ms();
	close(self->ca);
	self->ca = -1;
	ASSERT_EQ(TCP_TIME_WAIT, proc_state(self->cport, self->sport));
	ASSERT_EQ(TCP_TIME_WAIT, proc_state(cport2, sport2));

	while ((!gone || !gone2 || (watch_fd && !fd_closed)) &&
	       now_ms() - t0 < TIME_WAIT_MS + 4 * TIME_WAIT_SLACK) {
		sleep_ms(250);
		now = now_ms() - t0;
		if (!gone && proc_state(self->cport, self->sport) == -1)
			gone = now;
		if (!gone2 && proc_state(cport2, sport2) == -1)
			gone2 = now;
		st = tstate(c2);
		if (watch_fd && !fd_closed && st != fd_time_wait_state()) {
			fd_closed = now;
			EXPECT_EQ(TCP_CLOSE, st);
		}
		if (now < TIME_WAIT_MS - TIME_WAIT_SLACK &&
		    (gone || gone2 || fd_closed)) {
			TH_LOG("TIME-WAIT over after %lld ms", (long long)now);
			break;
		}
	}
	TH_LOG("TIME-WAIT lasted %lld ms (fd closed), %lld ms (fd open), fd state changed after %lld ms",
	       (long long)gone, (long long)gone2, (long long)fd_closed);
	EXPECT_LE(TIME_WAIT_MS - TIME_WAIT_SLACK, gone);
	EXPECT_GE(TIME_WAIT_MS + TIME_WAIT_SLACK, gone);
	EXPECT_LE(TIME_WAIT_MS - TIME_WAIT_SLACK, gone2);
	EXPECT_GE(TIME_WAIT_MS + TIME_WAIT_SLACK, gone2);
	if (watch_fd) {
		/* toytcp: the fd says TIME-WAIT as long as it lasts. */
		EXPECT_LE(TIME_WAIT_MS - TIME_WAIT_SLACK, fd_closed);
		EXPECT_GE(TIME_WAIT_MS + TIME_WAIT_SLACK, fd_closed);
	}
	close(c2);
	close(s2);
}

TOYTCP_HARNESS_MAIN
