// SPDX-License-Identifier: GPL-2.0
/*
 * The socket API around a connection, as Linux TCP defines it: connect and
 * accept, blocking and not; poll bits; SO_ERROR; receive and send timeouts;
 * MSG_PEEK, MSG_WAITALL, MSG_DONTWAIT; shutdown; getsockname/getpeername;
 * RST and what the application sees of it (ECONNREFUSED, ECONNRESET, EPIPE,
 * SIGPIPE); signals interrupting blocking calls; the listen backlog.
 *
 * Every test runs in a network namespace of its own, over loopback, unless
 * it needs a peer that does not answer (the emulated link of toytcp_test.h).
 *
 *	TOYTCP_PROTO=6 ./conn_api	# the reference, Linux TCP: must pass
 *	./conn_api			# toytcp
 *	TOYTCP_TESTS=poll ./conn_api	# only the tests with "poll" in the name
 *
 * vm-timeout: 300
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"

#define LO		"127.0.0.1"
#define A_IP		"10.9.0.1"
#define B_IP		"10.9.0.2"

FIXTURE(api) {
	int ns;
	int l;		/* a listener on LO:port */
	int port;
};

FIXTURE_SETUP(api)
{
	self->ns = ns_new();
	ASSERT_LE(0, self->ns) TH_LOG("new netns: %s", strerror(-self->ns));
	self->l = tlisten(LO, 0, 8);
	ASSERT_LE(0, self->l) TH_LOG("listen: %s", strerror(-self->l));
	self->port = local_port(self->l);
}

FIXTURE_TEARDOWN(api)
{
	close(self->l);
}

/* A connection to the fixture's listener: *c connected, *s accepted. */
#define PAIR(c, s) do {							\
	*(c) = tconnect(LO, self->port);				\
	ASSERT_LE(0, *(c)) TH_LOG("connect: %s", strerror(-*(c)));	\
	*(s) = taccept(self->l);					\
	ASSERT_LE(0, *(s)) TH_LOG("accept: %s", strerror(-*(s)));	\
} while (0)

/* A port on LO nobody listens on. */
static int closed_port(void)
{
	int fd = tlisten(LO, 0, 1), port = local_port(fd);

	close(fd);
	return port;
}

/* Fill c's send buffer (and the peer's receive buffer): c nonblocking. */
static size_t fill(int c)
{
	static char buf[65536];
	size_t total = 0;
	ssize_t n;
	int idle = 0;

	set_nonblock(c, true);
	/* EAGAIN may come before the peer's window closes: retry a while. */
	while (idle < 50) {
		n = send(c, buf, sizeof(buf), MSG_NOSIGNAL);
		if (n > 0) {
			total += n;
			idle = 0;
		} else {
			idle++;
			usleep(2000);
		}
	}
	return total;
}

/* ---------------------------------------------------------------------- */
/* connect and accept */

TEST_F(api, connect_refused)
{
	int fd = tsock();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-ECONNREFUSED, tconnect_fd(fd, LO, closed_port()));
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	/* A failed connect() leaves a socket that can try again. */
	EXPECT_EQ(0, tconnect_fd(fd, LO, self->port));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(fd));
	close(fd);
}

TEST_F(api, connect_twice)
{
	int c, s;

	PAIR(&c, &s);
	EXPECT_EQ(-EISCONN, tconnect_fd(c, LO, self->port));
	close(c);
	close(s);
}

TEST_F(api, nonblocking_connect)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int fd = tsock_nb(), s;

	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, LO, self->port));
	EXPECT_EQ(POLLOUT, poll1(fd, POLLIN | POLLOUT, 2000));
	EXPECT_EQ(0, so_error(fd));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(fd));
	/*
	 * connect() again tells the outcome: 0 the first time (the connect
	 * completed), then EISCONN.
	 */
	EXPECT_EQ(0, tconnect_fd(fd, LO, self->port));
	EXPECT_EQ(-EISCONN, tconnect_fd(fd, LO, self->port));
	ASSERT_EQ(0, getpeername(fd, (struct sockaddr *)&peer, &len));
	EXPECT_EQ(self->port, ntohs(peer.sin_port));
	s = taccept(self->l);
	EXPECT_LE(0, s);
	close(s);
	close(fd);
}

TEST_F(api, nonblocking_connect_refused)
{
	int fd = tsock_nb(), rev;

	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, LO, closed_port()));
	rev = poll1(fd, POLLIN | POLLOUT, 2000);
	EXPECT_EQ(POLLIN | POLLOUT | POLLERR | POLLHUP, rev);
	EXPECT_EQ(ECONNREFUSED, so_error(fd));
	/* SO_ERROR is consumed by reading it. */
	EXPECT_EQ(0, so_error(fd));
	EXPECT_EQ(TCP_CLOSE, tstate(fd));
	close(fd);
}

/* The outcome is reported once, by SO_ERROR or by connect(). */
TEST_F(api, nonblocking_connect_refused_reported_by_connect)
{
	int fd = tsock_nb(), port = closed_port();

	ASSERT_LE(0, fd);
	ASSERT_EQ(-EINPROGRESS, tconnect_fd(fd, LO, port));
	EXPECT_NE(0, poll1(fd, POLLOUT, 2000));
	EXPECT_EQ(-ECONNREFUSED, tconnect_fd(fd, LO, port));
	EXPECT_EQ(0, so_error(fd));
	close(fd);
}

TEST_F(api, nonblocking_accept)
{
	int l = tsock_nb(), c, s, port;

	ASSERT_LE(0, l);
	ASSERT_EQ(0, tbind(l, LO, 0));
	ASSERT_EQ(0, listen(l, 4));
	port = local_port(l);
	EXPECT_EQ(-EAGAIN, taccept(l));
	EXPECT_EQ(0, poll1(l, POLLIN | POLLOUT, 0));
	c = tconnect(LO, port);
	ASSERT_LE(0, c);
	EXPECT_EQ(POLLIN, poll1(l, POLLIN | POLLOUT, 2000));
	s = taccept(l);
	EXPECT_LE(0, s);
	EXPECT_EQ(-EAGAIN, taccept(l));
	/* The accepted socket does not inherit O_NONBLOCK (Linux). */
	EXPECT_EQ(0, fcntl(s, F_GETFL) & O_NONBLOCK);
	close(s);
	close(c);
	close(l);
}

TEST_F(api, accept4_flags)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int c, s;

	c = tconnect(LO, self->port);
	ASSERT_LE(0, c);
	s = accept4(self->l, (struct sockaddr *)&peer, &len,
		    SOCK_NONBLOCK | SOCK_CLOEXEC);
	ASSERT_LE(0, s);
	EXPECT_EQ(sizeof(peer), len);
	EXPECT_EQ(local_port(c), ntohs(peer.sin_port));
	EXPECT_EQ(O_NONBLOCK, fcntl(s, F_GETFL) & O_NONBLOCK);
	EXPECT_EQ(FD_CLOEXEC, fcntl(s, F_GETFD) & FD_CLOEXEC);
	EXPECT_EQ(-1, accept4(self->l, NULL, NULL, 0x40000000));
	EXPECT_EQ(EINVAL, errno);
	close(s);
	close(c);
}

TEST_F(api, accept_on_unlistening_socket)
{
	int fd = tsock();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-EINVAL, taccept(fd));
	ASSERT_EQ(0, tbind(fd, LO, 0));
	EXPECT_EQ(-EINVAL, taccept(fd));
	close(fd);
}

TEST_F(api, getsockname_getpeername)
{
	struct sockaddr_in a, b;
	socklen_t la = sizeof(a), lb = sizeof(b);
	int fd = tsock(), c, s;

	ASSERT_LE(0, fd);
	/* Unbound: 0.0.0.0:0; not connected: ENOTCONN. */
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&a, &la));
	EXPECT_EQ(AF_INET, a.sin_family);
	EXPECT_EQ(0, a.sin_port);
	EXPECT_EQ(INADDR_ANY, ntohl(a.sin_addr.s_addr));
	EXPECT_EQ(-1, getpeername(fd, (struct sockaddr *)&b, &lb));
	EXPECT_EQ(ENOTCONN, errno);
	close(fd);

	PAIR(&c, &s);
	la = lb = sizeof(a);
	ASSERT_EQ(0, getsockname(c, (struct sockaddr *)&a, &la));
	ASSERT_EQ(0, getpeername(s, (struct sockaddr *)&b, &lb));
	EXPECT_EQ(sizeof(a), la);
	EXPECT_EQ(sizeof(b), lb);
	EXPECT_EQ(a.sin_port, b.sin_port);
	EXPECT_EQ(a.sin_addr.s_addr, b.sin_addr.s_addr);
	EXPECT_EQ(INADDR_LOOPBACK, ntohl(a.sin_addr.s_addr));
	EXPECT_NE(0, a.sin_port) TH_LOG("connect() picks a port");
	la = lb = sizeof(a);
	ASSERT_EQ(0, getpeername(c, (struct sockaddr *)&a, &la));
	ASSERT_EQ(0, getsockname(s, (struct sockaddr *)&b, &lb));
	EXPECT_EQ(htons(self->port), a.sin_port);
	EXPECT_EQ(a.sin_port, b.sin_port);
	EXPECT_EQ(a.sin_addr.s_addr, b.sin_addr.s_addr);
	/* A listener has a name but no peer. */
	la = sizeof(a);
	EXPECT_EQ(-1, getpeername(self->l, (struct sockaddr *)&a, &la));
	EXPECT_EQ(ENOTCONN, errno);
	close(c);
	close(s);
}

/* The names stay once the connection is over, orderly or by RST. */
TEST_F(api, getsockname_after_close)
{
	struct sockaddr_in a;
	socklen_t la = sizeof(a);
	int c, s, cport, sport, i;

	for (i = 0; i < 2; i++) {
		PAIR(&c, &s);
		cport = local_port(c);
		sport = local_port(s);
		if (i) {
			ASSERT_EQ(0, set_linger0(s));
			close(s);
		} else {
			ASSERT_EQ(0, shutdown(c, SHUT_WR));
			ASSERT_EQ(0, shutdown(s, SHUT_WR));
		}
		ASSERT_TRUE(wait_state(c, i ? TCP_CLOSE : fd_time_wait_state(), 2000));
		EXPECT_EQ(cport, local_port(c));
		if (!i) {
			ASSERT_TRUE(wait_state(s, TCP_CLOSE, 2000));
			EXPECT_EQ(sport, local_port(s));
			close(s);
		}
		la = sizeof(a);
		ASSERT_EQ(0, getsockname(c, (struct sockaddr *)&a, &la));
		EXPECT_EQ(INADDR_LOOPBACK, ntohl(a.sin_addr.s_addr));
		close(c);
	}
}

/*
 * listen(fd, 1): Linux lets backlog + 1 connections wait in the accept
 * queue; the SYN of one more is dropped, so that connection stays in
 * SYN-SENT until accept() makes room and a retransmitted SYN gets in.
 */
TEST_F(api, backlog_limits)
{
	int l = tlisten(LO, 0, 1), port, c[3], s[3], i;
	int64_t t0;

	ASSERT_LE(0, l);
	port = local_port(l);
	for (i = 0; i < 3; i++) {
		c[i] = tsock_nb();
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(-EINPROGRESS, tconnect_fd(c[i], LO, port));
		if (i < 2)
			EXPECT_TRUE(wait_state(c[i], TCP_ESTABLISHED, 2000))
				TH_LOG("client %d: %s", i, state_name(tstate(c[i])));
	}
	t0 = now_ms();
	/* Over its first SYN's RTO (1 s) it would be established. */
	sleep_ms(500);
	EXPECT_EQ(TCP_SYN_SENT, tstate(c[2]));
	EXPECT_EQ(TCP_SYN_SENT, proc_state(local_port(c[2]), port));
	s[0] = taccept(l);
	ASSERT_LE(0, s[0]);
	EXPECT_TRUE(wait_state(c[2], TCP_ESTABLISHED, 5000))
		TH_LOG("client 2: %s", state_name(tstate(c[2])));
	EXPECT_LE(400, now_ms() - t0) TH_LOG("not by a retransmitted SYN?");
	s[1] = taccept(l);
	s[2] = taccept(l);
	ASSERT_LE(0, s[1]);
	ASSERT_LE(0, s[2]);
	/* In the order they connected. */
	for (i = 0; i < 3; i++) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);

		ASSERT_EQ(0, getpeername(s[i], (struct sockaddr *)&peer, &len));
		EXPECT_EQ(local_port(c[i]), ntohs(peer.sin_port));
		close(s[i]);
		close(c[i]);
	}
	close(l);
}

/* Closing a listener resets the connections still in its accept queue. */
TEST_F(api, listener_close_resets_queue)
{
	char buf[4];
	int c;

	c = tconnect(LO, self->port);
	ASSERT_LE(0, c);
	ASSERT_TRUE(wait_state(c, TCP_ESTABLISHED, 1000));
	close(self->l);
	self->l = -1;
	EXPECT_TRUE(wait_state(c, TCP_CLOSE, 2000))
		TH_LOG("client: %s", state_name(tstate(c)));
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	close(c);
}

/* ---------------------------------------------------------------------- */
/* poll */

TEST_F(api, poll_unconnected)
{
	int fd = tsock();

	ASSERT_LE(0, fd);
	EXPECT_EQ(POLLOUT | POLLHUP, poll1(fd, POLLIN | POLLOUT | POLLRDHUP, 0));
	close(fd);
	/* A listener with nothing to accept: nothing. */
	EXPECT_EQ(0, poll1(self->l, POLLIN | POLLOUT | POLLRDHUP, 0));
}

TEST_F(api, poll_bits)
{
	const short all = POLLIN | POLLOUT | POLLRDHUP | POLLPRI;
	char buf[16];
	int c, s;

	PAIR(&c, &s);
	EXPECT_EQ(POLLOUT, poll1(c, all, 0));
	EXPECT_EQ(POLLOUT, poll1(s, all, 0));
	/*
	 * Data: POLLIN.  POLLOUT is ready at once, so a poll() for all the
	 * bits could return before the data arrives: wait for POLLIN first.
	 */
	ASSERT_EQ(5, send(s, "hello", 5, 0));
	ASSERT_EQ(POLLIN, poll1(c, POLLIN, 1000));
	EXPECT_EQ(POLLIN | POLLOUT, poll1(c, all, 0));
	EXPECT_EQ(5, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLOUT, poll1(c, all, 0));
	/* The peer's FIN: POLLIN | POLLRDHUP (read returns 0). */
	ASSERT_EQ(0, shutdown(s, SHUT_WR));
	ASSERT_EQ(POLLRDHUP, poll1(c, POLLRDHUP, 1000));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP, poll1(c, all, 0));
	EXPECT_EQ(0, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP, poll1(c, all, 0));
	/* Ours too: POLLHUP. */
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP | POLLHUP, poll1(c, all, 0));
	close(c);
	close(s);
}

TEST_F(api, poll_after_rst)
{
	const short all = POLLIN | POLLOUT | POLLRDHUP;
	int c, s;

	PAIR(&c, &s);
	ASSERT_EQ(0, set_linger0(s));
	close(s);
	/* POLLOUT is ready at once: wait for the RST's POLLERR first */
	ASSERT_NE(0, poll1(c, POLLRDHUP, 1000) & POLLERR);
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP | POLLERR | POLLHUP,
		  poll1(c, all, 0));
	EXPECT_TRUE(wait_state(c, TCP_CLOSE, 1000));
	/* POLLERR goes with the error, once read; POLLHUP stays. */
	EXPECT_EQ(ECONNRESET, so_error(c));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP | POLLHUP, poll1(c, all, 0));
	close(c);
}

/* POLLOUT goes when the send buffer is full and comes back when it drains. */
TEST_F(api, poll_out_when_writable)
{
	char *buf = malloc(1 << 20);
	size_t sent;
	ssize_t n;
	int c, s;

	ASSERT_NE(NULL, buf);
	PAIR(&c, &s);
	sent = fill(c);
	EXPECT_LT(0, sent);
	EXPECT_EQ(0, poll1(c, POLLOUT, 200));
	/* The reader drains it all. */
	while (sent) {
		n = recv(s, buf, 1 << 20, 0);
		ASSERT_LT(0, n);
		sent -= n;
	}
	EXPECT_EQ(POLLOUT, poll1(c, POLLOUT, 2000));
	free(buf);
	close(c);
	close(s);
}

/* ---------------------------------------------------------------------- */
/* Timeouts and flags */

TEST_F(api, rcvtimeo)
{
	char buf[8];
	int64_t t;
	int c, s;

	PAIR(&c, &s);
	ASSERT_EQ(0, set_timeo(c, SO_RCVTIMEO, 300));
	t = now_ms();
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	t = now_ms() - t;
	EXPECT_LE(280, t);
	EXPECT_GT(3000, t);
	/* Data in time is returned. */
	ASSERT_EQ(2, send(s, "hi", 2, 0));
	EXPECT_EQ(2, recv(c, buf, sizeof(buf), 0));
	close(c);
	close(s);
}

TEST_F(api, sndtimeo)
{
	static char buf[65536];
	int64_t t;
	int c, s;

	PAIR(&c, &s);
	fill(c);
	ASSERT_EQ(0, set_nonblock(c, false));
	ASSERT_EQ(0, set_timeo(c, SO_SNDTIMEO, 300));
	t = now_ms();
	EXPECT_EQ(-1, send(c, buf, sizeof(buf), 0));
	EXPECT_EQ(EAGAIN, errno);
	t = now_ms() - t;
	EXPECT_LE(280, t);
	EXPECT_GT(3000, t);
	close(c);
	close(s);
}

TEST_F(api, msg_peek)
{
	char buf[32] = {};
	int c, s;

	PAIR(&c, &s);
	ASSERT_EQ(11, send(s, "hello world", 11, 0));
	ASSERT_EQ(POLLIN, poll1(c, POLLIN, 1000));
	EXPECT_EQ(5, recv(c, buf, 5, MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(11, recv(c, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "hello world", 11));
	EXPECT_EQ(6, recv(c, buf, 6, 0));
	EXPECT_EQ(0, memcmp(buf, "hello ", 6));
	EXPECT_EQ(5, recv(c, buf, sizeof(buf), MSG_PEEK));
	EXPECT_EQ(0, memcmp(buf, "world", 5));
	EXPECT_EQ(5, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "world", 5));
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), MSG_PEEK | MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	close(c);
	close(s);
}

struct late_send {
	int fd;
	int parts, part_len, gap_ms;
	bool shut_wr;
	pthread_t thread;
};

static void *late_send_fn(void *arg)
{
	struct late_send *ls = arg;
	char buf[4096];
	int i;

	memset(buf, 'x', sizeof(buf));
	for (i = 0; i < ls->parts; i++) {
		sleep_ms(ls->gap_ms);
		if (send(ls->fd, buf, ls->part_len, MSG_NOSIGNAL) != ls->part_len)
			break;
	}
	if (ls->shut_wr)
		shutdown(ls->fd, SHUT_WR);
	return NULL;
}

TEST_F(api, msg_waitall)
{
	struct late_send ls = { .parts = 3, .part_len = 100, .gap_ms = 100 };
	char buf[400];
	int c, s;

	PAIR(&c, &s);
	ls.fd = s;
	ASSERT_EQ(0, start_thread(&ls.thread, late_send_fn, &ls));
	EXPECT_EQ(300, recv(c, buf, 300, MSG_WAITALL));
	pthread_join(ls.thread, NULL);
	/* Without it, what has come so far. */
	ls.parts = 2;
	ASSERT_EQ(0, start_thread(&ls.thread, late_send_fn, &ls));
	EXPECT_EQ(100, recv(c, buf, 200, 0));
	pthread_join(ls.thread, NULL);
	EXPECT_EQ(100, recv(c, buf, 200, 0));
	/* EOF ends a MSG_WAITALL short. */
	ls.parts = 1;
	ls.shut_wr = true;
	ASSERT_EQ(0, start_thread(&ls.thread, late_send_fn, &ls));
	EXPECT_EQ(100, recv(c, buf, 400, MSG_WAITALL));
	pthread_join(ls.thread, NULL);
	close(c);
	close(s);
}

TEST_F(api, msg_dontwait)
{
	static char buf[65536];
	int64_t t;
	int c, s;

	PAIR(&c, &s);
	t = now_ms();
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_GT(200, now_ms() - t);
	/* The socket itself stays blocking. */
	EXPECT_EQ(0, fcntl(c, F_GETFL) & O_NONBLOCK);
	ASSERT_EQ(3, send(s, "abc", 3, 0));
	ASSERT_EQ(POLLIN, poll1(c, POLLIN, 1000));
	EXPECT_EQ(3, recv(c, buf, sizeof(buf), MSG_DONTWAIT));
	/* A full send buffer: EAGAIN, not a wait. */
	fill(c);
	ASSERT_EQ(0, set_nonblock(c, false));
	t = now_ms();
	EXPECT_EQ(-1, send(c, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_GT(200, now_ms() - t);
	close(c);
	close(s);
}

/* SO_RCVBUF/SO_SNDBUF: Linux doubles the value (room for overhead). */
TEST_F(api, buffer_sizes)
{
	int fd = tsock();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, set_int_opt(fd, SOL_SOCKET, SO_RCVBUF, 8192));
	ASSERT_EQ(0, set_int_opt(fd, SOL_SOCKET, SO_SNDBUF, 8192));
	EXPECT_EQ(16384, get_int_opt(fd, SOL_SOCKET, SO_RCVBUF));
	EXPECT_EQ(16384, get_int_opt(fd, SOL_SOCKET, SO_SNDBUF));
	close(fd);
}

/* ---------------------------------------------------------------------- */
/* shutdown */

TEST_F(api, shutdown_unconnected)
{
	int fd = tsock();

	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, shutdown(fd, SHUT_RDWR));
	EXPECT_EQ(ENOTCONN, errno);
	EXPECT_EQ(-1, shutdown(fd, 42));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

TEST_F(api, shutdown_wr_then_send_is_epipe)
{
	char buf[4];
	int c, s;

	PAIR(&c, &s);
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	EXPECT_EQ(-1, send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	/* Reading still works. */
	ASSERT_EQ(2, send(s, "ok", 2, 0));
	EXPECT_EQ(2, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(0, recv(s, buf, sizeof(buf), 0));
	close(c);
	close(s);
}

TEST_F(api, shutdown_rd)
{
	char buf[4];
	int c, s;

	PAIR(&c, &s);
	ASSERT_EQ(0, shutdown(c, SHUT_RD));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(c)) TH_LOG("SHUT_RD sends nothing");
	EXPECT_EQ(0, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(POLLIN | POLLOUT | POLLRDHUP,
		  poll1(c, POLLIN | POLLOUT | POLLRDHUP, 0));
	/* Writing still works. */
	EXPECT_EQ(2, send(c, "ok", 2, 0));
	EXPECT_EQ(2, recv(s, buf, sizeof(buf), 0));
	close(c);
	close(s);
}

/* ---------------------------------------------------------------------- */
/* RST */

static volatile sig_atomic_t sigpipes;

static void on_sigpipe(int sig)
{
	sigpipes++;
}

/* The peer aborts: ECONNRESET once, then EPIPE (and SIGPIPE) on writes. */
TEST_F(api, econnreset_then_epipe)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	char buf[4];
	int c, s;

	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	PAIR(&c, &s);
	ASSERT_EQ(0, set_linger0(s));
	close(s);
	ASSERT_TRUE(wait_state(c, TCP_CLOSE, 2000));
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	/* Reported once: then EOF. */
	EXPECT_EQ(0, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(-1, send(c, "x", 1, MSG_NOSIGNAL));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(0, sigpipes);
	EXPECT_EQ(-1, write(c, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, sigpipes);
	close(c);
}

/* Writing first: the write gets ECONNRESET (no SIGPIPE), the next EPIPE. */
TEST_F(api, econnreset_on_write)
{
	struct sigaction sa = { .sa_handler = on_sigpipe };
	int c, s;

	ASSERT_EQ(0, sigaction(SIGPIPE, &sa, NULL));
	PAIR(&c, &s);
	ASSERT_EQ(0, set_linger0(s));
	close(s);
	ASSERT_TRUE(wait_state(c, TCP_CLOSE, 2000));
	EXPECT_EQ(-1, write(c, "x", 1));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(0, sigpipes);
	EXPECT_EQ(-1, write(c, "x", 1));
	EXPECT_EQ(EPIPE, errno);
	EXPECT_EQ(1, sigpipes);
	EXPECT_EQ(0, so_error(c));
	close(c);
}

/* The default action of SIGPIPE kills the writer. */
TEST_F_SIGNAL(api, sigpipe_kills, SIGPIPE)
{
	int c, s;

	PAIR(&c, &s);
	ASSERT_EQ(0, shutdown(c, SHUT_WR));
	signal(SIGPIPE, SIG_DFL);
	write(c, "x", 1);
	TH_LOG("still alive after writing to a shut down socket");
}

/* close() with unread data aborts: the peer gets ECONNRESET. */
TEST_F(api, close_with_unread_data_resets)
{
	char buf[4];
	int c, s;

	PAIR(&c, &s);
	ASSERT_EQ(4, send(c, "data", 4, 0));
	ASSERT_EQ(POLLIN, poll1(s, POLLIN, 1000));
	close(s);
	EXPECT_TRUE(wait_state(c, TCP_CLOSE, 2000))
		TH_LOG("client: %s", state_name(tstate(c)));
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(ECONNRESET, errno);
	close(c);
}

/* ---------------------------------------------------------------------- */
/* Signals */

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	alarms++;
}

/* SIGALRM in ms milliseconds, with or without SA_RESTART. */
static void alarm_in(int ms, bool restart)
{
	struct sigaction sa = {
		.sa_handler = on_alarm,
		.sa_flags = restart ? SA_RESTART : 0,
	};
	struct itimerval it = {
		.it_value = { ms / 1000, (ms % 1000) * 1000 },
	};

	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

TEST_F(api, signal_interrupts_recv)
{
	char buf[8];
	int c, s;

	PAIR(&c, &s);
	alarm_in(200, false);
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, alarms);
	EXPECT_EQ(TCP_ESTABLISHED, tstate(c));
	/* Nothing lost: the connection goes on. */
	ASSERT_EQ(2, send(s, "ok", 2, 0));
	EXPECT_EQ(2, recv(c, buf, sizeof(buf), 0));
	close(c);
	close(s);
}

/* With SA_RESTART the recv() goes on after the handler and gets the data. */
TEST_F(api, signal_restarts_recv)
{
	struct late_send ls = { .parts = 1, .part_len = 10, .gap_ms = 600 };
	char buf[16];
	int c, s;

	PAIR(&c, &s);
	ls.fd = s;
	ASSERT_EQ(0, start_thread(&ls.thread, late_send_fn, &ls));
	alarm_in(200, true);
	EXPECT_EQ(10, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(1, alarms);
	pthread_join(ls.thread, NULL);
	close(c);
	close(s);
}

/* ... but not with SO_RCVTIMEO set: then it is EINTR (sock_intr_errno()). */
TEST_F(api, signal_with_rcvtimeo_is_eintr)
{
	char buf[8];
	int c, s;

	PAIR(&c, &s);
	ASSERT_EQ(0, set_timeo(c, SO_RCVTIMEO, 5000));
	alarm_in(200, true);
	EXPECT_EQ(-1, recv(c, buf, sizeof(buf), 0));
	EXPECT_EQ(EINTR, errno);
	close(c);
	close(s);
}

TEST_F(api, signal_interrupts_accept)
{
	alarm_in(200, false);
	EXPECT_EQ(-EINTR, taccept(self->l));
	EXPECT_EQ(1, alarms);
}

TEST_F(api, signal_interrupts_send)
{
	static char buf[65536];
	int c, s;

	PAIR(&c, &s);
	fill(c);
	ASSERT_EQ(0, set_nonblock(c, false));
	alarm_in(200, false);
	EXPECT_EQ(-1, send(c, buf, sizeof(buf), 0));
	EXPECT_EQ(EINTR, errno);
	close(c);
	close(s);
}

/* A blocking connect() towards a peer that does not answer, interrupted. */
TEST(signal_interrupts_connect)
{
	struct link *l;
	int a, b, fd;

	a = ns_new();
	ASSERT_LE(0, a);
	b = ns_new();
	ASSERT_LE(0, b);
	l = link_new(a, A_IP, b, B_IP, 10);
	ASSERT_NE(NULL, l);
	link_block(l, A_TO_B, true);
	fd = tsock();
	ASSERT_LE(0, fd);
	alarm_in(300, false);
	EXPECT_EQ(-EINTR, tconnect_fd(fd, B_IP, 7000));
	EXPECT_EQ(1, alarms);
	/*
	 * The attempt goes on in the background: connect() again would wait
	 * for it (blocking) or say EALREADY (nonblocking).
	 */
	EXPECT_EQ(TCP_SYN_SENT, tstate(fd));
	EXPECT_EQ(0, set_nonblock(fd, true));
	EXPECT_EQ(-EALREADY, tconnect_fd(fd, B_IP, 7000));
	close(fd);
	link_free(l);
}

TOYTCP_HARNESS_MAIN
