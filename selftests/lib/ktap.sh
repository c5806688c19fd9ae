# SPDX-License-Identifier: GPL-2.0
#
# ktap.sh - KTAP output for shell selftests, the way kselftest_harness.h
# prints it for C tests.  POSIX sh: works under busybox sh and bash.
#
#	. "$(dirname "$0")/lib/ktap.sh"
#
#	ktap_print_header		"TAP version 13"
#	ktap_set_plan 3			"1..3"
#	ktap_test_pass NAME		"ok 1 NAME"
#	ktap_test_fail NAME		"not ok 2 NAME"
#	ktap_test_skip NAME REASON	"ok 3 NAME # SKIP REASON"
#	ktap_test_result NAME CMD...	runs CMD: exit 0 pass, 4 skip, else fail
#	ktap_print_msg TEXT		"# TEXT" (diagnostic)
#	ktap_skip_all REASON		"1..0 # SKIP REASON", exit 4
#	ktap_finished			totals line; exit 1 if anything failed,
#					4 if everything was skipped, else 0
#
# Test names: letters, digits, '_' and '-' (no spaces, no '#').  Diagnostics
# may go to stdout or stderr; the VM captures both.

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

KSFT_PASS=0
KSFT_FAIL=1
KSFT_SKIP=4

KTAP_TESTNO=0
KTAP_CNT_PASS=0
KTAP_CNT_FAIL=0
KTAP_CNT_SKIP=0

ktap_print_header() {
	echo "TAP version 13"
}

ktap_set_plan() {
	echo "1..$1"
}

ktap_print_msg() {
	echo "# $*"
}

ktap_test_pass() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_PASS=$((KTAP_CNT_PASS + 1))
	echo "ok $KTAP_TESTNO $1"
}

ktap_test_fail() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_FAIL=$((KTAP_CNT_FAIL + 1))
	echo "not ok $KTAP_TESTNO $1"
}

ktap_test_skip() {
	KTAP_TESTNO=$((KTAP_TESTNO + 1))
	KTAP_CNT_SKIP=$((KTAP_CNT_SKIP + 1))
	echo "ok $KTAP_TESTNO $1 # SKIP ${2:-}"
}

# ktap_test_result NAME CMD [ARGS...]
ktap_test_result() {
	local name="$1" rc

	shift
	"$@"
	rc=$?
	case $rc in
	0) ktap_test_pass "$name" ;;
	"$KSFT_SKIP") ktap_test_skip "$name" "exit code $KSFT_SKIP" ;;
	*) ktap_print_msg "$name: exit code $rc"; ktap_test_fail "$name" ;;
	esac
	return $rc
}

ktap_skip_all() {
	echo "1..0 # SKIP $*"
	exit "$KSFT_SKIP"
}

ktap_finished() {
	echo "# Totals: pass:$KTAP_CNT_PASS fail:$KTAP_CNT_FAIL xfail:0 xpass:0 skip:$KTAP_CNT_SKIP error:0"
	if [ "$KTAP_CNT_FAIL" -gt 0 ]; then
		exit "$KSFT_FAIL"
	elif [ "$KTAP_CNT_SKIP" -gt 0 ] && [ "$KTAP_CNT_PASS" -eq 0 ]; then
		exit "$KSFT_SKIP"
	fi
	exit "$KSFT_PASS"
}
