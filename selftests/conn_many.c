// SPDX-License-Identifier: GPL-2.0
/*
 * Thousands of connections open at once work and tear down without leaks
 * (issue 4).
 *
 * A server in namespace s and clients in namespace c, joined by veth:
 *  - N connections (default 4000, $CONN_MANY_N) are opened in batches of
 *    non-blocking connect()s and accepted; every one carries 64 bytes each
 *    way, checked byte for byte; /proc/net/toytcp lists N ESTABLISHED
 *    connections in each namespace (and the listener in s), CurrEstab,
 *    ActiveOpens and PassiveOpens say N;
 *  - the clients close first, the server sockets on EOF: c then holds N
 *    connections in TIME-WAIT (2 MSL = 60 s), s none at all;
 *  - the test leaves both namespaces and drops its last references to them,
 *    so they die with N connections still in TIME-WAIT: toytcp must purge
 *    them, and every toytcp socket is gone within seconds (not 60 s).  The
 *    module's reference count is the socket count here (every toytcp socket
 *    holds one through toytcp_prot.owner; an open one a second through its
 *    proto_ops): it must return to what it was before the test.  If that
 *    was 0, the module must then unload (delete_module, as rmmod does).
 *
 * The time to set up the N connections, to close them and for the
 * namespace teardown to free them are reported as diagnostics, not bounds.
 *
 * With TOYTCP_PROTO=6 (conn_many_tcp_reference.sh) the same runs over
 * Linux TCP: states, counts and bytes are checked; the module's reference
 * count and TimeWaits are toytcp's and are not.
 *
 * vm-timeout: 600
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"
#include <sys/resource.h>
#include <sys/syscall.h>

#define S_IP		"10.9.5.1"
#define C_IP		"10.9.5.2"
#define PORT		7500
#define N_DEFAULT	4000
#define BATCH		256
#define MSG_LEN		64

/* ---------------------------------------------------------------------- */
/* /proc */

/* Count the sockets of the calling thread's namespace by state (st). */
static int count_states(int counts[16])
{
	FILE *f = fopen(proc_net_path(), "r");
	char line[512];
	unsigned int st;
	int n = 0;

	memset(counts, 0, 16 * sizeof(int));
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EINVAL;
	}
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %*x:%*x %*x:%*x %x", &st) != 1 || st > 15)
			continue;
		counts[st]++;
		n++;
	}
	fclose(f);
	return n;
}

/*
 * A counter of the calling thread's namespace: toytcp's from
 * /proc/net/toytcp_stat, TCP's from the "Tcp:" lines of /proc/net/snmp
 * (the same names: ActiveOpens, PassiveOpens, CurrEstab).  -1 if absent.
 */
static long counter(const char *name)
{
	char hdr[2048], val[2048], *hs, *vs, *h, *v;
	long ret = -1;
	FILE *f;

	if (!testing_tcp()) {
		char key[64];
		long x;

		f = fopen("/proc/thread-self/net/toytcp_stat", "r");
		if (!f)
			return -1;
		while (fscanf(f, "%63s %ld", key, &x) == 2)
			if (!strcmp(key, name))
				ret = x;
		fclose(f);
		return ret;
	}
	f = fopen("/proc/thread-self/net/snmp", "r");
	if (!f)
		return -1;
	while (fgets(hdr, sizeof(hdr), f) && fgets(val, sizeof(val), f)) {
		if (strncmp(hdr, "Tcp:", 4))
			continue;
		h = strtok_r(hdr, " \n", &hs);
		v = strtok_r(val, " \n", &vs);
		while ((h = strtok_r(NULL, " \n", &hs)) &&
		       (v = strtok_r(NULL, " \n", &vs)))
			if (!strcmp(h, name))
				ret = atol(v);
	}
	fclose(f);
	return ret;
}

/* toytcp's reference count in /proc/modules; -1 if not loaded. */
static int module_refs(void)
{
	FILE *f = fopen("/proc/modules", "r");
	char name[64];
	int refs = -1, r;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %*u %d %*[^\n]", name, &r) == 2)
		if (!strcmp(name, "toytcp"))
			refs = r;
	fclose(f);
	return refs;
}

/*
 * The baseline: module_refs() once other tests' sockets are gone (a
 * namespace of the test before dies asynchronously, its sockets a grace
 * period later): 0 within 5 s, or else whatever holds still for 300 ms.
 */
static int module_refs_settled(void)
{
	int last = module_refs(), same = 0, r, i;

	for (i = 0; i < 100 && last > 0; i++) {
		sleep_ms(50);
		last = module_refs();
	}
	for (i = 0; i < 100 && last > 0 && same < 6; i++) {
		sleep_ms(50);
		r = module_refs();
		same = r == last ? same + 1 : 0;
		last = r;
	}
	return last;
}

/* ---------------------------------------------------------------------- */

FIXTURE(many) {
	int orig, s, c;		/* namespaces: the test's own, server, client */
	int n;
	int lfd;
	int *cli, *srv;		/* srv[i] is cli[i]'s peer */
	int *by_port;		/* client port -> index */
};

FIXTURE_SETUP(many)
{
	const char *env = getenv("CONN_MANY_N");
	int i;

	self->n = env && *env ? atoi(env) : N_DEFAULT;
	ASSERT_LT(0, self->n);
	self->lfd = -1;
	self->cli = malloc(self->n * sizeof(int));
	self->srv = malloc(self->n * sizeof(int));
	self->by_port = malloc(65536 * sizeof(int));
	ASSERT_TRUE(self->cli && self->srv && self->by_port);
	for (i = 0; i < self->n; i++)
		self->cli[i] = self->srv[i] = -1;
	for (i = 0; i < 65536; i++)
		self->by_port[i] = -1;

	self->orig = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, self->orig);
	self->s = ns_new();
	ASSERT_LE(0, self->s);
	self->c = ns_new();
	ASSERT_LE(0, self->c);
	ASSERT_EQ(0, veth_pair(self->s, "vs", S_IP, self->c, "vc", C_IP));
}

FIXTURE_TEARDOWN(many)
{
	int i;

	for (i = 0; self->cli && i < self->n; i++) {
		if (self->cli[i] >= 0)
			close(self->cli[i]);
		if (self->srv[i] >= 0)
			close(self->srv[i]);
	}
	if (self->lfd >= 0)
		close(self->lfd);
	free(self->cli);
	free(self->srv);
	free(self->by_port);
}

/*
 * Open connections first..first+cnt-1: non-blocking connect()s from c,
 * then accept them all in s.  0 or -errno (logged).
 */
static int open_batch(struct __test_metadata *_metadata,
		      FIXTURE_DATA(many) *self, int first, int cnt)
{
	struct pollfd pfd[BATCH];
	int i, err, pending, port, fd, accepted = 0;
	int64_t end = now_ms() + 30000;

	for (i = 0; i < cnt; i++) {
		fd = tsock_nb();
		if (fd < 0) {
			TH_LOG("socket %d: %s", first + i, strerror(errno));
			return -errno;
		}
		self->cli[first + i] = fd;
		err = tconnect_fd(fd, S_IP, PORT);
		if (err && err != -EINPROGRESS) {
			TH_LOG("connect %d: %s", first + i, strerror(-err));
			return err;
		}
		port = local_port(fd);
		if (port <= 0 || self->by_port[port] >= 0) {
			TH_LOG("connect %d: local port %d", first + i, port);
			return -EINVAL;
		}
		self->by_port[port] = first + i;
	}
	/* accept them while the handshakes complete */
	while (accepted < cnt) {
		struct sockaddr_in peer;
		socklen_t len = sizeof(peer);

		fd = accept4(self->lfd, (struct sockaddr *)&peer, &len,
			     SOCK_NONBLOCK);
		if (fd < 0 && errno == EAGAIN) {
			if (now_ms() > end) {
				TH_LOG("accepted %d of %d in 30 s", accepted, cnt);
				return -ETIMEDOUT;
			}
			poll1(self->lfd, POLLIN, 100);
			continue;
		}
		if (fd < 0) {
			TH_LOG("accept: %s", strerror(errno));
			return -errno;
		}
		i = self->by_port[ntohs(peer.sin_port)];
		if (i < first || i >= first + cnt || self->srv[i] >= 0) {
			TH_LOG("accepted a connection from port %d: not ours",
			       ntohs(peer.sin_port));
			close(fd);
			return -EINVAL;
		}
		self->srv[i] = fd;
		accepted++;
	}
	/* every connect() completed, without error */
	for (pending = cnt; pending;) {
		for (i = 0; i < cnt; i++)
			pfd[i] = (struct pollfd){ .fd = self->cli[first + i],
						  .events = POLLOUT };
		if (poll(pfd, cnt, 5000) < 0)
			return -errno;
		for (i = 0, pending = 0; i < cnt; i++) {
			if (!(pfd[i].revents & POLLOUT)) {
				pending++;
				continue;
			}
			err = so_error(self->cli[first + i]);
			if (err) {
				TH_LOG("connect %d: SO_ERROR %s", first + i,
				       strerror(err > 0 ? err : -err));
				return -EIO;
			}
		}
		if (pending && now_ms() > end) {
			TH_LOG("%d connect()s still pending", pending);
			return -ETIMEDOUT;
		}
	}
	return 0;
}

/* Read exactly len bytes from non-blocking fd within ms. */
static int recv_exact(int fd, void *buf, size_t len, int ms)
{
	int64_t end = now_ms() + ms;
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = recv(fd, (char *)buf + got, len - got, 0);
		if (n > 0) {
			got += n;
			continue;
		}
		if (n == 0)
			return -EPIPE;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
		if (now_ms() > end)
			return -ETIMEDOUT;
		poll1(fd, POLLIN, 100);
	}
	return 0;
}

/* Wait until the namespace's sockets are: want[st] of each state listed. */
static bool wait_counts(int ns, const int want[16], int ms, int got[16])
{
	int64_t end = now_ms() + ms;

	if (ns_enter(ns))
		return false;
	for (;;) {
		count_states(got);
		if (!memcmp(got, want, 16 * sizeof(int)))
			return true;
		if (now_ms() > end)
			return false;
		sleep_ms(100);
	}
}

/*
 * When a message does not come: the connection as each namespace's /proc
 * shows it (queues, timer, retransmissions) and the counters that say
 * where a segment goes missing.  Leaves the thread in namespace c.
 */
static void log_stuck(struct __test_metadata *_metadata,
		      FIXTURE_DATA(many) *self, int i)
{
	static const char * const names[] = {
		"OutSegs", "RetransSegs", "Timeouts", "PersistProbes",
		"RcvQDrop", "BacklogDrop", "OutOfWindow", "InSegs",
	};
	int ns[2] = { self->c, self->s }, k, j, port;
	char line[512], hex[8];
	FILE *f;

	port = local_port(self->cli[i]);
	snprintf(hex, sizeof(hex), ":%04X", port);
	for (k = 0; k < 2; k++) {
		if (ns_enter(ns[k]))
			continue;
		f = fopen(proc_net_path(), "r");
		while (f && fgets(line, sizeof(line), f))
			if (strstr(line, hex))
				TH_LOG("%s: %s", k ? "s" : "c", line);
		if (f)
			fclose(f);
		for (j = 0; j < (int)(sizeof(names) / sizeof(names[0])); j++)
			TH_LOG("%s: %s %ld", k ? "s" : "c", names[j],
			       counter(names[j]));
	}
	ns_enter(self->c);
}

static void log_counts(struct __test_metadata *_metadata, const char *what,
		       const int c[16])
{
	char buf[256];
	int st, off = 0;

	for (st = 0; st < 16; st++)
		if (c[st])
			off += snprintf(buf + off, sizeof(buf) - off, " %s %d",
					state_name(st), c[st]);
	buf[off] = 0;
	TH_LOG("%s:%s", what, off ? buf : " none");
}

TEST_F_TIMEOUT(many, open_exchange_close_purge, 900)
{
	const int n = self->n;
	int want[16] = {}, got[16];
	uint8_t buf[MSG_LEN], exp[MSG_LEN];
	int i, err, refs0 = -1, refs;
	uint64_t t0, t1;
	long tw0 = 0;
	struct rlimit rl = {
		.rlim_cur = 2 * n + 256,
		.rlim_max = 2 * n + 256,
	};

	/* both ends of every connection are in this process */
	if (setrlimit(RLIMIT_NOFILE, &rl))
		SKIP(return, "cannot raise RLIMIT_NOFILE to %lu: %s",
		     (unsigned long)rl.rlim_cur, strerror(errno));
	if (!testing_tcp()) {
		/* load it (if need be), then what others hold: the baseline */
		i = tsock();
		ASSERT_LE(0, i) TH_LOG("socket(): %s", strerror(errno));
		close(i);
		refs0 = module_refs_settled();
		ASSERT_LE(0, refs0);
		TH_LOG("toytcp module references before the test: %d", refs0);
	}

	/* Open. */
	ASSERT_EQ(0, ns_enter(self->s));
	self->lfd = tlisten(S_IP, PORT, 1024);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, set_nonblock(self->lfd, true));
	ASSERT_EQ(0, ns_enter(self->c));
	t0 = now_ns();
	for (i = 0; i < n; i += BATCH) {
		err = open_batch(_metadata, self, i, n - i < BATCH ? n - i : BATCH);
		ASSERT_EQ(0, err) TH_LOG("batch at %d", i);
	}
	t1 = now_ns();
	TH_LOG("%s: set up %d connections in %.2f s (%.0f/s)", proto_name(), n,
	       (t1 - t0) / 1e9, n / ((t1 - t0) / 1e9));

	/* All ESTABLISHED, in both namespaces. */
	want[TCP_ESTABLISHED] = n;
	EXPECT_TRUE(wait_counts(self->c, want, 10000, got));
	log_counts(_metadata, "c", got);
	EXPECT_EQ(n, counter("ActiveOpens"));
	EXPECT_EQ(n, counter("CurrEstab"));
	want[TCP_LISTEN] = 1;
	EXPECT_TRUE(wait_counts(self->s, want, 10000, got));
	log_counts(_metadata, "s", got);
	EXPECT_EQ(n, counter("PassiveOpens"));
	EXPECT_EQ(n, counter("CurrEstab"));

	/* 64 bytes each way on every connection. */
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		stream_fill(buf, i, 0, MSG_LEN);
		ASSERT_EQ(MSG_LEN, send(self->cli[i], buf, MSG_LEN, MSG_NOSIGNAL));
		stream_fill(buf, n + i, 0, MSG_LEN);
		ASSERT_EQ(MSG_LEN, send(self->srv[i], buf, MSG_LEN, MSG_NOSIGNAL));
	}
	for (i = 0; i < n; i++) {
		err = recv_exact(self->srv[i], buf, MSG_LEN, 10000);
		if (err)
			log_stuck(_metadata, self, i);
		ASSERT_EQ(0, err) TH_LOG("server %d", i);
		stream_fill(exp, i, 0, MSG_LEN);
		ASSERT_EQ(0, memcmp(buf, exp, MSG_LEN)) TH_LOG("server %d", i);
		err = recv_exact(self->cli[i], buf, MSG_LEN, 10000);
		if (err)
			log_stuck(_metadata, self, i);
		ASSERT_EQ(0, err) TH_LOG("client %d", i);
		stream_fill(exp, n + i, 0, MSG_LEN);
		ASSERT_EQ(0, memcmp(buf, exp, MSG_LEN)) TH_LOG("client %d", i);
	}
	TH_LOG("exchanged %d bytes each way on each, checked, in %.2f s",
	       MSG_LEN, (now_ns() - t0) / 1e9);
	if (!testing_tcp()) {
		long rc, tc, rs, ts;

		ASSERT_EQ(0, ns_enter(self->c));
		rc = counter("RetransSegs");
		tc = counter("Timeouts");
		ASSERT_EQ(0, ns_enter(self->s));
		rs = counter("RetransSegs");
		ts = counter("Timeouts");
		TH_LOG("retransmissions (timeouts): c %ld (%ld), s %ld (%ld)",
		       rc, tc, rs, ts);
	}

	/* The clients close; the server side reads EOF and closes too. */
	if (!testing_tcp()) {
		ASSERT_EQ(0, ns_enter(self->c));
		tw0 = counter("TimeWaits");
	}
	t0 = now_ns();
	for (i = 0; i < n; i++) {
		close(self->cli[i]);
		self->cli[i] = -1;
	}
	for (i = 0; i < n; i++) {
		ASSERT_EQ(-EPIPE, recv_exact(self->srv[i], buf, 1, 10000))
			TH_LOG("server %d: no EOF", i);
		close(self->srv[i]);
		self->srv[i] = -1;
	}
	/* c: every connection in TIME-WAIT; s: only the listener. */
	memset(want, 0, sizeof(want));
	want[TCP_TIME_WAIT] = n;
	EXPECT_TRUE(wait_counts(self->c, want, 20000, got));
	log_counts(_metadata, "c after close", got);
	EXPECT_EQ(0, counter("CurrEstab"));
	if (!testing_tcp())
		EXPECT_EQ(n, counter("TimeWaits") - tw0);
	memset(want, 0, sizeof(want));
	want[TCP_LISTEN] = 1;
	EXPECT_TRUE(wait_counts(self->s, want, 20000, got));
	log_counts(_metadata, "s after close", got);
	EXPECT_EQ(0, counter("CurrEstab"));
	TH_LOG("closed: %d in TIME-WAIT, the server side gone, in %.2f s", n,
	       (now_ns() - t0) / 1e9);
	close(self->lfd);
	self->lfd = -1;
	memset(want, 0, sizeof(want));
	EXPECT_TRUE(wait_counts(self->s, want, 5000, got));

	if (testing_tcp()) {
		TH_LOG("tcp: the module's reference count is toytcp's: not checked");
		return;
	}
	/* N TIME-WAIT sockets still hold the module... */
	refs = module_refs();
	EXPECT_LE(refs0 + n, refs) TH_LOG("module references %d", refs);
	TH_LOG("module references with %d connections in TIME-WAIT: %d", n, refs);

	/* ...until both namespaces die: nothing else holds them. */
	ASSERT_EQ(0, ns_enter(self->orig));
	close(self->s);
	close(self->c);
	self->s = self->c = -1;
	t0 = now_ns();
	while ((refs = module_refs()) > refs0 && now_ns() - t0 < 30000000000ull)
		sleep_ms(20);
	t1 = now_ns();
	/* (at most: sockets other tests left may have gone meanwhile) */
	EXPECT_GE(refs0, refs)
		TH_LOG("%d module references left 30 s after the namespaces went",
		       refs - refs0);
	TH_LOG("namespaces released: %d TIME-WAIT sockets purged, module references back to %d in %.2f s",
	       n, refs, (t1 - t0) / 1e9);
	if (refs != 0) {
		TH_LOG("toytcp holds %d references of other tests: not unloading it",
		       refs);
		return;
	}
	/* Nothing holds it: it unloads (it autoloads again on socket()). */
	t0 = now_ns();
	while (syscall(SYS_delete_module, "toytcp", O_NONBLOCK) &&
	       (errno == EBUSY || errno == EAGAIN) && now_ns() - t0 < 2000000000ull)
		sleep_ms(50);
	EXPECT_EQ(-1, module_refs()) TH_LOG("rmmod toytcp: %s", strerror(errno));
	TH_LOG("toytcp unloaded %.2f s after the last socket went",
	       (now_ns() - t0) / 1e9);
}

TOYTCP_HARNESS_MAIN
