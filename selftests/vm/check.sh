#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make check": the selftests in QEMU.  Prints KTAP, then the last line
# "N passed, N failed, N skipped"; exits non-zero if anything failed.
#
#   check.sh [TEST...]
#
# TEST names a test as /selftests/MANIFEST does (foo, foo.sh); default:
# all of them.  The environment can say the same: TESTS="foo,bar".
# SELFCHECK=0 skips the harness self-check boot (quicker when iterating).
#
# Two boots:
#  1. the harness self-check: a test that fails on purpose (and one that
#     passes and one that skips), one that hangs past its timeout, and a
#     kernel WARNING; the runner must report each of them and fail.  Their
#     verdicts are the first three results: harness_detects_failed_test,
#     harness_detects_test_timeout, harness_detects_kernel_warning.
#  2. the tests.
# Logs: build/vm/selfcheck/ and build/vm/run/ (console.log, output.log...).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
KVER=${KVER:-$("$top/scripts/kver.sh")}
export BUILD KVER

tests=${TESTS:-}
if [ $# -gt 0 ]; then
	tests=$(IFS=,; echo "$*")
fi
selfcheck=${SELFCHECK:-1}

accel=tcg
[ -r /dev/kvm ] && [ -w /dev/kvm ] && accel=kvm

# run_and_report DIR OFFSET PRE PRE_PASS PRE_FAIL PRE_SKIP [run-vm.sh args]
#
# Boot once; print the KTAP as it comes, then (on failure) the console log,
# then the summary line.  Returns non-zero if anything failed.
run_and_report() {
	local dir=$1 offset=$2 pre=$3 pre_pass=$4 pre_fail=$5 pre_skip=$6
	local passed failed skipped

	shift 6
	mkdir -p "$dir"
	"$here/run-vm.sh" -o "$dir" "$@" |
		awk -f "$here/ktap-report.awk" \
			-v offset="$offset" -v pre="$pre" \
			-v pre_pass="$pre_pass" -v pre_fail="$pre_fail" \
			-v pre_skip="$pre_skip" \
			-v header="toytcp selftests in QEMU ($accel), kernel $KVER" \
			-v endfile="$dir/end" -v splats="$dir/splats" \
			-v elapsed="$dir/elapsed" -v summary="$dir/summary" ||
		true	# the verdict is in $dir/summary
	read -r passed failed skipped <"$dir/summary"
	if [ "$failed" -gt 0 ]; then
		print_console "$dir/console.log"
	fi
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
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

# The harness self-check.  Sets selfcheck_ktap (three result lines) and
# selfcheck_pass/fail.
harness_selfcheck() {
	local dir=$BUILD/vm/selfcheck report rc=0 ok1 ok2 ok3

	set +e
	report=$(run_and_report "$dir" 0 "" 0 0 0 \
		-t vm/selfcheck_results,vm/selfcheck_hang.sh,vm/selfcheck_warn.sh 2>&1)
	rc=$?
	set -e
	echo "$report" >"$dir/report"

	# One pass, the skip not counted as a pass, the failure and the
	# timeout reported, and the crash: selfcheck_warn (no result),
	# vm_run_complete, guest_kernel_clean.  toytcp_unload never ran.
	ok1=0 ok2=0 ok3=0
	if [ "$rc" -ne 0 ] &&
	   grep -q '^    not ok [0-9]* global.fails_on_purpose$' <<<"$report" &&
	   grep -q '^    ok [0-9]* # SKIP skipped on purpose$' <<<"$report" &&
	   grep -q '^not ok [0-9]* vm/selfcheck_results$' <<<"$report" &&
	   [ "$(tail -n 1 <<<"$report")" = "1 passed, 5 failed, 2 skipped" ]; then
		ok1=1
	fi
	if grep -q '^not ok [0-9]* vm/selfcheck_hang.sh # TIMEOUT' <<<"$report"; then
		ok2=1
	fi
	if [ "$rc" -ne 0 ] &&
	   grep -q '^# kernel: .*WARNING: .*toytcp_vm_warn' <<<"$report" &&
	   grep -q '^not ok [0-9]* guest_kernel_clean$' <<<"$report" &&
	   grep -q '^not ok [0-9]* vm_run_complete$' <<<"$report" &&
	   grep -q '^not ok [0-9]* vm/selfcheck_warn.sh$' <<<"$report"; then
		ok3=1
	fi

	selfcheck_pass=$((ok1 + ok2 + ok3))
	selfcheck_fail=$((3 - selfcheck_pass))
	selfcheck_ktap=""
	if [ "$selfcheck_fail" -gt 0 ]; then
		# Show what the runner said, so that the harness can be fixed.
		selfcheck_ktap="# selfcheck: ${report//$'\n'/$'\n'# selfcheck: }"$'\n'
	fi
	selfcheck_ktap+="$( [ $ok1 = 1 ] || echo -n "not ")ok 1 harness_detects_failed_test"$'\n'
	selfcheck_ktap+="$( [ $ok2 = 1 ] || echo -n "not ")ok 2 harness_detects_test_timeout"$'\n'
	selfcheck_ktap+="$( [ $ok3 = 1 ] || echo -n "not ")ok 3 harness_detects_kernel_warning"
}

# Called on the last line: bash has then read the whole file, which may
# change under it (a shared tree) during the run.
main() {
	local -a args

	# One VM run at a time per build directory: the initramfs and the logs are
	# shared (several people may work in one tree).
	mkdir -p "$BUILD/vm"
	exec 9>"$BUILD/vm/lock"
	if ! flock -n 9; then
		echo "# waiting for another check/demo using $BUILD/vm to finish" >&2
		flock 9
	fi

	if ! "$here/mkinitramfs.sh"; then
		echo "# mkinitramfs.sh failed: no VM to run the tests in"
		echo "0 passed, 1 failed, 0 skipped"
		return 1
	fi

	offset=0 selfcheck_ktap="" selfcheck_pass=0 selfcheck_fail=0
	if [ "$selfcheck" = 1 ]; then
		harness_selfcheck
		offset=3
	fi

	args=()
	[ -n "$tests" ] && args+=(-t "$tests")
	run_and_report "$BUILD/vm/run" "$offset" "$selfcheck_ktap" \
		"$selfcheck_pass" "$selfcheck_fail" 0 "${args[@]}"
}

main; exit $?
