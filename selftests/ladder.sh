#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# "toytcp ladder" (issue 6): each case runs a real connection, traced, and
# the drawing must show what RFC 9293 says happens:
#  - normal: SYN, SYN|ACK acking seq+1, ACK; data each way; the client's
#    FIN, the server's ACK, its FIN after CLOSE-WAIT (~100 ms of
#    "application" time), the last ACK; each side's states in order;
#  - half-close: the server sends data after the client's FIN (CLOSE-WAIT
#    on the server, FIN-WAIT-2 on the client meanwhile);
#  - simultaneous-close: two namespaces, a veth with 100 ms of netem delay
#    each way: both FINs cross, both sides go FIN-WAIT-1 -> CLOSING ->
#    TIME-WAIT;
#  - syn-retransmit: the listener's queue is full, the SYN is dropped and
#    sent again with the same seq about 1 s later;
# and for each the SVG is a well-formed document (tags balanced, one <svg>,
# an arrow per segment), --lang zh has 三次握手 and 四次挥手, and the saved
# trace drawn again with --trace gives the same drawing.
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

T=/sys/kernel/tracing
tmp=$(mktemp -d)
trap 'echo 0 >$T/events/toytcp/enable 2>/dev/null; netns_cleanup; rm -rf "$tmp"' EXIT

fail() {
	ktap_print_msg "FAIL: $*"
	return 1
}

show() {
	sed 's/^/# | /' "$1"
}

# ladder NAME ARGS...: run "toytcp ladder ARGS", both ends in namespace
# $ns over loopback unless ARGS name namespaces (the tool runs in the init
# namespace: "ip netns exec" would remount /sys without tracefs); output
# in $tmp/NAME.txt, SVG in $tmp/NAME.svg, trace in $tmp/NAME.trace.
ladder() {
	local name=$1 rc=0

	shift
	case "$*" in
	*--server-ns*) ;;
	*) set -- --server-ns "$ns" --client-ns "$ns" "$@" ;;
	esac
	"$TOYTCP_TOOL" -w 60 ladder --svg "$tmp/$name.svg" \
		--save-trace "$tmp/$name.trace" "$@" >"$tmp/$name.txt" 2>&1 || rc=$?
	show "$tmp/$name.txt"
	[ "$rc" -eq 0 ] || { fail "toytcp ladder $* exited $rc"; return 1; }
}

# arrows NAME: one line per arrow drawn: DIR FLAGS SEQ ACK LEN TIME_MS,
# DIR ">" client to server, "<" server to client, "x>"/"x<" if lost.
arrows() {
	awk '
		/ seq=[0-9]+ .*len=[0-9]+/ {
			dir = ""
			if (index($0, "-->|")) dir = ">"
			else if (index($0, "|<-")) dir = "<"
			else if (index($0, "--X")) dir = "x>"
			else if (index($0, "X--")) dir = "x<"
			if (dir == "") next
			match($0, /[A-Z|]+ seq=[0-9]+( ack=[0-9]+)? len=[0-9]+/)
			n = split(substr($0, RSTART, RLENGTH), f, " ")
			seq = ack = len = "-"
			for (i = 2; i <= n; i++) {
				split(f[i], kv, "=")
				if (kv[1] == "seq") seq = kv[2]
				if (kv[1] == "ack") ack = kv[2]
				if (kv[1] == "len") len = kv[2]
			}
			print dir, f[1], seq, ack, len, $1
		}' "$tmp/$1.txt"
}

# flow NAME: the arrows as one line "DIRFLAGS DIRFLAGS ..."
flow() {
	arrows "$1" | awk '{ printf "%s%s ", $1, $2 }'
}

states_are() {
	local name=$1 side=$2 want=$3 got

	got=$(grep "^$side states: " "$tmp/$name.txt")
	[ "$got" = "$side states: $want" ] ||
		{ fail "$name: $side states: '$got', want '$want'"; return 1; }
}

# svg_ok NAME: a well-formed standalone SVG with an arrow per segment.
svg_ok() {
	local f="$tmp/$1.svg" n

	[ -s "$f" ] || { fail "$1: no SVG"; return 1; }
	head -n 1 "$f" | grep -q '^<?xml version="1.0"' ||
		{ fail "$1: no XML declaration"; return 1; }
	[ "$(grep -c '<svg ' "$f")" = 1 ] || { fail "$1: not one <svg>"; return 1; }
	tail -n 1 "$f" | grep -q '^</svg>$' || { fail "$1: does not end in </svg>"; return 1; }
	# every element closed, in order
	awk '{
		s = $0
		while (match(s, /<[^>]*>/)) {
			t = substr(s, RSTART, RLENGTH); s = substr(s, RSTART + RLENGTH)
			if (t ~ /^<\?/ || t ~ /\/>$/) continue
			name = t; sub(/^<\/?/, "", name); sub(/[ >].*/, "", name)
			if (t ~ /^<\//) {
				if (d == 0 || stack[d] != name) { print "# unbalanced " t " at line " NR; bad = 1; exit }
				d--
			} else stack[++d] = name
		}
		e = $0; gsub(/&(amp|lt|gt|quot|apos|#[0-9]+);/, "", e)
		if (index(e, "&")) { print "# bad entity at line " NR; bad = 1; exit }
	} END { if (!bad && d != 0) { print "# " d " unclosed elements"; bad = 1 } exit bad }' "$f" ||
		{ fail "$1: SVG not well-formed"; return 1; }
	n=$(arrows "$1" | grep -c '^[<>]')
	[ "$(grep -c 'marker-end="url(#arrow)"' "$f")" = "$n" ] ||
		{ fail "$1: SVG has $(grep -c 'marker-end' "$f") arrows, the text $n"; return 1; }
}

normal() {
	local f syn_ack

	ladder normal --case normal || return 1
	f=$(flow normal)
	ktap_print_msg "arrows: $f"
	case "$f" in
	">SYN <SYN|ACK >ACK "*">FIN|ACK <ACK <FIN|ACK >ACK ") ;;
	*) fail "normal: arrows $f"; return 1 ;;
	esac
	syn_ack=$(arrows normal | awk '$2 == "SYN|ACK" { print $4; exit }')
	[ "$syn_ack" = 1 ] || { fail "SYN-ACK acks $syn_ack, not the SYN's seq + 1"; return 1; }
	arrows normal | awk '$1 == ">" && $5 > 0 { c = 1 } $1 == "<" && $5 > 0 { s = 1 }
		$2 ~ /FIN/ { exit } END { exit !(c && s) }' ||
		{ fail "normal: no data each way before the FINs"; return 1; }
	states_are normal client "CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT" &&
	states_are normal server "LISTEN -> SYN-RECEIVED -> ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED" ||
		return 1
	# the notes: the handshake's lessons, CLOSE-WAIT's time (~100 ms)
	for f in "server learns: the client can send" "client learns: both directions work" \
		 "server learns: the client can receive" "can only ACK the FIN" \
		 "the four-way close"; do
		tr -d '\n|' <"$tmp/normal.txt" | tr -s ' ' | grep -q "$f" ||
			{ fail "normal: no note '$f'"; return 1; }
	done
	tr -d '\n|' <"$tmp/normal.txt" | tr -s ' ' |
		grep -o "closed after [0-9.]* ms in CLOSE-WAIT" | awk '{ exit !($3 >= 90) }' ||
		{ fail "normal: no CLOSE-WAIT time of 100 ms or more"; return 1; }
	svg_ok normal
}

half_close() {
	local f

	ladder half --case half-close || return 1
	f=$(flow half)
	ktap_print_msg "arrows: $f"
	case "$f" in
	">SYN <SYN|ACK >ACK "*">FIN|ACK "*"<FIN|ACK >ACK ") ;;
	*) fail "half-close: arrows $f"; return 1 ;;
	esac
	# server data between the client's FIN and the server's FIN
	arrows half | awk '$1 == ">" && $2 ~ /FIN/ { fin = 1 }
		$1 == "<" && $2 ~ /FIN/ { exit }
		fin && $1 == "<" && $5 > 0 { data = 1 } END { exit !data }' ||
		{ fail "half-close: no server data after the client's FIN"; return 1; }
	states_are half client "CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT" &&
	states_are half server "LISTEN -> SYN-RECEIVED -> ESTABLISHED -> CLOSE-WAIT -> LAST-ACK -> CLOSED" ||
		return 1
	tr -d '\n|' <"$tmp/half.txt" | tr -s ' ' | grep -q "data after the FIN" ||
		{ fail "half-close: no half-close note"; return 1; }
	svg_ok half
}

simultaneous_close() {
	local f cli srv

	netns_new cli srv || return 1
	veth_link "$cli" 10.0.6.1/24 "$srv" 10.0.6.2/24 veth-c veth-s || return 1
	# 100 ms each way: the second close comes long before the first FIN
	"$TC" -n "$cli" qdisc add dev veth-c root netem delay 100ms &&
	"$TC" -n "$srv" qdisc add dev veth-s root netem delay 100ms ||
		{ fail "netem"; return 1; }
	ladder simul --case simultaneous-close --server-ns "$srv" --client-ns "$cli" \
		--addr 10.0.6.2 || return 1
	f=$(flow simul)
	ktap_print_msg "arrows: $f"
	case "$f" in
	">SYN <SYN|ACK >ACK "*) ;;
	*) fail "simultaneous-close: arrows $f"; return 1 ;;
	esac
	# both FINs were sent before either arrived (the two rows carry
	# FIN-WAIT-1 at the sender): states say it
	states_are simul client "CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> CLOSING -> TIME-WAIT" &&
	states_are simul server "LISTEN -> SYN-RECEIVED -> ESTABLISHED -> FIN-WAIT-1 -> CLOSING -> TIME-WAIT" ||
		return 1
	[ "$(arrows simul | grep -c '^> FIN')" = 1 ] && [ "$(arrows simul | grep -c '^< FIN')" = 1 ] ||
		{ fail "simultaneous-close: not one FIN each way"; return 1; }
	tr -d '\n|' <"$tmp/simul.txt" | tr -s ' ' | grep -q "the FINs crossed" ||
		{ fail "simultaneous-close: no note on the crossing"; return 1; }
	svg_ok simul
}

syn_retransmit() {
	local f

	ladder synrtx --case syn-retransmit || return 1
	f=$(flow synrtx)
	ktap_print_msg "arrows: $f"
	case "$f" in
	">SYN >SYN <SYN|ACK >ACK "*">FIN|ACK <ACK <FIN|ACK >ACK ") ;;
	*) fail "syn-retransmit: arrows $f"; return 1 ;;
	esac
	# same seq, 0.8 to 3 s apart (the initial RTO is 1 s)
	arrows synrtx | awk '$2 == "SYN" { seq[++n] = $3; t[n] = $6 }
		END {
			printf "# SYNs: seq %s at %s ms, seq %s at %s ms\n", seq[1], t[1], seq[2], t[2]
			exit !(n == 2 && seq[1] == seq[2] && t[2] - t[1] >= 800 && t[2] - t[1] <= 3000)
		}' || { fail "syn-retransmit: the two SYNs"; return 1; }
	tr -d '\n|' <"$tmp/synrtx.txt" | tr -s ' ' | grep -q "accept queue is full" ||
		{ fail "syn-retransmit: no note on the dropped SYN"; return 1; }
	states_are synrtx client "CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT" ||
		return 1
	svg_ok synrtx
}

chinese() {
	ladder zh --lang zh || return 1
	grep -q '三次握手' "$tmp/zh.txt" && grep -q '四次挥手' "$tmp/zh.txt" ||
		{ fail "no 三次握手 / 四次挥手"; return 1; }
	grep -q '服务器得知' "$tmp/zh.txt" && grep -q 'CLOSE-WAIT' "$tmp/zh.txt" ||
		{ fail "no Chinese notes"; return 1; }
	grep -q '三次握手' "$tmp/zh.svg" && grep -q '四次挥手' "$tmp/zh.svg" ||
		{ fail "no 三次握手 / 四次挥手 in the SVG"; return 1; }
	svg_ok zh
}

# The saved trace drawn again: the same picture, from the trace alone.
replay() {
	[ -s "$tmp/normal.trace" ] || { fail "no saved trace"; return 1; }
	"$TOYTCP_TOOL" ladder --trace "$tmp/normal.trace" --case normal \
		--svg "$tmp/replay.svg" >"$tmp/replay.txt" || { fail "--trace failed"; return 1; }
	grep -v '^SVG: ' "$tmp/normal.txt" >"$tmp/a" && grep -v '^SVG: ' "$tmp/replay.txt" >"$tmp/b"
	cmp -s "$tmp/a" "$tmp/b" || { fail "the replayed drawing differs"; diff "$tmp/a" "$tmp/b" | show /dev/stdin; return 1; }
	cmp -s "$tmp/normal.svg" "$tmp/replay.svg" || { fail "the replayed SVG differs"; return 1; }
}

ktap_print_header
[ -d "$T/events" ] || ktap_skip_all "no tracefs at $T"
toytcp_load || ktap_skip_all "toytcp does not load"
netns_new ns
ktap_set_plan 6
ktap_test_result normal normal
ktap_test_result half_close half_close
ktap_test_result simultaneous_close simultaneous_close
ktap_test_result syn_retransmit syn_retransmit
ktap_test_result chinese chinese
ktap_test_result replay replay
ktap_finished
