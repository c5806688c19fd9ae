// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp - a netcat-like command-line tool over the toytcp transport.
 *
 * Every subcommand opens socket(AF_INET, SOCK_STREAM, proto) where proto is
 * IPPROTO_TOYTCP unless -p (or $TOYTCP_PROTO) says otherwise, so the same
 * command can be pointed at the kernel's TCP (-p 6) to compare behaviour.
 *
 * Exit codes: 0 success, 1 runtime error, 2 usage error.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ladder.h"

/* The project's UAPI header defines IPPROTO_TOYTCP; fall back until then. */
#if __has_include("toytcp.h")
#include "toytcp.h"
#endif
#ifndef IPPROTO_TOYTCP
#define IPPROTO_TOYTCP 253
#endif

#define EXIT_RUNTIME	1
#define EXIT_USAGE	2

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define BUF_SIZE	65536
#define BACKLOG		16

static const char *prog = "toytcp";
static int proto = IPPROTO_TOYTCP;
static bool quiet;

static const char usage_text[] =
"Usage: toytcp [-p PROTO] [-q] [-w SECS] COMMAND [ARGS]\n"
"\n"
"A netcat-like tool over toytcp: socket(AF_INET, SOCK_STREAM, IPPROTO_TOYTCP).\n"
"\n"
"Commands:\n"
"  listen [-b ADDR] [-k] [-r] PORT\n"
"        Bind ADDR:PORT (ADDR defaults to 0.0.0.0), listen and accept one\n"
"        connection; copy the socket to stdout and stdin to the socket.\n"
"        -k keeps accepting (one connection at a time) instead of exiting.\n"
"  connect HOST PORT\n"
"        Connect and copy like listen.  On stdin EOF the sending direction is\n"
"        shut down (half-close); the command exits once the peer has closed\n"
"        its side too.\n"
"  echo [-b ADDR] [-c COUNT] [-r] PORT\n"
"        Echo server: every accepted connection gets back what it sends,\n"
"        served in a child process each.  -c exits after COUNT connections.\n"
"  send [-n BYTES] HOST PORT\n"
"        Connect, send BYTES (default 1M; suffixes k, M, G = 1024-based) of a\n"
"        deterministic pattern, half-close, wait for the peer to close, then\n"
"        print \"sent BYTES bytes fnv1a64 HASH\".\n"
"  recv [-b ADDR] [-V] [-r] PORT\n"
"        Accept one connection, read until EOF, print\n"
"        \"received BYTES bytes fnv1a64 HASH\".  -V also checks that the data\n"
"        is exactly the pattern send produces and fails at the first wrong\n"
"        byte.\n"
"  bind [-H] [-r] [ADDR:]PORT\n"
"        Create a socket, bind it and print the address getsockname() reports\n"
"        (PORT 0 shows the ephemeral port chosen).  -H then holds the socket\n"
"        open until SIGTERM, SIGINT or SIGHUP, and exits 0 (the socket is\n"
"        closed once the process is gone, e.g. after \"kill $pid; wait $pid\").\n"
"  ladder [--case CASE] [--lang en|zh] [--svg FILE] ...\n"
"        Run a connection with the toytcp tracepoints on and draw it as a\n"
"        sequence diagram (\"toytcp ladder --help\"; needs root).\n"
"  info\n"
"        Report whether the protocol is available (socket() succeeds) and\n"
"        whether toytcp.ko is loaded.  Exit 0 if available, 1 if not; the\n"
"        errno name is printed, e.g. \"unavailable: EPROTONOSUPPORT\".\n"
"\n"
"Options (before or after COMMAND):\n"
"  -p PROTO  IP protocol number to use (default IPPROTO_TOYTCP = %d, or\n"
"            $TOYTCP_PROTO when set); -p 6 runs the same command over TCP\n"
"  -q        quiet: no progress messages on stderr (errors are still shown)\n"
"  -r        set SO_REUSEADDR before bind (server commands)\n"
"  -w SECS   give up with an error after SECS seconds in total\n"
"  -h, --help  this text\n"
"\n"
"HOST is a dotted-quad IPv4 address or \"localhost\".\n"
"Exit status: 0 success, 1 runtime error, 2 usage error.\n";

static void usage(FILE *f)
{
	fprintf(f, usage_text, IPPROTO_TOYTCP);
}

/*
 * Print "toytcp: MESSAGE[TAIL]\n" to stderr with a single write(), so that a
 * script polling the output (for "listening on ADDR:PORT", say) never sees
 * half a line.
 */
static void vsay(const char *tail, const char *fmt, va_list ap)
{
	char line[1024];
	size_t len;

	snprintf(line, sizeof(line), "%s: ", prog);
	len = strlen(line);
	vsnprintf(line + len, sizeof(line) - len, fmt, ap);
	len = strlen(line);
	snprintf(line + len, sizeof(line) - len, "%s\n", tail);
	len = strlen(line);
	if (line[len - 1] != '\n')	/* truncated: still end the line */
		line[len - 1] = '\n';
	if (write(STDERR_FILENO, line, len) < 0)
		return;		/* nowhere left to complain */
}

static void __attribute__((format(printf, 1, 2))) note(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
}

/* "toytcp: WHAT: strerror(err)" and exit 1: the one runtime error path. */
static void __attribute__((noreturn, format(printf, 2, 3)))
die_err(int err, const char *fmt, ...)
{
	char tail[256] = "";
	va_list ap;

	if (err)
		snprintf(tail, sizeof(tail), ": %s%s", strerror(err),
			 err == EPROTONOSUPPORT ?
			 " (is toytcp.ko loaded or installed?)" :
			 err == EOPNOTSUPP ?
			 " (not implemented by this protocol)" : "");
	va_start(ap, fmt);
	vsay(tail, fmt, ap);
	va_end(ap);
	exit(EXIT_RUNTIME);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
die_usage(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("", fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	exit(EXIT_USAGE);
}

static void on_alarm(int sig)
{
	static const char msg[] = "toytcp: timed out (-w)\n";

	(void)sig;
	/* Only async-signal-safe calls here. */
	if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0)
		_exit(EXIT_RUNTIME);
	_exit(EXIT_RUNTIME);
}

/* ---- argument parsing ---- */

static unsigned long parse_ulong(const char *s, const char *what,
				 unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > max)
		die_usage("invalid %s '%s'", what, s);
	return v;
}

static int parse_proto(const char *s)
{
	return (int)parse_ulong(s, "protocol number", 255);
}

static uint16_t parse_port(const char *s)
{
	return (uint16_t)parse_ulong(s, "port", 65535);
}

static uint64_t parse_size(const char *s)
{
	unsigned long long v, mult = 1;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		die_usage("invalid byte count '%s'", s);
	switch (*end) {
	case 'k': case 'K':
		mult = 1ULL << 10;
		end++;
		break;
	case 'm': case 'M':
		mult = 1ULL << 20;
		end++;
		break;
	case 'g': case 'G':
		mult = 1ULL << 30;
		end++;
		break;
	}
	if (*end || (v && mult > ULLONG_MAX / v))
		die_usage("invalid byte count '%s'", s);
	return v * mult;
}

static struct in_addr parse_host(const char *s)
{
	struct in_addr a;

	/*
	 * No getaddrinfo(): the tool is linked statically and runs in a
	 * busybox guest without NSS libraries.
	 */
	if (!strcmp(s, "localhost"))
		s = "127.0.0.1";
	if (inet_pton(AF_INET, s, &a) != 1)
		die_usage("invalid IPv4 address '%s' (dotted quad expected)", s);
	return a;
}

static struct sockaddr_in make_sin(struct in_addr a, uint16_t port)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr = a,
	};

	return sin;
}

/* "1.2.3.4:80" in a static buffer; fine for a single-threaded CLI. */
static const char *fmt_sin(const struct sockaddr_in *sin)
{
	static char buf[2][INET_ADDRSTRLEN + 8];
	static int which;
	char ip[INET_ADDRSTRLEN];

	which ^= 1;
	inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
	snprintf(buf[which], sizeof(buf[which]), "%s:%u", ip,
		 ntohs(sin->sin_port));
	return buf[which];
}

/* ---- pattern and hash shared by send and recv ---- */

#define FNV64_OFFSET	0xcbf29ce484222325ULL
#define FNV64_PRIME	0x100000001b3ULL

static uint64_t fnv1a64(uint64_t h, const unsigned char *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= FNV64_PRIME;
	}
	return h;
}

/*
 * The pattern byte at stream offset off is a byte of splitmix64(off / 8).
 * It is a pure function of the offset, so the receiver can check any chunk
 * on its own, and it does not repeat with a short period, so a duplicated,
 * lost or reordered segment shows up as a wrong byte.
 */
static uint64_t splitmix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static unsigned char pattern_byte(uint64_t off)
{
	return (unsigned char)(splitmix64(off >> 3) >> ((off & 7) * 8));
}

static void pattern_fill(unsigned char *buf, size_t len, uint64_t off)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i);
}

/* ---- socket helpers ---- */

static int open_socket(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, proto);

	if (fd < 0)
		die_err(errno, "socket(AF_INET, SOCK_STREAM, %d)", proto);
	return fd;
}

static void set_reuseaddr(int fd)
{
	int one = 1;

	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)))
		die_err(errno, "setsockopt SO_REUSEADDR");
}

static int open_listener(struct in_addr addr, uint16_t port, bool reuse)
{
	struct sockaddr_in sin = make_sin(addr, port);
	socklen_t len = sizeof(sin);
	int fd = open_socket();

	if (reuse)
		set_reuseaddr(fd);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die_err(errno, "bind %s", fmt_sin(&sin));
	if (listen(fd, BACKLOG))
		die_err(errno, "listen %s", fmt_sin(&sin));
	/* Report the real port: with PORT 0 the caller needs to learn it. */
	if (!getsockname(fd, (struct sockaddr *)&sin, &len))
		note("listening on %s", fmt_sin(&sin));
	return fd;
}

static int accept_one(int lfd)
{
	struct sockaddr_in peer;
	socklen_t len = sizeof(peer);
	int fd;

	do {
		fd = accept(lfd, (struct sockaddr *)&peer, &len);
	} while (fd < 0 && (errno == EINTR || errno == ECONNABORTED));
	if (fd < 0)
		die_err(errno, "accept");
	note("connection from %s", fmt_sin(&peer));
	return fd;
}

static int connect_to(struct in_addr addr, uint16_t port)
{
	struct sockaddr_in sin = make_sin(addr, port);
	int fd = open_socket();

	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die_err(errno, "connect %s", fmt_sin(&sin));
	note("connected to %s", fmt_sin(&sin));
	return fd;
}

static void write_all(int fd, const void *buf, size_t len, const char *what)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_err(errno, "%s", what);
		p += n;
		len -= n;
	}
}

static void shut_wr(int fd)
{
	/* ENOTCONN: the peer already reset us; the read side will report it. */
	if (shutdown(fd, SHUT_WR) && errno != ENOTCONN)
		die_err(errno, "shutdown");
}

/* ---- listen / connect: the nc-style copy loop ---- */

/*
 * Copy stdin to the socket and the socket to stdout until both directions
 * are finished: stdin hit EOF (we then half-close with SHUT_WR) and the peer
 * sent its FIN (read returned 0).
 *
 * Socket writes use MSG_DONTWAIT and keep the unsent rest in a buffer, so a
 * peer that is itself blocked writing to us (an echo server, say) can never
 * deadlock us: we keep draining the socket while our data waits for room.
 */
static void copy_loop(int sfd, bool stdin_open)
{
	static unsigned char in[BUF_SIZE], out[BUF_SIZE];
	bool peer_done = false, in_eof = !stdin_open;
	size_t pending = 0, sent = 0;

	if (in_eof)
		shut_wr(sfd);

	while (!peer_done || !in_eof || pending) {
		struct pollfd pfd[2] = {
			{ .fd = sfd, .events = 0 },
			{ .fd = STDIN_FILENO, .events = 0 },
		};
		ssize_t n;

		if (!peer_done)
			pfd[0].events |= POLLIN;
		if (pending)
			pfd[0].events |= POLLOUT;
		/*
		 * POLLHUP/POLLERR are reported even when not asked for; with
		 * nothing to read or send, ignore the socket so they cannot
		 * spin us.  A reset still surfaces on the next send.
		 */
		if (!pfd[0].events)
			pfd[0].fd = -1;
		/*
		 * Read more stdin only once the previous chunk is out; so EOF
		 * is only seen with nothing pending, and SHUT_WR follows it.
		 */
		if (!in_eof && !pending)
			pfd[1].events = POLLIN;
		else
			pfd[1].fd = -1;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			die_err(errno, "poll");
		}

		if (pfd[0].revents & (POLLIN | POLLERR | POLLHUP) && !peer_done) {
			n = recv(sfd, out, sizeof(out), MSG_DONTWAIT);
			if (n > 0)
				write_all(STDOUT_FILENO, out, n, "write stdout");
			else if (n == 0)
				peer_done = true;
			else if (errno != EAGAIN && errno != EINTR)
				die_err(errno, "recv");
		}

		if (pending && pfd[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
			n = send(sfd, in + sent, pending, MSG_DONTWAIT);
			if (n > 0) {
				sent += n;
				pending -= n;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				die_err(errno, "send");
			}
		}

		if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(STDIN_FILENO, in, sizeof(in));
			if (n > 0) {
				pending = n;
				sent = 0;
			} else if (n == 0) {
				in_eof = true;
				shut_wr(sfd);
			} else if (errno != EAGAIN && errno != EINTR) {
				die_err(errno, "read stdin");
			}
		}
	}
}

static int cmd_listen(struct in_addr addr, uint16_t port, bool keep,
		      bool reuse)
{
	int lfd = open_listener(addr, port, reuse);
	bool stdin_open = true;

	do {
		int fd = accept_one(lfd);

		copy_loop(fd, stdin_open);
		/* With -k later connections find stdin already consumed. */
		stdin_open = false;
		close(fd);
	} while (keep);
	close(lfd);
	return 0;
}

static int cmd_connect(struct in_addr addr, uint16_t port)
{
	int fd = connect_to(addr, port);

	copy_loop(fd, true);
	close(fd);
	return 0;
}

/* ---- echo ---- */

static void echo_conn(int fd)
{
	static unsigned char buf[BUF_SIZE];
	ssize_t n;

	/*
	 * Blocking writes are safe here: the clients this serves (connect,
	 * send) keep reading while they write.
	 */
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_err(errno, "recv");
		write_all(fd, buf, n, "send");
	}
	shut_wr(fd);
}

static int cmd_echo(struct in_addr addr, uint16_t port, unsigned long count,
		    bool reuse)
{
	int lfd = open_listener(addr, port, reuse);
	unsigned long served = 0;
	int status, failed = 0;
	pid_t pid;

	while (!count || served < count) {
		int fd = accept_one(lfd);

		pid = fork();
		if (pid < 0)
			die_err(errno, "fork");
		if (pid == 0) {
			close(lfd);
			echo_conn(fd);
			close(fd);
			_exit(0);
		}
		close(fd);
		served++;
		/* Reap finished children so a long-running server has no zombies. */
		while (waitpid(-1, &status, WNOHANG) > 0)
			failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	}
	close(lfd);
	/* With -c, the exit status tells whether every connection went well. */
	while ((pid = wait(&status)) > 0)
		failed |= !WIFEXITED(status) || WEXITSTATUS(status);
	return failed ? EXIT_RUNTIME : 0;
}

/* ---- send / recv ---- */

static int cmd_send(struct in_addr addr, uint16_t port, uint64_t bytes)
{
	static unsigned char buf[BUF_SIZE];
	uint64_t off = 0, h = FNV64_OFFSET;
	int fd = connect_to(addr, port);
	ssize_t n;

	while (off < bytes) {
		size_t len = bytes - off < sizeof(buf) ? bytes - off : sizeof(buf);

		pattern_fill(buf, len, off);
		h = fnv1a64(h, buf, len);
		write_all(fd, buf, len, "send");
		off += len;
	}
	shut_wr(fd);

	/*
	 * Wait for the peer's FIN before closing: closing with unread data
	 * would reset the connection, and the receiver has only got every byte
	 * once it closes its side.  Whatever it sends meanwhile is discarded.
	 */
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_err(errno, "recv (waiting for the peer to close)");
	}
	close(fd);
	printf("sent %" PRIu64 " bytes fnv1a64 %016" PRIx64 "\n", bytes, h);
	return 0;
}

static int cmd_recv(struct in_addr addr, uint16_t port, bool check, bool reuse)
{
	static unsigned char buf[BUF_SIZE];
	uint64_t off = 0, h = FNV64_OFFSET;
	int lfd = open_listener(addr, port, reuse);
	int fd = accept_one(lfd);
	ssize_t n, i;

	close(lfd);
	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			break;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die_err(errno, "recv after %" PRIu64 " bytes", off);
		for (i = 0; check && i < n; i++) {
			if (buf[i] != pattern_byte(off + i))
				die_err(0, "data differs from the pattern at byte %" PRIu64
					" (got 0x%02x, expected 0x%02x)",
					off + i, buf[i], pattern_byte(off + i));
		}
		h = fnv1a64(h, buf, n);
		off += n;
	}
	close(fd);
	printf("received %" PRIu64 " bytes fnv1a64 %016" PRIx64 "\n", off, h);
	return 0;
}

/* ---- bind / info ---- */

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

static int cmd_bind(const char *arg, bool hold, bool reuse)
{
	struct in_addr addr = { .s_addr = htonl(INADDR_ANY) };
	struct sockaddr_in sin;
	const char *colon = strrchr(arg, ':');
	socklen_t len = sizeof(sin);
	char host[INET_ADDRSTRLEN + 1];
	uint16_t port;
	int fd;

	if (colon) {
		if ((size_t)(colon - arg) >= sizeof(host))
			die_usage("invalid address '%s'", arg);
		memcpy(host, arg, colon - arg);
		host[colon - arg] = '\0';
		addr = parse_host(host);
		port = parse_port(colon + 1);
	} else {
		port = parse_port(arg);
	}

	fd = open_socket();
	if (reuse)
		set_reuseaddr(fd);
	sin = make_sin(addr, port);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)))
		die_err(errno, "bind %s", fmt_sin(&sin));
	if (getsockname(fd, (struct sockaddr *)&sin, &len))
		die_err(errno, "getsockname");
	printf("%s\n", fmt_sin(&sin));
	fflush(stdout);

	if (hold) {
		struct sigaction sa = { .sa_handler = on_stop };
		sigset_t block, old;

		/*
		 * Block the signals first and wait in sigsuspend(), so one that
		 * arrives between the check and the wait is not lost.
		 */
		sigemptyset(&block);
		sigaddset(&block, SIGTERM);
		sigaddset(&block, SIGINT);
		sigaddset(&block, SIGHUP);
		sigprocmask(SIG_BLOCK, &block, &old);
		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGHUP, &sa, NULL);
		note("holding %s open until SIGTERM", fmt_sin(&sin));
		while (!stop)
			sigsuspend(&old);
	}
	close(fd);
	return 0;
}

static int cmd_info(void)
{
	char param[32] = "";
	bool loaded;
	FILE *f;
	int fd;

	/* /sys/module/X exists for loaded modules (and built-ins, not us). */
	loaded = access("/sys/module/toytcp", F_OK) == 0;
	f = fopen("/sys/module/toytcp/parameters/ipproto", "r");
	if (f) {
		if (fgets(param, sizeof(param), f))
			param[strcspn(param, "\n")] = '\0';
		fclose(f);
	}

	fd = socket(AF_INET, SOCK_STREAM, proto);
	if (fd < 0) {
		int err = errno;

		printf("protocol %d: unavailable: %s (%s)\n", proto,
		       strerrorname_np(err) ?: "?", strerror(err));
	} else {
		printf("protocol %d: available\n", proto);
		close(fd);
	}
	/* Checked after socket(): that call may just have autoloaded it. */
	loaded = loaded || access("/sys/module/toytcp", F_OK) == 0;
	if (!loaded)
		printf("module toytcp: not loaded\n");
	else if (param[0])
		printf("module toytcp: loaded, ipproto=%s\n", param);
	else
		printf("module toytcp: loaded\n");
	return fd < 0 ? EXIT_RUNTIME : 0;
}

/* ---- main ---- */

/* Which options each command takes, besides the common -p -q -w -h. */
static const struct command {
	const char *name;
	const char *opts;
} commands[] = {
	{ "listen", "bkr" },
	{ "connect", "" },
	{ "echo", "bcr" },
	{ "send", "n" },
	{ "recv", "bVr" },
	{ "bind", "Hr" },
	{ "info", "" },
};

static const struct option long_opts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Common options, accepted before and after the command name. */
static bool common_opt(int c, const char *arg)
{
	switch (c) {
	case 'p':
		proto = parse_proto(arg);
		return true;
	case 'q':
		quiet = true;
		return true;
	case 'w':
		alarm((unsigned int)parse_ulong(arg, "timeout", UINT_MAX));
		return true;
	case 'h':
		usage(stdout);
		exit(0);
	}
	return false;
}

int main(int argc, char **argv)
{
	struct in_addr addr = { .s_addr = htonl(INADDR_ANY) };
	bool keep = false, reuse = false, check = false, hold = false;
	uint64_t bytes = 1ULL << 20;
	unsigned long count = 0;
	const struct command *command = NULL;
	const char *cmd, *env;
	unsigned int i;
	int c, nargs;

	signal(SIGALRM, on_alarm);
	/* A dead peer must give EPIPE, reported like any other error. */
	signal(SIGPIPE, SIG_IGN);

	env = getenv("TOYTCP_PROTO");
	if (env && *env)
		proto = parse_proto(env);

	/* '+': stop at the command name; its own options are parsed below. */
	while ((c = getopt_long(argc, argv, "+p:qw:h", long_opts, NULL)) != -1) {
		if (!common_opt(c, optarg))
			die_usage("unknown option");
	}
	if (optind >= argc)
		die_usage("missing command");
	cmd = argv[optind];
	if (!strcmp(cmd, "ladder"))
		return ladder_main(argc - optind, argv + optind);
	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(cmd, commands[i].name))
			command = &commands[i];
	if (!command)
		die_usage("unknown command '%s'", cmd);
	argc -= optind;
	argv += optind;
	optind = 1;

	/* Permuting getopt: "send HOST PORT -n 10" works as well. */
	while ((c = getopt_long(argc, argv, "p:qw:hb:kc:rn:HV", long_opts,
				NULL)) != -1) {
		if (common_opt(c, optarg))
			continue;
		if (c == '?' || !strchr(command->opts, c))
			die_usage("invalid option for '%s'", cmd);
		switch (c) {
		case 'b':
			addr = parse_host(optarg);
			break;
		case 'k':
			keep = true;
			break;
		case 'r':
			reuse = true;
			break;
		case 'n':
			bytes = parse_size(optarg);
			break;
		case 'H':
			hold = true;
			break;
		case 'c':
			count = parse_ulong(optarg, "count", ULONG_MAX);
			break;
		case 'V':
			check = true;
			break;
		}
	}
	nargs = argc - optind;
	argv += optind;

#define NEED_ARGS(n, what) do {						\
		if (nargs != (n))					\
			die_usage("usage: toytcp %s %s", cmd, what);	\
	} while (0)

	if (!strcmp(cmd, "listen")) {
		NEED_ARGS(1, "[-b ADDR] [-k] [-r] PORT");
		return cmd_listen(addr, parse_port(argv[0]), keep, reuse);
	}
	if (!strcmp(cmd, "connect")) {
		NEED_ARGS(2, "HOST PORT");
		return cmd_connect(parse_host(argv[0]), parse_port(argv[1]));
	}
	if (!strcmp(cmd, "echo")) {
		NEED_ARGS(1, "[-b ADDR] [-c COUNT] [-r] PORT");
		return cmd_echo(addr, parse_port(argv[0]), count, reuse);
	}
	if (!strcmp(cmd, "send")) {
		NEED_ARGS(2, "[-n BYTES] HOST PORT");
		return cmd_send(parse_host(argv[0]), parse_port(argv[1]), bytes);
	}
	if (!strcmp(cmd, "recv")) {
		NEED_ARGS(1, "[-b ADDR] [-V] [-r] PORT");
		return cmd_recv(addr, parse_port(argv[0]), check, reuse);
	}
	if (!strcmp(cmd, "bind")) {
		NEED_ARGS(1, "[-H] [-r] [ADDR:]PORT");
		return cmd_bind(argv[0], hold, reuse);
	}
	if (!strcmp(cmd, "info")) {
		NEED_ARGS(0, "");
		return cmd_info();
	}
	return EXIT_USAGE;	/* not reached: the table above lists them all */
}
