#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Teardown under load (issue 4): deleting network namespaces with live
# toytcp connections and listeners frees everything; rmmod right after the
# last socket goes succeeds; unloading is impossible while a socket exists.
#
#  mid_transfer_kill_and_delete
#	Two namespaces over veth carrying bulk transfers (send/recv -V, a
#	bidirectional listen/connect pair fed from /dev/zero, an echo server
#	whose client never reads, so both ends sit with full buffers),
#	clients queued unaccepted on a listener, idle listeners in both, and
#	three connections in TIME-WAIT from short transfers.  With data
#	flowing, every process is killed with SIGKILL and both namespaces
#	deleted: toytcp must unload within seconds, not after the 60 s of
#	TIME-WAIT or FIN-WAIT-2 the orphans would otherwise wait.
#  deleted_netns_lives_while_socket_held
#	A transfer, stalled by a stopped receiver, goes on after its
#	namespaces are deleted (the processes in them keep them alive) and
#	completes with the right bytes.  A process
#	still holding a listener there keeps namespace a alive with the
#	sender's TIME-WAIT socket in it (seen in /proc/PID/net/toytcp); rmmod
#	is refused (kmod: "in use"; the kernel's delete_module():
#	EWOULDBLOCK) while it lasts.  Once that process exits, a dies, its
#	TIME-WAIT socket is purged and toytcp unloads within seconds.
#
# Each test then checks that nothing of toytcp is left (module, sysfs, slab)
# and that the kernel log since its start has no warning, leak or
# "unregister_netdevice: waiting" line (the harness also fails the whole
# run on any splat).  Times are reported as diagnostics.
#
# Needs root, toytcp.ko ($TOYTCP_KO), the tool ($TOYTCP_TOOL).  Leaves
# toytcp installed (as the VM boots) and not loaded.
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

TOOL=$TOYTCP_TOOL
A_IP=10.9.6.1
B_IP=10.9.6.2
# How long the module may stay after its last socket went.  The namespace
# dies in a workqueue (cleanup_net) and sockets are freed after an RCU grace
# period: a second or two under emulation, 15 s allowed, times the
# harness's timeout scale for a slow (debug) kernel, but always well under
# the 60 s of TIME-WAIT that an orphan not purged would hold the module.
scale=$(sed -n 's/.*toytcp_vm\.timeout_scale=\([0-9][0-9]*\).*/\1/p' /proc/cmdline 2>/dev/null)
UNLOAD_LIMIT_S=$((15 * ${scale:-1}))
[ "$UNLOAD_LIMIT_S" -le 40 ] || UNLOAD_LIMIT_S=40

tmp=$(mktemp -d)
pids=""
mark=""

cleanup() {
	local p

	for p in $pids; do
		kill -9 "$p" 2>/dev/null
	done
	netns_cleanup
	toytcp_installed || toytcp_install
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	local f

	ktap_print_msg "FAIL: $*"
	for f in "$tmp"/*.err; do
		[ -s "$f" ] && ktap_print_msg "${f##*/}: $(head -n 3 "$f")"
	done
	return 1
}

nap() {
	usleep 100000 2>/dev/null || sleep 0.1
}

now() {
	cut -d' ' -f1 /proc/uptime
}

since() {
	awk -v s="$1" '{ printf "%.2f", $1 - s }' /proc/uptime
}

# spawn NS IN OUT ERR CMD...: run CMD in namespace NS in the background,
# stdin from IN, stdout to OUT, stderr to ERR (an asynchronous command's
# stdin would be /dev/null otherwise); its pid is added to $pids and left
# in $last.  "ip netns exec" execs CMD: the pid is CMD's.
spawn() {
	local ns="$1" in="$2" out="$3" err="$4"

	shift 4
	"$IP" netns exec "$ns" "$@" <"$in" >"$out" 2>"$err" &
	last=$!
	pids="$pids $last"
}

alive() {
	kill -0 "$1" 2>/dev/null
}

module_refcount() {
	awk '$1 == "toytcp" { print $3 }' /proc/modules
}

# Lines of /proc/net/toytcp (the file, of the namespace NS or of process
# P's namespace); counts by state, st in hex as /proc/net/tcp has it.
socks_of_ns() {
	"$IP" netns exec "$1" cat /proc/net/toytcp | sed 1d
}

socks_of_pid() {
	sed 1d "/proc/$1/net/toytcp"
}

count_st() {	# count_st ST < lines
	awk -v st="$1" '$4 == st { n++ } END { print n + 0 }'
}

state_counts() {	# state_counts < lines: "01:3 0A:2 ..." (sorted)
	awk '{ n[$4]++ } END { for (k in n) print k ":" n[k] }' | sort | tr '\n' ' ' | sed 's/ $//'
}

listening_on() {	# listening_on NS PORT
	local hex

	hex=$(printf '%04X' "$2")
	socks_of_ns "$1" | awk -v p="$hex" '$4 == "0A" && $2 ~ (":" p "$") { f = 1 } END { exit !f }'
}

stat_of_ns() {	# stat_of_ns NS NAME
	"$IP" netns exec "$1" cat /proc/net/toytcp_stat | awk -v k="$2" '$1 == k { print $2 }'
}

# Kernel log lines from now on: a marker line, then everything after it.
mark_dmesg() {
	mark="toytcp-selftest-mark-$$-$1"
	echo "$mark" >/dev/kmsg
}

dmesg_clean_since_mark() {
	local bad

	bad=$(dmesg | sed -n "/$mark/,\$p" | sed 1d |
		grep -E 'WARNING|BUG|Oops|KASAN|UBSAN|leak|refcount_t|corruption|unregister_netdevice: waiting|Call Trace|blocked for more')
	[ -z "$bad" ] && return 0
	echo "$bad" | sed 's/^/# dmesg: /'
	fail "the kernel log has complaints since the test began"
}

# Earlier tests may have left connections closing (TIME-WAIT holds the
# module for 60 s): wait that out, so that the test starts unloaded.
start_unloaded() {
	local start

	toytcp_loaded || return 0
	start=$(now)
	while ! /sbin/rmmod toytcp 2>"$tmp/rmmod.err"; do
		if [ "$(since "$start" | cut -d. -f1)" -ge 90 ]; then
			fail "toytcp did not unload within 90 s before the test: $(cat "$tmp/rmmod.err")"
			return 1
		fi
		nap
	done
	ktap_print_msg "toytcp unloaded after $(since "$start") s (left over by earlier tests)"
}

# rmmod must work within UNLOAD_LIMIT_S; prints how long it took.
rmmod_soon() {
	local start="$1" what="$2"

	while ! /sbin/rmmod toytcp 2>"$tmp/rmmod.err"; do
		if [ "$(since "$start" | cut -d. -f1)" -ge "$UNLOAD_LIMIT_S" ]; then
			fail "$what: rmmod still refused after $UNLOAD_LIMIT_S s: $(cat "$tmp/rmmod.err") (refcount $(module_refcount))"
			return 1
		fi
		nap
	done
	ktap_print_msg "$what: toytcp unloaded $(since "$start") s later"
}

# rmmod must fail now: kmod says "in use", the kernel's delete_module()
# (what busybox's rmmod calls directly, no check of its own) EWOULDBLOCK.
rmmod_refused() {
	local out

	if out=$(/sbin/rmmod toytcp 2>&1); then
		fail "rmmod succeeded while a socket exists"
		return 1
	fi
	ktap_print_msg "rmmod: $out"
	echo "$out" | grep -q "in use" || { fail "rmmod's error does not say 'in use'"; return 1; }
	if out=$(busybox rmmod toytcp 2>&1); then
		fail "delete_module() succeeded while a socket exists"
		return 1
	fi
	ktap_print_msg "busybox rmmod (delete_module): $out"
	echo "$out" | grep -q "Resource temporarily unavailable" ||
		{ fail "delete_module() did not fail with EWOULDBLOCK"; return 1; }
	toytcp_loaded || { fail "toytcp is gone"; return 1; }
}

# Nothing of toytcp's may remain: no module, no sysfs dir, no slab cache.
expect_no_trace() {
	local f

	toytcp_loaded && { fail "toytcp is in /proc/modules"; return 1; }
	[ -e /sys/module/toytcp ] && { fail "/sys/module/toytcp exists"; return 1; }
	for f in /sys/kernel/slab/*toytcp* /sys/kernel/slab/*TOYTCP*; do
		[ -e "$f" ] && { fail "slab cache left: $f"; return 1; }
	done
	if grep -qi toytcp /proc/slabinfo 2>/dev/null; then
		fail "slab cache left in /proc/slabinfo"
		return 1
	fi
	return 0
}

kill_all() {
	local p

	for p in $pids; do
		kill -9 "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	pids=""
}

# --- the tests -----------------------------------------------------------

mid_transfer_kill_and_delete() {
	local a b i p ns senders="" in0 in1 refs start

	start_unloaded || return 1
	toytcp_load || { fail "could not load toytcp"; return 1; }
	netns_new a b || { fail "netns"; return 1; }
	veth_link "$a" "$A_IP/24" "$b" "$B_IP/24" || { fail "veth"; return 1; }

	# b: three receivers, a listener sending zeros and reading, an echo
	# server, an idle listener.  a: an idle listener.
	for p in 7001 7002 7003; do
		spawn "$b" /dev/null /dev/null "$tmp/recv$p.err" "$TOOL" -q recv -V "$p"
	done
	spawn "$b" /dev/zero /dev/null "$tmp/listen7100.err" "$TOOL" -q listen 7100
	spawn "$b" /dev/null /dev/null "$tmp/echo7200.err" "$TOOL" -q echo 7200
	spawn "$b" /dev/null /dev/null "$tmp/listen7300b.err" "$TOOL" -q listen 7300
	spawn "$a" /dev/null /dev/null "$tmp/listen7300a.err" "$TOOL" -q listen 7300
	for p in 7001 7002 7003 7100 7200 7300; do
		wait_until 30 listening_on "$b" "$p" || { fail "nothing listens on $p in b"; return 1; }
	done
	wait_until 30 listening_on "$a" 7300 || { fail "nothing listens on 7300 in a"; return 1; }

	# a: three senders of 100 GiB (never done here), the other end of the
	# zeros, four clients the listener on 7100 never accepts (their stdin
	# ends: they half-close), and a sender to the echo server, which
	# never reads what comes back.
	for p in 7001 7002 7003; do
		spawn "$a" /dev/null /dev/null "$tmp/send$p.err" "$TOOL" -q send -n 100G "$B_IP" "$p"
		senders="$senders $last"
	done
	spawn "$a" /dev/zero /dev/null "$tmp/connect7100.err" "$TOOL" -q connect "$B_IP" 7100
	senders="$senders $last"
	wait_until 30 sh -c "[ \$($IP netns exec $b cat /proc/net/toytcp | awk '\$4 == \"01\"' | wc -l) -ge 4 ]" ||
		{ fail "the transfers did not start"; return 1; }
	for i in 1 2 3 4; do
		spawn "$a" /dev/null /dev/null "$tmp/queued$i.err" "$TOOL" -q connect "$B_IP" 7100
	done
	spawn "$a" /dev/null /dev/null "$tmp/send7200.err" "$TOOL" -q send -n 100G "$B_IP" 7200
	senders="$senders $last"

	# Three short transfers that complete: their senders, which close
	# first, leave three connections in TIME-WAIT in a (60 s).
	for p in 7011 7012 7013; do
		spawn "$b" /dev/null /dev/null "$tmp/recv$p.err" "$TOOL" -q recv -V "$p"
		wait_until 30 listening_on "$b" "$p" || { fail "nothing listens on $p in b"; return 1; }
		"$IP" netns exec "$a" "$TOOL" -q -w 60 send -n 4k "$B_IP" "$p" >/dev/null ||
			{ fail "short transfer to $p"; return 1; }
		wait "$last" || { fail "recv $p failed"; return 1; }
	done

	# Everything set up: 9 connections from a, 3 in TIME-WAIT, a listener;
	# in b 9 connections and 3 listeners.
	wait_until 30 sh -c "[ \$($IP netns exec $a cat /proc/net/toytcp | sed 1d | wc -l) -ge 13 ]" ||
		{ fail "a has $(socks_of_ns "$a" | wc -l) sockets, want 13"; return 1; }
	[ "$(socks_of_ns "$a" | count_st 06)" = 3 ] ||
		{ fail "a: $(socks_of_ns "$a" | state_counts), want three TIME-WAIT"; return 1; }
	wait_until 30 sh -c "[ \$($IP netns exec $b cat /proc/net/toytcp | sed 1d | wc -l) -ge 12 ]" ||
		{ fail "b has $(socks_of_ns "$b" | wc -l) sockets, want 12"; return 1; }
	ktap_print_msg "a: $(socks_of_ns "$a" | state_counts)"
	ktap_print_msg "b: $(socks_of_ns "$b" | state_counts)"

	# Data is flowing, and no transfer has finished.
	in0=$(stat_of_ns "$b" InSegs)
	sleep 1
	in1=$(stat_of_ns "$b" InSegs)
	ktap_print_msg "b received $((in1 - in0)) segments in the last second"
	[ "$((in1 - in0))" -gt 0 ] || { fail "no data flows"; return 1; }
	for p in $senders; do
		alive "$p" || { fail "sender $p is done already: not mid-transfer"; return 1; }
	done
	refs=$(module_refcount)
	ktap_print_msg "module references: $refs"
	[ "${refs:-0}" -ge 25 ] || { fail "module references $refs with 25 sockets"; return 1; }

	# Now: SIGKILL everything (ip netns pids: the echo server's children
	# too), delete both namespaces.
	start=$(now)
	for ns in "$a" "$b"; do
		for p in $pids $("$IP" netns pids "$ns"); do
			kill -9 "$p" 2>/dev/null
		done
	done
	"$IP" netns del "$a" || { fail "ip netns del $a"; return 1; }
	"$IP" netns del "$b" || { fail "ip netns del $b"; return 1; }
	kill_all
	ktap_print_msg "killed and deleted in $(since "$start") s"
	rmmod_soon "$start" "after SIGKILL and ip netns del" || return 1
	expect_no_trace
}

deleted_netns_lives_while_socket_held() {
	local a b holder sender receiver start sent recvd lines rc_s rc_r port_hex

	start_unloaded || return 1
	toytcp_load || { fail "could not load toytcp"; return 1; }
	netns_new a b || { fail "netns"; return 1; }
	veth_link "$a" "$A_IP/24" "$b" "$B_IP/24" || { fail "veth"; return 1; }

	spawn "$b" /dev/null "$tmp/recv.out" "$tmp/recv.err" "$TOOL" -q -w 120 recv -V 7001
	receiver=$last
	wait_until 30 listening_on "$b" 7001 || { fail "recv did not listen"; return 1; }
	# The receiver stops: the transfer stalls half way, whatever the speed.
	kill -STOP "$receiver"
	# A socket that only its process holds: a listener nobody calls.
	spawn "$a" /dev/null /dev/null "$tmp/hold.err" "$TOOL" -q listen 7900
	holder=$last
	wait_until 30 listening_on "$a" 7900 || { fail "holder did not listen"; return 1; }
	spawn "$a" /dev/null "$tmp/send.out" "$tmp/send.err" "$TOOL" -q -w 120 send -n 32M "$B_IP" 7001
	sender=$last
	# Data waits in b's receive queue (rx_queue) and a's send queue.
	wait_until 30 sh -c "$IP netns exec $b cat /proc/net/toytcp | awk '\$4 == \"01\" && \$5 !~ /:00000000\$/ { f = 1 } END { exit !f }'" ||
		{ fail "no data arrived: b: $(socks_of_ns "$b" | state_counts)"; return 1; }

	# Delete both namespaces mid-transfer: their processes keep them.
	"$IP" netns del "$a" || { fail "ip netns del $a"; return 1; }
	"$IP" netns del "$b" || { fail "ip netns del $b"; return 1; }
	alive "$sender" || { fail "the sender is gone: $(cat "$tmp/send.err")"; return 1; }
	ktap_print_msg "namespaces deleted mid-transfer"
	kill -CONT "$receiver"

	wait "$sender"; rc_s=$?
	wait "$receiver"; rc_r=$?
	pids="$holder"
	sent=$(cat "$tmp/send.out")
	recvd=$(cat "$tmp/recv.out")
	ktap_print_msg "send: $sent (exit $rc_s) $(cat "$tmp/send.err")"
	ktap_print_msg "recv: $recvd (exit $rc_r) $(cat "$tmp/recv.err")"
	if [ "$rc_s" != 0 ] || [ "$rc_r" != 0 ]; then
		fail "the transfer failed"
		return 1
	fi
	[ "${sent#sent }" = "${recvd#received }" ] || { fail "sent and received differ"; return 1; }
	[ "$sent" = "sent 33554432 bytes fnv1a64 ${sent##* }" ] || { fail "sent '$sent'"; return 1; }

	# a lives on: the holder's listener and the sender's TIME-WAIT are there.
	wait_until 10 sh -c "sed 1d /proc/$holder/net/toytcp | awk '\$4 == \"06\"' | grep -q ." ||
		{ fail "no TIME-WAIT socket in a: $(socks_of_pid "$holder" | state_counts)"; return 1; }
	lines=$(socks_of_pid "$holder")
	ktap_print_msg "a, deleted, seen by the holder: $(echo "$lines" | state_counts)"
	[ "$(echo "$lines" | count_st 06)" = 1 ] || { fail "want one TIME-WAIT socket in a"; return 1; }
	port_hex=$(printf '%04X' 7900)
	echo "$lines" | awk -v p="$port_hex" '$4 == "0A" && $2 ~ (":" p "$") { f = 1 } END { exit !f }' ||
		{ fail "the holder's listener (port 7900) is not listed"; return 1; }
	rmmod_refused || return 1

	# The holder goes: a dies with its TIME-WAIT socket, toytcp unloads.
	start=$(now)
	kill "$holder"
	wait "$holder" 2>/dev/null
	pids=""
	rmmod_soon "$start" "after the last process left the deleted namespace" || return 1
	expect_no_trace
}

run_test() {
	local name="$1" rc

	ktap_print_msg "--- $name"
	rm -f "$tmp"/*
	mark_dmesg "$name"
	"$name"
	rc=$?
	kill_all
	netns_cleanup
	dmesg_clean_since_mark || rc=1
	case $rc in
	0) ktap_test_pass "$name" ;;
	*) ktap_test_fail "$name" ;;
	esac
}

TESTS="mid_transfer_kill_and_delete deleted_netns_lives_while_socket_held"

ktap_print_header
[ "$(id -u)" = 0 ] || ktap_skip_all "needs root (namespaces, rmmod)"
[ -e "$TOYTCP_KO" ] || ktap_skip_all "no toytcp.ko at $TOYTCP_KO"
[ -x "$TOOL" ] || ktap_skip_all "no toytcp tool at $TOOL"
# shellcheck disable=SC2086 # split into words on purpose
ktap_set_plan "$(echo $TESTS | wc -w)"
for t in $TESTS; do
	run_test "$t"
done
ktap_finished
