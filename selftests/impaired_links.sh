#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Impaired links (issue 4): two network namespaces joined by veth, netem on
# both directions, one profile after another: loss, delay with jitter and
# reordering, duplication, corruption, a rate limit and a combination.
#
# For each profile, 2 MiB go each way at once (two connections: a send/recv
# pair of the toytcp tool in each direction).  The profile passes when
#  - both transfers finish within $LIMIT seconds,
#  - the receivers got exactly the pattern (recv -V) and the byte counts and
#    fnv1a64 hashes match the senders',
#  - afterwards neither namespace has a toytcp socket left other than
#    TIME-WAIT (/proc/net/toytcp),
#  - with corruption: both namespaces' InCsumErrors grew (the checksum
#    caught the damaged segments; the data still arrived intact).
# Per direction a diagnostic line gives the time, the goodput and the
# sending namespace's RetransSegs, Timeouts and FastRetrans deltas
# (/proc/net/toytcp_stat).  Each profile then runs once more over the
# kernel's TCP (-p 6) under the same netem, whose time is printed for
# comparison only.
#
# vm-timeout: 900

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
PROTO=${TOYTCP_PROTO:-253}
SIZE=2M
BYTES=2097152
# Seconds a profile's transfers may take (software emulation is slow).
LIMIT=120
ADDR_A=10.0.51.1
ADDR_B=10.0.51.2
tmp=$(mktemp -d)
pids=""
port=7100

# name|netem parameters (applied to both directions)
PROFILES="
loss1|loss 1%
loss10|loss 10%
delay_reorder|delay 20ms 10ms reorder 25% 50%
dup5|duplicate 5%
corrupt2|corrupt 2%
rate10mbit|rate 10mbit
combo|loss 3% delay 10ms 5ms reorder 25% 50% duplicate 5%
"

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

# Seconds since boot, to the hundredth.
now() {
	cut -d' ' -f1 /proc/uptime
}

file_has_line() {
	[ -s "$1" ] && [ -z "$(tail -c 1 "$1")" ]
}

# snap NS FILE: all of NS's counters.
snap() {
	in_ns "$1" cat /proc/net/toytcp_stat >"$2"
}

# delta FILE0 FILE1 NAME
delta() {
	awk -v k="$3" '$1 == k { if (FILENAME == ARGV[1]) a = $2; else b = $2 }
		END { print b - a }' "$1" "$2"
}

# Sockets other than TIME-WAIT (state 06) in NS's /proc/net/toytcp.
no_live_socks() {
	[ -z "$(in_ns "$1" awk 'NR > 1 && $4 != "06"' /proc/net/toytcp)" ]
}

# start_recv TAG NS PROTO PORT: a receiver, in the background.
start_recv() {
	local tag="$1" ns="$2" proto="$3" p="$4" n=600

	in_ns "$ns" "$TOOL" -w "$LIMIT" -p "$proto" recv -V -r "$p" \
		>"$tmp/$tag.rout" 2>"$tmp/$tag.rerr" &
	eval "rpid_$tag=\$!"
	pids="$pids $!"
	until file_has_line "$tmp/$tag.rerr"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || { fail "$tag: receiver silent"; return 1; }
		sleep 0.1
	done
	grep -q "listening on" "$tmp/$tag.rerr" ||
		{ fail "$tag: receiver: $(cat "$tmp/$tag.rerr")"; return 1; }
}

# start_send TAG NS PROTO HOST PORT: a sender, in the background; it writes
# its exit status and the time it finished to $tmp/TAG.rc and TAG.end.
start_send() {
	local tag="$1" ns="$2" proto="$3" host="$4" p="$5"

	(
		in_ns "$ns" "$TOOL" -q -w "$LIMIT" -p "$proto" send -n "$SIZE" \
			"$host" "$p" >"$tmp/$tag.sout" 2>"$tmp/$tag.serr"
		echo $? >"$tmp/$tag.rc"
		now >"$tmp/$tag.end"
	) &
	pids="$pids $!"
	eval "spid_$tag=\$!"
}

# check_dir TAG: the sender and receiver of one direction agree.
check_dir() {
	local tag="$1" rpid sent got

	eval "rpid=\$rpid_$tag"
	wait "$rpid" || { fail "$tag: receiver exit $?: $(cat "$tmp/$tag.rerr")"; return 1; }
	[ "$(cat "$tmp/$tag.rc")" = 0 ] ||
		{ fail "$tag: sender exit $(cat "$tmp/$tag.rc"): $(cat "$tmp/$tag.serr")"; return 1; }
	sent=$(cat "$tmp/$tag.sout")
	got=$(cat "$tmp/$tag.rout")
	case $sent in
	"sent $BYTES bytes fnv1a64 "*) ;;
	*) fail "$tag: sender says '$sent'"; return 1 ;;
	esac
	[ "${sent#sent }" = "${got#received }" ] ||
		{ fail "$tag: '$sent' / '$got'"; return 1; }
}

# transfer PROTO: 2 MiB A->B and B->A at once; sets $t0.  Returns non-zero
# if anything went wrong.
transfer() {
	local proto="$1" pa pb spid

	pa=$port; pb=$((port + 1)); port=$((port + 2))
	rm -f "$tmp"/*
	start_recv ab "$b" "$proto" "$pb" || return 1
	start_recv ba "$a" "$proto" "$pa" || return 1
	t0=$(now)
	start_send ab "$a" "$proto" "$ADDR_B" "$pb"
	start_send ba "$b" "$proto" "$ADDR_A" "$pa"
	for spid in "$spid_ab" "$spid_ba"; do
		wait "$spid"
	done
	check_dir ab && check_dir ba
}

# secs TAG: how long that direction took.
secs() {
	awk -v a="$t0" -v b="$(cat "$tmp/$1.end" 2>/dev/null)" \
		'BEGIN { printf "%.1f", b - a }'
}

# report_dir NAME TAG SENDER0 SENDER1 RECEIVER0 RECEIVER1 (counter files)
report_dir() {
	local name="$1" tag="$2" s0="$3" s1="$4" r0="$5" r1="$6" t

	t=$(secs "$tag")
	ktap_print_msg "profile $name $tag: $BYTES bytes in $t s," \
		"goodput $(awk -v t="$t" -v n="$BYTES" 'BEGIN { printf "%.0f", (t > 0 ? n / t / 1024 : 0) }') KB/s," \
		"RetransSegs $(delta "$s0" "$s1" RetransSegs)," \
		"Timeouts $(delta "$s0" "$s1" Timeouts)," \
		"FastRetrans $(delta "$s0" "$s1" FastRetrans)" \
		"(receiver: OfoQueued $(delta "$r0" "$r1" OfoQueued)," \
		"RcvQDrop $(delta "$r0" "$r1" RcvQDrop)," \
		"BacklogDrop $(delta "$r0" "$r1" BacklogDrop))"
}

run_profile() {
	local name="$1" netem="$2" t ns csum

	ktap_print_msg "--- $name: netem $netem"
	# shellcheck disable=SC2086 # split on purpose
	"$TC" -n "$a" qdisc replace dev veth0 root netem $netem &&
	"$TC" -n "$b" qdisc replace dev veth1 root netem $netem ||
		{ fail "tc netem $netem"; return 1; }

	snap "$a" "$tmp.a0"; snap "$b" "$tmp.b0"
	transfer "$PROTO" || return 1
	snap "$a" "$tmp.a1"; snap "$b" "$tmp.b1"
	report_dir "$name" ab "$tmp.a0" "$tmp.a1" "$tmp.b0" "$tmp.b1"
	report_dir "$name" ba "$tmp.b0" "$tmp.b1" "$tmp.a0" "$tmp.a1"
	for tag in ab ba; do
		t=$(secs "$tag")
		awk -v t="$t" -v l="$LIMIT" 'BEGIN { exit !(t <= l) }' ||
			{ fail "$tag took $t s, over $LIMIT s"; return 1; }
	done

	# Clean close: only TIME-WAIT may remain (a LAST-ACK whose final ACK
	# was lost retransmits its FIN first).
	for ns in "$a" "$b"; do
		wait_until 60 no_live_socks "$ns" || {
			fail "sockets left besides TIME-WAIT:"
			in_ns "$ns" cat /proc/net/toytcp | sed 's/^/#   /'
			return 1
		}
	done

	case $name in
	corrupt*)
		for ns in a b; do
			eval "csum=\$(delta \$tmp.${ns}0 \$tmp.${ns}1 InCsumErrors)"
			ktap_print_msg "profile $name: InCsumErrors +$csum in namespace $ns"
			[ "$csum" -gt 0 ] ||
				{ fail "no checksum error counted in namespace $ns"; return 1; }
		done
		;;
	esac

	# The kernel's TCP under the same netem, for comparison only.
	if transfer 6; then
		ktap_print_msg "profile $name over kernel TCP: ab $(secs ab) s, ba $(secs ba) s"
	else
		ktap_print_msg "profile $name over kernel TCP: failed (not asserted)"
	fi
	return 0
}

ktap_print_header
[ -x "$TOOL" ] || ktap_skip_all "no toytcp tool at $TOOL"
[ -x "$TC" ] || ktap_skip_all "no tc at $TC"
ktap_set_plan "$(echo "$PROFILES" | grep -c '|')"

# /proc/net/toytcp_stat exists once the module is loaded.
toytcp_load || { ktap_print_msg "cannot load toytcp"; exit 1; }
netns_new a b || { ktap_print_msg "netns_new failed"; exit 1; }
veth_link "$a" "$ADDR_A/24" "$b" "$ADDR_B/24" ||
	{ ktap_print_msg "veth_link failed"; exit 1; }

start=$(now)
echo "$PROFILES" | grep '|' >"$tmp.list"
while IFS='|' read -r name netem; do
	run_profile "$name" "$netem" </dev/null
	rc=$?
	for p in $pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=""
	if [ "$rc" -eq 0 ]; then
		ktap_test_pass "impaired_$name"
	else
		ktap_test_fail "impaired_$name"
	fi
done <"$tmp.list"
rm -f "$tmp".*
ktap_print_msg "all profiles: $(awk -v a="$start" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
ktap_finished
