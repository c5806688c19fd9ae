// SPDX-License-Identifier: GPL-2.0
/*
 * Network namespaces are isolated: a socket in one never sees a segment,
 * a port or a /proc line of another, over loopback or over veth.
 *
 *	TOYTCP_PROTO=6 ./conn_netns	# the reference, Linux TCP: must pass
 *	./conn_netns			# toytcp
 *
 * vm-timeout: 120
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"

#define A_IP	"10.9.0.1"
#define B_IP	"10.9.0.2"
#define PORT	7000

FIXTURE(two_ns) {
	int a, b;
};

FIXTURE_SETUP(two_ns)
{
	self->a = ns_new();
	ASSERT_LE(0, self->a);
	self->b = ns_new();
	ASSERT_LE(0, self->b);
}

FIXTURE_TEARDOWN(two_ns)
{
}

#define IN_A()	ASSERT_EQ(0, ns_enter(self->a))
#define IN_B()	ASSERT_EQ(0, ns_enter(self->b))

/* The peer port of the one connection waiting on listener l, or -errno. */
static int accept_peer_port(int l)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int s = accept(l, (struct sockaddr *)&sin, &len);

	if (s < 0)
		return -errno;
	close(s);
	return ntohs(sin.sin_port);
}

/* A listener on 127.0.0.1 in a is not reachable from b's loopback. */
TEST_F(two_ns, loopback_isolated)
{
	int la, lb, c;

	IN_A();
	la = tlisten("127.0.0.1", PORT, 4);
	ASSERT_LE(0, la);
	IN_B();
	EXPECT_EQ(-ECONNREFUSED, tconnect("127.0.0.1", PORT));
	/* The same port is free in b. */
	lb = tlisten("127.0.0.1", PORT, 4);
	ASSERT_LE(0, lb);
	/* Each namespace's connection reaches its own listener. */
	c = tconnect("127.0.0.1", PORT);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, set_nonblock(la, true));
	EXPECT_EQ(-EAGAIN, taccept(la)) TH_LOG("a's listener got b's connection");
	EXPECT_EQ(local_port(c), accept_peer_port(lb));
	close(c);
	IN_A();
	c = tconnect("127.0.0.1", PORT);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, set_nonblock(lb, true));
	EXPECT_EQ(-EAGAIN, taccept(lb)) TH_LOG("b's listener got a's connection");
	EXPECT_EQ(0, set_nonblock(la, false));
	EXPECT_EQ(local_port(c), accept_peer_port(la));
	close(c);
	close(la);
	close(lb);
}

/*
 * Over veth, both namespaces listening on the same port on every address:
 * a connection to the other's address reaches the other's listener.
 */
TEST_F(two_ns, veth_isolated)
{
	char buf[8] = {};
	int la, lb, c, s;

	ASSERT_EQ(0, veth_pair(self->a, "va", A_IP, self->b, "vb", B_IP));
	IN_A();
	la = tlisten("0.0.0.0", PORT, 4);
	ASSERT_LE(0, la);
	IN_B();
	lb = tlisten("0.0.0.0", PORT, 4);
	ASSERT_LE(0, lb);
	/* b -> a. */
	c = tconnect(A_IP, PORT);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, set_nonblock(lb, true));
	EXPECT_EQ(-EAGAIN, taccept(lb));
	s = taccept(la);
	ASSERT_LE(0, s);
	ASSERT_EQ(2, send(c, "ab", 2, 0));
	EXPECT_EQ(2, recv_all(s, buf, 2));
	EXPECT_EQ(0, memcmp(buf, "ab", 2));
	close(s);
	close(c);
	/* a -> b. */
	IN_A();
	c = tconnect(B_IP, PORT);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, set_nonblock(la, true));
	EXPECT_EQ(-EAGAIN, taccept(la));
	EXPECT_EQ(0, set_nonblock(lb, false));
	EXPECT_EQ(local_port(c), accept_peer_port(lb));
	close(c);
	/* a's own address is not b's: nothing listens on b's loopback... */
	IN_B();
	close(lb);
	EXPECT_EQ(-ECONNREFUSED, tconnect(B_IP, PORT));
	/* ...and a's listener, bound to a's loopback only, is not reachable. */
	close(la);
	IN_A();
	la = tlisten("127.0.0.1", PORT, 4);
	ASSERT_LE(0, la);
	IN_B();
	EXPECT_EQ(-ECONNREFUSED, tconnect(A_IP, PORT));
	close(la);
}

/* /proc/net/{tcp,toytcp} lists the namespace's own sockets only. */
TEST_F(two_ns, proc_isolated)
{
	int la, c, s;

	IN_A();
	la = tlisten("127.0.0.1", PORT, 4);
	ASSERT_LE(0, la);
	ASSERT_EQ(0, tpair("127.0.0.1", &c, &s));
	EXPECT_EQ(TCP_LISTEN, proc_state(PORT, 0));
	EXPECT_EQ(TCP_ESTABLISHED, proc_state(local_port(c), local_port(s)));
	IN_B();
	EXPECT_EQ(-1, proc_state(PORT, 0));
	EXPECT_EQ(-1, proc_state(local_port(c), local_port(s)));
	close(c);
	close(s);
	close(la);
}

/* The same 4-tuple in two namespaces: two independent connections. */
TEST_F(two_ns, same_tuple_in_both)
{
	int c[2], s[2], ns[2] = { self->a, self->b }, i;
	char buf[2];

	/* The same 4-tuple in both namespaces, at the same time. */
	for (i = 0; i < 2; i++) {
		int l;

		ASSERT_EQ(0, ns_enter(ns[i]));
		l = tlisten("127.0.0.1", PORT, 4);
		ASSERT_LE(0, l);
		c[i] = tsock();
		ASSERT_LE(0, c[i]);
		ASSERT_EQ(0, tbind(c[i], "127.0.0.1", PORT + 1));
		ASSERT_EQ(0, tconnect_fd(c[i], "127.0.0.1", PORT));
		s[i] = taccept(l);
		ASSERT_LE(0, s[i]);
		close(l);
	}
	/* Each one's data stays in its namespace. */
	ASSERT_EQ(1, send(c[0], "a", 1, 0));
	ASSERT_EQ(1, send(c[1], "b", 1, 0));
	EXPECT_EQ(1, recv(s[0], buf, 1, 0));
	EXPECT_EQ('a', buf[0]);
	EXPECT_EQ(1, recv(s[1], buf, 1, 0));
	EXPECT_EQ('b', buf[0]);
	ASSERT_EQ(0, set_linger0(c[0]));
	close(c[0]);
	EXPECT_TRUE(wait_state(s[0], TCP_CLOSE, 2000));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(s[1])) TH_LOG("a's RST reached b");
	EXPECT_EQ(TCP_ESTABLISHED, tstate(c[1]));
	for (i = 0; i < 2; i++)
		close(s[i]);
	close(c[1]);
}

/*
 * toytcp and TCP are separate protocols: a toytcp listener does not answer
 * TCP and the same port is free for TCP.
 */
TEST_F(two_ns, toytcp_and_tcp_independent)
{
	int l, t, c, s;

	if (testing_tcp())
		SKIP(return, "the protocol under test is TCP itself");
	IN_A();
	l = tlisten("127.0.0.1", PORT, 4);
	ASSERT_LE(0, l);
	c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_LE(0, c);
	EXPECT_EQ(-ECONNREFUSED, tconnect_fd(c, "127.0.0.1", PORT));
	close(c);
	t = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_LE(0, t);
	ASSERT_EQ(0, tbind(t, "127.0.0.1", PORT));
	ASSERT_EQ(0, listen(t, 4));
	c = tconnect("127.0.0.1", PORT);
	ASSERT_LE(0, c);
	EXPECT_EQ(0, set_nonblock(t, true));
	EXPECT_EQ(-EAGAIN, taccept(t));
	s = taccept(l);
	EXPECT_LE(0, s);
	close(s);
	close(c);
	close(t);
	close(l);
}

TOYTCP_HARNESS_MAIN
