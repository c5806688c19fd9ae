// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp-bench - one benchmark program for toytcp and for the kernel's TCP.
 *
 * The protocol argument of socket() is the only thing -p changes: the same
 * code, buffer sizes and socket options measure both, so that the ratio
 * toytcp/TCP compares the transports and nothing else.
 *
 * A run forks a server process and is the client itself; each side may
 * first enter a network namespace of its own (--server-ns, --client-ns: a
 * name under /run/netns, as "ip netns add" makes, or a path).  The server
 * tells the client it is listening, and its figures, over a pipe.
 *
 * Modes:
 *   stream  the client sends 128 KiB writes for -t seconds, then closes;
 *           the server counts (and with -V checks) every byte: goodput in
 *           Mbit/s from accept() to EOF, at the receiver
 *   rr      1-byte request, 1-byte response on one connection, TCP_NODELAY
 *           on both ends, for -t seconds: transactions per second
 *   crr     connect, 1-byte request, 1-byte response, close (the client
 *           closes first, so its socket takes TIME-WAIT), repeated for -t
 *           seconds: connections per second
 *   idle    open -n connections (default 10,000) and keep them all open:
 *           setup rate (connections per second, from the first connect()
 *           to the last accept()) and the kernel memory they hold, per
 *           connection (one connection = the client's socket plus the
 *           server's accepted one: two sockets)
 *
 * Output: one line "result mode=... proto=... KEY=VALUE ..." on stdout (the
 * figure of the mode first: mbps, tps, cps, or cps and bytes_per_conn).
 * Exit codes: 0 success, 1 runtime error (or a check failed), 2 usage.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "toytcp.h"

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

#define STREAM_BUF	(128 * 1024)
/* The data pattern: byte at stream offset o is o % PATTERN_PERIOD. */
#define PATTERN_PERIOD	251

enum mode { MODE_STREAM, MODE_RR, MODE_CRR, MODE_IDLE };
static const char *const mode_names[] = { "stream", "rr", "crr", "idle" };

static struct {
	enum mode mode;
	int proto;
	const char *proto_name;
	double seconds;
	long conns;
	const char *host;
	int port;
	const char *server_ns;
	const char *client_ns;
	bool verify;
	double hold;
	bool verbose;
} opt = {
	.mode = MODE_STREAM,
	.proto = IPPROTO_TOYTCP,
	.proto_name = "toytcp",
	.seconds = 5,
	.conns = 10000,
	.host = "127.0.0.1",
	.port = 5201,
};

/* What the server reports to the client at the end. */
struct server_report {
	int err;			/* errno of a failure, 0 if none */
	int bad_data;			/* -V: the data was not the pattern */
	uint64_t bytes;			/* stream: received */
	uint64_t count;			/* rr: transactions, crr/idle: accepts */
	double seconds;			/* stream: accept to EOF */
	double done_at;			/* idle: when the last accept returned */
};

static const char usage_text[] =
"Usage: toytcp-bench [-p toytcp|tcp] [-m stream|rr|crr|idle] [-t SECONDS]\n"
"                    [-n CONNS] [-H HOST] [-P PORT] [--server-ns NS]\n"
"                    [--client-ns NS] [-V] [--hold SECONDS] [-v]\n"
"\n"
"  -p PROTO    toytcp (IPPROTO_TOYTCP, default), tcp, or a number\n"
"  -m MODE     stream (bulk goodput, Mbit/s at the receiver), rr (1-byte\n"
"              request/response per second), crr (connect, request,\n"
"              response, close per second), idle (CONNS open connections:\n"
"              setup rate and kernel memory per connection)\n"
"  -t SECONDS  how long stream, rr and crr run (default 5)\n"
"  -n CONNS    idle: how many connections (default 10000)\n"
"  -H HOST     the server's address as the client sees it (127.0.0.1)\n"
"  -P PORT     the server's port (default 5201)\n"
"  --server-ns NS, --client-ns NS\n"
"              run that side in network namespace /run/netns/NS (or a path)\n"
"  -V          check the data: stream, every byte is the pattern and both\n"
"              ends count the same bytes; rr and crr, both ends count the\n"
"              same transactions\n"
"  --hold SECONDS\n"
"              idle: keep the connections open that long after measuring\n"
"              (print \"holding\" first; SIGUSR1 ends it), e.g. for a test\n"
"              to inspect /proc\n"
"  -v          progress on stderr\n"
"\n"
"Prints one line: result mode=MODE proto=PROTO KEY=VALUE...\n";

static void usage(int status)
{
	fputs(usage_text, status ? stderr : stdout);
	exit(status);
}

static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "toytcp-bench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_RUNTIME);
}

static void vlog(const char *fmt, ...)
{
	va_list ap;

	if (!opt.verbose)
		return;
	fprintf(stderr, "toytcp-bench[%d]: ", (int)getpid());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void enter_netns(const char *ns)
{
	char path[4096];
	int fd;

	if (!ns)
		return;
	if (strchr(ns, '/'))
		snprintf(path, sizeof(path), "%s", ns);
	else
		snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open %s: %s", path, strerror(errno));
	if (setns(fd, CLONE_NEWNET) < 0)
		die("setns %s: %s", path, strerror(errno));
	close(fd);
}

/* Enough descriptors for the idle mode's connections. */
static void raise_nofile(long want)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("getrlimit: %s", strerror(errno));
	if (rl.rlim_cur >= (rlim_t)want)
		return;
	rl.rlim_cur = want;
	if (rl.rlim_max < (rlim_t)want)
		rl.rlim_max = want;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		die("setrlimit(RLIMIT_NOFILE, %ld): %s", want, strerror(errno));
}

/* Grow the descriptor table now, not between the memory samples. */
static void grow_fdtable(int fd)
{
	if (dup2(0, fd) >= 0)
		close(fd);
}

static int new_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, opt.proto);

	if (fd < 0)
		die("socket(AF_INET, SOCK_STREAM, %d): %s", opt.proto,
		    strerror(errno));
	return fd;
}

static void set_int(int fd, int level, int name, int val, const char *what)
{
	if (setsockopt(fd, level, name, &val, sizeof(val)) < 0)
		die("setsockopt %s: %s", what, strerror(errno));
}

static void abort_close(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
}

static int listen_socket(int backlog)
{
	struct sockaddr_in a = {
		.sin_family = AF_INET,
		.sin_port = htons(opt.port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	int fd = new_socket();

	set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
		die("bind port %d: %s", opt.port, strerror(errno));
	if (listen(fd, backlog) < 0)
		die("listen: %s", strerror(errno));
	return fd;
}

static struct sockaddr_in server_addr;

/* Returns the connected socket, or -errno. */
static int connect_server(void)
{
	int fd = new_socket(), err;

	if (connect(fd, (struct sockaddr *)&server_addr,
		    sizeof(server_addr)) < 0) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

static int accept_one(int lfd)
{
	int fd;

	do
		fd = accept(lfd, NULL, NULL);
	while (fd < 0 && errno == EINTR);
	return fd;
}

static ssize_t write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = write(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		done += n;
	}
	return done;
}

/* Exactly @len bytes; 0 on EOF first, -1 on error. */
static ssize_t read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t done = 0;
	ssize_t n;

	while (done < len) {
		n = read(fd, p + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n;
		done += n;
	}
	return done;
}

/* /proc/meminfo's "NAME:" in bytes, or -1. */
static long long meminfo(const char *name)
{
	size_t len = strlen(name);
	long long val = -1;
	char line[256];
	FILE *f;

	f = fopen("/proc/meminfo", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, name, len) && line[len] == ':') {
			val = strtoll(line + len + 1, NULL, 10) * 1024;
			break;
		}
	}
	fclose(f);
	return val;
}

struct mem_sample {
	long long used;		/* MemTotal - MemFree */
	long long slab;		/* Slab */
	long long avail;	/* MemAvailable */
};

static struct mem_sample mem_sample(void)
{
	struct mem_sample m;

	m.used = meminfo("MemTotal") - meminfo("MemFree");
	m.slab = meminfo("Slab");
	m.avail = meminfo("MemAvailable");
	return m;
}

/*
 * Sockets of this protocol in ESTABLISHED (state 01) in this namespace's
 * /proc/net/toytcp or /proc/net/tcp, or -1 if there is no such file.
 */
static long count_established(void)
{
	const char *path = opt.proto == IPPROTO_TCP ? "/proc/net/tcp" :
						      "/proc/net/toytcp";
	char line[512], st[8];
	long n = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		/* "  sl  local_address rem_address   st ..." */
		if (sscanf(line, " %*s %*s %*s %7s", st) == 1 &&
		    !strcmp(st, "01"))
			n++;
	}
	fclose(f);
	return n;
}

/* The pattern, long enough to send STREAM_BUF bytes from any phase. */
static unsigned char pattern[STREAM_BUF + PATTERN_PERIOD];

static void fill_pattern(void)
{
	size_t i;

	for (i = 0; i < sizeof(pattern); i++)
		pattern[i] = i % PATTERN_PERIOD;
}

/* ---- the server side, in the child ---- */

static void serve_stream(int lfd, struct server_report *r)
{
	static unsigned char buf[STREAM_BUF];
	uint64_t total = 0;
	double start;
	ssize_t n, i;
	int fd;

	fd = accept_one(lfd);
	if (fd < 0) {
		r->err = errno;
		return;
	}
	start = now();
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r->err = errno;
			break;
		}
		if (n == 0)
			break;
		if (opt.verify && !r->bad_data) {
			unsigned int phase = total % PATTERN_PERIOD;

			for (i = 0; i < n; i++) {
				if (buf[i] != phase) {
					fprintf(stderr,
						"toytcp-bench: byte %" PRIu64 " is %u, not %u\n",
						total + i, buf[i], phase);
					r->bad_data = 1;
					break;
				}
				if (++phase == PATTERN_PERIOD)
					phase = 0;
			}
		}
		total += n;
	}
	r->seconds = now() - start;
	r->bytes = total;
	close(fd);
}

static void serve_rr(int lfd, struct server_report *r)
{
	unsigned char c;
	ssize_t n;
	int fd;

	fd = accept_one(lfd);
	if (fd < 0) {
		r->err = errno;
		return;
	}
	set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	for (;;) {
		n = read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0)
				r->err = errno;
			break;
		}
		if (write_all(fd, &c, 1) < 0) {
			r->err = errno;
			break;
		}
		r->count++;
	}
	close(fd);
}

/*
 * One connection at a time, as the client makes them: read the request,
 * answer it, wait for the client's close, close.  A request 'Q' is the
 * client's "no more": the server stops.
 */
static void serve_crr(int lfd, struct server_report *r)
{
	unsigned char c;
	ssize_t n;
	int fd;

	for (;;) {
		fd = accept_one(lfd);
		if (fd < 0) {
			r->err = errno;
			return;
		}
		n = read_full(fd, &c, 1);
		if (n <= 0) {
			r->err = n < 0 ? errno : EPIPE;
			close(fd);
			return;
		}
		if (c == 'Q') {
			close(fd);
			return;
		}
		if (write_all(fd, &c, 1) < 0) {
			r->err = errno;
			close(fd);
			return;
		}
		/* The client closes first: EOF. */
		n = read(fd, &c, 1);
		if (n != 0)
			r->err = n < 0 ? errno : EPROTO;
		close(fd);
		if (r->err)
			return;
		r->count++;
	}
}

/*
 * Accept -n connections and keep them; report (through @rep_fd, at once,
 * with done_at set) when the last one is in, then wait for the client's
 * word on @ctl_fd (or its exit) and close them all.
 */
static void serve_idle(int lfd, int rep_fd, int ctl_fd,
		       struct server_report *r)
{
	int *fds = calloc(opt.conns, sizeof(*fds));
	long i;
	char c;

	if (!fds)
		die("out of memory");
	/* Touched before the client's first memory sample. */
	memset(fds, 0xff, opt.conns * sizeof(*fds));
	for (i = 0; i < opt.conns; i++) {
		fds[i] = accept_one(lfd);
		if (fds[i] < 0) {
			r->err = errno;
			break;
		}
		r->count++;
	}
	r->done_at = now();
	if (write(rep_fd, r, sizeof(*r)) != sizeof(*r))
		die("report: %s", strerror(errno));
	while (read(ctl_fd, &c, 1) < 0 && errno == EINTR)
		;
	for (i = 0; i < (long)r->count; i++)
		abort_close(fds[i]);
	free(fds);
}

static void run_server(int ready_fd, int rep_fd, int ctl_fd)
{
	struct server_report r = { 0 };
	int lfd, backlog = 128;
	char c = 'r';

	enter_netns(opt.server_ns);
	if (opt.mode == MODE_IDLE) {
		raise_nofile(opt.conns + 64);
		grow_fdtable(opt.conns + 32);
		backlog = opt.conns;
	}
	lfd = listen_socket(backlog);
	if (write(ready_fd, &c, 1) != 1)
		die("ready: %s", strerror(errno));
	close(ready_fd);
	vlog("server listening on port %d", opt.port);

	switch (opt.mode) {
	case MODE_STREAM:
		serve_stream(lfd, &r);
		break;
	case MODE_RR:
		serve_rr(lfd, &r);
		break;
	case MODE_CRR:
		serve_crr(lfd, &r);
		break;
	case MODE_IDLE:
		serve_idle(lfd, rep_fd, ctl_fd, &r);
		close(lfd);
		exit(0);
	}
	close(lfd);
	if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
		die("report: %s", strerror(errno));
	exit(0);
}

/* ---- the client side, in the parent ---- */

static pid_t server_pid;
static int rep_fd = -1, ctl_fd = -1;

static int read_report(struct server_report *r)
{
	ssize_t n = read_full(rep_fd, r, sizeof(*r));

	if (n != (ssize_t)sizeof(*r)) {
		fprintf(stderr, "toytcp-bench: the server died without a report\n");
		return -1;
	}
	if (r->err)
		fprintf(stderr, "toytcp-bench: server: %s\n", strerror(r->err));
	return r->err ? -1 : 0;
}

static void print_head(void)
{
	printf("result mode=%s proto=%s", mode_names[opt.mode], opt.proto_name);
}

static int client_stream(void)
{
	struct server_report r;
	uint64_t sent = 0;
	double end;
	ssize_t n;
	int fd, rc = 0;

	fd = connect_server();
	if (fd < 0)
		die("connect: %s", strerror(-fd));
	end = now() + opt.seconds;
	while (now() < end) {
		n = write(fd, pattern + sent % PATTERN_PERIOD, STREAM_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write: %s", strerror(errno));
		sent += n;
	}
	if (close(fd) < 0)
		die("close: %s", strerror(errno));
	if (read_report(&r) < 0)
		return EXIT_RUNTIME;
	if (opt.verify && r.bad_data)
		rc = EXIT_RUNTIME;
	if (r.bytes != sent) {
		fprintf(stderr, "toytcp-bench: sent %" PRIu64 " bytes, the server received %" PRIu64 "\n",
			sent, r.bytes);
		rc = EXIT_RUNTIME;
	}
	print_head();
	printf(" mbps=%.2f bytes=%" PRIu64 " sent=%" PRIu64 " seconds=%.3f verified=%s\n",
	       r.seconds > 0 ? r.bytes * 8 / r.seconds / 1e6 : 0.0, r.bytes,
	       sent, r.seconds,
	       opt.verify ? (rc ? "no" : "yes") : "off");
	return rc;
}

static int client_rr(void)
{
	struct server_report r;
	unsigned char c, back;
	uint64_t count = 0;
	double start, end, t = 0;
	int fd, rc = 0;

	fd = connect_server();
	if (fd < 0)
		die("connect: %s", strerror(-fd));
	set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY");
	start = now();
	end = start + opt.seconds;
	do {
		c = count & 0xff;
		if (write_all(fd, &c, 1) < 0)
			die("write: %s", strerror(errno));
		if (read_full(fd, &back, 1) != 1)
			die("read: %s", errno ? strerror(errno) : "EOF");
		if (back != c)
			die("response %u to request %u", back, c);
		count++;
		/* The clock costs under emulation: every 16th transaction. */
	} while ((count & 15) || (t = now()) < end);
	close(fd);
	if (read_report(&r) < 0)
		return EXIT_RUNTIME;
	if (opt.verify && r.count != count) {
		fprintf(stderr, "toytcp-bench: %" PRIu64 " transactions, the server saw %" PRIu64 "\n",
			count, r.count);
		rc = EXIT_RUNTIME;
	}
	print_head();
	printf(" tps=%.1f transactions=%" PRIu64 " seconds=%.3f verified=%s\n",
	       count / (t - start), count, t - start,
	       opt.verify ? (rc ? "no" : "yes") : "off");
	return rc;
}

static int client_crr(void)
{
	unsigned char c = 'x', back;
	struct server_report r;
	double start, end, t;
	uint64_t count = 0;
	int fd, rc = 0, err = 0;

	start = now();
	end = start + opt.seconds;
	while ((t = now()) < end) {
		fd = connect_server();
		if (fd < 0) {
			err = -fd;
			break;
		}
		if (write_all(fd, &c, 1) < 0)
			die("write: %s", strerror(errno));
		if (read_full(fd, &back, 1) != 1)
			die("read: %s", errno ? strerror(errno) : "EOF");
		if (back != c)
			die("response %u to request %u", back, c);
		close(fd);
		count++;
	}
	if (err)
		fprintf(stderr, "toytcp-bench: connect #%" PRIu64 ": %s\n",
			count + 1, strerror(err));
	/* Tell the server to stop. */
	fd = connect_server();
	if (fd >= 0) {
		c = 'Q';
		write_all(fd, &c, 1);
		close(fd);
	} else {
		kill(server_pid, SIGTERM);
	}
	if (read_report(&r) < 0 || err)
		rc = EXIT_RUNTIME;
	if (opt.verify && !rc && r.count != count) {
		fprintf(stderr, "toytcp-bench: %" PRIu64 " connections, the server saw %" PRIu64 "\n",
			count, r.count);
		rc = EXIT_RUNTIME;
	}
	print_head();
	printf(" cps=%.1f connections=%" PRIu64 " seconds=%.3f verified=%s\n",
	       count / (t - start), count, t - start,
	       opt.verify ? (rc ? "no" : "yes") : "off");
	return rc;
}

static volatile sig_atomic_t hold_ended;

static void hold_end(int sig)
{
	(void)sig;
	hold_ended = 1;
}

/*
 * --hold: sleep, unless SIGUSR1 (or SIGTERM, SIGINT) ends it first.  The
 * handlers are there from the start (a signal before the hold is not
 * fatal: the hold then ends at once).
 */
static void hold_handlers(void)
{
	struct sigaction sa = { .sa_handler = hold_end };

	/* No SA_RESTART: the signal ends nanosleep() with EINTR. */
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static void hold(long n)
{
	struct timespec ts = {
		.tv_sec = (time_t)opt.hold,
		.tv_nsec = (long)((opt.hold - (time_t)opt.hold) * 1e9),
	};

	printf("holding %ld connections for %.1f s (SIGUSR1 ends it)\n", n,
	       opt.hold);
	fflush(stdout);
	if (!hold_ended)
		nanosleep(&ts, NULL);
}

/*
 * Memory: the difference in MemTotal - MemFree (every page in use, by the
 * kernel or by anyone) between before the first connect() and after the
 * last accept(), with both ends' sockets in this VM, divided by the number
 * of connections.  Both processes have their descriptor tables and arrays
 * sized before the first sample; what is left is the two sockets of each
 * connection (their struct sock, struct socket, file, dentry and inode,
 * hash table entries, timers) plus the page allocator's noise.  Slab alone
 * is reported too.  A second's pause before each sample lets deferred
 * frees (RCU) of earlier runs and of the handshakes settle.
 */
static int client_idle(void)
{
	struct mem_sample before, after;
	struct server_report r;
	double start, setup;
	long i, est;
	int *fds, rc = 0, err = 0;
	long n = 0;
	char c = 'c';

	fds = calloc(opt.conns, sizeof(*fds));
	if (!fds)
		die("out of memory");
	memset(fds, 0xff, opt.conns * sizeof(*fds));
	raise_nofile(opt.conns + 64);
	grow_fdtable(opt.conns + 32);

	sleep(1);
	before = mem_sample();
	start = now();
	for (n = 0; n < opt.conns; n++) {
		fds[n] = connect_server();
		if (fds[n] < 0) {
			err = -fds[n];
			fprintf(stderr, "toytcp-bench: connect #%ld: %s\n",
				n + 1, strerror(err));
			break;
		}
		if (opt.verbose && (n + 1) % 1000 == 0)
			vlog("%ld connected", n + 1);
	}
	if (err) {
		/* The server still waits for the rest: let it go. */
		kill(server_pid, SIGTERM);
		rc = EXIT_RUNTIME;
	}
	if (read_report(&r) < 0)
		rc = EXIT_RUNTIME;
	setup = (r.done_at > start ? r.done_at : now()) - start;
	sleep(1);
	after = mem_sample();
	est = count_established();

	print_head();
	printf(" cps=%.1f bytes_per_conn=%.0f slab_per_conn=%.0f avail_per_conn=%.0f connections=%ld accepted=%" PRIu64 " established_sockets=%ld seconds=%.3f\n",
	       n / setup, n ? (double)(after.used - before.used) / n : 0.0,
	       n ? (double)(after.slab - before.slab) / n : 0.0,
	       n ? (double)(before.avail - after.avail) / n : 0.0,
	       n, r.count, est, setup);
	fflush(stdout);
	if (opt.hold > 0 && !rc)
		hold(n);
	for (i = 0; i < n; i++)
		abort_close(fds[i]);
	free(fds);
	if (write(ctl_fd, &c, 1) != 1)
		rc = EXIT_RUNTIME;
	return rc;
}

static int parse_proto(const char *s)
{
	char *end;
	long v;

	if (!strcmp(s, "toytcp")) {
		opt.proto_name = "toytcp";
		return IPPROTO_TOYTCP;
	}
	if (!strcmp(s, "tcp")) {
		opt.proto_name = "tcp";
		return IPPROTO_TCP;
	}
	v = strtol(s, &end, 10);
	if (*s == '\0' || *end != '\0' || v <= 0 || v > 255)
		usage(EXIT_USAGE);
	opt.proto_name = v == IPPROTO_TCP ? "tcp" :
			 v == IPPROTO_TOYTCP ? "toytcp" : s;
	return v;
}

static double parse_seconds(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (*s == '\0' || *end != '\0' || v < 0)
		usage(EXIT_USAGE);
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server-ns", required_argument, NULL, 'S' },
		{ "client-ns", required_argument, NULL, 'C' },
		{ "hold", required_argument, NULL, 'h' + 256 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ready[2], rep[2], ctl[2], c, rc, status;
	unsigned int i;
	char b;

	while ((c = getopt_long(argc, argv, "p:m:t:n:H:P:Vvh", longopts,
				NULL)) != -1) {
		switch (c) {
		case 'p':
			opt.proto = parse_proto(optarg);
			break;
		case 'm':
			for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
				if (!strcmp(optarg, mode_names[i]))
					break;
			if (i == sizeof(mode_names) / sizeof(mode_names[0]))
				usage(EXIT_USAGE);
			opt.mode = i;
			break;
		case 't':
			opt.seconds = parse_seconds(optarg);
			break;
		case 'n':
			opt.conns = strtol(optarg, NULL, 10);
			if (opt.conns <= 0 || opt.conns > 1000000)
				usage(EXIT_USAGE);
			break;
		case 'H':
			opt.host = optarg;
			break;
		case 'P':
			opt.port = atoi(optarg);
			if (opt.port <= 0 || opt.port > 65535)
				usage(EXIT_USAGE);
			break;
		case 'S':
			opt.server_ns = optarg;
			break;
		case 'C':
			opt.client_ns = optarg;
			break;
		case 'V':
			opt.verify = true;
			break;
		case 'v':
			opt.verbose = true;
			break;
		case 'h' + 256:
			opt.hold = parse_seconds(optarg);
			break;
		case 'h':
			usage(0);
			break;
		default:
			usage(EXIT_USAGE);
		}
	}
	if (optind != argc)
		usage(EXIT_USAGE);

	server_addr.sin_family = AF_INET;
	server_addr.sin_port = htons(opt.port);
	if (inet_pton(AF_INET, opt.host, &server_addr.sin_addr) != 1)
		die("not an IPv4 address: %s", opt.host);
	signal(SIGPIPE, SIG_IGN);
	fill_pattern();

	if (pipe(ready) < 0 || pipe(rep) < 0 || pipe(ctl) < 0)
		die("pipe: %s", strerror(errno));
	fflush(stdout);
	server_pid = fork();
	if (server_pid < 0)
		die("fork: %s", strerror(errno));
	if (server_pid == 0) {
		close(ready[0]);
		close(rep[0]);
		close(ctl[1]);
		run_server(ready[1], rep[1], ctl[0]);
	}
	close(ready[1]);
	close(rep[1]);
	close(ctl[0]);
	rep_fd = rep[0];
	ctl_fd = ctl[1];
	if (opt.mode == MODE_IDLE && opt.hold > 0)
		hold_handlers();
	enter_netns(opt.client_ns);
	if (read(ready[0], &b, 1) != 1) {
		waitpid(server_pid, NULL, 0);
		die("the server did not start");
	}
	close(ready[0]);

	switch (opt.mode) {
	case MODE_STREAM:
		rc = client_stream();
		break;
	case MODE_RR:
		rc = client_rr();
		break;
	case MODE_CRR:
		rc = client_crr();
		break;
	default:
		rc = client_idle();
		break;
	}
	fflush(stdout);
	close(ctl_fd);
	if (waitpid(server_pid, &status, 0) == server_pid &&
	    !(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
	    !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM && rc))
		rc = EXIT_RUNTIME;
	return rc;
}
