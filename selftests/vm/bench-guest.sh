#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of "make bench" (init.sh runs it with toytcp_vm.run=bench;
# bench.sh on the host reads its output).  Every measurement runs
# toytcp-bench once per protocol, toytcp and TCP alternately (which goes
# first alternates too, so that a drift in the host's load hits both
# alike), REPS times; each run in network namespaces of its own, made for it
# and deleted after, so that no run inherits another's ports, TIME-WAIT
# sockets or memory.
#
# Measurements, in this order (the idle one first, before any run has left
# sockets to free):
#   idle         -n CONNS connections over loopback: setup rate and memory
#   stream_lo    bulk goodput over loopback
#   stream_veth  bulk goodput between two namespaces joined by veth
#   rr           1-byte request/response over loopback
#   crr          connect/request/response/close over loopback
#   loss         bulk goodput over veth with netem on the data direction:
#                delay 5ms loss 1%, and delay 5ms on the ACK direction
#                (RTT 10 ms).  GSO is off on that link (gso_max_segs 1), so
#                that netem drops single segments for both protocols, not
#                64 KiB TCP super-packets.
#
# Kernel command line (bench.sh sets it from BENCH_* in its environment):
#   toytcp_bench.seconds=N        stream, rr, crr: seconds per run (4)
#   toytcp_bench.loss_seconds=N   loss: seconds per run (15)
#   toytcp_bench.reps=N           runs per protocol and measurement (5)
#   toytcp_bench.conns=N          idle: connections (10000)
#   toytcp_bench.only=a,b         only these measurements
#   toytcp_bench.perf=1           then perf record -a -g one more stream_lo
#                                 run per protocol; perf report's top lines
#   toytcp_bench.perf_mode=M      the mode perf records: stream (default),
#                                 rr or crr, over loopback
#
# Output, one line per run:
#   bench test=NAME rep=N result mode=... proto=... KEY=VALUE...
# or, when the run failed:
#   bench test=NAME rep=N error proto=... rc=N
# and "perf: ..." lines.  Exit status: non-zero if any run failed.

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043
# ns, cli and srv are set by netns_new, through eval.
# shellcheck disable=SC2154
. /selftests/lib/toytcp.sh
. /selftests/lib/netns.sh

BENCH=/usr/bin/toytcp-bench
PERF=/usr/bin/perf

seconds=4 loss_seconds=15 reps=5 conns=10000 only="" perf=0 perf_mode=stream
# shellcheck disable=SC2013 # words, not lines
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	toytcp_bench.seconds=*) seconds=${arg#*=} ;;
	toytcp_bench.loss_seconds=*) loss_seconds=${arg#*=} ;;
	toytcp_bench.reps=*) reps=${arg#*=} ;;
	toytcp_bench.conns=*) conns=${arg#*=} ;;
	toytcp_bench.only=*) only=$(echo "${arg#*=}" | tr , ' ') ;;
	toytcp_bench.perf=*) perf=${arg#*=} ;;
	toytcp_bench.perf_mode=*) perf_mode=${arg#*=} ;;
	esac
done
all="idle stream_lo stream_veth rr crr loss"
status=0

wanted() {
	[ -z "$only" ] && return 0
	case " $only " in *" $1 "*) return 0 ;; esac
	return 1
}

# The namespaces of one run: $ns (loopback), or $cli and $srv joined by
# veth, 10.0.0.1 - 10.0.0.2.  NETEM=1 shapes the link as "loss" says.
setup_lo() {
	netns_new ns
}

setup_veth() {
	netns_new cli srv &&
	veth_link "$cli" 10.0.0.1/24 "$srv" 10.0.0.2/24 veth-cli veth-srv ||
		return 1
	[ "${NETEM:-0}" = 1 ] || return 0
	"$IP" -n "$cli" link set dev veth-cli gso_max_segs 1 &&
	"$IP" -n "$srv" link set dev veth-srv gso_max_segs 1 &&
	"$TC" -n "$cli" qdisc add dev veth-cli root netem delay 5ms loss 1% limit 10000 &&
	"$TC" -n "$srv" qdisc add dev veth-srv root netem delay 5ms limit 10000
}

# run_one TEST REP PROTO: one toytcp-bench run, its result line prefixed.
run_one() {
	local test="$1" rep="$2" proto="$3" out rc

	set -- -p "$proto"

	case "$test" in
	idle)        setup_lo && set -- "$@" -m idle -n "$conns" --server-ns "$ns" --client-ns "$ns" ;;
	stream_lo)   setup_lo && set -- "$@" -m stream -t "$seconds" --server-ns "$ns" --client-ns "$ns" ;;
	rr)          setup_lo && set -- "$@" -m rr -t "$seconds" --server-ns "$ns" --client-ns "$ns" ;;
	crr)         setup_lo && set -- "$@" -m crr -t "$seconds" --server-ns "$ns" --client-ns "$ns" ;;
	stream_veth) setup_veth && set -- "$@" -m stream -t "$seconds" -H 10.0.0.2 --server-ns "$srv" --client-ns "$cli" ;;
	loss)        NETEM=1 setup_veth && set -- "$@" -m stream -t "$loss_seconds" -H 10.0.0.2 --server-ns "$srv" --client-ns "$cli" ;;
	esac || {
		echo "bench test=$test rep=$rep error proto=$proto setup failed"
		netns_cleanup
		status=1
		return 1
	}

	rc=0
	out=$("$BENCH" "$@" 2>/tmp/bench.err) || rc=$?
	if [ "$rc" = 0 ] && [ -n "$out" ]; then
		echo "bench test=$test rep=$rep $out"
	else
		echo "bench test=$test rep=$rep error proto=$proto rc=$rc"
		sed 's/^/# /' /tmp/bench.err
		status=1
	fi
	netns_cleanup
	return "$rc"
}

# perf_report ARGS...: perf report of /tmp/perf.data without call graphs,
# headers or empty columns, each line prefixed "perf: ".
perf_report() {
	"$PERF" report -i /tmp/perf.data --stdio -g none "$@" 2>/dev/null |
		grep -v '^#' | grep -v '^ *$' |
		sed -e 's/\( *-\)* *$//' -e 's/^/perf: /'
}

# perf record of one more stream_lo run per protocol (not counted), and
# the symbols with the most samples.
run_perf() {
	local proto

	if [ ! -x "$PERF" ]; then
		echo "perf: no $PERF in the VM (BENCH_PERF=1 make bench puts it there)"
		return 0
	fi
	for proto in toytcp tcp; do
		setup_lo || return 1
		echo "perf: === $proto $perf_mode over loopback ($seconds s), perf record -a -g"
		"$PERF" record -q -a -g -o /tmp/perf.data -- \
			"$BENCH" -p "$proto" -m "$perf_mode" -t "$seconds" \
			--server-ns "$ns" --client-ns "$ns" 2>&1 | sed 's/^/perf: /'
		netns_cleanup
		echo "perf: --- self time by symbol (perf report --no-children)"
		perf_report --no-children --sort symbol --percent-limit 0.5 | head -n 40
		echo "perf: --- time including callees (perf report --children)"
		perf_report --children --sort symbol --percent-limit 3 | head -n 60
		echo "perf: --- by module (dso)"
		perf_report --no-children --sort dso --percent-limit 0.5 | head -n 12
		rm -f /tmp/perf.data
	done
}

if [ ! -x "$BENCH" ]; then
	echo "bench: no $BENCH in the VM: build tools/toytcp-bench first"
	exit 1
fi
# The module must be there: the first socket() loads it.
# shellcheck disable=SC2119 # no module parameters
toytcp_load || { echo "bench: toytcp does not load"; exit 1; }
echo "bench: kernel $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPUs," \
	"$(awk '/MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB;" \
	"seconds=$seconds loss_seconds=$loss_seconds reps=$reps conns=$conns"
echo "bench: toytcp sysctls: $(cd /proc/sys/net/toytcp 2>/dev/null && grep -H . ./* | sed 's|^\./||' | tr '\n' ' ')"
echo "bench: ip_local_port_range $(tr '\t' - </proc/sys/net/ipv4/ip_local_port_range)," \
	"tcp_congestion_control $(cat /proc/sys/net/ipv4/tcp_congestion_control)"

for test in $all; do
	wanted "$test" || continue
	rep=1
	while [ "$rep" -le "$reps" ]; do
		start=$(cut -d' ' -f1 /proc/uptime)
		if [ $((rep % 2)) = 1 ]; then
			run_one "$test" "$rep" toytcp
			run_one "$test" "$rep" tcp
		else
			run_one "$test" "$rep" tcp
			run_one "$test" "$rep" toytcp
		fi
		echo "bench: $test rep $rep took $(awk -v a="$start" -v b="$(cut -d' ' -f1 /proc/uptime)" 'BEGIN { printf "%.1f", b - a }') s"
		rep=$((rep + 1))
	done
done

[ "$perf" = 1 ] && run_perf
echo "bench: done"
exit "$status"
