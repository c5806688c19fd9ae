#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The connection and stream selftests (conn_*, stream_*) run against the
# kernel's own TCP (TOYTCP_PROTO=6) on the VM's kernel.  They claim that
# toytcp must behave as Linux TCP does; this proves, on every run and on the
# very kernel toytcp runs on, that what they expect is what TCP does.  If a
# result here fails, the test is wrong, not toytcp.
#
# Each program's KTAP is nested as a subtest.  conn_timewait's 60-second
# test (tw.lasts_2msl) is left out to keep the run short; it passes against
# TCP too (run it by hand: TOYTCP_PROTO=6 ./conn_timewait).
#
# vm-timeout: 900
. "$(dirname "$0")/lib/ktap.sh"

cd "$(dirname "$0")" || exit 1
export TOYTCP_PROTO=6
rcfile=$(mktemp) || exit 1
trap 'rm -f "$rcfile"' EXIT

progs="conn_states conn_api conn_rst conn_timers conn_netns conn_timewait stream_data syn_flood"

ktap_print_header
ktap_set_plan "$(echo $progs | wc -w)"
for prog in $progs; do
	filter=
	[ "$prog" = conn_timewait ] && filter=fin
	echo "    # Subtest: $prog"
	if [ ! -x "./$prog" ]; then
		ktap_test_fail "$prog"
		continue
	fi
	# POSIX sh has no PIPESTATUS: the exit code goes through a file.
	{ TOYTCP_TESTS=$filter "./$prog" 2>&1; echo $? >"$rcfile"; } |
		sed 's/^/    /'
	rc=$(cat "$rcfile")
	case $rc in
	0) ktap_test_pass "$prog" ;;
	"$KSFT_SKIP") ktap_test_skip "$prog" "all skipped" ;;
	*) ktap_test_fail "$prog" ;;
	esac
done
ktap_finished
