/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toytcp_test.h - helpers shared by the connection and stream selftests
 * (selftests/conn_*.c, selftests/stream_*.c).
 *
 * The protocol under test is $TOYTCP_PROTO, default IPPROTO_TOYTCP; every
 * test is meant to pass with TOYTCP_PROTO=6 too, against the kernel's own
 * TCP, which is the reference for every behaviour (a test that passes there
 * encodes what Linux does, not what we guessed).
 *
 * What is here:
 *  - sockets of the protocol under test: tsock(), tlisten(), tconnect(),
 *    tpair(), local_port();
 *  - the state query: tstate() (TCP_INFO's tcpi_state), wait_state(),
 *    trace_states() (the sequence of states a socket goes through),
 *    proc_state() (the "st" column of /proc/net/tcp or /proc/net/toytcp,
 *    which still shows a connection after close(): TIME-WAIT, LAST-ACK);
 *  - network namespaces: ns_new() (every test starts in a fresh one, so
 *    that nothing it leaves behind can disturb another), veth_pair();
 *  - an emulated link between two namespaces: struct link, a pair of tun
 *    devices and a thread that carries the packets from one to the other
 *    with a delay, drops what a test asks it to drop and logs every
 *    segment.  It does the job of netem and tc filters, with exact
 *    control (drop *this* ACK), the same on the host's kernel (which has no
 *    netem) as in the VM, and for IP protocol 6 and 253 alike;
 *  - a byte stream with a hash: stream_fill(), fnv1a(), send_all(),
 *    recv_all(), and threads that send or receive N bytes.
 *
 * Functions here never use the harness's ASSERT_* (threads call some of
 * them); they return -errno or false, and the tests assert.
 */
#ifndef TOYTCP_TEST_H
#define TOYTCP_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* before any system header: setns(), POLLRDHUP... */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if __has_include("toytcp.h")
#include "toytcp.h"
#endif
#ifndef IPPROTO_TOYTCP
#define IPPROTO_TOYTCP 253
#endif
#ifndef SOL_TCP
#define SOL_TCP 6
#endif

#define IP_CMD "/usr/sbin/ip"

/* ---------------------------------------------------------------------- */
/* The protocol under test */

static inline int test_proto(void)
{
	const char *env = getenv("TOYTCP_PROTO");

	return env && *env ? atoi(env) : IPPROTO_TOYTCP;
}

static inline bool testing_tcp(void)
{
	return test_proto() == IPPROTO_TCP;
}

static inline const char *proto_name(void)
{
	return testing_tcp() ? "tcp" : "toytcp";
}

/*
 * The state a socket's fd reports once its connection entered TIME-WAIT.
 * Linux TCP hands the connection to a timewait minisock and the full socket
 * the fd refers to becomes CLOSED; toytcp keeps the full socket, in
 * TIME-WAIT.  /proc/net/{tcp,toytcp} shows TIME-WAIT (06) for both.
 */
static inline int fd_time_wait_state(void)
{
	return testing_tcp() ? TCP_CLOSE : TCP_TIME_WAIT;
}

/* ---------------------------------------------------------------------- */
/* Time */

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static inline int64_t now_ms(void)
{
	return now_ns() / 1000000;
}

static inline void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---------------------------------------------------------------------- */
/* Sockets of the protocol under test */

static inline struct sockaddr_in sin_of(const char *ip, int port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
	};

	if (inet_pton(AF_INET, ip, &sin.sin_addr) != 1)
		abort();	/* a typo in the test itself */
	return sin;
}

static inline int tsock(void)
{
	return socket(AF_INET, SOCK_STREAM, test_proto());
}

static inline int tsock_nb(void)
{
	return socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, test_proto());
}

static inline int local_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		return -errno;
	return ntohs(sin.sin_port);
}

static inline int tbind(int fd, const char *ip, int port)
{
	struct sockaddr_in sin = sin_of(ip, port);

	return bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ? -errno : 0;
}

/* A listener on ip:port (0: any port); the fd, or -errno. */
static inline int tlisten(const char *ip, int port, int backlog)
{
	int fd = tsock(), err;

	if (fd < 0)
		return -errno;
	err = tbind(fd, ip, port);
	if (!err && listen(fd, backlog))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* connect() returning 0 or -errno. */
static inline int tconnect_fd(int fd, const char *ip, int port)
{
	struct sockaddr_in sin = sin_of(ip, port);

	return connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ? -errno : 0;
}

/* A new socket connected to ip:port (blocking); the fd, or -errno. */
static inline int tconnect(const char *ip, int port)
{
	int fd = tsock(), err;

	if (fd < 0)
		return -errno;
	err = tconnect_fd(fd, ip, port);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

static inline int taccept(int lfd)
{
	int fd = accept(lfd, NULL, NULL);

	return fd < 0 ? -errno : fd;
}

/*
 * A connected pair: *cli connected from the current namespace to a listener
 * on ip (created in namespace srv_ns, or the current one if srv_ns < 0),
 * *srv the accepted socket.  0 or -errno.
 */
static inline int ns_enter(int nsfd);
static inline int tpair_ns(int srv_ns, int cli_ns, const char *ip,
			   int *cli, int *srv)
{
	int lfd, port, err = 0;

	*cli = *srv = -1;
	if (srv_ns >= 0 && ns_enter(srv_ns))
		return -errno;
	lfd = tlisten(ip, 0, 1);
	if (lfd < 0)
		return lfd;
	port = local_port(lfd);
	if (cli_ns >= 0 && ns_enter(cli_ns)) {
		err = -errno;
		goto out;
	}
	*cli = tconnect(ip, port);
	if (*cli < 0) {
		err = *cli;
		goto out;
	}
	*srv = taccept(lfd);
	if (*srv < 0) {
		err = *srv;
		close(*cli);
		*cli = -1;
	}
out:
	close(lfd);
	return err;
}

static inline int tpair(const char *ip, int *cli, int *srv)
{
	return tpair_ns(-1, -1, ip, cli, srv);
}

static inline int set_int_opt(int fd, int level, int opt, int val)
{
	return setsockopt(fd, level, opt, &val, sizeof(val)) ? -errno : 0;
}

static inline int get_int_opt(int fd, int level, int opt)
{
	int val = 0;
	socklen_t len = sizeof(val);

	if (getsockopt(fd, level, opt, &val, &len))
		return -errno;
	return val;
}

static inline int so_error(int fd)
{
	return get_int_opt(fd, SOL_SOCKET, SO_ERROR);
}

static inline int set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) ? -errno : 0;
}

/* SO_LINGER {1, 0}: close() aborts the connection with a RST. */
static inline int set_linger0(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	return setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)) ?
		-errno : 0;
}

static inline int set_timeo(int fd, int opt, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv)) ? -errno : 0;
}

/* poll() one fd; the revents, 0 on timeout, -errno on error. */
static inline int poll1(int fd, short events, int ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int n = poll(&pfd, 1, ms);

	if (n < 0)
		return -errno;
	return n ? pfd.revents : 0;
}

/* ---------------------------------------------------------------------- */
/* The state query */

static const char * const tcp_state_names[] = {
	[0]			= "0?",
	[TCP_ESTABLISHED]	= "ESTABLISHED",
	[TCP_SYN_SENT]		= "SYN-SENT",
	[TCP_SYN_RECV]		= "SYN-RECEIVED",
	[TCP_FIN_WAIT1]		= "FIN-WAIT-1",
	[TCP_FIN_WAIT2]		= "FIN-WAIT-2",
	[TCP_TIME_WAIT]		= "TIME-WAIT",
	[TCP_CLOSE]		= "CLOSED",
	[TCP_CLOSE_WAIT]	= "CLOSE-WAIT",
	[TCP_LAST_ACK]		= "LAST-ACK",
	[TCP_LISTEN]		= "LISTEN",
	[TCP_CLOSING]		= "CLOSING",
};

static inline const char *state_name(int st)
{
	if (st == -1)
		return "(none)";
	if (st < -1)
		return strerror(-st);
	if (st < 0 || st > TCP_CLOSING)
		return "(invalid)";
	return tcp_state_names[st];
}

static inline int tinfo(int fd, struct tcp_info *ti)
{
	socklen_t len = sizeof(*ti);

	memset(ti, 0, sizeof(*ti));
	return getsockopt(fd, SOL_TCP, TCP_INFO, ti, &len) ? -errno : 0;
}

/* The socket's state (tcpi_state), or -errno. */
static inline int tstate(int fd)
{
	struct tcp_info ti;
	int err = tinfo(fd, &ti);

	return err ? err : ti.tcpi_state;
}

static inline unsigned int total_retrans(int fd)
{
	struct tcp_info ti;

	return tinfo(fd, &ti) ? 0 : ti.tcpi_total_retrans;
}

/* Wait up to ms for fd to be in state st; true if it got there. */
static inline bool wait_state(int fd, int st, int ms)
{
	int64_t end = now_ms() + ms;

	do {
		if (tstate(fd) == st)
			return true;
		usleep(1000);
	} while (now_ms() < end);
	return tstate(fd) == st;
}

/* The distinct states a socket went through, in order. */
struct trace {
	int n;
	int st[32];
	char str[512];
};

static inline const char *trace_str(struct trace *t)
{
	size_t off = 0;
	int i;

	t->str[0] = 0;
	for (i = 0; i < t->n && off < sizeof(t->str); i++)
		off += snprintf(t->str + off, sizeof(t->str) - off, "%s%s",
				i ? " > " : "", state_name(t->st[i]));
	return t->str;
}

static inline void trace_add(struct trace *t, int st)
{
	if (t->n && t->st[t->n - 1] == st)
		return;
	if (t->n < (int)(sizeof(t->st) / sizeof(t->st[0])))
		t->st[t->n++] = st;
}

/*
 * Sample fd's state every 0.5 ms until it reaches state `until` (which ends
 * the trace) or ms milliseconds pass; append what it went through to *t.
 * True if `until` was reached.
 */
static inline bool trace_states(int fd, struct trace *t, int until, int ms)
{
	int64_t end = now_ms() + ms;
	int st;

	do {
		st = tstate(fd);
		trace_add(t, st);
		if (st == until)
			return true;
		usleep(500);
	} while (now_ms() < end);
	return false;
}

/* Is `want` (n states) the trace? */
static inline bool trace_is(const struct trace *t, int n, const int *want)
{
	return t->n == n && !memcmp(t->st, want, n * sizeof(int));
}

#define TRACE_IS(t, ...) ({						\
	const int __want[] = { __VA_ARGS__ };				\
	trace_is((t), sizeof(__want) / sizeof(int), __want);		\
})

/* trace_states() of two sockets at once, until both reach `until`. */
static inline bool trace_states2(int fd1, struct trace *t1, int fd2,
				 struct trace *t2, int until, int ms)
{
	int64_t end = now_ms() + ms;
	int s1, s2;

	do {
		s1 = tstate(fd1);
		s2 = tstate(fd2);
		trace_add(t1, s1);
		trace_add(t2, s2);
		if (s1 == until && s2 == until)
			return true;
		usleep(500);
	} while (now_ms() < end);
	return false;
}

/* /proc/net/tcp or /proc/net/toytcp of the calling thread's namespace. */
static inline const char *proc_net_path(void)
{
	return testing_tcp() ? "/proc/thread-self/net/tcp" :
			       "/proc/thread-self/net/toytcp";
}

/*
 * The "st" of the connection lport -> rport (rport 0: a listener) in the
 * calling thread's namespace, from /proc/net/{tcp,toytcp}: the state, -1 if
 * there is no such entry, -errno if the file cannot be read.  If tx/rx are
 * given they get the tx_queue and rx_queue columns.
 */
static inline int proc_state_q(int lport, int rport, unsigned int *tx,
			       unsigned int *rx)
{
	unsigned int la, lp, ra, rp, st, txq, rxq;
	FILE *f = fopen(proc_net_path(), "r");
	char line[512];
	int ret = -1;

	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {	/* the header */
		fclose(f);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %x:%x %x:%x %x %x:%x", &la, &lp, &ra,
			   &rp, &st, &txq, &rxq) != 7)
			continue;
		if ((int)lp != lport || (int)rp != rport)
			continue;
		ret = st;
		if (tx)
			*tx = txq;
		if (rx)
			*rx = rxq;
		break;
	}
	fclose(f);
	return ret;
}

static inline int proc_state(int lport, int rport)
{
	return proc_state_q(lport, rport, NULL, NULL);
}

/* Wait up to ms for the entry lport -> rport to show state st (-1: gone). */
static inline bool wait_proc_state(int lport, int rport, int st, int ms)
{
	int64_t end = now_ms() + ms;

	do {
		if (proc_state(lport, rport) == st)
			return true;
		usleep(2000);
	} while (now_ms() < end);
	return proc_state(lport, rport) == st;
}

/*
 * trace_states() for the /proc entry lport -> rport: the states it shows
 * (-1: no entry), until it shows `until` or ms pass.
 */
static inline bool trace_proc(int lport, int rport, struct trace *t,
			      int until, int ms)
{
	int64_t end = now_ms() + ms;
	int st;

	do {
		st = proc_state(lport, rport);
		trace_add(t, st);
		if (st == until)
			return true;
		usleep(500);
	} while (now_ms() < end);
	return false;
}

/*
 * pthread_create() with every signal blocked in the new thread, so that a
 * signal a test sends itself (SIGALRM, SIGPIPE) reaches the test's thread.
 */
static inline int start_thread(pthread_t *t, void *(*fn)(void *), void *arg)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(t, NULL, fn, arg);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return -err;
}

/* ---------------------------------------------------------------------- */
/* Network namespaces and interfaces */

/* Run a shell command; its exit status (0 on success). */
static inline int run(const char *fmt, ...)
{
	char cmd[1024];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	fflush(stdout);
	fflush(stderr);
	rc = system(cmd);
	if (rc == -1 || !WIFEXITED(rc) || WEXITSTATUS(rc)) {
		fprintf(stderr, "# command failed (%d): %s\n", rc, cmd);
		return rc ? rc : -1;
	}
	return 0;
}

static inline int if_up(const char *name)
{
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, SIOCGIFFLAGS, &ifr))
		err = -errno;
	ifr.ifr_flags |= IFF_UP;
	if (!err && ioctl(fd, SIOCSIFFLAGS, &ifr))
		err = -errno;
	close(fd);
	return err;
}

/* Give interface `name` the address ip/24 and bring it up. */
static inline int if_addr_up(const char *name, const char *ip)
{
	struct sockaddr_in sin = sin_of(ip, 0), mask = sin_of("255.255.255.0", 0);
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	memcpy(&ifr.ifr_addr, &sin, sizeof(sin));
	if (ioctl(fd, SIOCSIFADDR, &ifr))
		err = -errno;
	memcpy(&ifr.ifr_netmask, &mask, sizeof(mask));
	if (!err && ioctl(fd, SIOCSIFNETMASK, &ifr))
		err = -errno;
	close(fd);
	return err ? err : if_up(name);
}

static inline int ns_enter(int nsfd)
{
	return setns(nsfd, CLONE_NEWNET);
}

/*
 * Move the calling thread into a new network namespace with lo up; returns
 * an fd for it (not close-on-exec: `ip ... netns /proc/self/fd/N` uses it),
 * or -errno.
 */
static inline int ns_new(void)
{
	int fd, err;

	if (unshare(CLONE_NEWNET))
		return -errno;
	fd = open("/proc/thread-self/ns/net", O_RDONLY);
	if (fd < 0)
		return -errno;
	err = if_up("lo");
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * A veth pair: dev_a in namespace a with ip_a/24, dev_b in b with ip_b/24,
 * both up.  Leaves the calling thread in namespace a.  0 or -1.
 */
static inline int veth_pair(int a, const char *dev_a, const char *ip_a,
			    int b, const char *dev_b, const char *ip_b)
{
	if (ns_enter(a))
		return -1;
	if (run(IP_CMD " link add %s type veth peer name %s netns /proc/self/fd/%d",
		dev_a, dev_b, b))
		return -1;
	if (ns_enter(b) || if_addr_up(dev_b, ip_b))
		return -1;
	if (ns_enter(a) || if_addr_up(dev_a, ip_a))
		return -1;
	return 0;
}

/* ---------------------------------------------------------------------- */
/* An emulated link: two tun devices and a thread carrying packets between */

enum { A_TO_B, B_TO_A };

#define LINK_QLEN	2048
#define LINK_PKT_MAX	2048
#define LINK_LOG_MAX	32768

/* What the link saw of one packet (a TCP segment if proto is 6 or 253). */
struct seg {
	uint64_t t_ns;		/* when it entered the link */
	int dir;		/* A_TO_B or B_TO_A */
	int proto;		/* IP protocol */
	bool dropped;
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;		/* TH_* of <netinet/tcp.h> */
	uint16_t win;
	int len;		/* TCP payload length */
	int mss;		/* MSS option, 0 if none */
	int wscale;		/* window scale option, -1 if none */
};

struct link;

/* A test's say on each packet: return true to drop it.  Lock held. */
typedef bool (*link_filter_fn)(struct link *l, const struct seg *s, void *arg);

struct link_pkt {
	uint64_t due_ns;
	int len;
	uint8_t data[LINK_PKT_MAX];
};

struct link_queue {
	struct link_pkt *pkt;	/* ring of LINK_QLEN */
	unsigned int head, tail;
};

struct link {
	int fd[2];		/* tun fd in namespace A, in namespace B */
	int stop[2];		/* pipe: wakes the thread to stop */
	pthread_t thread;
	pthread_mutex_t lock;
	/* Under lock: */
	int delay_ms;		/* one way, both directions */
	bool blocked[2];	/* drop everything in this direction */
	link_filter_fn filter;
	void *filter_arg;
	unsigned long pkts[2], drops[2];
	struct link_queue q[2];
	struct seg *log;	/* the first LINK_LOG_MAX packets */
	int nlog;
};

static inline int tun_open(const char *name)
{
	struct ifreq ifr = {};
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0)
		return -errno;
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
	if (ioctl(fd, TUNSETIFF, &ifr)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static inline void seg_parse(struct seg *s, const uint8_t *p, int len)
{
	int ihl, doff, tot, i, olen;

	memset(s, 0, sizeof(*s));
	if (len < 20 || (p[0] >> 4) != 4)
		return;
	ihl = (p[0] & 15) * 4;
	tot = p[2] << 8 | p[3];
	s->proto = p[9];
	if ((s->proto != IPPROTO_TCP && s->proto != IPPROTO_TOYTCP) ||
	    len < ihl + 20 || tot > len)
		return;
	p += ihl;
	s->sport = p[0] << 8 | p[1];
	s->dport = p[2] << 8 | p[3];
	s->seq = (uint32_t)p[4] << 24 | p[5] << 16 | p[6] << 8 | p[7];
	s->ack = (uint32_t)p[8] << 24 | p[9] << 16 | p[10] << 8 | p[11];
	doff = (p[12] >> 4) * 4;
	s->flags = p[13];
	s->win = p[14] << 8 | p[15];
	s->len = tot - ihl - doff;
	s->wscale = -1;
	for (i = 20; i < doff && ihl + doff <= len; i += olen) {
		if (p[i] == 0)		/* end of options */
			break;
		if (p[i] == 1) {	/* NOP */
			olen = 1;
			continue;
		}
		olen = i + 1 < doff ? p[i + 1] : 0;
		if (olen < 2)
			break;
		if (p[i] == 2 && olen == 4)
			s->mss = p[i + 2] << 8 | p[i + 3];
		else if (p[i] == 3 && olen == 3)
			s->wscale = p[i + 2];
	}
}

/* Read every packet waiting on side `dir`'s tun and queue (or drop) it. */
static inline void link_take(struct link *l, int dir)
{
	struct link_queue *q = &l->q[dir];
	uint8_t buf[LINK_PKT_MAX];
	struct link_pkt *pkt;
	struct seg s;
	bool drop;
	int n;

	while ((n = read(l->fd[dir], buf, sizeof(buf))) > 0) {
		seg_parse(&s, buf, n);
		s.t_ns = now_ns();
		s.dir = dir;
		pthread_mutex_lock(&l->lock);
		l->pkts[dir]++;
		drop = l->blocked[dir] ||
		       (l->filter && l->filter(l, &s, l->filter_arg)) ||
		       q->tail - q->head >= LINK_QLEN;
		s.dropped = drop;
		if (l->nlog < LINK_LOG_MAX)
			l->log[l->nlog++] = s;
		if (drop) {
			l->drops[dir]++;
		} else {
			pkt = &q->pkt[q->tail++ % LINK_QLEN];
			pkt->due_ns = s.t_ns + l->delay_ms * 1000000ull;
			pkt->len = n;
			memcpy(pkt->data, buf, n);
		}
		pthread_mutex_unlock(&l->lock);
	}
}

/* Deliver what is due; the ns until the next packet is due (or -1). */
static inline int64_t link_give(struct link *l, int dir)
{
	struct link_queue *q = &l->q[dir];
	struct link_pkt *pkt;
	uint64_t now;

	pthread_mutex_lock(&l->lock);
	while (q->head != q->tail) {
		pkt = &q->pkt[q->head % LINK_QLEN];
		now = now_ns();
		if (pkt->due_ns > now) {
			pthread_mutex_unlock(&l->lock);
			return pkt->due_ns - now;
		}
		/* The other side's tun: the packet arrives there. */
		if (write(l->fd[!dir], pkt->data, pkt->len) < 0)
			; /* as a wire would, lose it */
		q->head++;
	}
	pthread_mutex_unlock(&l->lock);
	return -1;
}

static inline void *link_thread(void *arg)
{
	struct link *l = arg;
	struct pollfd pfd[3] = {
		{ .fd = l->fd[0], .events = POLLIN },
		{ .fd = l->fd[1], .events = POLLIN },
		{ .fd = l->stop[0], .events = POLLIN },
	};
	int64_t next, wait;
	int dir, ms;

	for (;;) {
		wait = -1;
		for (dir = 0; dir < 2; dir++) {
			next = link_give(l, dir);
			if (next >= 0 && (wait < 0 || next < wait))
				wait = next;
		}
		ms = wait < 0 ? -1 : (int)((wait + 999999) / 1000000);
		if (poll(pfd, 3, ms) < 0 && errno != EINTR)
			break;
		if (pfd[2].revents)
			break;
		for (dir = 0; dir < 2; dir++)
			if (pfd[dir].revents & POLLIN)
				link_take(l, dir);
	}
	return NULL;
}

/*
 * A link between namespace a (interface "tla", ip_a/24) and namespace b
 * ("tlb", ip_b/24) with a one-way delay of delay_ms.  Leaves the calling
 * thread in namespace a.  NULL on failure.
 */
static inline struct link *link_new(int a, const char *ip_a, int b,
				    const char *ip_b, int delay_ms)
{
	struct link *l = calloc(1, sizeof(*l));
	int dir;

	if (!l)
		return NULL;
	l->log = calloc(LINK_LOG_MAX, sizeof(*l->log));
	for (dir = 0; dir < 2; dir++)
		l->q[dir].pkt = calloc(LINK_QLEN, sizeof(struct link_pkt));
	if (!l->log || !l->q[0].pkt || !l->q[1].pkt)
		return NULL;
	pthread_mutex_init(&l->lock, NULL);
	l->delay_ms = delay_ms;
	if (ns_enter(b))
		return NULL;
	l->fd[1] = tun_open("tlb");
	if (l->fd[1] < 0 || if_addr_up("tlb", ip_b))
		return NULL;
	if (ns_enter(a))
		return NULL;
	l->fd[0] = tun_open("tla");
	if (l->fd[0] < 0 || if_addr_up("tla", ip_a))
		return NULL;
	if (pipe2(l->stop, O_CLOEXEC))
		return NULL;
	if (start_thread(&l->thread, link_thread, l))
		return NULL;
	return l;
}

static inline void link_free(struct link *l)
{
	if (!l)
		return;
	if (write(l->stop[1], "x", 1) == 1)
		pthread_join(l->thread, NULL);
	close(l->fd[0]);
	close(l->fd[1]);
	close(l->stop[0]);
	close(l->stop[1]);
	free(l->q[0].pkt);
	free(l->q[1].pkt);
	free(l->log);
	free(l);
}

static inline void link_set_delay(struct link *l, int ms)
{
	pthread_mutex_lock(&l->lock);
	l->delay_ms = ms;
	pthread_mutex_unlock(&l->lock);
}

/* Drop every packet in direction dir (on) or none (off). */
static inline void link_block(struct link *l, int dir, bool on)
{
	pthread_mutex_lock(&l->lock);
	l->blocked[dir] = on;
	pthread_mutex_unlock(&l->lock);
}

static inline void link_set_filter(struct link *l, link_filter_fn fn, void *arg)
{
	pthread_mutex_lock(&l->lock);
	l->filter = fn;
	l->filter_arg = arg;
	pthread_mutex_unlock(&l->lock);
}

static inline uint32_t csum_add(uint32_t sum, const uint8_t *p, int len)
{
	int i;

	for (i = 0; i + 1 < len; i += 2)
		sum += p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += p[len - 1] << 8;
	return sum;
}

static inline uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return ~sum;
}

/*
 * Hand a TCP segment (no options, no data) of the protocol under test to
 * namespace `to` (0: a, 1: b) as if it came over the link from src.  The
 * checksum is TCP's, protocol 6 in the pseudo-header, as toytcp's SPEC says.
 */
static inline int link_inject_csum(struct link *l, int to, const char *src,
				   int sport, const char *dst, int dport,
				   uint32_t seq, uint32_t ack, uint8_t flags,
				   uint16_t win, bool bad_csum)
{
	struct sockaddr_in s = sin_of(src, 0), d = sin_of(dst, 0);
	uint8_t p[40] = {}, pseudo[12] = {};
	uint16_t sum;
	int n;

	p[0] = 0x45;
	p[3] = sizeof(p);
	p[8] = 64;
	p[9] = test_proto();
	memcpy(p + 12, &s.sin_addr, 4);
	memcpy(p + 16, &d.sin_addr, 4);
	sum = csum_fold(csum_add(0, p, 20));
	p[10] = sum >> 8;
	p[11] = sum;
	p[20] = sport >> 8;
	p[21] = sport;
	p[22] = dport >> 8;
	p[23] = dport;
	p[24] = seq >> 24;
	p[25] = seq >> 16;
	p[26] = seq >> 8;
	p[27] = seq;
	p[28] = ack >> 24;
	p[29] = ack >> 16;
	p[30] = ack >> 8;
	p[31] = ack;
	p[32] = 5 << 4;
	p[33] = flags;
	p[34] = win >> 8;
	p[35] = win;
	memcpy(pseudo, p + 12, 8);
	pseudo[9] = IPPROTO_TCP;
	pseudo[11] = 20;
	sum = csum_fold(csum_add(csum_add(0, pseudo, 12), p + 20, 20));
	if (bad_csum)
		sum ^= 0x1234;
	p[36] = sum >> 8;
	p[37] = sum;
	pthread_mutex_lock(&l->lock);
	n = write(l->fd[to], p, sizeof(p));
	pthread_mutex_unlock(&l->lock);
	return n == sizeof(p) ? 0 : -1;
}

static inline int link_inject(struct link *l, int to, const char *src,
			      int sport, const char *dst, int dport,
			      uint32_t seq, uint32_t ack, uint8_t flags,
			      uint16_t win)
{
	return link_inject_csum(l, to, src, sport, dst, dport, seq, ack, flags,
				win, false);
}

/*
 * The next sequence number the segments logged in direction dir lead to
 * (the receiver's RCV.NXT once they all arrived); 0 if none was logged.
 */
static inline uint32_t link_next_seq(struct link *l, int dir)
{
	uint32_t next = 0, end;
	int i;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->dir != dir || s->proto != test_proto() || s->dropped ||
		    (s->flags & TH_RST))
			continue;
		end = s->seq + s->len + !!(s->flags & TH_SYN) +
		      !!(s->flags & TH_FIN);
		if (!next || (int32_t)(end - next) > 0)
			next = end;
	}
	pthread_mutex_unlock(&l->lock);
	return next;
}

/* Count logged segments in dir matching all of flags (and none of noflags). */
static inline int link_count(struct link *l, int dir, uint8_t flags,
			     uint8_t noflags, bool dropped_too)
{
	int i, n = 0;

	pthread_mutex_lock(&l->lock);
	for (i = 0; i < l->nlog; i++) {
		const struct seg *s = &l->log[i];

		if (s->dir != dir || s->proto != test_proto())
			continue;
		if ((s->flags & flags) != flags || (s->flags & noflags))
			continue;
		if (s->dropped && !dropped_too)
			continue;
		n++;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

/* Print the link's log (for diagnostics on failure). */
static inline void link_dump(struct link *l, int max)
{
	uint64_t t0;
	int i;

	pthread_mutex_lock(&l->lock);
	t0 = l->nlog ? l->log[0].t_ns : 0;
	for (i = 0; i < l->nlog && i < max; i++) {
		const struct seg *s = &l->log[i];

		if (s->proto != IPPROTO_TCP && s->proto != IPPROTO_TOYTCP) {
			fprintf(stderr, "# %8.3f %s IP protocol %d%s\n",
				(s->t_ns - t0) / 1e9, s->dir ? "B>A" : "A>B",
				s->proto, s->dropped ? " DROPPED" : "");
			continue;
		}
		fprintf(stderr, "# %8.3f %s %5u>%-5u %c%c%c%c%c seq %u ack %u win %u len %d%s\n",
			(s->t_ns - t0) / 1e9, s->dir ? "B>A" : "A>B",
			s->sport, s->dport,
			s->flags & TH_SYN ? 'S' : '.', s->flags & TH_FIN ? 'F' : '.',
			s->flags & TH_RST ? 'R' : '.', s->flags & TH_PUSH ? 'P' : '.',
			s->flags & TH_ACK ? 'A' : '.', s->seq, s->ack, s->win,
			s->len, s->dropped ? " DROPPED" : "");
		if (s->flags & TH_SYN)
			fprintf(stderr, "#          options: mss %d wscale %d\n",
				s->mss, s->wscale);
	}
	pthread_mutex_unlock(&l->lock);
}

/* ---------------------------------------------------------------------- */
/* Counters */

/*
 * Counter @name of /proc/net/toytcp_stat in the calling thread's network
 * namespace; -1 if there is no such counter or file.
 */
static inline long stat_get(const char *name)
{
	FILE *f = fopen("/proc/thread-self/net/toytcp_stat", "r");
	char key[64];
	long val, ret = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &val) == 2)
		if (!strcmp(key, name))
			ret = val;
	fclose(f);
	return ret;
}

/* ---------------------------------------------------------------------- */
/* A byte stream with a hash */

#define FNV_INIT 0xcbf29ce484222325ull

static inline uint64_t fnv1a(uint64_t h, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/*
 * The bytes of stream `seed` at offset off..off+len: a pseudo-random
 * sequence a lost, duplicated or reordered chunk cannot go unnoticed in.
 */
static inline void stream_fill(void *buf, uint64_t seed, size_t off, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++) {
		uint64_t x = (off + i) / 8 * 0x9e3779b97f4a7c15ull + seed;

		x ^= x >> 31;
		x *= 0xbf58476d1ce4e5b9ull;
		x ^= x >> 29;
		p[i] = x >> (8 * ((off + i) % 8));
	}
}

/* send() all of buf; 0 or -errno. */
static inline int send_all(int fd, const void *buf, size_t len, int flags)
{
	const char *p = buf;
	ssize_t n;

	while (len) {
		n = send(fd, p, len, flags);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* Read until EOF or len bytes; the count, or -errno. */
static inline ssize_t recv_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, p + got, len - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (!n)
			break;
		got += n;
	}
	return got;
}

/* One direction of a transfer, run by a thread or inline. */
struct xfer {
	int fd;
	size_t len;		/* bytes to send / the most to receive */
	uint64_t seed;
	bool shut_wr;		/* sender: shutdown(SHUT_WR) at the end */
	/* results */
	int err;		/* 0 or -errno */
	size_t done;		/* bytes sent / received */
	uint64_t hash;		/* fnv1a of those bytes */
	bool mismatch;		/* receiver: not the stream `seed` */
	size_t mismatch_at;
	pthread_t thread;
};

#define XFER_CHUNK (64 * 1024)

static inline void *xfer_send(void *arg)
{
	struct xfer *x = arg;
	char *buf = malloc(XFER_CHUNK);
	size_t n;

	x->hash = FNV_INIT;
	while (buf && x->done < x->len) {
		n = x->len - x->done < XFER_CHUNK ? x->len - x->done : XFER_CHUNK;
		stream_fill(buf, x->seed, x->done, n);
		x->err = send_all(x->fd, buf, n, MSG_NOSIGNAL);
		if (x->err)
			break;
		x->hash = fnv1a(x->hash, buf, n);
		x->done += n;
	}
	if (!buf)
		x->err = -ENOMEM;
	if (!x->err && x->shut_wr && shutdown(x->fd, SHUT_WR))
		x->err = -errno;
	free(buf);
	return NULL;
}

/* Receive until EOF (or x->len bytes), checking the stream as it comes. */
static inline void *xfer_recv(void *arg)
{
	struct xfer *x = arg;
	char *buf = malloc(XFER_CHUNK), *want = malloc(XFER_CHUNK);
	ssize_t n;
	size_t i;

	x->hash = FNV_INIT;
	while (buf && want && x->done < x->len) {
		n = x->len - x->done < XFER_CHUNK ? x->len - x->done : XFER_CHUNK;
		n = recv(x->fd, buf, n, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			x->err = -errno;
			break;
		}
		if (!n)
			break;
		stream_fill(want, x->seed, x->done, n);
		if (!x->mismatch && memcmp(buf, want, n)) {
			for (i = 0; buf[i] == want[i]; i++)
				;
			x->mismatch = true;
			x->mismatch_at = x->done + i;
		}
		x->hash = fnv1a(x->hash, buf, n);
		x->done += n;
	}
	if (!buf || !want)
		x->err = -ENOMEM;
	free(buf);
	free(want);
	return NULL;
}

static inline int xfer_start(struct xfer *x, void *(*fn)(void *))
{
	return start_thread(&x->thread, fn, x);
}

static inline void xfer_wait(struct xfer *x)
{
	pthread_join(x->thread, NULL);
}

/* ---------------------------------------------------------------------- */
/* Running a subset */

/* Is "fixture.test" named in the comma-separated list (substrings)? */
static inline bool test_wanted(const char *list, const char *name)
{
	char buf[512], *tok, *save;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (strstr(name, tok))
			return true;
	return false;
}

/*
 * TEST_HARNESS_MAIN, plus: $TOYTCP_TESTS="a,b" runs only the tests whose
 * "fixture.test" name contains a or b (6.1's harness has no such option).
 */
#define TOYTCP_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		const char *want = getenv("TOYTCP_TESTS");		\
		struct __fixture_metadata *f;				\
		struct __test_metadata *t, *keep, *last;		\
		char name[512];						\
									\
		for (f = __fixture_list; want && *want && f; f = f->next) { \
			keep = last = NULL;				\
			for (t = f->tests; t; t = t->next) {		\
				snprintf(name, sizeof(name), "%s.%s",	\
					 f->name, t->name);		\
				if (!test_wanted(want, name))		\
					continue;			\
				if (last)				\
					last->next = t;			\
				else					\
					keep = t;			\
				last = t;				\
			}						\
			if (last)					\
				last->next = NULL;			\
			f->tests = keep;				\
		}							\
		return test_harness_run(argc, argv);			\
	}

#endif /* TOYTCP_TEST_H */
