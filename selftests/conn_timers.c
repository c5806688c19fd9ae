// SPDX-License-Identifier: GPL-2.0
/*
 * Timers that end or keep a connection: SYN retransmission and ETIMEDOUT
 * towards a peer that does not answer, keepalive, TCP_USER_TIMEOUT, and
 * the retry of what the local device refused to send.
 *
 * The silent peer is the emulated link of toytcp_test.h dropping what the
 * client sends (or everything), so every segment sent is seen and counted.
 *
 *	TOYTCP_PROTO=6 ./conn_timers	# the reference, Linux TCP: must pass
 *	./conn_timers			# toytcp
 *
 * vm-timeout: 300
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"
#include <linux/sockios.h>

#define A_IP		"10.9.0.1"
#define B_IP		"10.9.0.2"
#define LINK_DELAY_MS	10

FIXTURE(timers) {
	int a, b;
	struct link *l;
	int lfd, port;	/* a listener in b */
};

FIXTURE_SETUP(timers)
{
	self->a = ns_new();
	ASSERT_LE(0, self->a);
	self->b = ns_new();
	ASSERT_LE(0, self->b);
	self->l = link_new(self->b, B_IP, self->a, A_IP, LINK_DELAY_MS);
	ASSERT_NE(NULL, self->l);
	/* link_new() left us in b. */
	self->lfd = tlisten(B_IP, 0, 4);
	ASSERT_LE(0, self->lfd);
	self->port = local_port(self->lfd);
	ASSERT_EQ(0, ns_enter(self->a));
}

FIXTURE_TEARDOWN(timers)
{
	if (!_metadata->passed && self->l)
		link_dump(self->l, 40);
	close(self->lfd);
	link_free(self->l);
}

/* The link was made from b's side: its "A" is b, its "B" is a. */
#define FROM_A	B_TO_A
#define FROM_B	A_TO_B

/*
 * Linux 6.7 and later retransmit the first SYNs every second
 * (net.ipv4.tcp_syn_linear_timeouts, default 4) within the same overall
 * timeout: on such a kernel TCP is not the reference for the SYN count and
 * spacing.  The VM's kernel (6.1) has exponential backoff from the first
 * retransmission, as RFC 6298 says, and toytcp must do that.
 */
static bool linear_syn_timeouts(void)
{
	FILE *f;
	int n = 0;

	if (!testing_tcp())
		return false;
	f = fopen("/proc/sys/net/ipv4/tcp_syn_linear_timeouts", "r");
	if (!f)
		return false;
	if (fscanf(f, "%d", &n) != 1)
		n = 0;
	fclose(f);
	return n > 0;
}

/* When the client's SYNs entered the link, ms from the first. */
static int syn_times(struct link *l, int64_t *ms, int max)
{
	uint64_t t0 = 0;
	int i, n = 0;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->dir != FROM_A || s->proto != test_proto() ||
		    !(s->flags & TH_SYN))
			continue;
		if (!n)
			t0 = s->t_ns;
		if (n < max)
			ms[n] = (s->t_ns - t0) / 1000000;
		n++;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

/*
 * TCP_SYNCNT=2: the SYN and two retransmissions, 1 s then 2 s apart
 * (initial RTO 1 s, doubled), then ETIMEDOUT about 7 s after connect().
 */
TEST_F_TIMEOUT(timers, syn_retransmit_then_etimedout, 60)
{
	int64_t t, syn[8];
	int fd, n, i;

	link_block(self->l, FROM_A, true);
	fd = tsock();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_int_opt(fd, SOL_TCP, TCP_SYNCNT, 2));
	EXPECT_EQ(2, get_int_opt(fd, SOL_TCP, TCP_SYNCNT));
	t = now_ms();
	EXPECT_EQ(-ETIMEDOUT, tconnect_fd(fd, B_IP, self->port));
	t = now_ms() - t;
	TH_LOG("ETIMEDOUT after %lld ms", (long long)t);
	EXPECT_LE(6000, t);
	EXPECT_GE(10000, t);
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	n = syn_times(self->l, syn, 8);
	for (i = 1; i < n && i < 8; i++)
		TH_LOG("SYN %d at +%lld ms", i + 1, (long long)syn[i]);
	if (linear_syn_timeouts()) {
		EXPECT_LE(3, n);
	} else if (n != 3) {
		EXPECT_EQ(3, n);
	} else {
		/* RTO 1 s, then backed off to 2 s. */
		EXPECT_LE(800, syn[1]);
		EXPECT_GE(1500, syn[1]);
		EXPECT_LE(syn[1] + 1600, syn[2]);
		EXPECT_GE(syn[1] + 3000, syn[2]);
	}
	/* A socket that timed out can connect again. */
	link_block(self->l, FROM_A, false);
	EXPECT_EQ(0, tconnect_fd(fd, B_IP, self->port));
	close(fd);
}

/* The same, nonblocking: the error comes through poll() and SO_ERROR. */
TEST_F_TIMEOUT(timers, syn_timeout_nonblocking, 60)
{
	int fd, rev;

	link_block(self->l, FROM_A, true);
	fd = tsock_nb();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_int_opt(fd, SOL_TCP, TCP_SYNCNT, 1));
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, B_IP, self->port));
	EXPECT_EQ(0, poll1(fd, POLLOUT, 500));
	EXPECT_EQ(TCP_SYN_SENT, tstate(fd));
	rev = poll1(fd, POLLIN | POLLOUT, 10000);
	EXPECT_EQ(POLLIN | POLLOUT | POLLERR | POLLHUP, rev);
	EXPECT_EQ(ETIMEDOUT, so_error(fd));
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	if (linear_syn_timeouts()) {
		EXPECT_LE(2, link_count(self->l, FROM_A, TH_SYN, 0, true));
	} else {
		EXPECT_EQ(2, link_count(self->l, FROM_A, TH_SYN, 0, true));
	}
	close(fd);
}

/* The first SYN is lost: the retransmitted one, 1 s later, connects. */
TEST_F(timers, syn_retransmit_connects)
{
	int64_t t, syn[4];
	int fd, s;

	link_block(self->l, FROM_A, true);
	fd = tsock_nb();
	ASSERT_LE(0, fd);
	t = now_ms();
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, B_IP, self->port));
	sleep_ms(300);
	link_block(self->l, FROM_A, false);
	EXPECT_EQ(POLLOUT, poll1(fd, POLLOUT, 5000));
	t = now_ms() - t;
	EXPECT_EQ(0, so_error(fd));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(fd));
	EXPECT_LE(800, t);
	EXPECT_EQ(2, syn_times(self->l, syn, 4));
	EXPECT_LE(1, total_retrans(fd));
	ASSERT_EQ(0, ns_enter(self->b));
	s = taccept(self->lfd);
	EXPECT_LE(0, s);
	close(s);
	close(fd);
}

/* The SYN-ACK is lost: the listener resends it, the connection is made. */
TEST_F(timers, synack_retransmit_connects)
{
	int64_t t;
	int fd, s;

	link_block(self->l, FROM_B, true);
	fd = tsock_nb();
	ASSERT_LE(0, fd);
	t = now_ms();
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, B_IP, self->port));
	sleep_ms(300);
	link_block(self->l, FROM_B, false);
	EXPECT_EQ(POLLOUT, poll1(fd, POLLOUT, 5000));
	t = now_ms() - t;
	EXPECT_EQ(0, so_error(fd));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(fd));
	EXPECT_LE(800, t);
	EXPECT_LE(2, link_count(self->l, FROM_B, TH_SYN | TH_ACK, 0, true));
	ASSERT_EQ(0, ns_enter(self->b));
	s = taccept(self->lfd);
	EXPECT_LE(0, s);
	close(s);
	close(fd);
}

static int connect_pair(struct __test_metadata *_metadata,
			FIXTURE_DATA(timers) *self, int *s)
{
	int fd = tconnect(B_IP, self->port);

	if (fd < 0)
		return fd;
	ASSERT_EQ(0, ns_enter(self->b));
	*s = taccept(self->lfd);
	ASSERT_EQ(0, ns_enter(self->a));
	return fd;
}

static void set_keepalive(struct __test_metadata *_metadata, int fd)
{
	ASSERT_EQ(0, set_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE, 1));
	ASSERT_EQ(0, set_int_opt(fd, SOL_TCP, TCP_KEEPIDLE, 1));
	ASSERT_EQ(0, set_int_opt(fd, SOL_TCP, TCP_KEEPINTVL, 1));
	ASSERT_EQ(0, set_int_opt(fd, SOL_TCP, TCP_KEEPCNT, 2));
}

/* Keepalive probes: ACK-only (or 1 byte) segments below SND.NXT. */
static int keepalive_probes(struct link *l, int dir, bool dropped)
{
	int i, n = 0;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->dir == dir && s->proto == test_proto() &&
		    s->len <= 1 && s->dropped == dropped &&
		    !(s->flags & (TH_SYN | TH_FIN | TH_RST)))
			n++;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

TEST_F(timers, keepalive_options)
{
	int fd = tsock();

	ASSERT_LE(0, fd);
	/* Linux's defaults. */
	EXPECT_EQ(0, get_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE));
	EXPECT_EQ(7200, get_int_opt(fd, SOL_TCP, TCP_KEEPIDLE));
	EXPECT_EQ(75, get_int_opt(fd, SOL_TCP, TCP_KEEPINTVL));
	EXPECT_EQ(9, get_int_opt(fd, SOL_TCP, TCP_KEEPCNT));
	set_keepalive(_metadata, fd);
	EXPECT_EQ(1, get_int_opt(fd, SOL_SOCKET, SO_KEEPALIVE));
	EXPECT_EQ(1, get_int_opt(fd, SOL_TCP, TCP_KEEPIDLE));
	EXPECT_EQ(1, get_int_opt(fd, SOL_TCP, TCP_KEEPINTVL));
	EXPECT_EQ(2, get_int_opt(fd, SOL_TCP, TCP_KEEPCNT));
	EXPECT_EQ(-EINVAL, set_int_opt(fd, SOL_TCP, TCP_KEEPIDLE, 0));
	EXPECT_EQ(-EINVAL, set_int_opt(fd, SOL_TCP, TCP_KEEPCNT, 0));
	close(fd);
}

/* An idle connection with keepalive: probes, answered; it stays up. */
TEST_F(timers, keepalive_answered)
{
	int fd, s;

	fd = connect_pair(_metadata, self, &s);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, s);
	set_keepalive(_metadata, fd);
	sleep_ms(3500);
	EXPECT_EQ(TCP_ESTABLISHED, tstate(fd));
	EXPECT_LE(2, keepalive_probes(self->l, FROM_A, false));
	EXPECT_LE(2, keepalive_probes(self->l, FROM_B, false))
		TH_LOG("probes not answered");
	EXPECT_EQ(0, so_error(fd));
	close(s);
	close(fd);
}

/* The peer vanishes: TCP_KEEPCNT probes unanswered, then ETIMEDOUT. */
TEST_F(timers, keepalive_etimedout)
{
	char buf[8];
	int64_t t;
	int fd, s;

	fd = connect_pair(_metadata, self, &s);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, s);
	set_keepalive(_metadata, fd);
	/* A bound on the wait, for a failure rather than a hang. */
	ASSERT_EQ(0, set_timeo(fd, SO_RCVTIMEO, 15000));
	link_block(self->l, FROM_A, true);
	link_block(self->l, FROM_B, true);
	t = now_ms();
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(ETIMEDOUT, errno);
	t = now_ms() - t;
	TH_LOG("ETIMEDOUT after %lld ms", (long long)t);
	/* Idle 1 s, then 2 probes 1 s apart. */
	EXPECT_LE(2000, t);
	EXPECT_GE(8000, t);
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	EXPECT_LE(2, keepalive_probes(self->l, FROM_A, true));
	EXPECT_GE(3, keepalive_probes(self->l, FROM_A, true));
	close(s);
	close(fd);
}

/* TCP_USER_TIMEOUT: data unacknowledged that long ends the connection. */
TEST_F(timers, user_timeout)
{
	char buf[8];
	int64_t t;
	int fd, s;

	fd = connect_pair(_metadata, self, &s);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, set_int_opt(fd, SOL_TCP, TCP_USER_TIMEOUT, 1500));
	EXPECT_EQ(1500, get_int_opt(fd, SOL_TCP, TCP_USER_TIMEOUT));
	ASSERT_EQ(0, set_timeo(fd, SO_RCVTIMEO, 15000));
	link_block(self->l, FROM_A, true);
	t = now_ms();
	ASSERT_EQ(5, send(fd, "hello", 5, 0));
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(ETIMEDOUT, errno);
	t = now_ms() - t;
	TH_LOG("ETIMEDOUT after %lld ms", (long long)t);
	EXPECT_LE(1400, t);
	EXPECT_GE(5000, t);
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	EXPECT_LE(2, link_count(self->l, FROM_A, TH_ACK, 0, true));
	close(s);
	close(fd);
}

/*
 * The client's own interface refuses what it sends: a FIFO qdisc that holds
 * nothing, so the IP layer reports the drop (NET_XMIT_DROP) instead of
 * taking the packet.  Nothing is then in flight and no ACK will come:
 * unless a timer tries again, the data (or the SYN) waits for ever.
 */
#define TC_CMD		"/usr/sbin/tc"
#define LOCAL_DROP_MS	1500

static int local_drop(bool on)
{
	/* the client is in a, whose end of the link is "tlb" */
	return on ? run(TC_CMD " qdisc replace dev tlb root pfifo limit 0") :
		    run(TC_CMD " qdisc del dev tlb root");
}

/* Data sent while the device drops it arrives once the device passes it. */
TEST_F_TIMEOUT(timers, local_drop_data_retried, 60)
{
	char buf[4000], got[sizeof(buf)];
	int64_t t;
	int fd, s, n;

	fd = connect_pair(_metadata, self, &s);
	ASSERT_LE(0, fd);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, local_drop(true));
	n = link_count(self->l, FROM_A, 0, 0, true);
	stream_fill(buf, 11, 0, sizeof(buf));
	ASSERT_EQ(sizeof(buf), send(fd, buf, sizeof(buf), MSG_DONTWAIT));
	sleep_ms(LOCAL_DROP_MS);
	/* nothing reached the link: the device refused it all */
	EXPECT_EQ(n, link_count(self->l, FROM_A, 0, 0, true));
	ASSERT_EQ(0, ioctl(fd, SIOCOUTQ, &n));
	EXPECT_EQ(sizeof(buf), n);
	ASSERT_EQ(0, local_drop(false));
	t = now_ms();
	ASSERT_EQ(0, set_timeo(s, SO_RCVTIMEO, 15000));
	ASSERT_EQ(sizeof(got), recv_all(s, got, sizeof(got)));
	TH_LOG("the data arrived %lld ms after the device passed packets again",
	       (long long)(now_ms() - t));
	EXPECT_EQ(0, memcmp(buf, got, sizeof(buf)));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(fd));
	close(s);
	close(fd);
}

/* A SYN the device refused goes again: connect() succeeds after all. */
TEST_F_TIMEOUT(timers, local_drop_syn_retried, 60)
{
	int64_t t;
	int fd, s;

	ASSERT_EQ(0, local_drop(true));
	fd = tsock_nb();
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, B_IP, self->port));
	EXPECT_EQ(0, poll1(fd, POLLOUT, LOCAL_DROP_MS));
	EXPECT_EQ(TCP_SYN_SENT, tstate(fd));
	EXPECT_EQ(0, link_count(self->l, FROM_A, TH_SYN, 0, true));
	ASSERT_EQ(0, local_drop(false));
	t = now_ms();
	EXPECT_EQ(POLLOUT, poll1(fd, POLLOUT, 15000));
	TH_LOG("connected %lld ms after the device passed packets again",
	       (long long)(now_ms() - t));
	EXPECT_EQ(0, so_error(fd));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(fd));
	ASSERT_EQ(0, ns_enter(self->b));
	s = taccept(self->lfd);
	EXPECT_LE(0, s);
	ASSERT_EQ(0, ns_enter(self->a));
	close(s);
	close(fd);
}

TOYTCP_HARNESS_MAIN
