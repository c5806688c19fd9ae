#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make bench": boot Debian's kernel in QEMU once and measure toytcp and the
# kernel's TCP side by side with the same program (tools/toytcp-bench),
# alternately, in that one boot (bench-guest.sh is the guest half and says
# what each measurement does).  Then print a table, each figure the median
# of its runs:
#
#   measurement | toytcp | TCP | ratio toytcp/TCP | target | met?
#
# and write the same as JSON: $BUILD/bench/<kernel>/bench.json (the guest's raw
# lines in results.txt beside it, the VM's logs in $BUILD/vm/<kernel>/bench/).
#
#   bench.sh            (after "make": needs tools/toytcp-bench)
#
# Environment:
#   BENCH_SECONDS=N       stream, rr and crr runs last N seconds (4)
#   BENCH_LOSS_SECONDS=N  the 1% loss runs last N seconds (15)
#   BENCH_REPS=N          runs per protocol and measurement (5)
#   BENCH_CONNS=N         idle connections (10000)
#   BENCH_ONLY=a,b        only some of: idle stream_lo stream_veth rr crr loss
#   BENCH_PERF=1          also perf record -a -g a toytcp and a TCP bulk
#                         loopback run and print perf report's top symbols
#                         (puts Debian's perf, linux-perf, in the VM)
#   BENCH_PERF_MODE=M     what BENCH_PERF records: stream (default), rr, crr
#   BENCH_SMP=N           the guest's CPUs (1).  With two, a 1-byte
#                         ping-pong crosses CPUs, and each wakeup of an
#                         emulated CPU waits for the host to schedule its
#                         thread: on a 2-core host shared with other VMs,
#                         RR measured 230-530/s with two and 2,500-4,600/s
#                         with one (same boot, same module)
#   BENCH_TIMEOUT=N       kill the VM after N seconds (default: worked out
#                         from the above)
#   TOYTCP_VM_MEM         the guest's memory (default 1G)
# Exit status: 0 if every run worked (whether targets are met or not).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
export BUILD
# KERNELS (default 6.1: one kernel) and TOYTCP_VM_ACCEL, as for demo.sh
# shellcheck source=selftests/vm/kernel-select.sh
. "$here/kernel-select.sh"
# KVER, flavour_vm
# shellcheck source=selftests/vm/flavour.sh
. "$here/flavour.sh" || exit 1
export KVER
out=$flavour_vm/bench
res=$BUILD/bench/$flavour

seconds=${BENCH_SECONDS:-4}
loss_seconds=${BENCH_LOSS_SECONDS:-15}
reps=${BENCH_REPS:-5}
smp=${BENCH_SMP:-1}
conns=${BENCH_CONNS:-10000}
only=${BENCH_ONLY:-}
perf=${BENCH_PERF:-0}
perf_mode=${BENCH_PERF_MODE:-stream}
case $perf_mode in
stream | rr | crr) ;;
*) echo "bench: BENCH_PERF_MODE must be stream, rr or crr" >&2; exit 2 ;;
esac

# measurement key unit target label: the table's rows, in order.  The
# target is on the ratio toytcp/TCP: ">=" (more is better) or "<="; "-"
# when the issue sets none.
rows='idle_mem idle bytes_per_conn bytes <= memory per idle connection, 2 sockets (MemTotal-MemFree)
idle_slab idle slab_per_conn bytes - slab per idle connection, 2 sockets
idle_rate idle cps conn/s - setup rate of the idle connections
stream_lo stream_lo mbps Mbit/s >= bulk goodput, loopback
stream_veth stream_veth mbps Mbit/s - bulk goodput, veth between two netns
rr rr tps trans/s >= 1-byte request/response, loopback
crr crr cps conn/s >= connect+request+response+close, loopback
loss loss mbps Mbit/s >= goodput over veth, delay 5ms each way, 1% loss'

# summarize RESULTS JSON: print the table, write the JSON.
summarize() {
	local results=$1 json=$2

	awk -v rows="$rows" -v json="$json" -v kver="$KVER" \
	    -v date="$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
	    -v settings="$settings_json" '
	function median(list,    a, n, i, j, t) {
		n = split(list, a, " ")
		if (n == 0)
			return ""
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] + 0 : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function fmt(v) {
		if (v == "")
			return "n/a"
		return v >= 100 ? sprintf("%.0f", v) : sprintf("%.2f", v)
	}
	function jnum(v) { return v == "" ? "null" : sprintf("%.6g", v) }
	function jlist(list,    a, n, i, s) {
		n = split(list, a, " ")
		s = ""
		for (i = 1; i <= n; i++)
			s = s (i > 1 ? ", " : "") sprintf("%.6g", a[i])
		return "[" s "]"
	}
	# bench test=NAME rep=N result mode=M proto=P k=v ...
	$1 == "bench" && $4 == "result" {
		test = substr($2, 6)
		proto = ""
		for (i = 5; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "proto")
				proto = kv[2]
			val[kv[1]] = kv[2]
		}
		for (k in val) {
			runs[test, proto, k] = runs[test, proto, k] " " val[k]
			delete val[k]
		}
		next
	}
	$1 == "bench" && $4 == "error" { errors[substr($2, 6)]++ }
	END {
		nrows = split(rows, R, "\n")
		printf "%-60s %10s %10s %8s %7s %s\n", "measurement", "toytcp", "TCP",
			"ratio", "target", "met?"
		printf "%-60s %10s %10s %8s %7s %s\n", "-----------", "------", "---",
			"-----", "------", "----"
		printf "{\n  \"kernel\": \"%s\",\n  \"date\": \"%s\",\n  \"settings\": %s,\n  \"measurements\": [\n", \
			kver, date, settings >json
		first = 1
		for (r = 1; r <= nrows; r++) {
			split(R[r], f, " ")
			name = f[1]; test = f[2]; key = f[3]; unit = f[4]; target = f[5]
			# The rest of the row (mawk has no {n} in regexps).
			label = R[r]
			for (i = 1; i <= 5; i++)
				sub(/^[^ ]+ /, "", label)
			if (!((test, "toytcp", key) in runs) && !((test, "tcp", key) in runs) &&
			    !(test in errors))
				continue
			t = median(runs[test, "toytcp", key])
			c = median(runs[test, "tcp", key])
			ratio = (t != "" && c != "" && c != 0) ? t / c : ""
			met = "-"
			if (target != "-")
				met = ratio == "" ? "n/a" : \
				      (target == ">=" ? (ratio >= 1 ? "yes" : "NO") : \
						      (ratio <= 1 ? "yes" : "NO"))
			printf "%-60s %10s %10s %8s %7s %s\n", label " (" unit ")", fmt(t), fmt(c),
				ratio == "" ? "n/a" : sprintf("%.3f", ratio),
				target == "-" ? "-" : target " 1.0", met
			printf "%s    {\"name\": \"%s\", \"label\": \"%s\", \"metric\": \"%s\", \"unit\": \"%s\", " \
				"\"toytcp\": %s, \"tcp\": %s, \"ratio\": %s, \"target\": %s, \"met\": %s, " \
				"\"runs\": {\"toytcp\": %s, \"tcp\": %s}, \"failed_runs\": %d}", \
				first ? "" : ",\n", name, label, key, unit, jnum(t), jnum(c), jnum(ratio),
				target == "-" ? "null" : "\"" target " 1.0\"",
				met == "yes" ? "true" : (met == "-" ? "null" : "false"),
				jlist(runs[test, "toytcp", key]), jlist(runs[test, "tcp", key]),
				errors[test] + 0 >json
			first = 0
		}
		printf "\n  ]\n}\n" >json
	}' "$results"
}

# Called on the last line: bash has then read the whole file first.
main() {
	local accel f rc limit start args

	accel="software emulation (TCG)"
	[ "$TOYTCP_VM_ACCEL" = kvm ] && accel=KVM

	for f in tools/toytcp-bench; do
		if [ ! -e "$top/$f" ]; then
			echo "bench: $f is missing; run \"make\" first" >&2
			exit 1
		fi
	done
	if [ "$perf" = 1 ] && [ ! -x /usr/bin/perf ]; then
		echo "bench: BENCH_PERF=1 needs Debian's linux-perf; installing it" >&2
		if [ "$(id -u)" = 0 ]; then
			apt-get install -y linux-perf >&2
		else
			sudo apt-get install -y linux-perf >&2
		fi
	fi

	args="toytcp_bench.seconds=$seconds toytcp_bench.loss_seconds=$loss_seconds"
	args+=" toytcp_bench.reps=$reps toytcp_bench.conns=$conns toytcp_bench.perf=$perf"
	args+=" toytcp_bench.perf_mode=$perf_mode"
	[ -n "$only" ] && args+=" toytcp_bench.only=$only"
	settings_json="{\"seconds\": $seconds, \"loss_seconds\": $loss_seconds, \"reps\": $reps,"
	settings_json+=" \"conns\": $conns, \"only\": \"$only\", \"accel\": \"$accel\","
	settings_json+=" \"vm_mem\": \"${TOYTCP_VM_MEM:-1G}\", \"vm_cpus\": $smp}"
	# Boot and idle runs take about 30 s each under emulation; twice
	# the estimate, at least 15 minutes.
	limit=$((2 * (120 + reps * 2 * (60 + 4 * (seconds + 5) + loss_seconds + 5)) +
		 (perf == 1 ? 300 : 0)))
	[ "$limit" -ge 900 ] || limit=900
	limit=${BENCH_TIMEOUT:-$limit}

	# One VM run at a time per build directory (see check.sh).
	mkdir -p "$BUILD/vm" "$res"
	exec 9>"$BUILD/vm/lock"
	if ! flock -n 9; then
		echo "bench: waiting for another check/demo/bench using $BUILD/vm to finish" >&2
		flock 9
	fi

	TOYTCP_VM_PERF=$perf "$here/mkinitramfs.sh"
	echo "=== booting Linux $KVER in QEMU, $accel; $smp CPU(s); toytcp and TCP alternately ($args)"
	start=$(date +%s)
	rc=0
	TOYTCP_VM_SMP=$smp "$here/run-vm.sh" -m bench -o "$out" -T "$limit" -a "$args" || rc=$?
	echo "bench: the VM ran $(($(date +%s) - start)) s"

	grep -a '^bench test=' "$out/output.log" >"$res/results.txt" || true
	grep -a '^perf: ' "$out/output.log" >"$res/perf.txt" || true
	echo
	summarize "$res/results.txt" "$res/bench.json"
	echo
	echo "bench: JSON in $res/bench.json, runs in $res/results.txt, VM logs in $out"
	[ -s "$res/perf.txt" ] && echo "bench: perf report in $res/perf.txt"

	case $rc in
	0) ;;
	1) echo "bench: some runs failed (see $out/output.log)" ;;
	*)
		echo "bench: the VM did not finish cleanly; kernel console ($out/console.log):"
		sed -n '1,/^# toytcp-vm: dmesg begin/p' "$out/console.log" | tr -d '\r' | tail -n 60
		if [ -s "$out/splats" ]; then
			echo "kernel log lines that fail a run:"
			cat "$out/splats"
		fi
		;;
	esac
	return $rc
}

main; exit $?
