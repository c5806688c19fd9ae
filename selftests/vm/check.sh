#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make check": the selftests in QEMU, on each kernel.  Prints one KTAP
# document, then the last line "N passed, N failed, N skipped" over all
# kernels; exits non-zero if anything failed.
#
#   check.sh [TEST...]
#
# TEST names a test as /selftests/MANIFEST does (foo, foo.sh); default:
# all of them.  The environment can say the same: TESTS="foo,bar".
# SELFCHECK=0 skips the harness self-check boots (quicker when iterating).
# KERNELS="6.1 6.12 sid" (the default) says which stock Debian kernels
# (scripts/kernels.sh: Debian 12's, Debian 13's, the newest sid ships);
# FLAVOURS="stock debug" (the default) whether those and the debug kernel:
#   stock  each of $KERNELS, as a test machine runs it; its root fetched
#          or updated and toytcp built for it with its release's compiler
#          ("kernels.sh prepare/build"; a failure is a failed result,
#          <name>/kernel_fetch or <name>/build)
#   debug  a 6.1 kernel with KASAN, lockdep, kmemleak and more, built once
#          per machine by scripts/debug-kernel.sh ("make debug-modules"
#          builds it, toytcp.ko and the helper modules; check.sh runs
#          that).  If it cannot be built, that is a failed result,
#          debug/kernel_build.
# Each kernel is a unit of work, and all start at once; their boots share
# TOYTCP_CHECK_JOBS (default 2) guest slots, a debug-kernel boot (the
# longest path: its build, then its slower suite) before a stock one.  A
# kernel's tests are split across TOYTCP_CHECK_SHARDS_DEBUG (default 3)
# or TOYTCP_CHECK_SHARDS (stock, default 2) boots by what they take
# (durations).  The suite is partly timers, and slots keep both cores
# busy to the end.  Each unit's results are
# kept and the document is printed when all are done, kernels in the
# order above; progress goes to stderr meanwhile.  The accelerator
# (scripts/vm-accel.sh: KVM only if it is shown to run a guest) is chosen
# once, TOYTCP_VM_ACCEL=kvm|tcg forces it.
#
# For each kernel, these boots:
#  1. the harness self-check: a test that fails on purpose (and one that
#     passes and one that skips), one that hangs past its timeout, and a
#     kernel WARNING; the runner must report each of them and fail.  Their
#     verdicts are the kernel's first three results:
#     harness_detects_failed_test, harness_detects_test_timeout,
#     harness_detects_kernel_warning.
#  2. (debug only) the checkers' self-check: a module that leaks memory,
#     takes two locks in both orders and calls might_sleep() with
#     preemption off; kmemleak's scan after the last test, lockdep and
#     DEBUG_ATOMIC_SLEEP must each be reported, and the run fail:
#     harness_detects_memory_leak, harness_detects_lock_inversion,
#     harness_detects_sleep_in_atomic.
#  3. the tests, in one boot or several ("shards"); with several, what
#     belongs to a boot is named by it: debug/shard2/guest_kernel_clean.
# Every result's name starts with its kernel's: stock-6.1/bind,
# stock-6.12/bind, stock-7.2/bind, debug/bind.
# Logs: build/vm/<id>/{selfcheck,run}/ (console.log, output.log...),
# build/vm/<id>/report (the unit's results), build/kernels/<id>/build.log,
# build/debug/build.log (the debug build).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
export BUILD
# Each kernel's release comes from flavour.sh, not from the environment.
unset KVER

tests=${TESTS:-}
if [ $# -gt 0 ]; then
	tests=$(IFS=,; echo "$*")
fi
selfcheck=${SELFCHECK:-1}
flavours=${FLAVOURS:-stock debug}
kernels=${KERNELS:-$("$top/scripts/kernels.sh" list)}
njobs=${TOYTCP_CHECK_JOBS:-2}
# How many boots a kernel's tests are split across (check the durations
# file for what a test costs): the debug kernel's suite is the longest path.
debug_shards=3 stock_shards=2
case "$njobs" in
[1-9] | [1-9][0-9]) ;;
*) echo "check: TOYTCP_CHECK_JOBS must be a number from 1 to 99, not '$njobs'" >&2; exit 2 ;;
esac

# The whole document's counts, and the number of the last result printed.
num=0 npassed=0 nfailed=0 nskipped=0
all_failed="" all_skipped=""

# result ok|fail NAME [DIRECTIVE]: one top-level result of our own.
result() {
	num=$((num + 1))
	if [ "$1" = ok ]; then
		echo "ok $num $2${3:+ # $3}"
		npassed=$((npassed + 1))
	else
		echo "not ok $num $2${3:+ # $3}"
		nfailed=$((nfailed + 1))
		all_failed+="$2"$'\n'
	fi
}

# The flavour's variables (flavour.sh) in a subshell: print one of them.
flavour_var() {
	(
		# shellcheck disable=SC2030 # only for flavour.sh, here
		TOYTCP_VM_FLAVOUR=$1
		# shellcheck source=selftests/vm/flavour.sh
		. "$here/flavour.sh" >/dev/null 2>&1 || exit 1
		eval "echo \"\$$2\""
	)
}

# list_tests MANIFEST: the tests the guest runs for $tests, by the names
# it reports them under, as init.sh's select_tests picks them: the named
# tests (foo or foo.sh; an unknown one is reported as failed), or every
# test of the "main" group; then vm/toytcp_unload.sh unless named already.
list_tests() {
	awk -v want="$tests" '
		BEGIN { n = split(want, w, ",") }
		{ group[$2] = $1; order[++m] = $2 }
		END {
			post = ("vm/toytcp_unload.sh" in group)
			for (i = 1; i <= n; i++) {
				name = w[i]
				if (!(name in group) && ((name ".sh") in group))
					name = name ".sh"
				if (name == "vm/toytcp_unload.sh")
					post = 0
				printf "%s ", name
			}
			for (i = 1; n == 0 && i <= m; i++)
				if (group[order[i]] == "main")
					printf "%s ", order[i]
			if (post)
				printf "vm/toytcp_unload.sh"
			print ""
		}' "$1"
}

# run_boot DIR PREFIX EXPECTED [run-vm.sh args]
#
# Boot once (in the flavour of $TOYTCP_VM_FLAVOUR); print its results as
# they come, numbered on from $num and named PREFIX..., what belongs to the
# boot itself (vm_run_complete...) PREFIX$boot_name..., then (on failure)
# the console log.  EXPECTED: the tests the guest will run (list_tests),
# reported as not run if the guest dies before it lists them itself.  Sets
# boot_pass, boot_fail, boot_skip and advances $num.  Returns non-zero if
# anything failed.
run_boot() {
	local dir=$1 prefix=$2 expect=$3 n

	shift 3
	mkdir -p "$dir"
	"$here/run-vm.sh" -o "$dir" "$@" |
		awk -f "$here/ktap-report.awk" \
			-v offset="$num" -v prefix="$prefix" -v expect="$expect" \
			-v boot="$boot_name" \
			-v endfile="$dir/end" -v splats="$dir/splats" \
			-v elapsed="$dir/elapsed" -v summary="$dir/summary" \
			-v faillist="$dir/failed" -v skiplist="$dir/skipped" ||
		true	# the verdict is in $dir/summary
	read -r boot_pass boot_fail boot_skip n <"$dir/summary"
	num=$((num + n))
	if [ "$boot_fail" -gt 0 ]; then
		print_console "$dir/console.log"
	fi
	[ "$boot_fail" -eq 0 ]
}

# The kernel console of a failed run, as diagnostics: what the console
# showed live (init's messages, warnings, a panic), then the kernel log
# from the start of /init on.  The boot messages before it are in the file.
print_console() {
	local qemu_log=${1%/*}/qemu.log

	if [ -s "$qemu_log" ]; then
		echo "# QEMU said ($qemu_log):"
		sed 's/^/# | /' "$qemu_log"
	fi
	echo "# console log ($1; kernel log from /init on):"
	tr -d '\r' <"$1" | awk '
		/^# toytcp-vm: dmesg begin/ { dump = 1; next }
		/^# toytcp-vm: dmesg end/ { dump = 0; next }
		dump && /Run \/init as init process/ { show = 1 }
		!dump || show' | sed 's/^/# | /'
}

# harness_selfcheck FLAVOUR NAME: the self-check boot; prints its three
# results, named NAME/...
harness_selfcheck() {
	local u=$1 f=$2 dir report rc=0 ok1=0 ok2=0 ok3=0 save_num=$num counts

	dir=$(flavour_var "$u" flavour_vm)/selfcheck
	set +e
	# It ends in a panic: kmemleak's scans (debug) would be wasted time.
	report=$(run_boot "$dir" "$f/" "" -a toytcp_vm.kmemleak=off \
		-t vm/selfcheck_results,vm/selfcheck_hang.sh,vm/selfcheck_warn.sh 2>&1)
	rc=$?
	set -e
	num=$save_num	# run_boot ran in a subshell; its results are not ours
	echo "$report" >"$dir/report"
	counts=$(cut -d' ' -f1-3 "$dir/summary" 2>/dev/null || true)

	# One pass, the skip not counted as a pass, the failure and the
	# timeout reported, and the crash: selfcheck_warn (no result),
	# vm_run_complete, guest_kernel_clean.  toytcp_unload never ran.
	if [ "$rc" -ne 0 ] &&
	   grep -q '^    not ok [0-9]* global.fails_on_purpose$' <<<"$report" &&
	   grep -q '^    ok [0-9]* # SKIP skipped on purpose$' <<<"$report" &&
	   grep -q "^not ok [0-9]* $f/vm/selfcheck_results\$" <<<"$report" &&
	   [ "$counts" = "1 5 2" ]; then
		ok1=1
	fi
	if grep -q "^not ok [0-9]* $f/vm/selfcheck_hang.sh # TIMEOUT" <<<"$report"; then
		ok2=1
	fi
	if [ "$rc" -ne 0 ] &&
	   grep -q '^# kernel: .*WARNING: .*toytcp_vm_warn' <<<"$report" &&
	   grep -q "^not ok [0-9]* $f/guest_kernel_clean\$" <<<"$report" &&
	   grep -q "^not ok [0-9]* $f/vm_run_complete\$" <<<"$report" &&
	   grep -q "^not ok [0-9]* $f/vm/selfcheck_warn.sh\$" <<<"$report"; then
		ok3=1
	fi

	if [ $((ok1 + ok2 + ok3)) -lt 3 ]; then
		# Show what the runner said, so that the harness can be fixed.
		echo "# $f selfcheck (passed, failed, skipped: $counts; want 1 5 2):"
		sed 's/^/# selfcheck: /' <<<"$report"
	fi
	result "$( [ $ok1 = 1 ] && echo ok || echo fail)" "$f/harness_detects_failed_test"
	result "$( [ $ok2 = 1 ] && echo ok || echo fail)" "$f/harness_detects_test_timeout"
	result "$( [ $ok3 = 1 ] && echo ok || echo fail)" "$f/harness_detects_kernel_warning"
}

# The debug kernel's checkers, which report and let the kernel run on:
# their reports alone must fail the run.  Prints three results.
checkers_selfcheck() {
	local u=$1 f=$2 dir report rc=0 ok1=0 ok2=0 ok3=0 save_num=$num

	dir=$(flavour_var "$u" flavour_vm)/selfcheck-checkers
	set +e
	report=$(run_boot "$dir" "$f/" "" -t vm/selfcheck_checkers.sh 2>&1)
	rc=$?
	set -e
	num=$save_num
	echo "$report" >"$dir/report"

	# The run must fail on the kernel log alone: the module loaded, the
	# guest finished, only guest_kernel_clean failed.
	if [ "$rc" -ne 0 ] &&
	   grep -q "^ok [0-9]* $f/vm/selfcheck_checkers.sh\$" <<<"$report" &&
	   grep -q "^ok [0-9]* $f/vm_run_complete\$" <<<"$report" &&
	   grep -q "^not ok [0-9]* $f/guest_kernel_clean\$" <<<"$report"; then
		# kmemleak's report, printed by init.sh after the scans, names
		# the function that allocated.
		if grep -q '^unreferenced object' "$dir/splats" &&
		   tr -d '\r' <"$dir/console.log" |
		   sed -n '/toytcp-vm: kmemleak report:/,$p' | grep -q toytcp_vm_bugs_leak; then
			ok1=1
		fi
		grep -q 'WARNING: possible circular locking dependency' "$dir/splats" && ok2=1
		grep -q 'BUG: sleeping function called from invalid context' "$dir/splats" && ok3=1
	fi

	if [ $((ok1 + ok2 + ok3)) -lt 3 ]; then
		echo "# $f checkers selfcheck:"
		sed 's/^/# selfcheck: /' <<<"$report"
	fi
	result "$( [ $ok1 = 1 ] && echo ok || echo fail)" "$f/harness_detects_memory_leak"
	result "$( [ $ok2 = 1 ] && echo ok || echo fail)" "$f/harness_detects_lock_inversion"
	result "$( [ $ok3 = 1 ] && echo ok || echo fail)" "$f/harness_detects_sleep_in_atomic"
}

# The debug kernel (built once per machine), toytcp.ko and the helper
# modules for it.  Fails with the end of the log on stdout.
build_debug() {
	local log=$BUILD/debug/build.log start rc=0

	mkdir -p "$BUILD/debug"
	start=$(date +%s)
	if ! "$top/scripts/debug-kernel.sh" --kdir >/dev/null 2>&1; then
		echo "# check: building the debug kernel, once per machine (about 20 minutes on 2 cores; log: $log)" >&2
	fi
	make -C "$top" --no-print-directory BUILD="$BUILD" debug-modules >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "# check: the debug build failed after $(($(date +%s) - start)) s" >&2
		echo "# make debug-modules failed (exit $rc); the end of $log:"
		tail -n 40 "$log" | sed 's/^/# | /'
		return "$rc"
	fi
	echo "# check: debug kernel and modules ready after $(($(date +%s) - start)) s" >&2
}

# run_unit UNIT: everything one kernel does (6.1, 6.12, sid or debug):
# prepare and build, make the initramfs, the self-check boots, the tests.
# Prints its results numbered from 1 (main() renumbers them), and writes
# "PASSED FAILED SKIPPED RESULTS" to build/vm/UNIT/counts and the names
# of failed and skipped cases to .../failed and .../skipped.
run_unit() {
	local u=$1 f vm diag blocked=0

	vm=$BUILD/vm/$u
	mkdir -p "$vm"
	: >"$vm/failed"
	: >"$vm/skipped"
	# shellcheck disable=SC2031 # for run-vm.sh and mkinitramfs.sh
	export TOYTCP_VM_FLAVOUR=$u
	f=stock-$u
	if [ "$u" = debug ]; then
		f=debug
		if ! diag=$(build_debug); then
			echo "$diag" | sed 's/^\([^#]\)/# \1/'
			result fail "$f/kernel_build"
			blocked=1
		fi
	elif ! diag=$("$top/scripts/kernels.sh" prepare "$u" 2>&1 >/dev/null); then
		echo "$diag" | sed 's/^/# /'
		result fail "$f/kernel_fetch"
		blocked=1
	else
		[ -z "$diag" ] || echo "$diag" >&2
		f=$(flavour_var "$u" flavour_name)
		echo "# $f: kernel $(flavour_var "$u" KVER), built with its release's compiler"
		if diag=$("$top/scripts/kernels.sh" build "$u" 2>&1 >/dev/null); then
			result ok "$f/build"
		else
			echo "$diag" | sed 's/^/# /'
			result fail "$f/build"
			blocked=1
		fi
		# DKMS as that release's users run it (host side, no VM).
		if diag=$("$top/selftests/host/dkms_build.sh" "$u" 2>&1); then
			echo "$diag" | sed 's/^/# /'
			result ok "$f/dkms_build"
		else
			echo "$diag" | sed 's/^/# /'
			result fail "$f/dkms_build"	# the VM can run all the same
		fi
	fi
	if [ "$blocked" = 0 ]; then
		if ! diag=$("$here/mkinitramfs.sh" 2>&1); then
			echo "$diag" | sed 's/^/# /'
			result fail "$f/initramfs"
			blocked=1
		else
			echo "$diag" >&2
		fi
	fi
	if [ "$blocked" = 0 ]; then
		run_boots "$u" "$f"
	fi
	grep . <<<"$all_failed" >>"$vm/failed" || true
	echo "$npassed $nfailed $nskipped $num" >"$vm/counts"
}

# shards UNIT: how many boots the unit's tests are split across.
shards() {
	local n

	if [ "$1" = debug ]; then
		n=${TOYTCP_CHECK_SHARDS_DEBUG:-$debug_shards}
	else
		n=${TOYTCP_CHECK_SHARDS:-$stock_shards}
	fi
	case "$n" in
	[1-9]) echo "$n" ;;
	*) echo "check: shards must be a number from 1 to 9, not '$n'" >&2; echo 1 ;;
	esac
}

# split_tests N COLUMN TEST...: the tests in N shards, one line each,
# comma separated, each in the manifest's order.  Longest first, each to
# the shard with the least so far, by the seconds in $here/durations
# (COLUMN 2: a stock kernel, 3: the debug kernel; measured, see there); a
# test missing there counts 60 s.
split_tests() {
	local n=$1 col=$2

	shift 2
	awk -v n="$n" -v col="$col" -v list="$*" '
		NR == FNR { if ($1 !~ /^#/ && NF >= 3) secs[$1] = $col; next }
		END {
			m = split(list, t, " ")
			for (i = 1; i <= m; i++) {
				w[i] = (t[i] in secs) ? secs[t[i]] + 0 : 60
				idx[i] = i
			}
			# longest first (insertion sort: a few dozen tests)
			for (i = 2; i <= m; i++)
				for (j = i; j > 1 && w[idx[j]] > w[idx[j - 1]]; j--) {
					k = idx[j]; idx[j] = idx[j - 1]; idx[j - 1] = k
				}
			for (i = 1; i <= m; i++) {
				best = 1
				for (k = 2; k <= n; k++)
					if (load[k] < load[best])
						best = k
				load[best] += w[idx[i]]
				shard[idx[i]] = best
			}
			for (k = 1; k <= n; k++) {
				line = ""
				for (i = 1; i <= m; i++)
					if (shard[i] == k)
						line = line (line == "" ? "" : ",") t[i]
				print line
			}
		}' "$here/durations" /dev/null
}

# acquire_slot: wait for one of the $njobs guest slots and hold it (fd 7)
# until this (sub)shell closes it or exits: at most $njobs guests run at
# once, over all units.  Boots of the debug kernel, the longest path, go
# first: a stock boot waits while one of them is waiting.
acquire_slot() {
	local i waiting=$BUILD/vm/slots/waiting.$BASHPID

	mkdir -p "$BUILD/vm/slots"
	[ "$TOYTCP_VM_FLAVOUR" = debug ] && : >"$waiting"
	while :; do
		if [ "$TOYTCP_VM_FLAVOUR" = debug ] ||
		   ! compgen -G "$BUILD/vm/slots/waiting.*" >/dev/null; then
			for ((i = 1; i <= njobs; i++)); do
				exec 7>"$BUILD/vm/slots/slot.$i"
				if flock -n 7; then
					rm -f "$waiting"
					return 0
				fi
				exec 7>&-
			done
		fi
		sleep 1
	done
}

# part NAME COMMAND...: run COMMAND (a boot and its results) in the
# background, in a guest slot, as one part of the unit: its results,
# numbered from 1, to $parts/NAME.ktap, "PASSED FAILED SKIPPED RESULTS" to
# NAME.counts, the failed and the skipped cases' names to NAME.failed and
# NAME.skipped.
part() {
	local name=$1

	shift
	(
		num=0 npassed=0 nfailed=0 nskipped=0 all_failed="" all_skipped=""
		acquire_slot
		"$@" >"$parts/$name.ktap"
		echo "$npassed $nfailed $nskipped $num" >"$parts/$name.counts"
		printf '%s' "$all_failed" >"$parts/$name.failed"
		printf '%s' "$all_skipped" >"$parts/$name.skipped"
	) &
	part_pids+=("$!")
}

# shard_boot DIR BOOT EXPECTED LIST: boot once for the tests in LIST
# (comma separated) and count what it reported.
shard_boot() {
	local dir=$1 boot_pass boot_fail boot_skip

	boot_name=$2
	run_boot "$dir" "$f/" "$3" -t "$4" || true
	npassed=$boot_pass nfailed=$boot_fail nskipped=$boot_skip
	all_failed=$(cat "$dir/failed")
	all_skipped=$(cat "$dir/skipped")
}

# renumber OFFSET FILE: FILE's results with OFFSET added to their numbers;
# the rest of each line as it was.
renumber() {
	awk -v off="$1" '
		match($0, /^(not )?ok [0-9]+/) {
			head = substr($0, 1, RLENGTH)
			rest = substr($0, RLENGTH + 1)
			n = head
			sub(/^(not )?ok /, "", n)
			sub(/[0-9]+$/, "", head)
			$0 = head (n + off) rest
		}
		{ print }' "$2"
}

# run_boots UNIT NAME: the unit's self-check boots and its tests, split
# across $(shards UNIT) boots, each in a guest slot as one comes free; the
# results in that order, whenever they finished.
run_boots() {
	local u=$1 f=$2 expected list post="" npost=0 refs="" want n k p fl sk
	local parts=$vm/parts names=() lists=() boot_name="" part_pids=()

	rm -rf "$parts"
	mkdir -p "$parts"
	expected=$(list_tests "$vm/initramfs/selftests/MANIFEST")
	list=""
	for n in $expected; do
		if [ "$n" = vm/toytcp_unload.sh ]; then
			post=$n npost=1
		elif [ "$u" = debug ] && [ -z "$tests" ] && [[ $n = *_tcp_reference.sh ]]; then
			# They run the tests against the kernel's own TCP,
			# checking the expectations, not toytcp; the stock
			# kernels run them.  Named in TESTS, they run here too.
			refs+=" $n"
		else
			list+=" $n"
		fi
	done
	expected="$list $post"
	[ -z "$refs" ] ||
		echo "# $f: not on this kernel (they test the kernel's TCP, the stock kernels run them):$refs"
	n=$(shards "$u")
	# shellcheck disable=SC2086 # one word per test
	mapfile -t lists < <(split_tests "$n" "$([ "$u" = debug ] && echo 3 || echo 2)" $list |
			     grep .)
	want=$((num + $(wc -w <<<"$list")))
	if [ "$selfcheck" = 1 ]; then
		part selfcheck harness_selfcheck "$u" "$f"
		names+=(selfcheck)
		want=$((want + 3))
		if [ "$u" = debug ]; then
			part checkers checkers_selfcheck "$u" "$f"
			names+=(checkers)
			want=$((want + 3))
		fi
	fi
	if [ "${#lists[@]}" -le 1 ]; then
		part run shard_boot "$vm/run" "" "$expected" "${lists[0]:-$post}"
		names+=(run)
		want=$((want + npost + 2))
	else
		for ((k = 1; k <= ${#lists[@]}; k++)); do
			part "shard$k" shard_boot "$vm/shard$k" "shard$k/" \
				"$(tr , ' ' <<<"${lists[k - 1]}") $post" "${lists[k - 1]}"
			names+=("shard$k")
			want=$((want + npost + 2))
		done
		echo "# $f: tests in ${#lists[@]} boots: $(IFS=' '; echo "${lists[*]}" | sed 's/ /; /g')"
	fi
	# Not a bare "wait": it would wait for main's process substitution
	# on this unit's stderr too, which lasts as long as the unit.
	wait "${part_pids[@]}" || true
	for n in "${names[@]}"; do
		if [ ! -r "$parts/$n.counts" ]; then
			echo "# check: $f's boot $n gave no count"
			result fail "$f/$n"
			continue
		fi
		read -r p fl sk k <"$parts/$n.counts"
		renumber "$num" "$parts/$n.ktap"
		num=$((num + k))
		npassed=$((npassed + p)) nfailed=$((nfailed + fl))
		nskipped=$((nskipped + sk))
		all_failed+=$(cat "$parts/$n.failed")$'\n'
		all_skipped+=$(cat "$parts/$n.skipped")$'\n'
	done
	grep . <<<"$all_skipped" >>"$vm/skipped" || true
	if [ "$num" -ne "$want" ]; then
		# A harness bug (list_tests and init.sh disagree): not a pass.
		echo "# check: $f should have given $want results, gave $num"
		result fail "$f/ktap_plan"
	fi
}

# Called on the last line: bash has then read the whole file, which may
# change under it (a shared tree) during the run.
main() {
	local u f units="" order="" start t0 n off total=0 accel
	local tp=0 tf=0 ts=0 p fl sk
	local -a args

	for f in $flavours; do
		case "$f" in
		stock) for u in $kernels; do
			case "$u" in
			6.1 | 6.12 | sid) units+=" $u" ;;
			*) echo "check: unknown kernel $u in KERNELS (6.1 6.12 sid)" >&2; return 2 ;;
			esac
		done ;;
		debug) units+=" debug" ;;
		*) echo "check: unknown flavour $f in FLAVOURS (stock, debug)" >&2; return 2 ;;
		esac
	done
	# The longest unit first, so that it is not the one left running alone.
	case " $units " in *" debug "*) order=debug ;; esac
	for u in $units; do
		[ "$u" = debug ] || order+=" $u"
	done

	# One check at a time per build directory: the initramfs and the logs
	# are shared (several people may work in one tree).
	mkdir -p "$BUILD/vm"
	exec 9>"$BUILD/vm/lock"
	if ! flock -n 9; then
		echo "# waiting for another check/demo using $BUILD/vm to finish" >&2
		flock 9
	fi

	accel=$("$top/scripts/vm-accel.sh")
	export TOYTCP_VM_ACCEL=$accel
	args=()
	[ -n "$tests" ] && args+=(-t "$tests")

	# No boot of an earlier check is waiting any more (we hold the lock).
	rm -rf "$BUILD/vm/slots"
	t0=$(date +%s)
	echo "# check: units $order, $njobs guests at a time, QEMU $accel" >&2
	for u in $order; do
		mkdir -p "$BUILD/vm/$u"
		rm -f "$BUILD/vm/$u/counts"
		(
			start=$(date +%s)
			echo "# check: $u started at +$((start - t0)) s" >&2
			run_unit "$u" >"$BUILD/vm/$u/report" 2> >(sed -u "s/^/# $u: /" >&2)
			p=? fl=? sk=?
			[ -r "$BUILD/vm/$u/counts" ] && read -r p fl sk n <"$BUILD/vm/$u/counts"
			echo "# check: $u done after $(($(date +%s) - start)) s: $p passed, $fl failed, $sk skipped" >&2
		) &
	done
	wait

	# A unit that died before it counted (a harness bug) is one failed
	# result, with whatever it printed kept as diagnostics.
	for u in $units; do
		n=1
		[ -r "$BUILD/vm/$u/counts" ] && read -r _ _ _ n <"$BUILD/vm/$u/counts"
		total=$((total + n))
	done
	# The probe that decides KVM or TCG, checked where it must work.
	total=$((total + 1))
	echo "KTAP version 1"
	echo "# toytcp selftests in QEMU ($accel):$units, $njobs guests at a time, $(($(date +%s) - t0)) s"
	echo "1..$total"
	# result() numbers and counts it; the units' results follow it.
	if "$top/scripts/vm-accel.sh" --selftest >/dev/null; then
		result ok harness/accel_probe_runs_under_tcg
	else
		result fail harness/accel_probe_runs_under_tcg
	fi
	tp=$npassed tf=$nfailed off=$num
	for u in $units; do
		if [ ! -r "$BUILD/vm/$u/counts" ]; then
			sed 's/^/# /' "$BUILD/vm/$u/report" 2>/dev/null || true
			off=$((off + 1))
			echo "not ok $off $u/check_unit"
			tf=$((tf + 1))
			all_failed+="$u/check_unit"$'\n'
			continue
		fi
		read -r p fl sk n <"$BUILD/vm/$u/counts"
		# Only the number changes: the rest of each line stays as it was.
		awk -v off="$off" '
			match($0, /^(not )?ok [0-9]+/) {
				head = substr($0, 1, RLENGTH)
				rest = substr($0, RLENGTH + 1)
				num = head
				sub(/^(not )?ok /, "", num)
				sub(/[0-9]+$/, "", head)
				$0 = head (num + off) rest
			}
			{ print }' "$BUILD/vm/$u/report"
		off=$((off + n))
		tp=$((tp + p)) tf=$((tf + fl)) ts=$((ts + sk))
		all_failed+=$(cat "$BUILD/vm/$u/failed")$'\n'
		all_skipped+=$(cat "$BUILD/vm/$u/skipped")$'\n'
	done
	grep . <<<"$all_failed" | sed 's/^/# failed: /' || true
	grep . <<<"$all_skipped" | sed 's/^/# skipped: /' || true
	echo "$tp passed, $tf failed, $ts skipped"
	[ "$tf" -eq 0 ]
}

main; exit $?
