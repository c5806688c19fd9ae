// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp against the kernel's own TCP (issue 5, "Interop"): namespace a
 * runs toytcp, namespace b the kernel's TCP, and namespace r between them
 * routes and rewrites the IP protocol field on ingress with tc pedit plus
 * "csum ip": 6 -> 253 on what comes from b, 253 -> 6 on what comes from a.
 * The TCP segments themselves pass untouched, which works only because
 * toytcp's segments are TCP's byte for byte (SPEC: the checksum's pseudo
 * header says 6).
 *
 * Both directions (toytcp client to TCP server and back): handshake,
 * 4 MiB each way at once with matching hashes, half-close and close from
 * either side with the states each end goes through, RST on abort,
 * connection refused, and 2 MiB each way over a lossy link.  Each runs
 * twice: with b's offloads on (the kernel's TCP hands 64 KiB GSO
 * super-segments with partial checksums through r to toytcp) and off
 * (TSO, GSO and TX checksumming off on b's interface).
 *
 * vm-timeout: 900
 */
#include "toytcp_test.h"
#include "kselftest_harness.h"
#include <linux/ethtool.h>
#include <linux/sockios.h>

#define A_IP	"10.9.3.1"
#define RA_IP	"10.9.3.254"
#define B_IP	"10.9.4.1"
#define RB_IP	"10.9.4.254"
#define XFER	(4 << 20)
#define LOSSY_XFER (2 << 20)
#define TC_CMD	"/usr/sbin/tc"

/* ---------------------------------------------------------------------- */

/* A stream socket of IP protocol @proto in the calling thread's netns. */
static int psock(int proto)
{
	return socket(AF_INET, SOCK_STREAM, proto);
}

static int plisten(int proto, const char *ip, int port)
{
	struct sockaddr_in sin = sin_of(ip, port);
	int fd = psock(proto);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 8)) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int pconnect(int proto, const char *ip, int port)
{
	int fd = psock(proto), err;

	if (fd < 0)
		return -errno;
	set_timeo(fd, SO_SNDTIMEO, 30000);
	err = tconnect_fd(fd, ip, port);
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/* One ethtool flag (ETHTOOL_S*) of interface @dev: 0 or -errno. */
static int ethtool_set(const char *dev, __u32 cmd, __u32 on)
{
	struct ethtool_value ev = { .cmd = cmd, .data = on };
	struct ifreq ifr = {};
	int fd = socket(AF_INET, SOCK_DGRAM, 0), err = 0;

	if (fd < 0)
		return -errno;
	strncpy(ifr.ifr_name, dev, IFNAMSIZ - 1);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		err = -errno;
	close(fd);
	return err;
}

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), n;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	close(fd);
	return n == (int)strlen(s) ? 0 : -EIO;
}

/* The "st" of lport -> rport in /proc/net/@file of the thread's netns. */
static int proc_st(const char *file, int lport, int rport)
{
	unsigned int lp, rp, st;
	char path[64], line[512];
	int ret = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/thread-self/net/%s", file);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, " %*d: %*x:%x %*x:%x %x", &lp, &rp, &st) == 3 &&
		    (int)lp == lport && (int)rp == rport)
			ret = st;
	fclose(f);
	return ret;
}

static int peer_port(int fd)
{
	struct sockaddr_in sin;
	socklen_t len = sizeof(sin);

	if (getpeername(fd, (struct sockaddr *)&sin, &len))
		return -errno;
	return ntohs(sin.sin_port);
}

/*
 * Wait until connection @fd (of namespace @ns, ports @lport -> @rport, taken
 * while it was connected) is in TIME-WAIT.  toytcp keeps the socket in
 * TIME-WAIT; Linux TCP hands the connection to a timewait minisock, leaving
 * the fd CLOSED.  /proc/net/{toytcp,tcp} shows TIME-WAIT for both.
 */
static bool wait_time_wait(int fd, bool toy, int ns, int lport, int rport)
{
	int64_t end = now_ms() + 5000;

	if (ns_enter(ns) ||
	    !wait_state(fd, toy ? TCP_TIME_WAIT : TCP_CLOSE, 5000))
		return false;
	while (proc_st(toy ? "toytcp" : "tcp", lport, rport) != TCP_TIME_WAIT) {
		if (now_ms() > end)
			return false;
		usleep(10000);
	}
	return true;
}

/* ---------------------------------------------------------------------- */

FIXTURE(interop) {
	int a, r, b;
};

FIXTURE_VARIANT(interop) {
	bool offloads;
};

FIXTURE_VARIANT_ADD(interop, offloads_on) { .offloads = true };
FIXTURE_VARIANT_ADD(interop, offloads_off) { .offloads = false };

FIXTURE_SETUP(interop)
{
	if (testing_tcp())
		SKIP(return, "toytcp against TCP: no meaning with TOYTCP_PROTO=6");
	self->a = ns_new();
	self->r = ns_new();
	self->b = ns_new();
	ASSERT_LE(0, self->a);
	ASSERT_LE(0, self->r);
	ASSERT_LE(0, self->b);
	ASSERT_EQ(0, veth_pair(self->a, "ia", A_IP, self->r, "ra", RA_IP));
	ASSERT_EQ(0, veth_pair(self->b, "ib", B_IP, self->r, "rb", RB_IP));
	ASSERT_EQ(0, ns_enter(self->a));
	ASSERT_EQ(0, run(IP_CMD " route add default via " RA_IP));
	ASSERT_EQ(0, ns_enter(self->b));
	ASSERT_EQ(0, run(IP_CMD " route add default via " RB_IP));
	if (!variant->offloads) {
		ASSERT_EQ(0, ethtool_set("ib", ETHTOOL_STSO, 0));
		ASSERT_EQ(0, ethtool_set("ib", ETHTOOL_SGSO, 0));
		ASSERT_EQ(0, ethtool_set("ib", ETHTOOL_STXCSUM, 0));
	}
	ASSERT_EQ(0, ns_enter(self->r));
	ASSERT_EQ(0, write_file("/proc/sys/net/ipv4/ip_forward", "1"));
	/* On ingress: an egress rewrite would come before GSO segmentation. */
	ASSERT_EQ(0, run(TC_CMD " qdisc add dev rb ingress"));
	ASSERT_EQ(0, run(TC_CMD " filter add dev rb ingress protocol ip prio 1 u32 match ip protocol 6 0xff action pedit ex munge ip protocol set 253 pipe action csum ip"));
	ASSERT_EQ(0, run(TC_CMD " qdisc add dev ra ingress"));
	ASSERT_EQ(0, run(TC_CMD " filter add dev ra ingress protocol ip prio 1 u32 match ip protocol 253 0xff action pedit ex munge ip protocol set 6 pipe action csum ip"));
}

FIXTURE_TEARDOWN(interop)
{
	close(self->a);
	close(self->r);
	close(self->b);
}

/*
 * A connection between a (toytcp) and b (TCP): @toy_client says who
 * connects.  *toy and *tcp are the two ends.  0 or -errno.
 */
static int interop_pair(struct _test_data_interop *self, bool toy_client,
			int *toy, int *tcp)
{
	int lfd, port = toy_client ? 7200 : 7201, fd;

	*toy = *tcp = -1;
	if (toy_client) {
		ns_enter(self->b);
		lfd = plisten(IPPROTO_TCP, B_IP, port);
		if (lfd < 0)
			return lfd;
		ns_enter(self->a);
		fd = pconnect(IPPROTO_TOYTCP, B_IP, port);
	} else {
		ns_enter(self->a);
		lfd = plisten(IPPROTO_TOYTCP, A_IP, port);
		if (lfd < 0)
			return lfd;
		ns_enter(self->b);
		fd = pconnect(IPPROTO_TCP, A_IP, port);
	}
	if (fd < 0) {
		close(lfd);
		return fd;
	}
	set_timeo(lfd, SO_RCVTIMEO, 30000);
	*(toy_client ? toy : tcp) = fd;
	*(toy_client ? tcp : toy) = accept(lfd, NULL, NULL);
	close(lfd);
	if (*(toy_client ? tcp : toy) < 0)
		return -errno;
	return 0;
}

/* @len bytes each way at once between @x and @y, checked by hash. */
static void both_ways(struct __test_metadata *_metadata, int x, int y,
		      size_t len)
{
	struct xfer xs = { .fd = x, .len = len, .seed = 51, .shut_wr = true };
	struct xfer yr = { .fd = y, .len = len, .seed = 51 };
	struct xfer ys = { .fd = y, .len = len, .seed = 52, .shut_wr = true };
	struct xfer xr = { .fd = x, .len = len, .seed = 52 };
	int64_t t0 = now_ms();

	ASSERT_EQ(0, xfer_start(&yr, xfer_recv));
	ASSERT_EQ(0, xfer_start(&xr, xfer_recv));
	ASSERT_EQ(0, xfer_start(&xs, xfer_send));
	ASSERT_EQ(0, xfer_start(&ys, xfer_send));
	xfer_wait(&xs);
	xfer_wait(&ys);
	xfer_wait(&yr);
	xfer_wait(&xr);
	TH_LOG("%zu bytes each way in %lld ms", len, (long long)(now_ms() - t0));
	EXPECT_EQ(0, xs.err);
	EXPECT_EQ(0, ys.err);
	EXPECT_EQ(0, xr.err);
	EXPECT_EQ(0, yr.err);
	EXPECT_EQ(len, yr.done);
	EXPECT_EQ(len, xr.done);
	EXPECT_EQ(xs.hash, yr.hash);
	EXPECT_EQ(ys.hash, xr.hash);
	EXPECT_FALSE(yr.mismatch);
	EXPECT_FALSE(xr.mismatch);
}

static void transfer_test(struct __test_metadata *_metadata,
			  struct _test_data_interop *self, bool toy_client)
{
	struct tcp_info ti;
	int toy, tcp;

	ASSERT_EQ(0, interop_pair(self, toy_client, &toy, &tcp));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(toy));
	EXPECT_EQ(TCP_ESTABLISHED, tstate(tcp));
	/*
	 * b's TCP offered SACK and timestamps: both ends agree on SACK and
	 * window scale; toytcp does not do timestamps
	 */
	ASSERT_EQ(0, tinfo(tcp, &ti));
	EXPECT_EQ(0, ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	EXPECT_NE(0, ti.tcpi_options & TCPI_OPT_SACK);
	EXPECT_NE(0, ti.tcpi_options & TCPI_OPT_WSCALE);
	ASSERT_EQ(0, tinfo(toy, &ti));
	EXPECT_EQ(0, ti.tcpi_options & TCPI_OPT_TIMESTAMPS);
	EXPECT_NE(0, ti.tcpi_options & TCPI_OPT_SACK);
	EXPECT_NE(0, ti.tcpi_options & TCPI_OPT_WSCALE);
	both_ways(_metadata, toy, tcp, XFER);
	/* both sent FIN after their data: both saw EOF, close now */
	close(toy);
	close(tcp);
}

TEST_F_TIMEOUT(interop, toytcp_client_tcp_server, 300)
{
	transfer_test(_metadata, self, true);
}

TEST_F_TIMEOUT(interop, tcp_client_toytcp_server, 300)
{
	transfer_test(_metadata, self, false);
}

/*
 * Half-close: @closer (one end) shuts down its sending side; the other end
 * sees EOF, sends 256 KiB more, which the closer reads in full, then
 * closes.  The closer goes FIN-WAIT-2 then TIME-WAIT; the other end
 * CLOSE-WAIT then, after its close, away (LAST-ACK, then CLOSED).
 */
static void half_close_test(struct __test_metadata *_metadata,
			    struct _test_data_interop *self, bool toy_closes)
{
	struct xfer more = { .len = 256 << 10, .seed = 53, .shut_wr = true };
	struct xfer got = { .len = 256 << 10, .seed = 53 };
	int toy, tcp, closer, other, lport, rport;
	char c;

	ASSERT_EQ(0, interop_pair(self, toy_closes, &toy, &tcp));
	closer = toy_closes ? toy : tcp;
	other = toy_closes ? tcp : toy;
	lport = local_port(closer);
	rport = peer_port(closer);
	set_timeo(other, SO_RCVTIMEO, 30000);
	set_timeo(closer, SO_RCVTIMEO, 30000);

	ASSERT_EQ(0, shutdown(closer, SHUT_WR));
	EXPECT_EQ(0, recv(other, &c, 1, 0));	/* EOF */
	EXPECT_TRUE(wait_state(other, TCP_CLOSE_WAIT, 5000));
	EXPECT_TRUE(wait_state(closer, TCP_FIN_WAIT2, 5000));

	more.fd = other;
	got.fd = closer;
	ASSERT_EQ(0, xfer_start(&got, xfer_recv));
	xfer_send(&more);	/* then shutdown(SHUT_WR): LAST-ACK */
	xfer_wait(&got);
	EXPECT_EQ(0, more.err);
	EXPECT_EQ(more.len, got.done);
	EXPECT_EQ(more.hash, got.hash);
	EXPECT_FALSE(got.mismatch);
	EXPECT_EQ(0, recv(closer, &c, 1, 0));	/* and then EOF */
	EXPECT_TRUE(wait_time_wait(closer, toy_closes,
				   toy_closes ? self->a : self->b, lport,
				   rport));
	/* the other end's FIN is acknowledged: it is CLOSED */
	EXPECT_TRUE(wait_state(other, TCP_CLOSE, 5000));
	close(other);
	close(closer);
}

TEST_F_TIMEOUT(interop, half_close_from_toytcp, 120)
{
	half_close_test(_metadata, self, true);
}

TEST_F_TIMEOUT(interop, half_close_from_tcp, 120)
{
	half_close_test(_metadata, self, false);
}

/* close() by one end with nothing unread: the four-way close. */
static void close_test(struct __test_metadata *_metadata,
		       struct _test_data_interop *self, bool toy_closes)
{
	int toy, tcp, closer, other, lport, rport;
	char c, buf[3];

	ASSERT_EQ(0, interop_pair(self, !toy_closes, &toy, &tcp));
	closer = toy_closes ? toy : tcp;
	other = toy_closes ? tcp : toy;
	lport = local_port(closer);
	rport = peer_port(closer);
	ASSERT_EQ(0, send_all(closer, "bye", 3, 0));
	set_timeo(other, SO_RCVTIMEO, 30000);
	ASSERT_EQ(3, recv_all(other, buf, 3));
	ASSERT_EQ(0, memcmp(buf, "bye", 3));
	ASSERT_EQ(0, shutdown(closer, SHUT_RDWR));
	EXPECT_EQ(0, recv(other, &c, 1, 0));
	EXPECT_TRUE(wait_state(closer, TCP_FIN_WAIT2, 5000));
	close(other);
	EXPECT_TRUE(wait_time_wait(closer, toy_closes,
				   toy_closes ? self->a : self->b, lport,
				   rport));
	close(closer);
}

TEST_F_TIMEOUT(interop, close_from_toytcp, 120)
{
	close_test(_metadata, self, true);
}

TEST_F_TIMEOUT(interop, close_from_tcp, 120)
{
	close_test(_metadata, self, false);
}

/* SO_LINGER {1, 0} and close(): a RST, the other end gets ECONNRESET. */
static void abort_test(struct __test_metadata *_metadata,
		       struct _test_data_interop *self, bool toy_aborts)
{
	int toy, tcp, aborter, other;
	char c;

	ASSERT_EQ(0, interop_pair(self, toy_aborts, &toy, &tcp));
	aborter = toy_aborts ? toy : tcp;
	other = toy_aborts ? tcp : toy;
	ASSERT_EQ(0, set_linger0(aborter));
	close(aborter);
	set_timeo(other, SO_RCVTIMEO, 10000);
	EXPECT_EQ(-1, recv(other, &c, 1, 0));
	EXPECT_EQ(ECONNRESET, errno);
	EXPECT_EQ(TCP_CLOSE, tstate(other));
	close(other);
}

TEST_F_TIMEOUT(interop, rst_on_abort_by_toytcp, 120)
{
	abort_test(_metadata, self, true);
}

TEST_F_TIMEOUT(interop, rst_on_abort_by_tcp, 120)
{
	abort_test(_metadata, self, false);
}

TEST_F_TIMEOUT(interop, connection_refused_both_ways, 120)
{
	ASSERT_EQ(0, ns_enter(self->a));
	EXPECT_EQ(-ECONNREFUSED, pconnect(IPPROTO_TOYTCP, B_IP, 7299));
	ASSERT_EQ(0, ns_enter(self->b));
	EXPECT_EQ(-ECONNREFUSED, pconnect(IPPROTO_TCP, A_IP, 7299));
}

/* 2% loss each way in r (netem on both of its egresses). */
static void lossy_test(struct __test_metadata *_metadata,
		       struct _test_data_interop *self,
		       const struct _fixture_variant_interop *variant,
		       bool toy_client)
{
	long recov0, blocks0, recov, blocks;
	int toy, tcp;

	ASSERT_EQ(0, ns_enter(self->a));
	recov0 = stat_get("SackRecovery");
	blocks0 = stat_get("SackBlocksSent");
	ASSERT_EQ(0, ns_enter(self->r));
	ASSERT_EQ(0, run(TC_CMD " qdisc add dev ra root netem loss 2%%"));
	ASSERT_EQ(0, run(TC_CMD " qdisc add dev rb root netem loss 2%%"));
	ASSERT_EQ(0, interop_pair(self, toy_client, &toy, &tcp));
	both_ways(_metadata, toy, tcp, LOSSY_XFER);
	TH_LOG("retransmitted: toytcp %u, tcp %u segments", total_retrans(toy),
	       total_retrans(tcp));
	/*
	 * SACK both ways: toytcp recovered with the TCP receiver's blocks,
	 * and told the TCP sender about its own holes.  With offloads on,
	 * netem drops b's 64 KiB GSO packets whole, one in 50: there may be
	 * no hole for toytcp to report.
	 */
	ASSERT_EQ(0, ns_enter(self->a));
	recov = stat_get("SackRecovery") - recov0;
	blocks = stat_get("SackBlocksSent") - blocks0;
	TH_LOG("toytcp: %ld SACK recoveries, %ld ACKs with SACK blocks",
	       recov, blocks);
	EXPECT_LT(0, recov);
	if (!variant->offloads)
		EXPECT_LT(0, blocks);
	close(toy);
	close(tcp);
}

TEST_F_TIMEOUT(interop, lossy_toytcp_client, 300)
{
	lossy_test(_metadata, self, variant, true);
}

TEST_F_TIMEOUT(interop, lossy_tcp_client, 300)
{
	lossy_test(_metadata, self, variant, false);
}

TOYTCP_HARNESS_MAIN
