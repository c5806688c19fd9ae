#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# toytcp's tracepoints through tracefs (events/toytcp/): a connection over
# loopback with 1000 bytes and a close, traced, shows
#  - toytcp_state: the client's CLOSED -> SYN-SENT -> ESTABLISHED ->
#    FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT and the server child's
#    SYN-RECEIVED -> ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED;
#  - toytcp_segment: the SYN out and in, the SYN-ACK acknowledging the SYN's
#    seq + 1, 1000 bytes of data, both FINs;
#  - toytcp_reset: a connect() to a closed port, errno 111 (ECONNREFUSED);
#  - toytcp_retransmit: a SYN to an address that never answers, sent again.
#
# vm-timeout: 200

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib/ktap.sh
. "$here/lib/ktap.sh"
# shellcheck source=selftests/lib/toytcp.sh
. "$here/lib/toytcp.sh"
# shellcheck source=selftests/lib/netns.sh
. "$here/lib/netns.sh"

T=/sys/kernel/tracing
tmp=$(mktemp -d)
trap 'echo 0 >$T/events/toytcp/enable 2>/dev/null; netns_cleanup; rm -rf "$tmp"' EXIT

fail() {
	ktap_print_msg "FAIL: $*"
	return 1
}

# trace CMD...: run CMD with the toytcp events on; the trace in $tmp/trace.
trace() {
	echo 0 >"$T/tracing_on"
	# one clock for all CPUs: with "local", events of two CPUs may come
	# out of order (the client's close and its FIN-WAIT-2 in softirq)
	echo global >"$T/trace_clock"
	: >"$T/trace"
	echo 1 >"$T/events/toytcp/enable"
	echo 1 >"$T/tracing_on"
	"$@"
	echo 0 >"$T/tracing_on"
	echo 0 >"$T/events/toytcp/enable"
	grep 'toytcp_' "$T/trace" >"$tmp/trace"
}

events_exist() {
	local e

	for e in toytcp_state toytcp_segment toytcp_retransmit toytcp_reset; do
		[ -d "$T/events/toytcp/$e" ] || { fail "no events/toytcp/$e"; return 1; }
	done
}

connection() {
	in_ns "$ns" "$TOYTCP_TOOL" -q -w 30 recv -b 127.0.0.1 7500 >/dev/null &
	local srv=$!

	wait_until 30 in_ns "$ns" grep -q ":1D4C 00000000:0000 0A" /proc/net/toytcp ||
		return 1
	in_ns "$ns" "$TOYTCP_TOOL" -q -w 30 send -n 1000 127.0.0.1 7500 >/dev/null ||
		return 1
	wait "$srv"
}

# states SRC DST: the "from->to" state changes of the socket whose local
# and remote addresses are SRC and DST (ADDR:PORT), in order.  (Not by its
# sk=: %p is hashed, and early in a boot every pointer prints the same.)
states() {
	awk -v src="src=$1" -v dst="dst=$2" '/toytcp_state:/ {
		s = d = 0
		for (i = 1; i <= NF; i++) {
			if ($i == src) s = 1
			if ($i == dst) d = 1
			if ($i ~ /^from=/) from = substr($i, 6)
			if ($i ~ /^to=/) to = substr($i, 4)
		}
		if (s && d) printf "%s->%s ", from, to
	}' "$tmp/trace"
}

traced_connection() {
	local c s cport

	trace connection || { fail "the connection failed"; return 1; }
	# the client's port: the source of the first SYN sent
	cport=$(awk '/toytcp_segment: out .* flags=SYN / { for (i = 1; i <= NF; i++) if ($i ~ /^src=/) { sub(/.*:/, "", $i); print $i; exit } }' "$tmp/trace")
	[ -n "$cport" ] || { fail "no SYN in the trace: $(head -c 2000 "$tmp/trace")"; return 1; }
	c=$(states "127.0.0.1:$cport" 127.0.0.1:7500)
	ktap_print_msg "client: $c"
	case "$c" in
	"CLOSED->SYN-SENT SYN-SENT->ESTABLISHED ESTABLISHED->FIN-WAIT-1 FIN-WAIT-1->FIN-WAIT-2 FIN-WAIT-2->TIME-WAIT ") ;;
	*) fail "client states: $c"; return 1 ;;
	esac
	s=$(states 127.0.0.1:7500 "127.0.0.1:$cport")
	ktap_print_msg "server: $s"
	case "$s" in
	"CLOSED->SYN-RECEIVED SYN-RECEIVED->ESTABLISHED ESTABLISHED->CLOSE-WAIT CLOSE-WAIT->LAST-ACK LAST-ACK->CLOSED ") ;;
	*) fail "server states: $s"; return 1 ;;
	esac

	# Segments: the SYN, the SYN-ACK acknowledging it, the data, the FINs.
	awk -v c="127.0.0.1:$cport" '
		/toytcp_segment: out/ {
			for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
			if (f["src"] == c && f["flags"] == "SYN") { syn = f["seq"] }
			if (f["dst"] == c && f["flags"] == "SYN|ACK") { synack_ack = f["ack"] }
			if (f["src"] == c) { data += f["len"] }
			if (f["flags"] ~ /FIN/) fins++
		}
		/toytcp_segment: in/ { ins++ }
		END {
			if (syn == "") { print "# no SYN out"; exit 1 }
			if (synack_ack != (syn + 1) % 4294967296) { print "# SYN-ACK ack " synack_ack ", SYN seq " syn; exit 1 }
			if (data != 1000) { print "# client data " data; exit 1 }
			if (fins != 2) { print "# " fins " FINs"; exit 1 }
			if (ins < 6) { print "# only " ins " segments in"; exit 1 }
			print "# SYN seq " syn ", SYN-ACK ack " synack_ack ", " ins " segments in"
		}' "$tmp/trace"
}

refused() {
	in_ns "$ns" "$TOYTCP_TOOL" -q -w 10 connect 127.0.0.1 7599 </dev/null >/dev/null 2>&1
	true
}

traced_reset() {
	trace refused
	grep -q 'toytcp_reset:.*dst=127.0.0.1:7599 state=SYN-SENT errno=111' "$tmp/trace" ||
		{ fail "no reset event: $(cat "$tmp/trace")"; return 1; }
}

silent() {
	in_ns "$ns" "$TOYTCP_TOOL" -q -w 3 connect 10.9.8.2 9 </dev/null >/dev/null 2>&1
	true
}

traced_retransmit() {
	in_ns "$ns" /usr/sbin/ip link add dum0 type dummy &&
	in_ns "$ns" /usr/sbin/ip addr add 10.9.8.1/24 dev dum0 &&
	in_ns "$ns" /usr/sbin/ip link set dum0 up || { fail "dummy device"; return 1; }
	trace silent
	grep -q 'toytcp_retransmit:.*dst=10.9.8.2:9 .*retransmits=' "$tmp/trace" ||
		{ fail "no retransmit event: $(cat "$tmp/trace")"; return 1; }
}

ktap_print_header
[ -d "$T/events" ] || ktap_skip_all "no tracefs at $T"
toytcp_load || ktap_skip_all "toytcp does not load"
netns_new ns
ktap_set_plan 4
ktap_test_result events_exist events_exist
ktap_test_result traced_connection traced_connection
ktap_test_result traced_reset traced_reset
ktap_test_result traced_retransmit traced_retransmit
ktap_finished
