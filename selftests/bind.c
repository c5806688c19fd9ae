// SPDX-License-Identifier: GPL-2.0
/*
 * bind() semantics of toytcp, test for test those of Linux TCP.
 *
 * The protocol under test is $TOYTCP_PROTO, default IPPROTO_TOYTCP.  Every
 * test here except toytcp_and_tcp_independent passes with TOYTCP_PROTO=6,
 * i.e. against the kernel's own TCP: that is what proves the expected errno
 * values are Linux's and not our guess.
 *
 *	TOYTCP_PROTO=6 ./bind		# the reference: must pass
 *	./bind				# toytcp
 *
 * Each test runs in a child of its own (kselftest_harness.h forks), so
 * sockets are closed, and setuid()/unshare() undone, when the test ends.
 *
 * vm-timeout: 120
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"

#if __has_include("toytcp.h")
#include "toytcp.h"
#endif
#ifndef IPPROTO_TOYTCP
#define IPPROTO_TOYTCP 253
#endif

/* An address nobody configures (TEST-NET-1, RFC 5737). */
#define NONLOCAL_ADDR	"192.0.2.1"
/* Where tests look for a free port: below the default ephemeral range. */
#define PORT_BASE	20000
#define PORT_SPAN	10000
#define UID_NOBODY	65534

static int test_proto(void)
{
	const char *env = getenv("TOYTCP_PROTO");

	return env && *env ? atoi(env) : IPPROTO_TOYTCP;
}

static struct sockaddr_in sin_of(const char *ip, int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};

	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		abort();	/* a typo in the test itself */
	return sin;
}

/* bind() returning 0 or the errno, so that tests compare errno values. */
static int bind_err(int fd, const char *ip, int port)
{
	struct sockaddr_in sin = sin_of(ip, port);

	return bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ? errno : 0;
}

static int listen_err(int fd)
{
	return listen(fd, 8) ? errno : 0;
}

static int bound_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return -errno;
	return ntohs(sin.sin_port);
}

static int set_reuseaddr(int fd)
{
	int one = 1;

	return setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
}

/* Read one or two integers from a /proc/sys file; returns how many. */
static int read_sysctl(const char *path, int *a, int *b)
{
	FILE *f = fopen(path, "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "%d %d", a, b);
	fclose(f);
	return n;
}

static int write_sysctl(const char *path, const char *val)
{
	FILE *f = fopen(path, "w");
	int ret;

	if (!f)
		return -1;
	ret = fputs(val, f) < 0 ? -1 : 0;
	if (fclose(f))
		ret = -1;
	return ret;
}

/*
 * Move this test's process into a fresh network namespace: sockets created
 * from now on live there; those created before stay where they were.
 * Returns 0 or the errno (EPERM without CAP_SYS_ADMIN).
 */
static int new_netns(void)
{
	return unshare(CLONE_NEWNET) ? errno : 0;
}

/* Drop CAP_NET_BIND_SERVICE from every set while staying uid 0. */
static int drop_net_bind_service(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];
	const unsigned int bit = 1U << (CAP_NET_BIND_SERVICE % 32);
	const int i = CAP_NET_BIND_SERVICE / 32;

	if (syscall(SYS_capget, &hdr, data))
		return errno;
	data[i].effective &= ~bit;
	data[i].permitted &= ~bit;
	data[i].inheritable &= ~bit;
	return syscall(SYS_capset, &hdr, data) ? errno : 0;
}

FIXTURE(bind) {
	int proto;
	int lo, hi;	/* ip_local_port_range of the test's netns */
};

FIXTURE_SETUP(bind)
{
	int fd;

	self->proto = test_proto();
	fd = socket(AF_INET, SOCK_STREAM, self->proto);
	if (fd < 0)
		TH_LOG("socket(AF_INET, SOCK_STREAM, %d): %s: is toytcp.ko loaded or installed?",
		       self->proto, strerror(errno));
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(2, read_sysctl("/proc/sys/net/ipv4/ip_local_port_range",
				 &self->lo, &self->hi));
}

FIXTURE_TEARDOWN(bind)
{
	/* Nothing: the test's process exits and closes its sockets. */
}

static int sock(FIXTURE_DATA(bind) *self)
{
	return socket(AF_INET, SOCK_STREAM, self->proto);
}

/*
 * Bind a new socket to some free port of @ip, trying ports from a random
 * start in [PORT_BASE, PORT_BASE + PORT_SPAN).  On a host other things hold
 * ports; in the VM the first try succeeds.  Returns the fd, port in *port.
 */
static int sock_bound_free(FIXTURE_DATA(bind) *self, const char *ip,
			   int *port)
{
	int fd, i, start = getpid() % PORT_SPAN;

	fd = sock(self);
	if (fd < 0)
		return -1;
	for (i = 0; i < 200; i++) {
		*port = PORT_BASE + (start + i * 7) % PORT_SPAN;
		if (!bind_err(fd, ip, *port))
			return fd;
	}
	close(fd);
	return -1;
}

TEST_F(bind, same_port_twice_eaddrinuse)
{
	int a, b, port;

	a = sock_bound_free(self, "0.0.0.0", &port);
	ASSERT_LE(0, a);
	b = sock(self);
	ASSERT_LE(0, b);
	EXPECT_EQ(EADDRINUSE, bind_err(b, "0.0.0.0", port));
	/* The failed bind left b unbound: another port still works. */
	EXPECT_EQ(0, bind_err(b, "0.0.0.0", 0));
}

TEST_F(bind, loopback_and_wildcard_conflict)
{
	int a, b, port;

	/* Specific address first, then the wildcard... */
	a = sock_bound_free(self, "127.0.0.1", &port);
	ASSERT_LE(0, a);
	b = sock(self);
	ASSERT_LE(0, b);
	EXPECT_EQ(EADDRINUSE, bind_err(b, "0.0.0.0", port));
	close(a);
	close(b);

	/* ...and the wildcard first, then the specific address. */
	a = sock_bound_free(self, "0.0.0.0", &port);
	ASSERT_LE(0, a);
	b = sock(self);
	ASSERT_LE(0, b);
	EXPECT_EQ(EADDRINUSE, bind_err(b, "127.0.0.1", port));
}

TEST_F(bind, distinct_addresses_share_port)
{
	int a, b, c, port;

	/* All of 127/8 is local; distinct specific addresses do not clash. */
	a = sock_bound_free(self, "127.0.0.1", &port);
	ASSERT_LE(0, a);
	b = sock(self);
	ASSERT_LE(0, b);
	EXPECT_EQ(0, bind_err(b, "127.0.0.2", port));
	/* But the wildcard clashes with both. */
	c = sock(self);
	ASSERT_LE(0, c);
	EXPECT_EQ(EADDRINUSE, bind_err(c, "0.0.0.0", port));
}

TEST_F(bind, reuseaddr_both_not_listening)
{
	int a, b, port;

	/* Find a free port, then bind it twice with SO_REUSEADDR. */
	a = sock_bound_free(self, "0.0.0.0", &port);
	ASSERT_LE(0, a);
	close(a);
	a = sock(self);
	b = sock(self);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, set_reuseaddr(a));
	ASSERT_EQ(0, set_reuseaddr(b));
	ASSERT_EQ(0, bind_err(a, "0.0.0.0", port));
	/* Linux TCP: both set SO_REUSEADDR, neither listens: no conflict. */
	EXPECT_EQ(0, bind_err(b, "0.0.0.0", port));
	EXPECT_EQ(port, bound_port(b));
}

TEST_F(bind, reuseaddr_on_one_side_only)
{
	int a, b, port;

	/* Only the first has SO_REUSEADDR. */
	a = sock_bound_free(self, "0.0.0.0", &port);
	ASSERT_LE(0, a);
	close(a);
	a = sock(self);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, set_reuseaddr(a));
	ASSERT_EQ(0, bind_err(a, "0.0.0.0", port));
	b = sock(self);
	ASSERT_LE(0, b);
	EXPECT_EQ(EADDRINUSE, bind_err(b, "0.0.0.0", port));
	close(a);
	close(b);

	/* Only the second has it. */
	a = sock_bound_free(self, "0.0.0.0", &port);
	ASSERT_LE(0, a);
	b = sock(self);
	ASSERT_LE(0, b);
	ASSERT_EQ(0, set_reuseaddr(b));
	EXPECT_EQ(EADDRINUSE, bind_err(b, "0.0.0.0", port));
}

TEST_F(bind, reuseaddr_with_listener)
{
	int a, b, c, port, err;

	a = sock_bound_free(self, "0.0.0.0", &port);
	ASSERT_LE(0, a);
	close(a);

	a = sock(self);
	b = sock(self);
	c = sock(self);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	ASSERT_LE(0, c);
	ASSERT_EQ(0, set_reuseaddr(a));
	ASSERT_EQ(0, set_reuseaddr(b));
	ASSERT_EQ(0, set_reuseaddr(c));
	ASSERT_EQ(0, bind_err(a, "0.0.0.0", port));
	ASSERT_EQ(0, bind_err(b, "0.0.0.0", port));

	err = listen_err(a);
	if (err == EOPNOTSUPP)
		SKIP(return, "listen() not implemented by protocol %d",
		     self->proto);
	ASSERT_EQ(0, err);
	/* b got the port while a was not listening; now it cannot listen. */
	EXPECT_EQ(EADDRINUSE, listen_err(b));
	/* And SO_REUSEADDR does not let anyone bind next to a listener. */
	EXPECT_EQ(EADDRINUSE, bind_err(c, "0.0.0.0", port));
}

TEST_F(bind, double_bind_einval)
{
	int fd, port;

	fd = sock_bound_free(self, "127.0.0.1", &port);
	ASSERT_LE(0, fd);
	/* A bound socket cannot be rebound: EINVAL, to any port... */
	EXPECT_EQ(EINVAL, bind_err(fd, "127.0.0.1", 0));
	/* ...even its own: the state check comes before the port check. */
	EXPECT_EQ(EINVAL, bind_err(fd, "127.0.0.1", port));
	EXPECT_EQ(port, bound_port(fd));
}

TEST_F(bind, bad_family_eafnosupport)
{
	struct sockaddr_in sin = sin_of("127.0.0.1", 0);
	int fd;

	fd = sock(self);
	ASSERT_LE(0, fd);
	sin.sin_family = AF_INET6;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	sin.sin_family = AF_UNIX;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	/* AF_UNSPEC is refused unless the address is INADDR_ANY... */
	sin.sin_family = AF_UNSPEC;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(EAFNOSUPPORT, errno);
	/* ...which Linux accepts as AF_INET, for old programs' sake. */
	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	EXPECT_EQ(0, bind(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_LT(0, bound_port(fd));
}

TEST_F(bind, short_addrlen_einval)
{
	struct sockaddr_in sin = sin_of("127.0.0.1", 0);
	int fd;

	fd = sock(self);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin) - 1));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, 0));
	EXPECT_EQ(EINVAL, errno);
	/* The length is checked before the family. */
	sin.sin_family = AF_INET6;
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&sin, sizeof(sin) - 1));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing was bound by the failed calls. */
	EXPECT_EQ(0, bound_port(fd));
}

TEST_F(bind, nonlocal_address_eaddrnotavail)
{
	int nonlocal = 0, one = 1, fd;

	read_sysctl("/proc/sys/net/ipv4/ip_nonlocal_bind", &nonlocal, &nonlocal);
	if (nonlocal)
		SKIP(return, "net.ipv4.ip_nonlocal_bind is set");
	fd = sock(self);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EADDRNOTAVAIL, bind_err(fd, NONLOCAL_ADDR, 0));
	EXPECT_EQ(0, bound_port(fd));
	/* IP_FREEBIND lifts the rule, as for TCP. */
	ASSERT_EQ(0, setsockopt(fd, SOL_IP, IP_FREEBIND, &one, sizeof(one)));
	EXPECT_EQ(0, bind_err(fd, NONLOCAL_ADDR, 0));
}

TEST_F(bind, ephemeral_port_in_range_and_distinct)
{
	enum { N = 32 };
	int fd[N], port[N], i, j;

	for (i = 0; i < N; i++) {
		fd[i] = sock(self);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, bind_err(fd[i], "0.0.0.0", 0));
		port[i] = bound_port(fd[i]);
		EXPECT_LE(self->lo, port[i]);
		EXPECT_GE(self->hi, port[i]);
		for (j = 0; j < i; j++)
			EXPECT_NE(port[j], port[i]);
	}
	/* A port bind(0) handed out is taken like any other. */
	i = sock(self);
	ASSERT_LE(0, i);
	EXPECT_EQ(EADDRINUSE, bind_err(i, "0.0.0.0", port[0]));
}

/*
 * In a netns of its own with a four-port ephemeral range, one of them
 * reserved: bind(0) hands out exactly the other three, then EADDRINUSE.
 * Both sysctls are per netns, so this touches nothing outside the test.
 */
TEST_F(bind, ephemeral_range_exhausted_and_reserved)
{
	int fd[4], seen[4] = { 0 }, i, err, lo, hi, p;

	err = new_netns();
	if (err == EPERM)
		SKIP(return, "unshare(CLONE_NEWNET) not permitted");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, write_sysctl("/proc/sys/net/ipv4/ip_local_port_range",
				  "40000 40003"));
	ASSERT_EQ(0, write_sysctl("/proc/sys/net/ipv4/ip_local_reserved_ports",
				  "40001"));
	ASSERT_EQ(2, read_sysctl("/proc/sys/net/ipv4/ip_local_port_range",
				 &lo, &hi));
	ASSERT_EQ(40000, lo);
	ASSERT_EQ(40003, hi);

	for (i = 0; i < 3; i++) {
		fd[i] = sock(self);
		ASSERT_LE(0, fd[i]);
		ASSERT_EQ(0, bind_err(fd[i], "0.0.0.0", 0));
		p = bound_port(fd[i]);
		ASSERT_LE(40000, p);
		ASSERT_GE(40003, p);
		EXPECT_NE(40001, p);
		EXPECT_EQ(0, seen[p - 40000]);
		seen[p - 40000] = 1;
	}
	fd[3] = sock(self);
	ASSERT_LE(0, fd[3]);
	EXPECT_EQ(EADDRINUSE, bind_err(fd[3], "0.0.0.0", 0));
	/* A reserved port is only kept from bind(0): asking for it works. */
	EXPECT_EQ(0, bind_err(fd[3], "0.0.0.0", 40001));
}

TEST_F(bind, privileged_port_root_ok)
{
	int start, fd, port = 0, i;

	ASSERT_EQ(1, read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start",
				 &start, &start));
	if (geteuid() != 0)
		SKIP(return, "needs root");
	if (start <= 1)
		SKIP(return, "ip_unprivileged_port_start=%d: no privileged ports",
		     start);
	fd = sock(self);
	ASSERT_LE(0, fd);
	/* Some privileged port nobody holds; on a host a few are taken. */
	for (i = 1; i < 100 && i < start; i++) {
		port = start - i;
		if (!bind_err(fd, "0.0.0.0", port))
			break;
	}
	EXPECT_EQ(port, bound_port(fd));
}

TEST_F(bind, privileged_port_as_nobody_eacces)
{
	int start, fd;

	ASSERT_EQ(1, read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start",
				 &start, &start));
	if (start <= 1)
		SKIP(return, "ip_unprivileged_port_start=%d: no privileged ports",
		     start);
	if (geteuid() == 0)
		ASSERT_EQ(0, setuid(UID_NOBODY));	/* drops every capability */
	fd = sock(self);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EACCES, bind_err(fd, "0.0.0.0", start - 1));
	EXPECT_EQ(EACCES, bind_err(fd, "127.0.0.1", 1));
	/* The check concerns the port asked for, not the ephemeral one. */
	EXPECT_EQ(0, bind_err(fd, "0.0.0.0", 0));
}

TEST_F(bind, privileged_port_without_cap_eacces)
{
	int start, fd, err;

	ASSERT_EQ(1, read_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start",
				 &start, &start));
	if (start <= 1)
		SKIP(return, "ip_unprivileged_port_start=%d: no privileged ports",
		     start);
	/* Still uid 0, but without CAP_NET_BIND_SERVICE. */
	err = drop_net_bind_service();
	ASSERT_EQ(0, err);
	fd = sock(self);
	ASSERT_LE(0, fd);
	EXPECT_EQ(EACCES, bind_err(fd, "0.0.0.0", start - 1));
}

/*
 * net.ipv4.ip_unprivileged_port_start is per netns: set to 500 in a netns of
 * our own, nobody may bind 600 but not 499.
 */
TEST_F(bind, unprivileged_port_start_per_netns)
{
	int a, b, err;

	if (geteuid() != 0)
		SKIP(return, "needs root");
	err = new_netns();
	if (err == EPERM)
		SKIP(return, "unshare(CLONE_NEWNET) not permitted");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, write_sysctl("/proc/sys/net/ipv4/ip_unprivileged_port_start",
				  "500"));
	ASSERT_EQ(0, setuid(UID_NOBODY));
	a = sock(self);
	b = sock(self);
	ASSERT_LE(0, a);
	ASSERT_LE(0, b);
	EXPECT_EQ(0, bind_err(a, "0.0.0.0", 600));
	EXPECT_EQ(EACCES, bind_err(b, "0.0.0.0", 499));
}

TEST_F(bind, toytcp_and_tcp_independent)
{
	int t, k, port;

	if (self->proto == IPPROTO_TCP)
		SKIP(return, "toytcp only: compares the protocol under test with TCP");
	/* toytcp first, then TCP on the same port... */
	t = sock_bound_free(self, "0.0.0.0", &port);
	ASSERT_LE(0, t);
	k = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
	ASSERT_LE(0, k);
	/* On a host the port could be TCP's already; not in the VM. */
	EXPECT_EQ(0, bind_err(k, "0.0.0.0", port));
	/* A TCP listener does not block toytcp either. */
	EXPECT_EQ(0, listen_err(k));
	close(t);
	t = sock(self);
	ASSERT_LE(0, t);
	EXPECT_EQ(0, bind_err(t, "0.0.0.0", port));
	/* And conflicts within toytcp still happen next to TCP. */
	close(k);
	k = sock(self);
	ASSERT_LE(0, k);
	EXPECT_EQ(EADDRINUSE, bind_err(k, "0.0.0.0", port));
}

TEST_F(bind, port_free_again_after_close)
{
	int a, b, port, err;

	a = sock_bound_free(self, "127.0.0.1", &port);
	ASSERT_LE(0, a);
	close(a);
	b = sock(self);
	ASSERT_LE(0, b);
	EXPECT_EQ(0, bind_err(b, "127.0.0.1", port));
	close(b);

	/* A listener that never had a connection leaves no TIME-WAIT. */
	a = sock(self);
	ASSERT_LE(0, a);
	ASSERT_EQ(0, bind_err(a, "127.0.0.1", port));
	err = listen_err(a);
	if (err == EOPNOTSUPP)
		SKIP(return, "listen() not implemented by protocol %d",
		     self->proto);
	ASSERT_EQ(0, err);
	close(a);
	b = sock(self);
	ASSERT_LE(0, b);
	EXPECT_EQ(0, bind_err(b, "127.0.0.1", port));
}

TEST_F(bind, getsockname_before_and_after)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);
	int fd, port;

	fd = sock(self);
	ASSERT_LE(0, fd);
	/* Unbound: AF_INET 0.0.0.0:0. */
	memset(&sin, 0xff, sizeof(sin));
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(sizeof(sin), len);
	EXPECT_EQ(AF_INET, sin.sin_family);
	EXPECT_EQ(htonl(INADDR_ANY), sin.sin_addr.s_addr);
	EXPECT_EQ(0, sin.sin_port);
	/* Not connected. */
	EXPECT_EQ(-1, getpeername(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(ENOTCONN, errno);
	close(fd);

	fd = sock_bound_free(self, "127.0.0.1", &port);
	ASSERT_LE(0, fd);
	len = sizeof(sin);
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(sizeof(sin), len);
	EXPECT_EQ(AF_INET, sin.sin_family);
	EXPECT_EQ(htonl(INADDR_LOOPBACK), sin.sin_addr.s_addr);
	EXPECT_EQ(htons(port), sin.sin_port);
	close(fd);

	/* Wildcard with port 0: the wildcard and the port chosen. */
	fd = sock(self);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind_err(fd, "0.0.0.0", 0));
	len = sizeof(sin);
	ASSERT_EQ(0, getsockname(fd, (struct sockaddr *)&sin, &len));
	EXPECT_EQ(htonl(INADDR_ANY), sin.sin_addr.s_addr);
	EXPECT_LE(self->lo, ntohs(sin.sin_port));
	EXPECT_GE(self->hi, ntohs(sin.sin_port));
}

TEST_F(bind, netns_same_port_independent)
{
	int a, b, c, port, err;

	/* Bound in the test's original netns... */
	a = sock_bound_free(self, "0.0.0.0", &port);
	ASSERT_LE(0, a);
	err = new_netns();
	if (err == EPERM)
		SKIP(return, "unshare(CLONE_NEWNET) not permitted");
	ASSERT_EQ(0, err);
	/* ...the same port is free in a new one (lo is down: use 0.0.0.0). */
	b = sock(self);
	ASSERT_LE(0, b);
	EXPECT_EQ(0, bind_err(b, "0.0.0.0", port));
	/* Conflicts still apply within the new netns. */
	c = sock(self);
	ASSERT_LE(0, c);
	EXPECT_EQ(EADDRINUSE, bind_err(c, "0.0.0.0", port));
	/* And the first socket still holds its port in the old one. */
	EXPECT_EQ(port, bound_port(a));
}

TEST_HARNESS_MAIN
