// SPDX-License-Identifier: GPL-2.0
/*
 * The reliable byte stream: what goes in one end comes out of the other,
 * whole and in order, whatever the link does to the segments.
 *
 * Fixture "stream" runs each test over three paths:
 *	loopback	one network namespace, 127.0.0.1
 *	veth		two namespaces joined by a veth pair
 *	link		two namespaces joined by the emulated link of
 *			toytcp_test.h (tun devices, a thread in between)
 * Fixture "link" is the emulated link alone, for what needs its control
 * over single segments: losses, zero windows, segment sizes, ACK timing.
 *
 * Data is a pseudo-random stream (stream_fill()); the receiver checks each
 * byte and both ends hash what they sent and received (FNV-1a).
 *
 *	TOYTCP_PROTO=6 ./stream_data	# the reference, Linux TCP: must pass
 *	./stream_data			# toytcp
 *
 * vm-timeout: 600
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"

#define A_IP	"10.9.0.1"
#define B_IP	"10.9.0.2"
#define MiB	(1024 * 1024)

enum path { PATH_LOOPBACK, PATH_VETH, PATH_LINK };

FIXTURE(stream) {
	int a, b;		/* client's and server's namespaces */
	struct link *l;
	int cli, srv;
};

FIXTURE_VARIANT(stream) {
	enum path path;
};

FIXTURE_VARIANT_ADD(stream, loopback) { .path = PATH_LOOPBACK };
FIXTURE_VARIANT_ADD(stream, veth) { .path = PATH_VETH };
FIXTURE_VARIANT_ADD(stream, link) { .path = PATH_LINK };

FIXTURE_SETUP(stream)
{
	const char *ip = B_IP;

	self->cli = self->srv = -1;
	self->a = ns_new();
	ASSERT_LE(0, self->a);
	switch (variant->path) {
	case PATH_LOOPBACK:
		self->b = self->a;
		ip = "127.0.0.1";
		break;
	case PATH_VETH:
		self->b = ns_new();
		ASSERT_LE(0, self->b);
		ASSERT_EQ(0, veth_pair(self->a, "va", A_IP, self->b, "vb", B_IP));
		break;
	case PATH_LINK:
		self->b = ns_new();
		ASSERT_LE(0, self->b);
		self->l = link_new(self->a, A_IP, self->b, B_IP, 2);
		ASSERT_NE(NULL, self->l);
		break;
	}
	ASSERT_EQ(0, tpair_ns(self->b, self->a, ip, &self->cli, &self->srv));
}

FIXTURE_TEARDOWN(stream)
{
	close(self->cli);
	close(self->srv);
	link_free(self->l);
}

/* Send `len` bytes of stream `seed` from `from` while `to` reads them. */
static void check_transfer(struct __test_metadata *_metadata, int from,
			   int to, size_t len, uint64_t seed)
{
	struct xfer tx = { .fd = from, .len = len, .seed = seed, .shut_wr = true };
	struct xfer rx = { .fd = to, .len = len + 1, .seed = seed };

	ASSERT_EQ(0, xfer_start(&tx, xfer_send));
	xfer_recv(&rx);
	xfer_wait(&tx);
	EXPECT_EQ(0, tx.err) TH_LOG("send: %s", strerror(-tx.err));
	EXPECT_EQ(0, rx.err) TH_LOG("recv: %s", strerror(-rx.err));
	EXPECT_EQ(len, tx.done);
	EXPECT_EQ(len, rx.done);
	EXPECT_FALSE(rx.mismatch) TH_LOG("first wrong byte at %zu", rx.mismatch_at);
	EXPECT_EQ(tx.hash, rx.hash);
}

TEST_F(stream, small_exchange)
{
	char buf[64];

	ASSERT_EQ(5, send(self->cli, "hello", 5, 0));
	ASSERT_EQ(5, recv_all(self->srv, buf, 5));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	ASSERT_EQ(6, send(self->srv, "world!", 6, 0));
	ASSERT_EQ(6, recv_all(self->cli, buf, 6));
	EXPECT_EQ(0, memcmp(buf, "world!", 6));
}

TEST_F_TIMEOUT(stream, transfer_8mib, 240)
{
	char buf[4];

	check_transfer(_metadata, self->cli, self->srv, 8 * MiB, 1);
	/* And the reverse direction on the same connection. */
	check_transfer(_metadata, self->srv, self->cli, 1 * MiB, 2);
	EXPECT_EQ(0, recv(self->srv, buf, sizeof(buf), 0));
}

/* Each end sends and receives at the same time. */
TEST_F_TIMEOUT(stream, both_ways_at_once, 240)
{
	struct xfer tx_c = { .fd = self->cli, .len = 2 * MiB, .seed = 3, .shut_wr = true };
	struct xfer tx_s = { .fd = self->srv, .len = 2 * MiB, .seed = 4, .shut_wr = true };
	struct xfer rx_c = { .fd = self->cli, .len = 4 * MiB, .seed = 4 };
	struct xfer rx_s = { .fd = self->srv, .len = 4 * MiB, .seed = 3 };

	ASSERT_EQ(0, xfer_start(&tx_c, xfer_send));
	ASSERT_EQ(0, xfer_start(&tx_s, xfer_send));
	ASSERT_EQ(0, xfer_start(&rx_c, xfer_recv));
	ASSERT_EQ(0, xfer_start(&rx_s, xfer_recv));
	xfer_wait(&tx_c);
	xfer_wait(&tx_s);
	xfer_wait(&rx_c);
	xfer_wait(&rx_s);
	EXPECT_EQ(0, tx_c.err);
	EXPECT_EQ(0, tx_s.err);
	EXPECT_EQ(0, rx_c.err);
	EXPECT_EQ(0, rx_s.err);
	EXPECT_EQ(2 * MiB, rx_c.done);
	EXPECT_EQ(2 * MiB, rx_s.done);
	EXPECT_FALSE(rx_c.mismatch);
	EXPECT_FALSE(rx_s.mismatch);
	EXPECT_EQ(tx_s.hash, rx_c.hash);
	EXPECT_EQ(tx_c.hash, rx_s.hash);
}

/*
 * The client half-closes after sending; the server reads to EOF, is in
 * CLOSE-WAIT, and can still send: the client, in FIN-WAIT-2, still reads.
 */
TEST_F_TIMEOUT(stream, half_close_client, 120)
{
	struct trace tc = {}, ts = {};
	char buf[4];

	check_transfer(_metadata, self->cli, self->srv, 1 * MiB, 5);
	EXPECT_TRUE(wait_state(self->srv, TCP_CLOSE_WAIT, 2000));
	EXPECT_TRUE(wait_state(self->cli, TCP_FIN_WAIT2, 2000));
	EXPECT_EQ(-1, send(self->cli, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	check_transfer(_metadata, self->srv, self->cli, 1 * MiB, 6);
	/* LAST-ACK until the ACK of its FIN comes, one way later. */
	trace_states2(self->cli, &tc, self->srv, &ts, -2, 1000);
	EXPECT_EQ(fd_time_wait_state(), tc.st[tc.n - 1])
		TH_LOG("client: %s", trace_str(&tc));
	EXPECT_EQ(TCP_CLOSE, ts.st[ts.n - 1]) TH_LOG("server: %s", trace_str(&ts));
	EXPECT_EQ(0, recv(self->srv, buf, sizeof(buf), 0));
}

/* The same, the other way round: the server half-closes first. */
TEST_F_TIMEOUT(stream, half_close_server, 120)
{
	struct trace tc = {}, ts = {};

	check_transfer(_metadata, self->srv, self->cli, 1 * MiB, 7);
	EXPECT_TRUE(wait_state(self->cli, TCP_CLOSE_WAIT, 2000));
	EXPECT_TRUE(wait_state(self->srv, TCP_FIN_WAIT2, 2000));
	check_transfer(_metadata, self->cli, self->srv, 1 * MiB, 8);
	trace_states2(self->srv, &ts, self->cli, &tc, -2, 1000);
	EXPECT_EQ(fd_time_wait_state(), ts.st[ts.n - 1])
		TH_LOG("server: %s", trace_str(&ts));
	EXPECT_EQ(TCP_CLOSE, tc.st[tc.n - 1]) TH_LOG("client: %s", trace_str(&tc));
}

/*
 * CLOSE-WAIT lasts as long as the application keeps the socket open, and
 * it can write all that time; close() then sends the FIN.
 */
TEST_F(stream, close_wait_held_until_close)
{
	char buf[16];

	ASSERT_EQ(0, shutdown(self->cli, SHUT_WR));
	ASSERT_TRUE(wait_state(self->srv, TCP_CLOSE_WAIT, 2000));
	EXPECT_EQ(0, recv(self->srv, buf, sizeof(buf), 0));
	sleep_ms(1500);
	EXPECT_EQ(TCP_CLOSE_WAIT, tstate(self->srv));
	EXPECT_EQ(TCP_FIN_WAIT2, tstate(self->cli));
	check_transfer(_metadata, self->srv, self->cli, 100000, 9);
	/* check_transfer() shut it down: LAST-ACK, then CLOSED. */
	EXPECT_TRUE(wait_state(self->srv, TCP_CLOSE, 2000));
	EXPECT_TRUE(wait_state(self->cli, fd_time_wait_state(), 2000));
}

/* Many small writes with TCP_NODELAY: every byte, in order. */
TEST_F(stream, small_writes)
{
	struct xfer rx = { .fd = self->srv, .len = 30000 + 1, .seed = 10 };
	char buf[30];
	int i;

	ASSERT_EQ(0, set_int_opt(self->cli, SOL_TCP, TCP_NODELAY, 1));
	EXPECT_EQ(1, get_int_opt(self->cli, SOL_TCP, TCP_NODELAY));
	ASSERT_EQ(0, xfer_start(&rx, xfer_recv));
	for (i = 0; i < 1000; i++) {
		stream_fill(buf, 10, i * 30, 30);
		ASSERT_EQ(30, send(self->cli, buf, 30, 0));
	}
	ASSERT_EQ(0, shutdown(self->cli, SHUT_WR));
	xfer_wait(&rx);
	EXPECT_EQ(0, rx.err);
	EXPECT_EQ(30000, rx.done);
	EXPECT_FALSE(rx.mismatch) TH_LOG("first wrong byte at %zu", rx.mismatch_at);
}

/* ---------------------------------------------------------------------- */
/* Over veth with netem: delay, loss and reordering by the kernel's qdisc */

FIXTURE(netem) {
	int a, b;
	int cli, srv;
	bool no_netem;
};

FIXTURE_SETUP(netem)
{
	self->cli = self->srv = -1;
	self->a = ns_new();
	ASSERT_LE(0, self->a);
	self->b = ns_new();
	ASSERT_LE(0, self->b);
	ASSERT_EQ(0, veth_pair(self->a, "va", A_IP, self->b, "vb", B_IP));
	/*
	 * Data a -> b: delayed, some lost, some reordered; ACKs delayed.
	 * No GSO on va: netem drops whole skbs, and a 64 KiB GSO skb per
	 * draw would leave the kernel's TCP (the reference run) a fair
	 * chance of losing nothing at all in 4 MiB.
	 */
	run("/usr/sbin/ip link set dev va gso_max_size 1500 2>/dev/null");
	if (run("/usr/sbin/tc qdisc add dev va root netem delay 10ms reorder 5%% 50%% loss 1%% 2>/dev/null")) {
		self->no_netem = true;
		return;
	}
	ASSERT_EQ(0, ns_enter(self->b));
	ASSERT_EQ(0, run("/usr/sbin/tc qdisc add dev vb root netem delay 10ms"));
	ASSERT_EQ(0, tpair_ns(self->b, self->a, B_IP, &self->cli, &self->srv));
}

FIXTURE_TEARDOWN(netem)
{
	close(self->cli);
	close(self->srv);
}

TEST_F_TIMEOUT(netem, transfer_with_loss_and_reordering, 240)
{
	if (self->no_netem)
		SKIP(return, "no netem qdisc (sch_netem) in this kernel");
	check_transfer(_metadata, self->cli, self->srv, 4 * MiB, 20);
	EXPECT_LE(1, total_retrans(self->cli));
	check_transfer(_metadata, self->srv, self->cli, 1 * MiB, 21);
}

/* ---------------------------------------------------------------------- */
/* On the emulated link, with a say on single segments */

#define LINK_DELAY_MS	20

FIXTURE(link) {
	int a, b;
	struct link *l;
	int cli, srv;
};

FIXTURE_SETUP(link)
{
	self->cli = self->srv = -1;
	self->a = ns_new();
	ASSERT_LE(0, self->a);
	self->b = ns_new();
	ASSERT_LE(0, self->b);
	self->l = link_new(self->a, A_IP, self->b, B_IP, LINK_DELAY_MS);
	ASSERT_NE(NULL, self->l);
}

FIXTURE_TEARDOWN(link)
{
	if (!_metadata->passed && self->l)
		link_dump(self->l, 40);
	close(self->cli);
	close(self->srv);
	link_free(self->l);
}

#define LINK_PAIR() \
	ASSERT_EQ(0, tpair_ns(self->b, self->a, B_IP, &self->cli, &self->srv))

/* Drop data segments A->B: the nth, or every nth, the first time round. */
struct dropper {
	int nth;
	bool every;
	int seen;		/* data segments A->B seen */
	int dropped;
	uint32_t seq[64];	/* sequence numbers dropped */
	int acks_nth;		/* and every nth pure ACK B->A (0: none) */
	int acks_seen;
};

static bool was_dropped(const struct dropper *d, uint32_t seq)
{
	int i;

	for (i = 0; i < d->dropped && i < 64; i++)
		if (d->seq[i] == seq)
			return true;
	return false;
}

static bool drop_filter(struct link *l, const struct seg *s, void *arg)
{
	struct dropper *d = arg;

	if (s->proto != test_proto())
		return false;
	if (s->dir == B_TO_A && !s->len && d->acks_nth)
		return ++d->acks_seen % d->acks_nth == 0;
	if (s->dir != A_TO_B || !s->len || was_dropped(d, s->seq))
		return false;
	d->seen++;
	if (d->every ? d->seen % d->nth : d->seen != d->nth)
		return false;
	if (d->dropped < 64)
		d->seq[d->dropped] = s->seq;
	d->dropped++;
	return true;
}

/* Is sequence number seq sent again (not dropped) after being dropped? */
static bool resent(struct link *l, uint32_t seq)
{
	bool lost = false, again = false;
	int i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->dir != A_TO_B || s->proto != test_proto() || !s->len)
			continue;
		/* A retransmission may start earlier, or cover more. */
		if (s->dropped && s->seq == seq)
			lost = true;
		else if (lost && (int32_t)(s->seq - seq) <= 0 &&
			 (int32_t)(s->seq + s->len - seq) > 0)
			again = true;
	}
	pthread_mutex_unlock(&l->lock);
	return lost && again;
}

TEST_F_TIMEOUT(link, retransmit_after_drop, 120)
{
	struct dropper d = { .nth = 10 };

	LINK_PAIR();
	link_set_filter(self->l, drop_filter, &d);
	check_transfer(_metadata, self->cli, self->srv, 512 * 1024, 11);
	EXPECT_EQ(1, d.dropped);
	EXPECT_LE(1, total_retrans(self->cli));
	EXPECT_TRUE(resent(self->l, d.seq[0])) TH_LOG("seq %u never resent", d.seq[0]);
}

/* Every 7th data segment and every 5th ACK lost. */
TEST_F_TIMEOUT(link, retransmit_steady_loss, 180)
{
	struct dropper d = { .nth = 7, .every = true, .acks_nth = 5 };
	int i;

	LINK_PAIR();
	link_set_filter(self->l, drop_filter, &d);
	check_transfer(_metadata, self->cli, self->srv, 1 * MiB, 12);
	EXPECT_LE(10, d.dropped);
	EXPECT_LE(10, total_retrans(self->cli));
	for (i = 0; i < d.dropped && i < 64; i++)
		EXPECT_TRUE(resent(self->l, d.seq[i])) TH_LOG("seq %u never resent", d.seq[i]);
}

/* The largest payload in direction dir, and the MSS option of its SYN. */
static int max_len(struct link *l, int dir, int *syn_mss)
{
	int i, max = 0;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->dir != dir || s->proto != test_proto())
			continue;
		if (s->flags & TH_SYN)
			*syn_mss = s->mss;
		if (s->len > max)
			max = s->len;
	}
	pthread_mutex_unlock(&l->lock);
	return max;
}

/*
 * The SYNs carry the MSS of the route (MTU 1500: 1460) and segments never
 * exceed it; TCP_MAXSEG set before connect() lowers the MSS this end
 * announces and uses, so both directions stay within it.
 */
TEST_F(link, segments_within_mss)
{
	int lfd, port, mss_a = 0, mss_b = 0, max;

	LINK_PAIR();
	check_transfer(_metadata, self->cli, self->srv, 256 * 1024, 13);
	check_transfer(_metadata, self->srv, self->cli, 256 * 1024, 13);
	max = max_len(self->l, A_TO_B, &mss_a);
	EXPECT_GE(1460, max);
	EXPECT_LE(1000, max) TH_LOG("full-sized segments expected");
	max = max_len(self->l, B_TO_A, &mss_b);
	EXPECT_GE(1460, max);
	EXPECT_LE(1000, max) TH_LOG("full-sized segments expected");
	EXPECT_EQ(1460, mss_a);
	EXPECT_EQ(1460, mss_b);
	close(self->cli);
	close(self->srv);

	ASSERT_EQ(0, ns_enter(self->b));
	lfd = tlisten(B_IP, 0, 1);
	ASSERT_LE(0, lfd);
	port = local_port(lfd);
	ASSERT_EQ(0, ns_enter(self->a));
	self->cli = tsock();
	ASSERT_LE(0, self->cli);
	ASSERT_EQ(0, set_int_opt(self->cli, SOL_TCP, TCP_MAXSEG, 500));
	pthread_mutex_lock(&self->l->lock);
	self->l->nlog = 0;
	pthread_mutex_unlock(&self->l->lock);
	ASSERT_EQ(0, tconnect_fd(self->cli, B_IP, port));
	self->srv = taccept(lfd);
	ASSERT_LE(0, self->srv);
	close(lfd);
	check_transfer(_metadata, self->cli, self->srv, 64 * 1024, 14);
	check_transfer(_metadata, self->srv, self->cli, 64 * 1024, 14);
	mss_a = mss_b = 0;
	max = max_len(self->l, A_TO_B, &mss_a);
	EXPECT_EQ(500, mss_a) TH_LOG("MSS option of the SYN");
	EXPECT_GE(500, max) TH_LOG("this end's segments");
	EXPECT_LE(400, max);
	max = max_len(self->l, B_TO_A, &mss_b);
	EXPECT_GE(500, max) TH_LOG("the peer's segments");
	EXPECT_LE(400, max);
}

/* Nagle (the default) gathers small writes while data is unacknowledged. */
TEST_F(link, nagle_gathers_small_writes)
{
	struct xfer rx = { .len = 2001, .seed = 15 };
	int nodelay, segs, i;
	char buf[20];

	for (nodelay = 0; nodelay <= 1; nodelay++) {
		LINK_PAIR();
		EXPECT_EQ(0, get_int_opt(self->cli, SOL_TCP, TCP_NODELAY));
		ASSERT_EQ(0, set_int_opt(self->cli, SOL_TCP, TCP_NODELAY, nodelay));
		pthread_mutex_lock(&self->l->lock);
		self->l->nlog = 0;
		pthread_mutex_unlock(&self->l->lock);
		rx.fd = self->srv;
		rx.done = 0;
		ASSERT_EQ(0, xfer_start(&rx, xfer_recv));
		/* 100 writes of 20 bytes, 2 ms apart, within ~5 RTTs. */
		for (i = 0; i < 100; i++) {
			stream_fill(buf, 15, i * 20, 20);
			ASSERT_EQ(20, send(self->cli, buf, 20, 0));
			usleep(2000);
		}
		ASSERT_EQ(0, shutdown(self->cli, SHUT_WR));
		xfer_wait(&rx);
		EXPECT_EQ(2000, rx.done);
		EXPECT_FALSE(rx.mismatch);
		segs = 0;
		pthread_mutex_lock(&self->l->lock);
		for (i = 0; i < self->l->nlog; i++)
			if (self->l->log[i].dir == A_TO_B && self->l->log[i].len)
				segs++;
		pthread_mutex_unlock(&self->l->lock);
		if (nodelay) {
			EXPECT_LE(50, segs)
				TH_LOG("TCP_NODELAY: %d data segments", segs);
		} else {
			EXPECT_GE(40, segs) TH_LOG("Nagle: %d data segments", segs);
		}
		close(self->cli);
		close(self->srv);
		self->cli = self->srv = -1;
	}
}

/*
 * When the ACK covering sequence number `end` (sent A -> B after t0) went
 * B -> A, ms after the data segment ending there entered the link, less
 * the way there; -1 if it never did.
 */
static int64_t ack_delay_ms(struct link *l, uint32_t end)
{
	uint64_t t_data = 0;
	int64_t ms = -1;
	int i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->proto != test_proto())
			continue;
		if (s->dir == A_TO_B && s->len && s->seq + s->len == end)
			t_data = s->t_ns;
		else if (s->dir == B_TO_A && t_data && (s->flags & TH_ACK) &&
			 (int32_t)(s->ack - end) >= 0) {
			ms = (int64_t)(s->t_ns - t_data) / 1000000 - LINK_DELAY_MS;
			break;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return ms;
}

/*
 * Delayed ACK: two full-sized segments are acknowledged at once (RFC 5681
 * 4.2: at least every second one), before any delayed-ACK timer (>= 40 ms
 * on Linux); a lone segment is acknowledged within 200 ms.  The reader
 * keeps up, so that no window consideration holds the ACK back (Linux
 * stretches ACKs when the application falls behind).
 */
TEST_F(link, delayed_ack)
{
	uint64_t t_data = 0, t_ack = 0;
	int i, mss, prompt = 0, bursts = 20;
	uint32_t end = 0, isn;
	int64_t ms;
	char buf[4096];

	LINK_PAIR();
	ASSERT_EQ(0, set_int_opt(self->cli, SOL_TCP, TCP_NODELAY, 1));
	mss = get_int_opt(self->cli, SOL_TCP, TCP_MAXSEG);
	ASSERT_LT(500, mss);
	ASSERT_GE((int)sizeof(buf), 2 * mss);
	/* A -> B's sequence numbers: from the SYN. */
	isn = link_next_seq(self->l, A_TO_B);
	end = isn;
	for (i = 0; i < bursts; i++) {
		ASSERT_EQ(2 * mss, send(self->cli, buf, 2 * mss, 0));
		ASSERT_EQ(2 * mss, recv_all(self->srv, buf, 2 * mss));
		end += 2 * mss;
		sleep_ms(100);
		ms = ack_delay_ms(self->l, end);
		if (ms >= 0 && ms < 30)
			prompt++;
		else
			TH_LOG("burst %d: ACK after %lld ms", i, (long long)ms);
	}
	/* Most of them: emulation may stall a thread now and then. */
	EXPECT_LE(bursts * 4 / 5, prompt);
	close(self->cli);
	close(self->srv);

	/* A lone segment, after a pause. */
	LINK_PAIR();
	sleep_ms(500);
	pthread_mutex_lock(&self->l->lock);
	self->l->nlog = 0;
	pthread_mutex_unlock(&self->l->lock);
	ASSERT_EQ(8, send(self->cli, "12345678", 8, 0));
	ASSERT_EQ(8, recv_all(self->srv, buf, 8));
	t_data = t_ack = 0;
	sleep_ms(500);
	pthread_mutex_lock(&self->l->lock);
	for (i = 0; i < self->l->nlog; i++) {
		const struct seg *s = &self->l->log[i];

		if (s->proto != test_proto())
			continue;
		if (s->dir == A_TO_B && s->len == 8 && !t_data) {
			t_data = s->t_ns;
			end = s->seq + 8;
		} else if (s->dir == B_TO_A && t_data && !t_ack &&
			   (int32_t)(s->ack - end) >= 0) {
			t_ack = s->t_ns;
		}
	}
	pthread_mutex_unlock(&self->l->lock);
	ASSERT_NE(0, t_data);
	ASSERT_NE(0, t_ack) TH_LOG("segment never acknowledged");
	/* t_ack - t_data counts the way there once. */
	EXPECT_GE(200 + 50, (int64_t)(t_ack - t_data) / 1000000 - LINK_DELAY_MS)
		TH_LOG("ACK after %llu ms", (unsigned long long)(t_ack - t_data) / 1000000);
}

/*
 * Data still unread when the FIN came: reading it sends nothing (no window
 * update once no more data can come, as Linux: tcp_cleanup_rbuf()), so
 * nothing reaches the peer after its connection closed, which would answer
 * RST and end our TIME-WAIT.
 */
TEST_F(link, reading_after_fin_sends_nothing)
{
	struct xfer rx = { .len = 48 * 1024 + 1, .seed = 19 };
	struct xfer tx = { .len = 48 * 1024, .seed = 19, .shut_wr = true };
	int cport, sport, sent, lfd, port;

	/*
	 * A receive buffer the data fills for the most part, so that reading
	 * it opens the window wide: when a window update would be due.
	 */
	ASSERT_EQ(0, ns_enter(self->b));
	lfd = tlisten(B_IP, 0, 1);
	ASSERT_LE(0, lfd);
	port = local_port(lfd);
	ASSERT_EQ(0, ns_enter(self->a));
	self->cli = tsock();
	ASSERT_LE(0, self->cli);
	ASSERT_EQ(0, set_int_opt(self->cli, SOL_SOCKET, SO_RCVBUF, 65536));
	ASSERT_EQ(0, tconnect_fd(self->cli, B_IP, port));
	self->srv = taccept(lfd);
	ASSERT_LE(0, self->srv);
	close(lfd);
	cport = local_port(self->cli);
	sport = local_port(self->srv);
	ASSERT_EQ(0, shutdown(self->cli, SHUT_WR));
	ASSERT_TRUE(wait_state(self->srv, TCP_CLOSE_WAIT, 2000));
	tx.fd = self->srv;
	xfer_send(&tx);
	ASSERT_EQ(0, tx.err);
	/* The FIN arrived, the data waits in the receive buffer. */
	ASSERT_TRUE(wait_proc_state(cport, sport, TCP_TIME_WAIT, 2000));
	ASSERT_TRUE(wait_state(self->srv, TCP_CLOSE, 2000));
	sent = link_count(self->l, A_TO_B, 0, 0, true);
	rx.fd = self->cli;
	xfer_recv(&rx);
	EXPECT_EQ(0, rx.err);
	EXPECT_EQ(tx.len, rx.done);
	EXPECT_EQ(tx.hash, rx.hash);
	sleep_ms(300);
	EXPECT_EQ(sent, link_count(self->l, A_TO_B, 0, 0, true))
		TH_LOG("segments sent after the connection ended");
	EXPECT_EQ(0, link_count(self->l, B_TO_A, TH_RST, 0, true));
	EXPECT_EQ(TCP_TIME_WAIT, proc_state(cport, sport));
	EXPECT_EQ(fd_time_wait_state(), tstate(self->cli));
	EXPECT_EQ(0, so_error(self->cli));
}

/* The receiver's window closes: the sender probes it (persist timer). */
struct zw_state {
	bool closed;		/* B advertised a zero window */
	uint64_t t_closed;
	int probes;		/* segments A->B while it was closed */
	uint64_t t_probe[64];
};

static bool zero_window_watch(struct link *l, const struct seg *s, void *arg)
{
	struct zw_state *z = arg;

	if (s->proto != test_proto())
		return false;
	if (s->dir == B_TO_A) {
		if (!s->win && !z->closed) {
			z->closed = true;
			z->t_closed = s->t_ns;
		} else if (s->win) {
			z->closed = false;
		}
	} else if (z->closed && !(s->flags & (TH_SYN | TH_FIN | TH_RST))) {
		if (z->probes < 64)
			z->t_probe[z->probes] = s->t_ns;
		z->probes++;
	}
	return false;
}

TEST_F_TIMEOUT(link, zero_window_probe, 120)
{
	struct xfer tx = { .len = 256 * 1024, .seed = 17, .shut_wr = true };
	struct xfer rx = { .len = 256 * 1024 + 1, .seed = 17 };
	struct zw_state z = {};
	int lfd, port, i;
	size_t stalled;

	ASSERT_EQ(0, ns_enter(self->b));
	lfd = tsock();
	ASSERT_LE(0, lfd);
	/* A small receive buffer, inherited by the accepted socket. */
	ASSERT_EQ(0, set_int_opt(lfd, SOL_SOCKET, SO_RCVBUF, 8192));
	ASSERT_EQ(0, tbind(lfd, B_IP, 0));
	ASSERT_EQ(0, listen(lfd, 1));
	port = local_port(lfd);
	ASSERT_EQ(0, ns_enter(self->a));
	self->cli = tconnect(B_IP, port);
	ASSERT_LE(0, self->cli);
	self->srv = taccept(lfd);
	ASSERT_LE(0, self->srv);
	close(lfd);

	/* Bounds on the waits, for a failure rather than a hang. */
	ASSERT_EQ(0, set_timeo(self->srv, SO_RCVTIMEO, 10000));
	ASSERT_EQ(0, set_timeo(self->cli, SO_SNDTIMEO, 10000));
	link_set_filter(self->l, zero_window_watch, &z);
	tx.fd = self->cli;
	ASSERT_EQ(0, xfer_start(&tx, xfer_send));
	/* The receiver does not read for 4 s: many RTOs (>= 200 ms). */
	sleep_ms(4000);
	stalled = tx.done;
	EXPECT_GT(tx.len, stalled) TH_LOG("the sender was never blocked");
	EXPECT_EQ(TCP_ESTABLISHED, tstate(self->cli));
	pthread_mutex_lock(&self->l->lock);
	EXPECT_TRUE(z.closed) TH_LOG("no zero window advertised");
	EXPECT_LE(2, z.probes) TH_LOG("%d probes", z.probes);
	for (i = 0; i < z.probes && i < 64; i++)
		fprintf(stderr, "# probe %d at +%llu ms\n", i + 1,
			(unsigned long long)(z.t_probe[i] - z.t_closed) / 1000000);
	/* Backoff: the probes come further and further apart. */
	if (z.probes >= 3)
		EXPECT_LE(3 * (z.t_probe[1] - z.t_probe[0]) / 2,
			  z.t_probe[z.probes - 1] - z.t_probe[z.probes - 2]);
	pthread_mutex_unlock(&self->l->lock);
	/* Now it reads: everything arrives. */
	rx.fd = self->srv;
	xfer_recv(&rx);
	xfer_wait(&tx);
	EXPECT_EQ(0, tx.err);
	EXPECT_EQ(0, rx.err);
	EXPECT_EQ(tx.len, rx.done);
	EXPECT_FALSE(rx.mismatch);
	EXPECT_EQ(tx.hash, rx.hash);
}

/*
 * The same stall, and the window update the receiver sends when it reads
 * again is lost: the sender's persist timer must find out the window opened
 * (or the connection would wait for ever).
 */
TEST_F_TIMEOUT(link, zero_window_update_lost, 120)
{
	struct xfer tx = { .len = 256 * 1024, .seed = 18, .shut_wr = true };
	struct xfer rx = { .len = 256 * 1024 + 1, .seed = 18 };
	int lfd, port;
	int64_t t;

	ASSERT_EQ(0, ns_enter(self->b));
	lfd = tsock();
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, set_int_opt(lfd, SOL_SOCKET, SO_RCVBUF, 8192));
	ASSERT_EQ(0, tbind(lfd, B_IP, 0));
	ASSERT_EQ(0, listen(lfd, 1));
	port = local_port(lfd);
	ASSERT_EQ(0, ns_enter(self->a));
	self->cli = tconnect(B_IP, port);
	ASSERT_LE(0, self->cli);
	self->srv = taccept(lfd);
	ASSERT_LE(0, self->srv);
	close(lfd);
	/* Bounds on the waits, for a failure rather than a hang. */
	ASSERT_EQ(0, set_timeo(self->srv, SO_RCVTIMEO, 10000));
	ASSERT_EQ(0, set_timeo(self->cli, SO_SNDTIMEO, 10000));

	tx.fd = self->cli;
	ASSERT_EQ(0, xfer_start(&tx, xfer_send));
	sleep_ms(1500);
	EXPECT_GT(tx.len, tx.done) TH_LOG("the sender was never blocked");
	/* Everything B says while it starts reading again is lost. */
	link_block(self->l, B_TO_A, true);
	rx.fd = self->srv;
	ASSERT_EQ(0, xfer_start(&rx, xfer_recv));
	sleep_ms(300);
	link_block(self->l, B_TO_A, false);
	t = now_ms();
	xfer_wait(&rx);
	xfer_wait(&tx);
	TH_LOG("recovered %lld ms after the loss", (long long)(now_ms() - t));
	EXPECT_EQ(0, rx.err) TH_LOG("recv: %s (the transfer stalled)", strerror(-rx.err));
	EXPECT_EQ(0, tx.err);
	EXPECT_EQ(tx.len, rx.done);
	EXPECT_FALSE(rx.mismatch);
	EXPECT_EQ(tx.hash, rx.hash);
}

TOYTCP_HARNESS_MAIN
