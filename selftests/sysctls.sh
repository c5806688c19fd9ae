#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# net.toytcp.* sysctls: present with Linux TCP's defaults in every network
# namespace, bounded (a value out of range is EINVAL and changes nothing),
# per namespace (a write in one leaves another alone), and in effect:
#
#  - time_wait_secs=5 ends a connection's TIME-WAIT after about 5 s, while
#    the same close in a namespace left at 60 s is still in TIME-WAIT;
#  - syn_retries=1 makes connect() to a silent address fail with ETIMEDOUT
#    after one retransmission (about 3 s), not six (127 s).
#
# vm-timeout: 300

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib/ktap.sh
. "$here/lib/ktap.sh"
# shellcheck source=selftests/lib/toytcp.sh
. "$here/lib/toytcp.sh"
# shellcheck source=selftests/lib/netns.sh
. "$here/lib/netns.sh"

tmp=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$tmp"' EXIT

fail() {
	ktap_print_msg "FAIL: $*"
	return 1
}

# get NS NAME / set NS NAME VALUE
get() {
	in_ns "$1" cat "/proc/sys/net/toytcp/$2"
}

set_() {
	in_ns "$1" sh -c "echo '$3' >/proc/sys/net/toytcp/$2"
}

defaults() {
	local want name val

	for want in rto_min_ms=200 rto_max_ms=120000 delack_ms=200 \
		    syn_retries=6 synack_retries=5 retries2=15 \
		    time_wait_secs=60 fin_timeout_secs=60 \
		    keepalive_time_secs=7200 keepalive_intvl_secs=75 \
		    keepalive_probes=9 syncookies=1; do
		name=${want%%=*}
		val=$(get "$a" "$name") || { fail "no net.toytcp.$name"; return 1; }
		[ "$val" = "${want#*=}" ] || { fail "$name = $val, expected ${want#*=}"; return 1; }
	done
	val=$(get "$a" rmem | tr -s '\t ' ' ')
	[ "$val" = "4096 262144 6291456" ] || { fail "rmem = $val"; return 1; }
	val=$(get "$a" wmem | tr -s '\t ' ' ')
	[ "$val" = "4096 262144 4194304" ] || { fail "wmem = $val"; return 1; }
}

bounds() {
	local bad

	for bad in "rto_min_ms 0" "syn_retries 0" "syn_retries 256" \
		   "time_wait_secs -1" "syncookies 2" "rmem 1 2 3"; do
		# shellcheck disable=SC2086 # name and value
		if set_ "$a" $bad 2>/dev/null; then
			fail "net.toytcp.${bad% *} accepted '${bad#* }'"
			return 1
		fi
	done
	[ "$(get "$a" syn_retries)" = 6 ] || { fail "a refused write changed syn_retries"; return 1; }
	[ "$(get "$a" syncookies)" = 1 ] || { fail "a refused write changed syncookies"; return 1; }
}

per_namespace() {
	set_ "$a" time_wait_secs 5 || { fail "cannot write time_wait_secs"; return 1; }
	[ "$(get "$a" time_wait_secs)" = 5 ] || { fail "time_wait_secs did not take"; return 1; }
	[ "$(get "$b" time_wait_secs)" = 60 ] || { fail "the write reached another namespace"; return 1; }
}

# tw_count NS: connections in TIME-WAIT (06) in NS.
tw_count() {
	in_ns "$1" awk 'NR > 1 && $4 == "06" { n++ } END { print n + 0 }' /proc/net/toytcp
}

tw_gone() {
	[ "$(tw_count "$1")" = 0 ]
}

# one_connection NS PORT: a short connection over loopback in NS, which
# leaves the client (the side that closes first) in TIME-WAIT.
one_connection() {
	in_ns "$1" "$TOYTCP_TOOL" -q -w 30 recv -b 127.0.0.1 "$2" >/dev/null &
	local srv=$!

	wait_until 30 in_ns "$1" awk -v p="$(printf '%04X' "$2")" \
		'NR > 1 { split($2, a, ":"); if (a[2] == p && $4 == "0A") f = 1 } END { exit !f }' \
		/proc/net/toytcp || return 1
	in_ns "$1" "$TOYTCP_TOOL" -q -w 30 send -n 1000 127.0.0.1 "$2" >/dev/null || return 1
	wait "$srv"
}

time_wait_length() {
	local t0 t1

	one_connection "$b" 7402 || { fail "connection in b"; return 1; }
	t0=$(date +%s)
	one_connection "$a" 7401 || { fail "connection in a"; return 1; }
	[ "$(tw_count "$a")" -ge 1 ] || { fail "no TIME-WAIT in a"; return 1; }
	wait_until 20 tw_gone "$a" ||
		{ fail "TIME-WAIT in a outlived time_wait_secs=5"; return 1; }
	t1=$(date +%s)
	ktap_print_msg "TIME-WAIT in a over $((t1 - t0)) s after the connection began (time_wait_secs=5)"
	[ $((t1 - t0)) -ge 4 ] || { fail "TIME-WAIT shorter than 5 s"; return 1; }
	[ "$(tw_count "$b")" -ge 1 ] || { fail "b's TIME-WAIT (60 s) is gone too"; return 1; }
}

syn_retries() {
	local t0 t1 rc

	set_ "$a" syn_retries 1 || return 1
	# 10.9.7.2 answers nothing: a dummy device, no neighbour.
	in_ns "$a" /usr/sbin/ip link add dum0 type dummy &&
	in_ns "$a" /usr/sbin/ip addr add 10.9.7.1/24 dev dum0 &&
	in_ns "$a" /usr/sbin/ip link set dum0 up || { fail "dummy device"; return 1; }
	t0=$(date +%s)
	in_ns "$a" "$TOYTCP_TOOL" -w 60 connect 10.9.7.2 9 </dev/null >/dev/null 2>"$tmp/err"
	rc=$?
	t1=$(date +%s)
	ktap_print_msg "connect gave up after $((t1 - t0)) s: $(cat "$tmp/err")"
	[ "$rc" -ne 0 ] || { fail "connect succeeded"; return 1; }
	grep -q "Connection timed out" "$tmp/err" || { fail "not ETIMEDOUT: $(cat "$tmp/err")"; return 1; }
	# 1 s + 2 s of RTO; 6 retries would take 127 s
	[ $((t1 - t0)) -le 20 ] || { fail "took $((t1 - t0)) s"; return 1; }
}

ktap_print_header
toytcp_load || ktap_skip_all "toytcp does not load"
netns_new a b
in_ns "$a" test -d /proc/sys/net/toytcp ||
	ktap_skip_all "no /proc/sys/net/toytcp"
ktap_set_plan 5
ktap_test_result defaults defaults
ktap_test_result out_of_range_refused bounds
ktap_test_result per_namespace per_namespace
ktap_test_result time_wait_secs_in_effect time_wait_length
ktap_test_result syn_retries_in_effect syn_retries
ktap_finished
