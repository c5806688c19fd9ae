#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Unmodified Debian programs over toytcp through toytcp-run (LD_PRELOAD of
# libtoytcp-preload.so), between two namespaces over veth:
#
#  - the wrapper: usage errors, a missing program, a static program;
#  - which sockets move: an HTTP server (mini_httpd) listening under
#    toytcp-run shows in /proc/net/toytcp and not in /proc/net/tcp, and the
#    other way round without the wrapper; its IPv6 socket stays TCP;
#  - iperf3 client and server, both directions (-R), whose JSON report
#    says the bytes arrived; toytcp's counters show the control and data
#    connections and the kernel's TCP counters do not move;
#  - iperf3 -u: the control connection is toytcp, the UDP data stays UDP;
#  - wget against mini_httpd: a 1 MiB file arrives identical (cmp), a
#    missing one gives wget's "server error" exit status 8.
#
# vm-timeout: 400

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib/ktap.sh
. "$here/lib/ktap.sh"
# shellcheck source=selftests/lib/toytcp.sh
. "$here/lib/toytcp.sh"
# shellcheck source=selftests/lib/netns.sh
. "$here/lib/netns.sh"

RUN=${TOYTCP_RUN:-/usr/bin/toytcp-run}
SRV_IP=10.9.5.1
CLI_IP=10.9.5.2
HTTP_PORT=8080
IPERF_PORT=5201
tmp=$(mktemp -d)
pids=""

cleanup() {
	local p

	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	netns_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	ktap_print_msg "FAIL: $*"
	return 1
}

# toy_stat NS NAME: toytcp counter NAME of namespace NS.
toy_stat() {
	in_ns "$1" cat /proc/net/toytcp_stat | awk -v n="$2" '$1 == n { print $2 }'
}

# tcp_stat NS NAME: the kernel's TCP counter NAME (/proc/net/snmp "Tcp:").
tcp_stat() {
	in_ns "$1" cat /proc/net/snmp | awk -v n="$2" '
		$1 == "Tcp:" && !h { for (i = 2; i <= NF; i++) col[$i] = i; h = 1; next }
		$1 == "Tcp:" && h { print $col[n] }'
}

# listening NS FILE PORT: /proc/net/FILE (toytcp, tcp, tcp6) of namespace
# NS has a listener on PORT.
listening() {
	in_ns "$1" awk -v p="$(printf '%04X' "$3")" '
		NR > 1 { n = split($2, a, ":"); if (a[n] == p && $4 == "0A") f = 1 }
		END { exit !f }' "/proc/net/$2"
}

# --- the wrapper itself ----------------------------------------------------

wrapper_usage() {
	local rc

	"$RUN" >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 2 ] || { fail "no arguments: exit $rc, expected 2"; return 1; }
	"$RUN" /nonexistent/prog 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 127 ] || { fail "missing program: exit $rc, expected 127"; return 1; }
	# The tool is static: LD_PRELOAD cannot reach it, and the wrapper says so.
	"$RUN" "$TOYTCP_TOOL" info >/dev/null 2>"$tmp/err"
	rc=$?
	[ "$rc" -eq 126 ] || { fail "static program: exit $rc, expected 126"; return 1; }
	grep -q "statically linked" "$tmp/err" ||
		{ fail "static program: $(cat "$tmp/err")"; return 1; }
}

# --- which sockets move ----------------------------------------------------

# start_httpd NS ADDR [WRAPPER]: mini_httpd in the foreground (-D) serving
# $tmp/www on ADDR:$HTTP_PORT, in the background; sets $httpd.
start_httpd() {
	local ns="$1" addr="$2"

	shift 2
	"$IP" netns exec "$ns" "$@" /usr/sbin/mini_httpd -D -p "$HTTP_PORT" \
		-h "$addr" -d "$tmp/www" -u root -l "$tmp/httpd.log" \
		>"$tmp/httpd.out" 2>&1 &
	httpd=$!
	pids="$pids $httpd"
}

stop_httpd() {
	kill "$httpd" 2>/dev/null
	wait "$httpd" 2>/dev/null	# killed: a non-zero status, expected
	return 0
}

sockets_that_move() {
	# Under toytcp-run: a toytcp listener, no TCP one.
	start_httpd "$srv" "$SRV_IP" "$RUN"
	if ! wait_until 30 listening "$srv" toytcp "$HTTP_PORT"; then
		fail "mini_httpd under toytcp-run: no listener in /proc/net/toytcp: $(cat "$tmp/httpd.out")"
		stop_httpd
		return 1
	fi
	if listening "$srv" tcp "$HTTP_PORT"; then
		fail "mini_httpd under toytcp-run: a TCP listener too"
		stop_httpd
		return 1
	fi
	stop_httpd

	# Without the wrapper: TCP, not toytcp.
	start_httpd "$srv" "$SRV_IP"
	if ! wait_until 30 listening "$srv" tcp "$HTTP_PORT"; then
		fail "mini_httpd alone: no TCP listener: $(cat "$tmp/httpd.out")"
		stop_httpd
		return 1
	fi
	stop_httpd

	# IPv6 is left alone: a TCP6 listener under the wrapper.
	start_httpd "$srv" "::1" "$RUN"
	if ! wait_until 30 listening "$srv" tcp6 "$HTTP_PORT"; then
		fail "mini_httpd -h ::1 under toytcp-run: no TCP6 listener: $(cat "$tmp/httpd.out")"
		stop_httpd
		return 1
	fi
	stop_httpd
}

# --- iperf3 ----------------------------------------------------------------

# json_sum FILE SECTION FIELD: FIELD of the "SECTION": { ... } object of
# iperf3's JSON report (the first FIELD after SECTION's opening line).
json_sum() {
	awk -v s="\"$2\":" -v f="\"$3\":" '
		index($0, s) { in_s = 1; next }
		in_s && index($0, f) { v = $0; sub(/.*: */, "", v); sub(/,$/, "", v); print v; exit }' "$1"
}

# iperf3_run NAME [CLIENT ARGS...]: iperf3 server and client under
# toytcp-run; checks the report and the counters.
iperf3_run() {
	local name="$1" a0 p0 t0 a1 p1 t1 sent rcvd

	shift
	a0=$(toy_stat "$cli" ActiveOpens)
	p0=$(toy_stat "$srv" PassiveOpens)
	t0=$(tcp_stat "$cli" ActiveOpens)
	"$IP" netns exec "$srv" "$RUN" iperf3 -s -1 -B "$SRV_IP" -p "$IPERF_PORT" \
		>"$tmp/iperf3-s.out" 2>&1 &
	local server=$!
	pids="$pids $server"
	if ! wait_until 30 listening "$srv" toytcp "$IPERF_PORT"; then
		fail "$name: iperf3 server does not listen on toytcp: $(cat "$tmp/iperf3-s.out")"
		return 1
	fi
	if ! timeout 120 "$IP" netns exec "$cli" "$RUN" iperf3 -c "$SRV_IP" \
		-p "$IPERF_PORT" -t 2 -J "$@" >"$tmp/iperf3-c.json" 2>"$tmp/iperf3-c.err"; then
		fail "$name: iperf3 client: $(cat "$tmp/iperf3-c.err") $(grep '"error"' "$tmp/iperf3-c.json")"
		return 1
	fi
	wait "$server" || { fail "$name: iperf3 server: $(cat "$tmp/iperf3-s.out")"; return 1; }

	a1=$(toy_stat "$cli" ActiveOpens)
	p1=$(toy_stat "$srv" PassiveOpens)
	t1=$(tcp_stat "$cli" ActiveOpens)
	case " $* " in
	*" -u "*)
		sent=$(json_sum "$tmp/iperf3-c.json" sum packets)
		rcvd=$(json_sum "$tmp/iperf3-c.json" sum lost_packets)
		ktap_print_msg "$name: UDP $sent packets, $rcvd lost; toytcp opens +$((a1 - a0))"
		[ "${sent:-0}" -gt 0 ] || { fail "$name: no UDP packets"; return 1; }
		# the control connection only
		[ $((a1 - a0)) -eq 1 ] || { fail "$name: toytcp ActiveOpens +$((a1 - a0)), expected 1"; return 1; }
		;;
	*)
		sent=$(json_sum "$tmp/iperf3-c.json" sum_sent bytes)
		rcvd=$(json_sum "$tmp/iperf3-c.json" sum_received bytes)
		ktap_print_msg "$name: sent $sent bytes, received $rcvd; toytcp opens +$((a1 - a0)) active, +$((p1 - p0)) passive"
		[ "${rcvd:-0}" -gt 0 ] || { fail "$name: nothing received"; return 1; }
		# control and data connections
		[ $((a1 - a0)) -eq 2 ] || { fail "$name: toytcp ActiveOpens +$((a1 - a0)), expected 2"; return 1; }
		[ $((p1 - p0)) -eq 2 ] || { fail "$name: toytcp PassiveOpens +$((p1 - p0)), expected 2"; return 1; }
		;;
	esac
	[ "$t1" -eq "$t0" ] || { fail "$name: the kernel's TCP opened $((t1 - t0)) connections"; return 1; }
}

# --- HTTP ------------------------------------------------------------------

http_wget() {
	local a0 a1 rc

	start_httpd "$srv" "$SRV_IP" "$RUN"
	if ! wait_until 30 listening "$srv" toytcp "$HTTP_PORT"; then
		fail "mini_httpd under toytcp-run does not listen: $(cat "$tmp/httpd.out")"
		stop_httpd
		return 1
	fi
	a0=$(toy_stat "$cli" ActiveOpens)
	if ! timeout 120 "$IP" netns exec "$cli" "$RUN" wget -q -O "$tmp/got" \
		"http://$SRV_IP:$HTTP_PORT/blob" 2>"$tmp/wget.err"; then
		fail "wget: $(cat "$tmp/wget.err")"
		stop_httpd
		return 1
	fi
	cmp "$tmp/www/blob" "$tmp/got" || { fail "the file differs"; stop_httpd; return 1; }
	timeout 60 "$IP" netns exec "$cli" "$RUN" wget -q -O /dev/null \
		"http://$SRV_IP:$HTTP_PORT/missing" 2>/dev/null
	rc=$?
	a1=$(toy_stat "$cli" ActiveOpens)
	stop_httpd
	[ "$rc" -eq 8 ] || { fail "missing file: wget exit $rc, expected 8 (server error)"; return 1; }
	ktap_print_msg "wget: 1 MiB identical, 404 seen; toytcp ActiveOpens +$((a1 - a0))"
	[ $((a1 - a0)) -eq 2 ] || { fail "toytcp ActiveOpens +$((a1 - a0)), expected 2"; return 1; }
}

# --- main ------------------------------------------------------------------

ktap_print_header
for p in "$RUN" /usr/bin/iperf3 /usr/sbin/mini_httpd /usr/bin/wget; do
	[ -x "$p" ] || ktap_skip_all "$p is not in the VM image"
done
toytcp_load || ktap_skip_all "toytcp does not load"
ktap_set_plan 7

mkdir -p "$tmp/www"
head -c 1048576 /dev/urandom >"$tmp/www/blob"
echo "toytcp" >"$tmp/www/index.html"
chmod -R a+rX "$tmp"

netns_new srv cli
veth_link "$srv" "$SRV_IP/24" "$cli" "$CLI_IP/24" ve0 ve1 || ktap_skip_all "no veth"
in_ns "$srv" /usr/sbin/ip link set lo up

ktap_test_result wrapper_usage wrapper_usage
ktap_test_result sockets_that_move sockets_that_move
ktap_test_result iperf3_forward iperf3_run iperf3_forward
ktap_test_result iperf3_reverse iperf3_run iperf3_reverse -R
ktap_test_result iperf3_udp_control_only iperf3_run iperf3_udp -u -b 10M
ktap_test_result http_wget http_wget
ktap_test_result http_server_log grep -q '"GET /blob' "$tmp/httpd.log"
ktap_finished
