// SPDX-License-Identifier: GPL-2.0
/*
 * Every transition of the RFC 9293 state diagram (section 3.3.2, figure 5),
 * observed: through TCP_INFO's tcpi_state while the application holds the
 * socket, through /proc/net/toytcp (/proc/net/tcp for TCP) once it closed
 * it, and on the wire through the emulated link's log.
 *
 *	transition (RFC 9293 figure 5)			test
 *	CLOSED       -> LISTEN        (passive OPEN)	lo.closed_to_listen
 *	LISTEN       -> CLOSED        (CLOSE)		lo.listen_to_closed_on_close,
 *							lo.listen_to_closed_on_shutdown
 *	LISTEN       -> SYN-SENT      (SEND)		lo.listen_connect_refused
 *							(Linux does not do it)
 *	CLOSED       -> SYN-SENT      (active OPEN)	link.closed_to_syn_sent_to_established
 *	SYN-SENT     -> ESTABLISHED   (rcv SYN,ACK)	link.closed_to_syn_sent_to_established
 *	LISTEN       -> SYN-RCVD      (rcv SYN)		link.listen_to_syn_rcvd_to_established
 *	SYN-RCVD     -> ESTABLISHED   (rcv ACK of SYN)	link.listen_to_syn_rcvd_to_established,
 *							link.simultaneous_open
 *	SYN-RCVD     -> LISTEN        (rcv RST)		link.syn_rcvd_to_listen_on_rst
 *	SYN-SENT     -> CLOSED        (CLOSE)		link.syn_sent_to_closed_on_close
 *	SYN-SENT     -> CLOSED        (rcv RST)		lo.syn_sent_to_closed_on_rst
 *	SYN-SENT     -> SYN-RCVD      (rcv SYN)		link.simultaneous_open
 *	SYN-RCVD     -> FIN-WAIT-1    (CLOSE)		link.syn_rcvd_to_fin_wait1
 *	ESTABLISHED  -> FIN-WAIT-1    (CLOSE)		link.established_to_fin_wait1_to_fin_wait2,
 *							link.close_shows_fin_wait_in_proc
 *	FIN-WAIT-1   -> FIN-WAIT-2    (rcv ACK of FIN)	link.established_to_fin_wait1_to_fin_wait2
 *	ESTABLISHED  -> CLOSE-WAIT    (rcv FIN)		link.established_to_close_wait
 *	CLOSE-WAIT   -> LAST-ACK      (CLOSE)		link.close_wait_to_last_ack_to_closed,
 *							link.close_shows_last_ack_in_proc
 *	LAST-ACK     -> CLOSED        (rcv ACK of FIN)	link.close_wait_to_last_ack_to_closed
 *	FIN-WAIT-2   -> TIME-WAIT     (rcv FIN)		link.fin_wait2_to_time_wait
 *	FIN-WAIT-1   -> CLOSING       (rcv FIN)		link.simultaneous_close
 *	CLOSING      -> TIME-WAIT     (rcv ACK of FIN)	link.simultaneous_close
 *	TIME-WAIT    -> CLOSED        (2 MSL)		conn_timewait
 *	ESTABLISHED  -> CLOSED        (rcv RST)		link.established_to_closed_on_rst
 *
 * The "link" tests run between two network namespaces joined by the
 * emulated link of toytcp_test.h with a one-way delay of LINK_DELAY_MS, so
 * that the states that last one round trip (SYN-SENT, SYN-RCVD, FIN-WAIT-1,
 * CLOSING, LAST-ACK) last long enough to be seen.
 *
 * Through the fd, a connection in TIME-WAIT reads TCP_CLOSE on Linux TCP (its
 * timewait minisock takes over) and TCP_TIME_WAIT on toytcp:
 * fd_time_wait_state() says which; /proc shows TIME-WAIT for both.
 *
 *	TOYTCP_PROTO=6 ./conn_states	# the reference, Linux TCP: must pass
 *	./conn_states			# toytcp
 *	TOYTCP_TESTS=simultaneous ./conn_states	# only those tests
 *
 * vm-timeout: 300
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"

#define A_IP		"10.9.0.1"
#define B_IP		"10.9.0.2"
#define LINK_DELAY_MS	150

/* ---------------------------------------------------------------------- */
/* On loopback, in a namespace of the test's own */

FIXTURE(lo) {
	int ns;
};

FIXTURE_SETUP(lo)
{
	self->ns = ns_new();
	ASSERT_LE(0, self->ns) TH_LOG("new netns: %s", strerror(-self->ns));
}

FIXTURE_TEARDOWN(lo)
{
}

TEST_F(lo, closed_to_listen)
{
	int fd = tsock(), port;

	ASSERT_LE(0, fd);
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	ASSERT_EQ(0, tbind(fd, "127.0.0.1", 0));
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	port = local_port(fd);
	EXPECT_EQ(-1, proc_state(port, 0)) TH_LOG("bound, not listening");
	ASSERT_EQ(0, listen(fd, 4));
	EXPECT_EQ(TCP_LISTEN, tstate(fd));
	EXPECT_EQ(TCP_LISTEN, proc_state(port, 0));
	close(fd);
}

TEST_F(lo, listen_to_closed_on_close)
{
	int fd = tlisten("127.0.0.1", 0, 4), port;

	ASSERT_LE(0, fd);
	port = local_port(fd);
	ASSERT_EQ(TCP_LISTEN, proc_state(port, 0));
	close(fd);
	EXPECT_TRUE(wait_proc_state(port, 0, -1, 1000))
		TH_LOG("listener still in %s", proc_net_path());
	EXPECT_EQ(-ECONNREFUSED, tconnect("127.0.0.1", port));
}

/*
 * shutdown() of a listener with SHUT_RD in it closes it, as on Linux TCP
 * (inet_shutdown() disconnects it): the same socket is CLOSED, and, bound to
 * a port of its choosing, can listen on it again.
 */
TEST_F(lo, listen_to_closed_on_shutdown)
{
	int fd = tsock(), c;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tbind(fd, "127.0.0.1", 7000));
	ASSERT_EQ(0, listen(fd, 4));
	/* SHUT_WR alone leaves a listener alone. */
	EXPECT_EQ(0, shutdown(fd, SHUT_WR));
	EXPECT_EQ(TCP_LISTEN, tstate(fd));
	EXPECT_EQ(0, shutdown(fd, SHUT_RDWR));
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	EXPECT_EQ(-1, proc_state(7000, 0));
	EXPECT_EQ(-ECONNREFUSED, tconnect("127.0.0.1", 7000));
	EXPECT_EQ(-EINVAL, taccept(fd));
	/* CLOSED, still bound: it can listen again. */
	ASSERT_EQ(0, listen(fd, 4));
	EXPECT_EQ(TCP_LISTEN, tstate(fd));
	EXPECT_EQ(7000, local_port(fd));
	c = tconnect("127.0.0.1", 7000);
	EXPECT_LE(0, c);
	close(c);
	close(fd);
}

/*
 * RFC 9293 lets a LISTEN socket SEND and become SYN-SENT; Linux does not:
 * connect() on a listener fails with EISCONN and it keeps listening.
 */
TEST_F(lo, listen_connect_refused)
{
	int l1 = tlisten("127.0.0.1", 0, 4), l2 = tlisten("127.0.0.1", 0, 4);

	ASSERT_LE(0, l1);
	ASSERT_LE(0, l2);
	EXPECT_EQ(-EISCONN, tconnect_fd(l1, "127.0.0.1", local_port(l2)));
	EXPECT_EQ(TCP_LISTEN, tstate(l1));
	close(l1);
	close(l2);
}

TEST_F(lo, syn_sent_to_closed_on_rst)
{
	int l = tlisten("127.0.0.1", 0, 4), port, fd;

	ASSERT_LE(0, l);
	port = local_port(l);
	close(l);	/* a port nobody listens on */
	fd = tsock();
	ASSERT_LE(0, fd);
	EXPECT_EQ(-ECONNREFUSED, tconnect_fd(fd, "127.0.0.1", port));
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	EXPECT_EQ(0, so_error(fd)) TH_LOG("connect() reported it already");
	close(fd);
}

TEST_F(lo, handshake_establishes_both_ends)
{
	int cli, srv;

	ASSERT_EQ(0, tpair("127.0.0.1", &cli, &srv));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(cli));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(srv));
	EXPECT_EQ(TCP_ESTABLISHED, proc_state(local_port(cli), local_port(srv)));
	EXPECT_EQ(TCP_ESTABLISHED, proc_state(local_port(srv), local_port(cli)));
	close(cli);
	close(srv);
}

/* ---------------------------------------------------------------------- */
/* Between namespaces a (A_IP) and b (B_IP), over the emulated link */

FIXTURE(link) {
	int a, b;
	struct link *l;
};

FIXTURE_SETUP(link)
{
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
		link_dump(self->l, 60);
	link_free(self->l);
}

#define IN_A()	ASSERT_EQ(0, ns_enter(self->a))
#define IN_B()	ASSERT_EQ(0, ns_enter(self->b))

/* A connection: *ca in a (client), *sb in b (accepted); thread left in a. */
#define LINK_PAIR(ca, sb) \
	ASSERT_EQ(0, tpair_ns(self->b, self->a, B_IP, ca, sb))

TEST_F(link, closed_to_syn_sent_to_established)
{
	struct trace t = {};
	int l, port, fd;

	IN_B();
	l = tlisten(B_IP, 0, 4);
	ASSERT_LE(0, l);
	port = local_port(l);
	IN_A();
	fd = tsock_nb();
	ASSERT_LE(0, fd);
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, B_IP, port));
	EXPECT_TRUE(trace_states(fd, &t, TCP_ESTABLISHED, 5000));
	EXPECT_TRUE(TRACE_IS(&t, TCP_SYN_SENT, TCP_ESTABLISHED))
		TH_LOG("states: %s", trace_str(&t));
	/* One SYN, one SYN-ACK: nothing was lost, nothing is resent. */
	EXPECT_EQ(1, link_count(self->l, A_TO_B, TH_SYN, TH_ACK, true));
	EXPECT_EQ(1, link_count(self->l, B_TO_A, TH_SYN | TH_ACK, 0, true));
	close(fd);
	close(l);
}

TEST_F(link, listen_to_syn_rcvd_to_established)
{
	struct trace t = {};
	int l, port, fd, cport, s;

	IN_B();
	l = tlisten(B_IP, 0, 4);
	ASSERT_LE(0, l);
	port = local_port(l);
	IN_A();
	fd = tsock_nb();
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, B_IP, port));
	cport = local_port(fd);
	IN_B();
	/* The embryonic connection, listed as Linux lists its request socks. */
	EXPECT_TRUE(trace_proc(port, cport, &t, TCP_ESTABLISHED, 5000));
	EXPECT_TRUE(TRACE_IS(&t, -1, TCP_SYN_RECV, TCP_ESTABLISHED))
		TH_LOG("%s: %s", proc_net_path(), trace_str(&t));
	EXPECT_EQ(TCP_LISTEN, tstate(l));
	s = taccept(l);
	ASSERT_LE(0, s);
	EXPECT_EQ(TCP_ESTABLISHED, tstate(s));
	EXPECT_EQ(TCP_LISTEN, tstate(l));
	close(s);
	close(fd);
	close(l);
}

/*
 * A client gives up (close() in SYN-SENT sends nothing); the SYN-ACK then
 * reaches a port with no socket, which answers RST, and the listener drops
 * the embryonic connection: back to LISTEN, nothing to accept, and the
 * listener still works.
 */
TEST_F(link, syn_rcvd_to_listen_on_rst)
{
	int l, port, fd, cport, s;

	link_set_delay(self->l, 300);
	IN_B();
	l = tlisten(B_IP, 0, 4);
	ASSERT_LE(0, l);
	port = local_port(l);
	IN_A();
	fd = tsock_nb();
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, B_IP, port));
	cport = local_port(fd);
	IN_B();
	ASSERT_TRUE(wait_proc_state(port, cport, TCP_SYN_RECV, 3000));
	close(fd);
	EXPECT_TRUE(wait_proc_state(port, cport, -1, 3000))
		TH_LOG("embryonic connection still there: %s",
		       state_name(proc_state(port, cport)));
	EXPECT_EQ(1, link_count(self->l, A_TO_B, TH_RST, 0, true));
	EXPECT_EQ(TCP_LISTEN, tstate(l));
	EXPECT_EQ(TCP_LISTEN, proc_state(port, 0));
	EXPECT_EQ(0, set_nonblock(l, true));
	EXPECT_EQ(-EAGAIN, taccept(l));
	/* And the listener still takes connections. */
	link_set_delay(self->l, 10);
	IN_A();
	fd = tconnect(B_IP, port);
	EXPECT_LE(0, fd);
	EXPECT_TRUE(poll1(l, POLLIN, 2000) & POLLIN);
	s = taccept(l);
	EXPECT_LE(0, s);
	close(s);
	close(fd);
	close(l);
}

/* close() in SYN-SENT: the socket is gone and sends no more SYNs. */
TEST_F(link, syn_sent_to_closed_on_close)
{
	int l, port, fd, cport, syns;

	IN_B();
	l = tlisten(B_IP, 0, 4);
	ASSERT_LE(0, l);
	port = local_port(l);
	IN_A();
	link_block(self->l, A_TO_B, true);
	fd = tsock_nb();
	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, B_IP, port));
	cport = local_port(fd);
	EXPECT_EQ(TCP_SYN_SENT, tstate(fd));
	EXPECT_EQ(TCP_SYN_SENT, proc_state(cport, port));
	sleep_ms(100);
	close(fd);
	EXPECT_EQ(-1, proc_state(cport, port));
	syns = link_count(self->l, A_TO_B, TH_SYN, 0, true);
	EXPECT_EQ(1, syns);
	/* The first retransmission would come 1 s after the SYN. */
	sleep_ms(1500);
	EXPECT_EQ(syns, link_count(self->l, A_TO_B, TH_SYN, 0, true));
	EXPECT_EQ(0, link_count(self->l, A_TO_B, TH_RST, 0, true));
	close(l);
}

/* Two sockets bound to fixed ports connect to each other; the SYNs cross. */
static void simultaneous_open(struct __test_metadata *_metadata,
			      FIXTURE_DATA(link) *self, int *fa, int *fb,
			      struct trace *ta, struct trace *tb, int until)
{
	*fa = tsock_nb();
	ASSERT_LE(0, *fa);
	ASSERT_EQ(0, tbind(*fa, A_IP, 5001));
	IN_B();
	*fb = tsock_nb();
	ASSERT_LE(0, *fb);
	ASSERT_EQ(0, tbind(*fb, B_IP, 5002));
	IN_A();
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(*fa, B_IP, 5002));
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(*fb, A_IP, 5001));
	if (until < 0)
		return;
	/* Asserted: after a failure the rest would block for ever. */
	ASSERT_TRUE(trace_states2(*fa, ta, *fb, tb, until, 5000))
		TH_LOG("A: %s; B: %s", trace_str(ta), trace_str(tb));
}

TEST_F(link, simultaneous_open)
{
	struct trace ta = {}, tb = {};
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	char buf[8];
	int fa, fb;

	simultaneous_open(_metadata, self, &fa, &fb, &ta, &tb, TCP_ESTABLISHED);
	EXPECT_TRUE(TRACE_IS(&ta, TCP_SYN_SENT, TCP_SYN_RECV, TCP_ESTABLISHED))
		TH_LOG("A: %s", trace_str(&ta));
	EXPECT_TRUE(TRACE_IS(&tb, TCP_SYN_SENT, TCP_SYN_RECV, TCP_ESTABLISHED))
		TH_LOG("B: %s", trace_str(&tb));
	/* Both SYNs without ACK crossed, then SYN-ACKs. */
	EXPECT_EQ(1, link_count(self->l, A_TO_B, TH_SYN, TH_ACK, true));
	EXPECT_EQ(1, link_count(self->l, B_TO_A, TH_SYN, TH_ACK, true));
	EXPECT_LE(1, link_count(self->l, A_TO_B, TH_SYN | TH_ACK, 0, true));
	EXPECT_LE(1, link_count(self->l, B_TO_A, TH_SYN | TH_ACK, 0, true));
	/* A connection like any other. */
	EXPECT_EQ(POLLOUT, poll1(fa, POLLOUT, 1000));
	EXPECT_EQ(POLLOUT, poll1(fb, POLLOUT, 1000));
	EXPECT_EQ(0, so_error(fa));
	EXPECT_EQ(0, so_error(fb));
	ASSERT_EQ(0, getpeername(fa, (struct sockaddr *)&peer, &len));
	EXPECT_EQ(5002, ntohs(peer.sin_port));
	EXPECT_EQ(0, set_nonblock(fa, false));
	EXPECT_EQ(0, set_nonblock(fb, false));
	EXPECT_EQ(4, send(fa, "ping", 4, 0));
	EXPECT_EQ(4, recv(fb, buf, sizeof(buf), 0));
	EXPECT_EQ(4, send(fb, "pong", 4, 0));
	EXPECT_EQ(4, recv(fa, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "pong", 4));
	close(fa);
	close(fb);
}

/*
 * shutdown(SHUT_WR) in SYN-RCVD (reached by a simultaneous open) leads to
 * FIN-WAIT-1.  RFC 9293 (3.10.4) sends the FIN at once if there is nothing
 * to send; Linux TCP defers it until the handshake completes (SYN-RCVD,
 * then ESTABLISHED for an instant, then FIN-WAIT-1 with the FIN sent).  Both
 * are accepted; what is not: any other state, or no FIN.  The peer sees EOF.
 */
TEST_F(link, syn_rcvd_to_fin_wait1)
{
	struct trace ta = {}, tb = {};
	bool fin_wait1 = false, other = false;
	char buf[8];
	int fa, fb, i;

	simultaneous_open(_metadata, self, &fa, &fb, &ta, &tb, -1);
	ASSERT_TRUE(wait_state(fa, TCP_SYN_RECV, 3000))
		TH_LOG("A: %s", state_name(tstate(fa)));
	ASSERT_EQ(0, shutdown(fa, SHUT_WR));
	ta.n = 0;
	trace_states(fa, &ta, TCP_FIN_WAIT2, 5000);
	for (i = 0; i < ta.n; i++) {
		if (ta.st[i] == TCP_FIN_WAIT1)
			fin_wait1 = true;
		else if (ta.st[i] != TCP_SYN_RECV &&
			 ta.st[i] != TCP_ESTABLISHED &&
			 ta.st[i] != TCP_FIN_WAIT2)
			other = true;
	}
	EXPECT_TRUE(fin_wait1 && !other) TH_LOG("A: %s", trace_str(&ta));
	EXPECT_EQ(TCP_FIN_WAIT2, ta.st[ta.n - 1]) TH_LOG("A: %s", trace_str(&ta));
	EXPECT_EQ(1, link_count(self->l, A_TO_B, TH_FIN, 0, true));
	EXPECT_TRUE(wait_state(fb, TCP_CLOSE_WAIT, 3000))
		TH_LOG("B: %s", state_name(tstate(fb)));
	EXPECT_EQ(0, set_nonblock(fb, false));
	EXPECT_EQ(0, recv(fb, buf, sizeof(buf), 0));
	close(fa);
	close(fb);
}

TEST_F(link, established_to_fin_wait1_to_fin_wait2)
{
	struct trace t = {};
	int ca, sb;

	LINK_PAIR(&ca, &sb);
	ASSERT_EQ(TCP_ESTABLISHED, tstate(ca));
	ASSERT_EQ(0, shutdown(ca, SHUT_WR));
	EXPECT_TRUE(trace_states(ca, &t, TCP_FIN_WAIT2, 5000));
	EXPECT_TRUE(TRACE_IS(&t, TCP_FIN_WAIT1, TCP_FIN_WAIT2))
		TH_LOG("A: %s", trace_str(&t));
	EXPECT_EQ(TCP_FIN_WAIT2, proc_state(local_port(ca), local_port(sb)));
	EXPECT_EQ(1, link_count(self->l, A_TO_B, TH_FIN, 0, true));
	close(ca);
	close(sb);
}

TEST_F(link, established_to_close_wait)
{
	struct trace t = {};
	char buf[8];
	int ca, sb;

	LINK_PAIR(&ca, &sb);
	ASSERT_EQ(0, shutdown(ca, SHUT_WR));
	EXPECT_TRUE(trace_states(sb, &t, TCP_CLOSE_WAIT, 5000));
	EXPECT_TRUE(TRACE_IS(&t, TCP_ESTABLISHED, TCP_CLOSE_WAIT))
		TH_LOG("B: %s", trace_str(&t));
	EXPECT_EQ(0, recv(sb, buf, sizeof(buf), 0));
	IN_B();
	EXPECT_EQ(TCP_CLOSE_WAIT, proc_state(local_port(sb), local_port(ca)));
	close(ca);
	close(sb);
}

TEST_F(link, close_wait_to_last_ack_to_closed)
{
	struct trace t = {};
	int ca, sb;

	LINK_PAIR(&ca, &sb);
	ASSERT_EQ(0, shutdown(ca, SHUT_WR));
	ASSERT_TRUE(wait_state(sb, TCP_CLOSE_WAIT, 3000));
	ASSERT_EQ(0, shutdown(sb, SHUT_WR));
	EXPECT_TRUE(trace_states(sb, &t, TCP_CLOSE, 5000));
	EXPECT_TRUE(TRACE_IS(&t, TCP_LAST_ACK, TCP_CLOSE))
		TH_LOG("B: %s", trace_str(&t));
	IN_B();
	EXPECT_EQ(-1, proc_state(local_port(sb), local_port(ca)));
	close(ca);
	close(sb);
}

TEST_F(link, fin_wait2_to_time_wait)
{
	struct trace t = {};
	int ca, sb, cport, sport;

	LINK_PAIR(&ca, &sb);
	cport = local_port(ca);
	sport = local_port(sb);
	ASSERT_EQ(0, shutdown(ca, SHUT_WR));
	ASSERT_TRUE(wait_state(ca, TCP_FIN_WAIT2, 3000));
	ASSERT_TRUE(wait_state(sb, TCP_CLOSE_WAIT, 3000));
	ASSERT_EQ(0, shutdown(sb, SHUT_WR));
	EXPECT_TRUE(trace_states(ca, &t, fd_time_wait_state(), 5000));
	EXPECT_TRUE(TRACE_IS(&t, TCP_FIN_WAIT2, fd_time_wait_state()))
		TH_LOG("A: %s", trace_str(&t));
	EXPECT_EQ(TCP_TIME_WAIT, proc_state(cport, sport));
	/* Still TIME-WAIT once the application let go of it. */
	close(ca);
	EXPECT_EQ(TCP_TIME_WAIT, proc_state(cport, sport));
	close(sb);
}

/* Both ends shut down at once; the FINs cross: CLOSING on both sides. */
TEST_F(link, simultaneous_close)
{
	struct trace ta = {}, tb = {};
	int ca, sb, cport, sport;

	LINK_PAIR(&ca, &sb);
	cport = local_port(ca);
	sport = local_port(sb);
	ASSERT_EQ(0, shutdown(ca, SHUT_WR));
	ASSERT_EQ(0, shutdown(sb, SHUT_WR));
	EXPECT_TRUE(trace_states2(ca, &ta, sb, &tb, fd_time_wait_state(), 5000));
	EXPECT_TRUE(TRACE_IS(&ta, TCP_FIN_WAIT1, TCP_CLOSING, fd_time_wait_state()))
		TH_LOG("A: %s", trace_str(&ta));
	EXPECT_TRUE(TRACE_IS(&tb, TCP_FIN_WAIT1, TCP_CLOSING, fd_time_wait_state()))
		TH_LOG("B: %s", trace_str(&tb));
	EXPECT_EQ(TCP_TIME_WAIT, proc_state(cport, sport));
	IN_B();
	EXPECT_EQ(TCP_TIME_WAIT, proc_state(sport, cport));
	close(ca);
	close(sb);
}

/* close() in ESTABLISHED: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT, in /proc. */
TEST_F(link, close_shows_fin_wait_in_proc)
{
	struct trace t = {};
	int ca, sb, cport, sport;

	LINK_PAIR(&ca, &sb);
	cport = local_port(ca);
	sport = local_port(sb);
	close(ca);
	EXPECT_TRUE(trace_proc(cport, sport, &t, TCP_FIN_WAIT2, 5000));
	IN_B();
	ASSERT_TRUE(wait_state(sb, TCP_CLOSE_WAIT, 3000));
	close(sb);
	IN_A();
	EXPECT_TRUE(trace_proc(cport, sport, &t, TCP_TIME_WAIT, 5000));
	EXPECT_TRUE(TRACE_IS(&t, TCP_FIN_WAIT1, TCP_FIN_WAIT2, TCP_TIME_WAIT))
		TH_LOG("A in %s: %s", proc_net_path(), trace_str(&t));
}

/* close() in CLOSE-WAIT: LAST-ACK, then gone, in /proc. */
TEST_F(link, close_shows_last_ack_in_proc)
{
	struct trace t = {};
	int ca, sb, cport, sport;

	LINK_PAIR(&ca, &sb);
	cport = local_port(ca);
	sport = local_port(sb);
	ASSERT_EQ(0, shutdown(ca, SHUT_WR));
	ASSERT_TRUE(wait_state(sb, TCP_CLOSE_WAIT, 3000));
	IN_B();
	close(sb);
	EXPECT_TRUE(trace_proc(sport, cport, &t, -1, 5000));
	EXPECT_TRUE(TRACE_IS(&t, TCP_LAST_ACK, -1))
		TH_LOG("B in %s: %s", proc_net_path(), trace_str(&t));
	close(ca);
}

/* SO_LINGER {1, 0}: the peer gets a RST and goes from ESTABLISHED to CLOSED. */
TEST_F(link, established_to_closed_on_rst)
{
	struct trace t = {};
	char buf[8];
	int ca, sb;

	LINK_PAIR(&ca, &sb);
	ASSERT_EQ(0, set_linger0(sb));
	close(sb);
	EXPECT_TRUE(trace_states(ca, &t, TCP_CLOSE, 5000));
	EXPECT_TRUE(TRACE_IS(&t, TCP_ESTABLISHED, TCP_CLOSE))
		TH_LOG("A: %s", trace_str(&t));
	EXPECT_EQ(1, link_count(self->l, B_TO_A, TH_RST, 0, true));
	EXPECT_EQ(-1, recv(ca, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	close(ca);
}

TOYTCP_HARNESS_MAIN
