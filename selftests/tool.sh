#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The toytcp command-line tool, end to end over loopback: usage errors and
# exit codes, bind/info, connection refused, send/recv with matching hashes,
# echo, and listen/connect with half-close in both directions.
#
# send/recv also runs between two network namespaces over veth.
# Every data test runs twice: over the kernel's TCP (-p 6), which checks the
# tool itself, then over toytcp.  A toytcp test is skipped with a reason
# while the module answers listen() with EOPNOTSUPP.
#
# vm-timeout: 600

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib/ktap.sh
. "$here/lib/ktap.sh"
# shellcheck source=selftests/lib/toytcp.sh
. "$here/lib/toytcp.sh"
# shellcheck source=selftests/lib/netns.sh
. "$here/lib/netns.sh"

TOOL=$TOYTCP_TOOL
# Per command: a hung peer must fail the test, not stall the whole run.
W=120
tmp=$(mktemp -d)
pids=""
SKIP_REASON=""

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

nap() {
	usleep 100000 2>/dev/null || sleep 0.1
}

# wait_tenths TENTHS CMD...: poll CMD every 0.1 s; readiness, not sleeps.
wait_tenths() {
	local n="$1"

	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		nap
	done
}

# A complete line: the writer may be half way through one.  ($(tail -c 1)
# is empty when the file ends in a newline, which $(...) strips.)
file_has_line() {
	[ -s "$1" ] && [ -z "$(tail -c 1 "$1")" ]
}

# start_server NAME PROTO STDIN CMD...: run "toytcp -p PROTO CMD... 0" in
# the background (in netns $SERVER_NS if set); once it says "listening on
# ADDR:PORT" set $port.
# Returns 4 (skip) if the protocol does not implement listen(), 1 on other
# errors.  Its stdout and stderr are in $tmp/NAME.out and .err.
start_server() {
	local name="$1" proto="$2" input="$3"

	shift 3
	# No output of an earlier server may be mistaken for this one's.
	rm -f "$tmp/$name.out" "$tmp/$name.err"
	# "ip netns exec" execs the tool: $! is the tool's pid all the same.
	${SERVER_NS:+"$IP" netns exec "$SERVER_NS"} \
		"$TOOL" -w "$W" -p "$proto" "$@" 0 <"$input" \
		>"$tmp/$name.out" 2>"$tmp/$name.err" &
	server=$!
	pids="$pids $server"
	# Its first stderr line is "toytcp: listening on ..." or an error.
	wait_tenths 600 file_has_line "$tmp/$name.err" ||
		{ fail "$name: server silent"; return 1; }
	port=$(sed -n 's/.*listening on .*:\([0-9]*\)$/\1/p' "$tmp/$name.err")
	[ -n "$port" ] && return 0
	wait "$server"
	if grep -q "Operation not supported" "$tmp/$name.err"; then
		SKIP_REASON="protocol $proto: listen() not implemented"
		return 4
	fi
	fail "$name: server: $(cat "$tmp/$name.err")"
}

# wait_server NAME: the server's exit status must be 0.
wait_server() {
	wait "$server" || { fail "$1: server exit $?: $(cat "$tmp/$1.err")"; return 1; }
}

# --- tests without data ----------------------------------------------------

usage_errors() {
	local rc

	"$TOOL" --help >"$tmp/help" || { fail "--help exit $?"; return 1; }
	for w in listen connect echo send recv bind info -p -q -w; do
		grep -q -- "$w" "$tmp/help" || { fail "--help does not mention $w"; return 1; }
	done
	for args in "" "bogus" "connect 127.0.0.1" "connect 1.2.3 80" \
		    "bind 70000" "-p 300 info" "send -n 1x 127.0.0.1 1" \
		    "bind -k 0"; do
		# shellcheck disable=SC2086 # split on purpose
		"$TOOL" $args >/dev/null 2>"$tmp/usage.err"
		rc=$?
		[ "$rc" -eq 2 ] || { fail "'toytcp $args' exit $rc, expected 2"; return 1; }
		grep -q "^toytcp: " "$tmp/usage.err" ||
			{ fail "'toytcp $args' gives no error message"; return 1; }
	done
}

info_and_bind() {
	local proto="$1" out p lo hi holder

	"$TOOL" -p "$proto" info >"$tmp/info" || { fail "info: $(cat "$tmp/info")"; return 1; }
	grep -q "^protocol $proto: available$" "$tmp/info" || { fail "info: $(cat "$tmp/info")"; return 1; }
	out=$("$TOOL" -p "$proto" bind 127.0.0.1:0) || { fail "bind: $out"; return 1; }
	p=${out#127.0.0.1:}
	# Not "read <file": sh reads byte by byte, and a sysctl file read at a
	# nonzero offset returns EOF.
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range)
	hi=$(awk '{ print $2 }' /proc/sys/net/ipv4/ip_local_port_range)
	if [ "$p" -lt "$lo" ] || [ "$p" -gt "$hi" ]; then
		fail "bind 0 gave '$out', not in $lo-$hi"
		return 1
	fi
	# A port held by bind -H cannot be bound again, and is free after.
	rm -f "$tmp/hold"
	"$TOOL" -q -p "$proto" bind -H "127.0.0.1:$p" >"$tmp/hold" &
	holder=$!
	pids="$pids $holder"
	wait_tenths 600 file_has_line "$tmp/hold" || { fail "bind -H silent"; return 1; }
	if "$TOOL" -p "$proto" bind "127.0.0.1:$p" 2>"$tmp/bind.err"; then
		fail "second bind to $p succeeded"
		return 1
	fi
	grep -q "^toytcp: bind 127.0.0.1:$p: Address already in use$" "$tmp/bind.err" ||
		{ fail "bind error message: $(cat "$tmp/bind.err")"; return 1; }
	kill "$holder"
	wait "$holder"
	"$TOOL" -p "$proto" bind "127.0.0.1:$p" >/dev/null ||
		{ fail "port $p not free after the holder exited"; return 1; }
}

connect_refused() {
	local proto="$1" p rc

	# A port nobody listens on: bind one, then let it go.
	p=$("$TOOL" -p "$proto" bind 127.0.0.1:0) || return 1
	p=${p#127.0.0.1:}
	"$TOOL" -w "$W" -p "$proto" connect 127.0.0.1 "$p" </dev/null 2>"$tmp/refused.err"
	rc=$?
	ktap_print_msg "$(cat "$tmp/refused.err")"
	if [ "$rc" -eq 1 ] && grep -q "Operation not supported" "$tmp/refused.err"; then
		SKIP_REASON="protocol $proto: connect() not implemented"
		return 4
	fi
	[ "$rc" -eq 1 ] || { fail "exit $rc, expected 1"; return 1; }
	grep -q "^toytcp: connect 127.0.0.1:$p: Connection refused$" "$tmp/refused.err" ||
		{ fail "message is not 'Connection refused'"; return 1; }
}

# --- data tests ------------------------------------------------------------

send_recv() {
	local proto="$1" size="$2" rc sent got

	start_server recv "$proto" /dev/null recv -V
	rc=$?
	[ "$rc" -eq 0 ] || return "$rc"
	sent=$("$TOOL" -q -w "$W" -p "$proto" send -n "$size" 127.0.0.1 "$port") ||
		{ fail "send failed"; return 1; }
	wait_server recv || return 1
	got=$(cat "$tmp/recv.out")
	ktap_print_msg "$sent / $got"
	[ "${sent#sent }" = "${got#received }" ] ||
		{ fail "hash or length differ"; return 1; }
}

# The same between two network namespaces joined by veth: real devices,
# real routing, and each namespace with its own toytcp tables.
send_recv_veth() {
	local proto="$1" size="$2" rc sent got ns_srv ns_cli

	netns_new ns_srv ns_cli || { fail "netns_new"; return 1; }
	veth_link "$ns_srv" 10.99.1.1/24 "$ns_cli" 10.99.1.2/24 ||
		{ fail "veth_link"; return 1; }
	SERVER_NS=$ns_srv
	start_server recv "$proto" /dev/null recv -V
	rc=$?
	SERVER_NS=""
	[ "$rc" -eq 0 ] || return "$rc"
	sent=$(in_ns "$ns_cli" "$TOOL" -q -w "$W" -p "$proto" send -n "$size" \
	       10.99.1.1 "$port") || { fail "send failed"; return 1; }
	wait_server recv || return 1
	got=$(cat "$tmp/recv.out")
	ktap_print_msg "$sent / $got"
	[ "${sent#sent }" = "${got#received }" ] ||
		{ fail "hash or length differ"; return 1; }
	# The server's namespace has the port, the client's does not.
	in_ns "$ns_cli" "$TOOL" -w "$W" -p "$proto" connect 10.99.1.2 "$port" \
		</dev/null 2>/dev/null && { fail "connect in the client's own netns worked"; return 1; }
	return 0
}

echo_roundtrip() {
	local proto="$1" rc

	head -c 1048576 /dev/urandom >"$tmp/data"
	start_server echo "$proto" /dev/null echo -c 1
	rc=$?
	[ "$rc" -eq 0 ] || return "$rc"
	# connect writes and reads at once: 1 MiB exceeds both buffers.
	"$TOOL" -q -w "$W" -p "$proto" connect 127.0.0.1 "$port" \
		<"$tmp/data" >"$tmp/echoed" || { fail "connect failed"; return 1; }
	wait_server echo || return 1
	cmp "$tmp/data" "$tmp/echoed" || { fail "echoed data differs"; return 1; }
}

# Each side sends a line and half-closes; both must get the other's line and
# exit once both directions are done, whichever finishes first.
listen_connect_halfclose() {
	local proto="$1" rc

	echo "from server" >"$tmp/s.in"
	start_server listen "$proto" "$tmp/s.in" listen
	rc=$?
	[ "$rc" -eq 0 ] || return "$rc"
	echo "from client" | "$TOOL" -q -w "$W" -p "$proto" connect 127.0.0.1 "$port" \
		>"$tmp/c.out" || { fail "connect failed"; return 1; }
	wait_server listen || return 1
	[ "$(cat "$tmp/c.out")" = "from server" ] ||
		{ fail "client got '$(cat "$tmp/c.out")'"; return 1; }
	[ "$(cat "$tmp/listen.out")" = "from client" ] ||
		{ fail "server got '$(cat "$tmp/listen.out")'"; return 1; }
}

run_test() {
	local name="$1" rc p

	shift
	SKIP_REASON=""
	ktap_print_msg "--- $name"
	"$@"
	rc=$?
	for p in $pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=""
	rm -f "$tmp"/*
	netns_cleanup
	case $rc in
	0) ktap_test_pass "$name" ;;
	"$KSFT_SKIP") ktap_test_skip "$name" "$SKIP_REASON" ;;
	*) ktap_test_fail "$name" ;;
	esac
}

ktap_print_header
[ -x "$TOOL" ] || ktap_skip_all "no toytcp tool at $TOOL"
ktap_set_plan 15
run_test usage_errors usage_errors
for run in tcp:6 "toytcp:${TOYTCP_PROTO:-253}"; do
	sfx=${run%:*}
	proto=${run#*:}
	run_test "info_and_bind_$sfx" info_and_bind "$proto"
	run_test "connect_refused_$sfx" connect_refused "$proto"
	run_test "send_recv_4M_$sfx" send_recv "$proto" 4M
	run_test "send_recv_veth_4M_$sfx" send_recv_veth "$proto" 4M
	run_test "echo_1M_$sfx" echo_roundtrip "$proto"
	run_test "listen_connect_halfclose_$sfx" listen_connect_halfclose "$proto"
	run_test "send_recv_0_$sfx" send_recv "$proto" 0
done
ktap_finished
