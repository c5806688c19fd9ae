#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# toytcp-bench, the program of "make bench", works: each mode, briefly, over
# toytcp and over the kernel's TCP.  What is checked is that the figures
# are real, never how fast anything is:
#   stream       the receiver checks every byte against the pattern (-V)
#                and both ends count the same bytes, over loopback and
#                between two namespaces joined by veth
#   rr, crr      both ends count the same transactions, more than zero
#   idle         N connections are open at once: the tool says so, and the
#                namespace's /proc/net/toytcp (or tcp) lists 2N sockets in
#                ESTABLISHED while it holds them
#   usage        a bad option is exit code 2
# Each test runs in network namespaces of its own.
#
# vm-timeout: 300

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043
# ns, cli and srv are set by netns_new, through eval.
# shellcheck disable=SC2154
# The functions run through ktap_test_result.
# shellcheck disable=SC2317

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib/ktap.sh
. "$here/lib/ktap.sh"
# shellcheck source=selftests/lib/toytcp.sh
. "$here/lib/toytcp.sh"
# shellcheck source=selftests/lib/netns.sh
. "$here/lib/netns.sh"

BENCH=${TOYTCP_BENCH:-/usr/bin/toytcp-bench}
IDLE_CONNS=500
tmp=$(mktemp -d)
holder=""

cleanup() {
	[ -n "$holder" ] && kill "$holder" 2>/dev/null
	netns_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	ktap_print_msg "FAIL: $*"
	return 1
}

# field NAME: the value of NAME=... in $tmp/out's result line.
field() {
	sed -n "s/^result .* $1=\([^ ]*\).*/\1/p" "$tmp/out"
}

# bench ARGS...: run the tool into $tmp/out, which must hold a result line.
bench() {
	if ! "$BENCH" "$@" >"$tmp/out" 2>"$tmp/err"; then
		fail "toytcp-bench $*: exit $?: $(cat "$tmp/err")"
		return 1
	fi
	ktap_print_msg "$(grep '^result' "$tmp/out")"
	grep -q '^result ' "$tmp/out" || { fail "no result line"; return 1; }
}

positive() {
	awk -v v="$2" 'BEGIN { exit !(v + 0 > 0) }' ||
		{ fail "$1 is '$2', not a positive number"; return 1; }
}

stream_check() {
	[ "$(field verified)" = yes ] || { fail "data not verified"; return 1; }
	[ "$(field bytes)" = "$(field sent)" ] ||
		{ fail "sent $(field sent) bytes, received $(field bytes)"; return 1; }
	positive bytes "$(field bytes)" && positive mbps "$(field mbps)"
}

# in_lo_ns CMD...: run CMD with a new namespace in $ns, deleted after.
in_lo_ns() {
	local rc=0

	netns_new ns || return 1
	"$@" || rc=1
	netns_cleanup
	return "$rc"
}

stream_lo() {
	bench -p "$1" -m stream -t 1 -V --server-ns "$ns" --client-ns "$ns" &&
		stream_check
}

stream_veth() {
	local rc=0

	netns_new cli srv &&
	veth_link "$cli" 10.0.0.1/24 "$srv" 10.0.0.2/24 || return 1
	if ! bench -p "$1" -m stream -t 1 -V -H 10.0.0.2 --server-ns "$srv" \
		   --client-ns "$cli" || ! stream_check; then
		rc=1
	fi
	netns_cleanup
	return "$rc"
}

rr() {
	bench -p "$1" -m rr -t 1 -V --server-ns "$ns" --client-ns "$ns" &&
		[ "$(field verified)" = yes ] &&
		positive transactions "$(field transactions)" &&
		positive tps "$(field tps)"
}

crr() {
	bench -p "$1" -m crr -t 1 -V --server-ns "$ns" --client-ns "$ns" &&
		[ "$(field verified)" = yes ] &&
		positive connections "$(field connections)" &&
		positive cps "$(field cps)"
}

# ESTABLISHED sockets in the namespace's /proc/net/toytcp or tcp.
established() {
	local file=toytcp

	[ "$1" = tcp ] && file=tcp
	# shellcheck disable=SC2016 # awk's $4
	in_ns "$ns" awk '$4 == "01" { n++ } END { print n + 0 }' "/proc/net/$file"
}

idle() {
	local proto="$1" n rc=0

	"$BENCH" -p "$proto" -m idle -n "$IDLE_CONNS" --hold 120 \
		--server-ns "$ns" --client-ns "$ns" >"$tmp/out" 2>"$tmp/err" &
	holder=$!
	if ! wait_until 120 grep -q '^holding' "$tmp/out"; then
		fail "not holding: $(cat "$tmp/out" "$tmp/err")"
		rc=1
	else
		ktap_print_msg "$(grep '^result' "$tmp/out")"
		n=$(established "$proto")
		ktap_print_msg "/proc/net: $n sockets ESTABLISHED"
		[ "$n" -eq $((2 * IDLE_CONNS)) ] ||
			{ fail "$n ESTABLISHED sockets, expected $((2 * IDLE_CONNS))"; rc=1; }
		if [ "$(field connections)" != "$IDLE_CONNS" ] ||
		   [ "$(field accepted)" != "$IDLE_CONNS" ] ||
		   [ "$(field established_sockets)" != $((2 * IDLE_CONNS)) ]; then
			fail "the tool counted otherwise"
			rc=1
		fi
		positive cps "$(field cps)" || rc=1
	fi
	kill -USR1 "$holder" 2>/dev/null
	wait "$holder" || { fail "toytcp-bench exit $?: $(cat "$tmp/err")"; rc=1; }
	holder=""
	return "$rc"
}

usage() {
	"$BENCH" -m bogus >/dev/null 2>&1
	[ $? -eq 2 ] || { fail "-m bogus: exit not 2"; return 1; }
	"$BENCH" -p tcp extra >/dev/null 2>&1
	[ $? -eq 2 ] || { fail "an extra argument: exit not 2"; return 1; }
}

ktap_print_header
[ -x "$BENCH" ] || ktap_skip_all "no $BENCH"
ktap_set_plan 11
ktap_test_result usage usage
for proto in tcp toytcp; do
	ktap_test_result "stream_lo_$proto" in_lo_ns stream_lo "$proto"
	ktap_test_result "stream_veth_$proto" stream_veth "$proto"
	ktap_test_result "rr_$proto" in_lo_ns rr "$proto"
	ktap_test_result "crr_$proto" in_lo_ns crr "$proto"
	ktap_test_result "idle_$proto" in_lo_ns idle "$proto"
done
ktap_finished
