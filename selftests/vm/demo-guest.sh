#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of "make demo" (run by init.sh with toytcp_vm.run=demo; its
# output is what demo.sh shows).  A story in steps: the module autoloads,
# a server listens in one network namespace, a client in another connects
# over a veth pair, sends data, both close; then "toytcp ladder" draws real
# connections from their tracepoints as sequence diagrams (the normal
# case, half-close, simultaneous close, a retransmitted SYN, and the notes
# in Chinese).  To show more, add a step:
#
#	step "what this shows"
#	run COMMAND...		# echoes "$ COMMAND", then runs it
#
# Exit status: non-zero if a step that must work failed.

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043
# cli and srv are set by netns_new, through eval.
# shellcheck disable=SC2154
. /selftests/lib/toytcp.sh
. /selftests/lib/netns.sh

PORT=7777
PORT2=7778
status=0

step() {
	echo
	echo "=== $*"
}

run() {
	printf '$ %s\n' "$*"
	"$@"
}

must() {
	if ! run "$@"; then
		echo "!!! failed: $*"
		status=1
		return 1
	fi
}

# Whatever the module tells about itself: its log lines, dynamic debug,
# tracepoints, /proc files.  Each source is shown only if it exists.
enable_tracing() {
	local dd=/sys/kernel/debug/dynamic_debug/control ev=/sys/kernel/tracing/events/toytcp

	[ -w "$dd" ] && echo 'module toytcp +p' >"$dd" 2>/dev/null
	if [ -d "$ev" ]; then
		echo 1 >"$ev/enable"
		echo 1 >/sys/kernel/tracing/tracing_on
	fi
}

show_module_view() {
	local f

	echo "--- kernel log"
	dmesg | grep 'toytcp: ' | tail -n 60
	if [ -d /sys/kernel/tracing/events/toytcp ]; then
		echo "--- tracepoints (/sys/kernel/tracing/trace)"
		grep -v '^#' /sys/kernel/tracing/trace | tail -n 60
	fi
	for f in /proc/net/toytcp*; do
		[ -e "$f" ] || continue
		echo "--- $f"
		in_ns "$srv" cat "$f"
	done
}

if [ ! -x "$TOYTCP_TOOL" ] || [ ! -e "$TOYTCP_KO" ]; then
	echo "demo: need $TOYTCP_TOOL and $TOYTCP_KO: run \"make\" first"
	exit 1
fi

step "the kernel and the module (installed, not loaded yet)"
run uname -r
run /sbin/modinfo -F alias "$TOYTCP_KO"
run grep -c '^toytcp ' /proc/modules

step "socket(AF_INET, SOCK_STREAM, 253) autoloads toytcp through modprobe"
must "$TOYTCP_TOOL" info
run grep '^toytcp ' /proc/modules
enable_tracing

step "two network namespaces, client and server, joined by a veth pair"
netns_new cli srv || exit 1
trap netns_cleanup EXIT
must veth_link "$cli" 10.0.0.1/24 "$srv" 10.0.0.2/24 veth-cli veth-srv
run "$IP" -n "$cli" -br addr show dev veth-cli

step "server: toytcp listen $PORT (in the server namespace)"
in_ns "$srv" "$TOYTCP_TOOL" -w 60 listen "$PORT" >/tmp/server.out 2>/tmp/server.err &
server=$!
echo "server pid $server"
# Ready once a connection to the port is not refused: the client below
# retries instead of sleeping a fixed time.

step "client: toytcp connect 10.0.0.2 $PORT, send a line, close"
i=0
until echo "hello over IP protocol 253" |
	in_ns "$cli" "$TOYTCP_TOOL" -w 20 connect 10.0.0.2 "$PORT"; do
	i=$((i + 1))
	if [ "$i" -ge 20 ] || ! kill -0 "$server" 2>/dev/null; then
		echo "!!! client could not connect"
		status=1
		break
	fi
	sleep 0.5
done

step "server received"
wait "$server" || { echo "!!! server exited with $?"; status=1; }
run cat /tmp/server.out
cat /tmp/server.err

step "a bigger transfer: 1 MiB with a checksum (toytcp send / recv -V)"
in_ns "$srv" "$TOYTCP_TOOL" -w 60 recv -V "$PORT2" >/tmp/recv.out 2>&1 &
server=$!
i=0
until in_ns "$cli" "$TOYTCP_TOOL" -q -w 60 send -n 1M 10.0.0.2 "$PORT2"; do
	i=$((i + 1))
	if [ "$i" -ge 20 ] || ! kill -0 "$server" 2>/dev/null; then
		echo "!!! send failed"
		status=1
		break
	fi
	sleep 0.5
done
wait "$server" || { echo "!!! recv exited with $?"; status=1; }
run cat /tmp/recv.out

step "veth counters (packets that crossed the link)"
run "$IP" -n "$cli" -s link show dev veth-cli

step "what the module says (kernel log, tracepoints, /proc)"
show_module_view

# The ladders: each a real connection between the two namespaces, traced
# (toytcp ladder turns the toytcp events on, clears the trace and draws
# this connection's segments and states from it).
step "the handshake ladder: toytcp ladder traces a connection and draws it"
must "$TOYTCP_TOOL" -w 60 ladder --server-ns "$srv" --client-ns "$cli" \
	--addr 10.0.0.2 --svg /tmp/ladder.svg

step "half-close: the client shuts down its side, the server still sends"
must "$TOYTCP_TOOL" -w 60 ladder --case half-close --server-ns "$srv" \
	--client-ns "$cli" --addr 10.0.0.2

step "simultaneous close: 100 ms of delay each way (netem), both close at once"
if "$TC" -n "$cli" qdisc add dev veth-cli root netem delay 100ms &&
	"$TC" -n "$srv" qdisc add dev veth-srv root netem delay 100ms; then
	must "$TOYTCP_TOOL" -w 60 ladder --case simultaneous-close \
		--server-ns "$srv" --client-ns "$cli" --addr 10.0.0.2
	"$TC" -n "$cli" qdisc del dev veth-cli root
	"$TC" -n "$srv" qdisc del dev veth-srv root
else
	echo "(no netem here: the FINs cannot cross on loopback)"
	must "$TOYTCP_TOOL" -w 60 ladder --case simultaneous-close
fi

step "a retransmitted SYN: the listener's queue is full for a moment"
must "$TOYTCP_TOOL" -w 60 ladder --case syn-retransmit --server-ns "$srv" \
	--client-ns "$cli" --addr 10.0.0.2

step "the same ladder, notes in Chinese (--lang zh)"
must "$TOYTCP_TOOL" -w 60 ladder --lang zh --server-ns "$srv" --client-ns "$cli" \
	--addr 10.0.0.2
run ls -l /tmp/ladder.svg

step "the namespaces go away; can the module unload now?"
netns_cleanup
trap - EXIT
# Not a demo failure if it cannot yet (sockets still in TIME-WAIT hold it):
# make check's toytcp_unload is the test for that.
if /sbin/rmmod toytcp; then
	echo "toytcp unloaded"
else
	run grep '^toytcp ' /proc/modules
fi

echo
if [ "$status" -eq 0 ]; then
	echo "=== demo: all steps worked"
else
	echo "=== demo: some steps FAILED"
fi
exit "$status"
