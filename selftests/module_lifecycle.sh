#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Module registration and lifetime: socket() without the module, insmod,
# autoload, rmmod refused while a socket exists and clean right after,
# the ipproto parameter, and an IP protocol number that is already taken.
#
# Needs root, toytcp.ko ($TOYTCP_KO), the tool ($TOYTCP_TOOL) and
# modules/squatter.ko next to this script (selftests/modules/squatter.c),
# which takes an IP protocol number the way another module could.
# Outside the VM, e.g. on a test VM from the source tree:
#	TOYTCP_KO=module/toytcp.ko TOYTCP_TOOL=tools/toytcp \
#	SQUATTER_KO=build/selftests/modules/squatter.ko \
#	SELFTESTS=selftests selftests/module_lifecycle.sh
# It leaves toytcp installed (as the VM boots) and not loaded.
#
# vm-timeout: 300

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib/ktap.sh
. "$here/lib/ktap.sh"
# shellcheck source=selftests/lib/toytcp.sh
. "$here/lib/toytcp.sh"

TOOL=$TOYTCP_TOOL
SQUATTER_KO=${SQUATTER_KO:-$here/modules/squatter.ko}
# How long rmmod may keep failing after the last socket closed: a socket
# freed through RCU releases the module reference a grace period later.
RMMOD_GRACE_TENTHS=20

tmp=$(mktemp -d)
holder=""
mark=""
SKIP_REASON=""

nap() {
	usleep 100000 2>/dev/null || sleep 0.1
}

cleanup() {
	if [ -n "$holder" ]; then
		kill "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
	fi
	grep -q '^squatter ' /proc/modules && /sbin/rmmod squatter
	toytcp_unload
	toytcp_installed || toytcp_install
	rm -rf "$tmp"
}

fail() {
	ktap_print_msg "FAIL: $*"
	return 1
}

# Kernel log lines from now on: a marker line in the log, then everything
# after it.  The log is never cleared: the harness reads it at the end.
mark_dmesg() {
	mark="toytcp-selftest-mark-$$-$1"
	echo "$mark" >/dev/kmsg
}

dmesg_since_mark() {
	dmesg | sed -n "/$mark/,\$p" | sed 1d
}

# wait_tenths TENTHS CMD...: poll CMD every 0.1 s; readiness, not sleeps.
wait_tenths() {
	local n="$1"

	shift
	while ! "$@"; do
		n=$((n - 1))
		[ "$n" -gt 0 ] || return 1
		nap
	done
}

# A complete line: the writer may be half way through one.  ($(tail -c 1)
# is empty when the file ends in a newline, which $(...) strips.)
file_has_line() {
	[ -s "$1" ] && [ -z "$(tail -c 1 "$1")" ]
}

module_refcount() {
	awk '$1 == "toytcp" { print $3 }' /proc/modules
}

# The tool's "info" says exactly which errno socket() gave.
expect_eprotonosupport() {
	local proto="$1" out rc

	out=$("$TOOL" -p "$proto" info 2>&1)
	rc=$?
	ktap_print_msg "toytcp -p $proto info: $(echo "$out" | head -n 1) (exit $rc)"
	[ "$rc" -eq 1 ] || { fail "info exit $rc, expected 1"; return 1; }
	echo "$out" | grep -q "^protocol $proto: unavailable: EPROTONOSUPPORT " ||
		{ fail "socket(AF_INET, SOCK_STREAM, $proto) did not fail with EPROTONOSUPPORT"; return 1; }
}

expect_available() {
	local proto="$1" out

	out=$("$TOOL" -p "$proto" info 2>&1) ||
		{ fail "socket(AF_INET, SOCK_STREAM, $proto) failed: $out"; return 1; }
	echo "$out" | grep -q "^protocol $proto: available$" ||
		{ fail "unexpected info output: $out"; return 1; }
}

# Nothing of toytcp's may remain: no module, no sysfs dir, no slab cache.
expect_no_trace() {
	local f

	toytcp_loaded && { fail "toytcp is in /proc/modules"; return 1; }
	[ -e /sys/module/toytcp ] && { fail "/sys/module/toytcp exists"; return 1; }
	# SLUB lists every cache there, merged aliases included.
	for f in /sys/kernel/slab/*toytcp* /sys/kernel/slab/*TOYTCP*; do
		[ -e "$f" ] && { fail "slab cache left: $f"; return 1; }
	done
	if grep -qi toytcp /proc/slabinfo 2>/dev/null; then
		fail "slab cache left in /proc/slabinfo"
		return 1
	fi
	return 0
}

# rmmod that must work now, allowing only for an RCU grace period.
rmmod_now() {
	local n=0

	while ! /sbin/rmmod toytcp 2>"$tmp/rmmod.err"; do
		n=$((n + 1))
		if [ "$n" -ge "$RMMOD_GRACE_TENTHS" ]; then
			fail "rmmod toytcp still refused: $(cat "$tmp/rmmod.err")"
			return 1
		fi
		nap
	done
	[ "$n" -gt 0 ] && ktap_print_msg "rmmod needed $n retries"
	return 0
}

# insmod toytcp.ko (not modprobe: that would not pass the test's params to
# an installed copy any differently, but insmod also works uninstalled).
insmod_toytcp() {
	/sbin/insmod "$TOYTCP_KO" "$@" 2>"$tmp/insmod.err"
}

# Earlier tests may have left connections in TIME-WAIT, which hold the
# module for 2*MSL (60 s, as Linux TCP): wait that out once, up front, so
# that every test below starts from an unloaded module.
unload_patiently() {
	local start

	toytcp_loaded || return 0
	start=$(cut -d' ' -f1 /proc/uptime)
	while ! /sbin/rmmod toytcp 2>"$tmp/rmmod.err"; do
		if ! awk -v s="$start" '{ exit !($1 - s < 90) }' /proc/uptime; then
			fail "toytcp did not unload within 90 s: $(cat "$tmp/rmmod.err")"
			return 1
		fi
		nap
	done
	ktap_print_msg "toytcp unloaded after $(awk -v s="$start" '{ printf "%.1f", $1 - s }' /proc/uptime) s"
	return 0
}

# --- the tests -----------------------------------------------------------

eprotonosupport_without_module() {
	unload_patiently || return 1
	toytcp_uninstall || { fail "could not unload and uninstall toytcp"; return 1; }
	toytcp_loaded && { fail "toytcp still loaded"; return 1; }
	expect_eprotonosupport 253 || return 1
	expect_eprotonosupport 254 || return 1
	# The socket() call tried to autoload it; nothing must have come.
	expect_no_trace
}

insmod_registers() {
	local out

	toytcp_unload || return 1
	insmod_toytcp || { fail "insmod: $(cat "$tmp/insmod.err")"; return 1; }
	grep -q '^toytcp ' /proc/modules || { fail "not in /proc/modules"; return 1; }
	ktap_print_msg "$(grep '^toytcp ' /proc/modules)"
	[ "$(cat /sys/module/toytcp/parameters/ipproto)" = 253 ] ||
		{ fail "ipproto parameter is not 253"; return 1; }
	expect_available 253 || return 1
	out=$("$TOOL" -q bind 127.0.0.1:0 2>&1) || { fail "bind: $out"; return 1; }
	echo "$out" | grep -q '^127\.0\.0\.1:[1-9][0-9]*$' ||
		{ fail "bind printed '$out'"; return 1; }
	# Still the default: not autoloadable in this test, but loaded.
	"$TOOL" info | grep -q '^module toytcp: loaded' ||
		{ fail "info does not see the module"; return 1; }
	return 0
}

rmmod_refused_while_socket_open() {
	local out refs

	toytcp_load || { fail "could not load toytcp"; return 1; }
	rm -f "$tmp/hold.out"
	"$TOOL" -q bind -H 127.0.0.1:0 >"$tmp/hold.out" 2>"$tmp/hold.err" &
	holder=$!
	wait_tenths 300 file_has_line "$tmp/hold.out" ||
		{ fail "holder did not start: $(cat "$tmp/hold.err")"; return 1; }
	ktap_print_msg "holding a socket bound to $(cat "$tmp/hold.out")"

	refs=$(module_refcount)
	[ "${refs:-0}" -ge 1 ] || { fail "module refcount is '$refs' with a socket open"; return 1; }
	if out=$(/sbin/rmmod toytcp 2>&1); then
		fail "rmmod succeeded while a socket was open"
		return 1
	fi
	ktap_print_msg "rmmod refused: $out"
	echo "$out" | grep -q "in use" || { fail "rmmod's error does not say 'in use'"; return 1; }
	toytcp_loaded || { fail "module gone"; return 1; }

	# The holder exits on SIGTERM; once wait returns, its fds are closed.
	kill "$holder"
	wait "$holder"
	holder=""
	rmmod_now || return 1
	expect_no_trace
}

rmmod_refused_while_listening() {
	local out

	toytcp_load || { fail "could not load toytcp"; return 1; }
	rm -f "$tmp/listen.err"
	"$TOOL" -w 300 listen -b 127.0.0.1 0 </dev/null >/dev/null 2>"$tmp/listen.err" &
	holder=$!
	# It prints "toytcp: listening on ..." or an error, then we know.
	wait_tenths 300 file_has_line "$tmp/listen.err"
	if ! grep -q "listening on" "$tmp/listen.err"; then
		wait "$holder"
		holder=""
		if grep -q "not supported" "$tmp/listen.err"; then
			SKIP_REASON="listen() not implemented yet"
			return 4
		fi
		fail "listener did not start: $(cat "$tmp/listen.err")"
		return 1
	fi
	if out=$(/sbin/rmmod toytcp 2>&1); then
		fail "rmmod succeeded while a listener was open"
		return 1
	fi
	echo "$out" | grep -q "in use" || { fail "rmmod's error does not say 'in use': $out"; return 1; }
	kill "$holder"
	# Killed by SIGTERM: the shell's "Terminated" note is noise here.
	wait "$holder" 2>/dev/null
	holder=""
	rmmod_now || return 1
	expect_no_trace
}

autoload() {
	toytcp_unload || return 1
	toytcp_install || { fail "could not install toytcp"; return 1; }
	toytcp_loaded && { fail "loaded before socket()"; return 1; }
	expect_available 253 || return 1
	toytcp_loaded || { fail "socket() worked but toytcp is not in /proc/modules"; return 1; }
	ktap_print_msg "autoloaded: $(grep '^toytcp ' /proc/modules)"
	# The tool's socket is closed: the module can go again.
	rmmod_now
}

ipproto_254() {
	toytcp_unload || return 1
	insmod_toytcp ipproto=254 || { fail "insmod ipproto=254: $(cat "$tmp/insmod.err")"; return 1; }
	[ "$(cat /sys/module/toytcp/parameters/ipproto)" = 254 ] ||
		{ fail "ipproto parameter is not 254"; return 1; }
	expect_available 254 || return 1
	"$TOOL" -q -p 254 bind 127.0.0.1:0 >/dev/null || { fail "bind over 254"; return 1; }
	# 253 is not ours now, even though the installed module has its alias.
	expect_eprotonosupport 253 || return 1
	rmmod_now
}

ipproto_invalid_refused() {
	local p

	toytcp_unload || return 1
	# 6 is TCP's own number: refusing it matters most.
	for p in 42 6 252 255 0; do
		mark_dmesg "ipproto-$p"
		if insmod_toytcp ipproto="$p"; then
			fail "insmod ipproto=$p succeeded"
			/sbin/rmmod toytcp
			return 1
		fi
		expect_no_trace || return 1
		dmesg_since_mark | grep -q "toytcp: .*ipproto=$p" ||
			{ fail "no dmesg message from toytcp about ipproto=$p"; return 1; }
		ktap_print_msg "ipproto=$p: $(dmesg_since_mark | grep "toytcp: " | head -n 1)"
	done
	return 0
}

# squatter.ko holds IP protocol $1; toytcp with ipproto=$1 must fail to
# load with a clear message and leave nothing behind.
protocol_taken() {
	local p="$1"

	if [ ! -e "$SQUATTER_KO" ]; then
		SKIP_REASON="no $SQUATTER_KO"
		return 4
	fi
	toytcp_unload || return 1
	mark_dmesg "taken-$p"
	/sbin/insmod "$SQUATTER_KO" proto="$p" 2>"$tmp/squatter.err" ||
		{ fail "insmod squatter proto=$p: $(cat "$tmp/squatter.err")"; return 1; }
	if insmod_toytcp ipproto="$p"; then
		fail "insmod toytcp ipproto=$p succeeded though $p is taken"
		return 1
	fi
	ktap_print_msg "insmod refused: $(cat "$tmp/insmod.err")"
	dmesg_since_mark | grep "toytcp: " | sed 's/^/# dmesg: /'
	dmesg_since_mark | grep -q "toytcp: .*IP protocol $p is already registered" ||
		{ fail "dmesg lacks toytcp's 'IP protocol $p is already registered'"; return 1; }
	expect_no_trace || return 1
	# socket() tries to autoload it (it is installed) and must still fail.
	expect_eprotonosupport "$p" || return 1
	expect_no_trace || return 1

	# The other number is free: toytcp works there meanwhile.
	if [ "$p" = 253 ]; then
		insmod_toytcp ipproto=254 ||
			{ fail "insmod ipproto=254 next to the squatter: $(cat "$tmp/insmod.err")"; return 1; }
		expect_available 254 || return 1
		rmmod_now || return 1
	fi

	/sbin/rmmod squatter || { fail "rmmod squatter"; return 1; }
	insmod_toytcp ipproto="$p" ||
		{ fail "insmod after the squatter left: $(cat "$tmp/insmod.err")"; return 1; }
	expect_available "$p" || return 1
	rmmod_now
}

protocol_253_taken() {
	protocol_taken 253
}

protocol_254_taken() {
	protocol_taken 254
}

run_test() {
	local name="$1" rc

	SKIP_REASON=""
	ktap_print_msg "--- $name"
	"$name"
	rc=$?
	if [ -n "$holder" ]; then
		kill "$holder" 2>/dev/null
		wait "$holder" 2>/dev/null
		holder=""
	fi
	# A failed protocol_taken must not leave the number taken for the rest.
	grep -q '^squatter ' /proc/modules && /sbin/rmmod squatter
	case $rc in
	0) ktap_test_pass "$name" ;;
	"$KSFT_SKIP") ktap_test_skip "$name" "$SKIP_REASON" ;;
	*) ktap_test_fail "$name" ;;
	esac
}

TESTS="eprotonosupport_without_module insmod_registers
	rmmod_refused_while_socket_open rmmod_refused_while_listening
	autoload ipproto_254 ipproto_invalid_refused
	protocol_253_taken protocol_254_taken"

ktap_print_header
[ "$(id -u)" = 0 ] || ktap_skip_all "needs root (insmod, rmmod)"
[ -e "$TOYTCP_KO" ] || ktap_skip_all "no toytcp.ko at $TOYTCP_KO"
[ -x "$TOOL" ] || ktap_skip_all "no toytcp tool at $TOOL"
trap cleanup EXIT
# shellcheck disable=SC2086 # split into words on purpose
ktap_set_plan "$(echo $TESTS | wc -w)"
for t in $TESTS; do
	run_test "$t"
done
ktap_finished
