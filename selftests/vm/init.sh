#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /init of the toytcp selftest VM: busybox sh running as PID 1.
#
# It mounts the pseudo filesystems, preloads the network modules, installs
# toytcp so that socket(AF_INET, SOCK_STREAM, 253) autoloads it, runs the
# tests and powers the VM off.  Two serial ports keep the streams apart:
#
#   ttyS0  kernel console, this script's own messages, the final dmesg
#   ttyS1  the results: KTAP (or the demo's output), read by the host
#
# Kernel command line (set by run-vm.sh):
#   toytcp_vm.run=test|demo|bench   run the tests (default), demo-guest.sh
#                             or bench-guest.sh ("make bench")
#   toytcp_vm.tests=a,b       tests to run, by manifest name; default: every
#                             test of the "main" group.  vm/toytcp_unload.sh
#                             always runs last.
#   toytcp_vm.timeout=N       use N seconds for every test instead of its own
#   toytcp_vm.timeout_scale=N multiply every test's own timeout by N (the
#                             debug kernel runs 5-6 times slower)
#   toytcp_vm.kmemleak=off    no kmemleak scans (a boot that is meant to
#                             panic: the harness self-check)
#   toytcp_vm.nonce=X         echoed in the end marker, so that the host can
#                             tell it from anything a test prints
#
# The last line on ttyS1 is "# toytcp-vm: END <nonce> PASS|FAIL".  If it is
# missing the guest crashed or hung.  Then "reboot -f"; QEMU runs with
# -no-reboot and exits (the debug kernel has no ACPI to power off with).
#
# On a kernel with kmemleak (the debug flavour) the leaks found before the
# first test are forgotten, and after the last one kmemleak scans and its
# report goes to the console, where the host's splat scan finds it.

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root TMPDIR=/tmp LANG=C

# What tests may rely on (see selftests/vm/README.md).
export TOYTCP_KO=/toytcp/toytcp.ko
export TOYTCP_TOOL=/usr/bin/toytcp
export SELFTESTS=/selftests

post_tests="vm/toytcp_unload.sh"

log() { echo "toytcp-vm: $*"; }

# A line for the kernel log, so that a splat can be matched with the test
# that caused it.
kmsg() { echo "toytcp-vm: $*" >/dev/kmsg; }

# KTAP output goes to fd 3.
ktap() { echo "$*" >&3; }

setup_fs() {
	mount -t proc -o nosuid,nodev,noexec proc /proc
	mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
	mount -t devtmpfs -o nosuid,mode=0755 devtmpfs /dev
	mkdir -p /dev/pts /dev/shm
	mount -t devpts -o nosuid,noexec,gid=5,mode=620 devpts /dev/pts
	mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
	mount -t tmpfs -o nosuid,nodev,mode=1777 tmpfs /tmp
	mount -t tmpfs -o nosuid,nodev,mode=0755 tmpfs /run
	mount -t debugfs -o nosuid,nodev,noexec debugfs /sys/kernel/debug
	mount -t tracefs -o nosuid,nodev,noexec tracefs /sys/kernel/tracing
	# The debug kernel has no cgroups.
	if grep -qw cgroup2 /proc/filesystems; then
		mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
	fi
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	mkdir -p /run/netns
}

setup_net() {
	hostname toytcp-vm
	/usr/sbin/ip link set lo up
}

# Network modules, in the order mkinitramfs.sh listed them.  Tests may also
# rely on autoloading (tc and ip request modules through /sbin/modprobe).
load_modules() {
	local mods

	# One modprobe for all: each kmod start costs under emulation.
	mods=$(cat /etc/vm-modules)
	# None on a kernel with everything built in (the debug flavour).
	[ -n "$mods" ] || return 0
	# shellcheck disable=SC2086 # one word per module
	/sbin/modprobe -a $mods || log "warning: some of" $mods "did not load"
}

parse_cmdline() {
	local arg

	run=test tests="" timeout_override="" timeout_scale=1 nonce=none
	kmemleak=on
	# shellcheck disable=SC2013 # words, not lines
	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		toytcp_vm.run=*) run=${arg#*=} ;;
		toytcp_vm.tests=*) tests=$(echo "${arg#*=}" | tr , ' ') ;;
		toytcp_vm.timeout=*) timeout_override=${arg#*=} ;;
		toytcp_vm.timeout_scale=*) timeout_scale=${arg#*=} ;;
		toytcp_vm.kmemleak=*) kmemleak=${arg#*=} ;;
		toytcp_vm.nonce=*) nonce=${arg#*=} ;;
		esac
	done
}

# "name timeout" for each test to run, in order.
select_tests() {
	local group name limit want

	if [ -z "$tests" ]; then
		while read -r group name limit; do
			[ "$group" = main ] && echo "$name $limit"
		done </selftests/MANIFEST
	else
		for want in $tests; do
			while read -r group name limit; do
				if [ "$name" = "$want" ] || [ "$name" = "$want.sh" ]; then
					echo "$name $limit"
					continue 2
				fi
			done </selftests/MANIFEST
			# Unknown: reported as a failed test by run_test.
			echo "$want 0"
		done
	fi
	# The checks that come last, unless asked for already.
	for name in $post_tests; do
		case " $tests " in *" $name "*) continue ;; esac
		while read -r group want limit; do
			[ "$want" = "$name" ] && echo "$name $limit"
		done </selftests/MANIFEST
	done
}

uptime_cs() {
	local s

	read -r s _ </proc/uptime
	echo "${s%.*}${s#*.}"
}

# The guest's CPUs' busy time so far, all CPUs together, in 1/100 s
# (USER_HZ): under emulation, what a test costs the host, against the wall
# time of uptime_cs.  A test that is mostly waiting for timers is cheap
# however long it takes; how many guests can share the host's cores
# follows from it.
busy_cs() {
	local cpu user nice sys idle iowait irq softirq steal

	read -r cpu user nice sys idle iowait irq softirq steal _ </proc/stat
	echo $((user + nice + sys + irq + softirq + steal))
}

# Put things back the way the next test expects them: toytcp installed (it
# may be loaded or not), no network namespace left over.
restore_state() {
	local name="$1" ns

	if [ -e "$TOYTCP_KO" ] && ! toytcp_installed; then
		ktap "# toytcp-vm: $name left toytcp uninstalled; reinstalling"
		toytcp_install
	fi
	for ns in $(/usr/sbin/ip netns list 2>/dev/null | cut -d' ' -f1); do
		ktap "# toytcp-vm: $name left netns $ns; deleting it"
		/usr/sbin/ip netns delete "$ns"
	done
}

# run_test NUMBER NAME TIMEOUT
#
# The test runs in a session of its own, so that it and whatever it left in
# the background can be killed as one process group.  Its output (stdout
# and stderr) is indented by four spaces, which makes its own KTAP a
# subtest of ours.  Exit status: 0 pass, 4 skip (KSFT_SKIP), else fail.
run_test() {
	local num="$1" name="$2" limit="$3" pid wd reader rc start end busy i

	if [ ! -x "/selftests/$name" ]; then
		ktap "# toytcp-vm: no such test: $name"
		ktap "not ok $num $name"
		failed=$((failed + 1))
		return
	fi
	if [ -n "$timeout_override" ]; then
		limit=$timeout_override
	else
		limit=$((limit * timeout_scale))
	fi

	kmsg "test $name starting"
	ktap "    # Subtest: $name"
	rm -f /tmp/vm.out /tmp/vm.timedout
	mkfifo /tmp/vm.out
	sed 's/^/    /' </tmp/vm.out >&3 &
	reader=$!
	start=$(uptime_cs)
	busy=$(busy_cs)
	(cd /selftests && exec setsid "./$name" </dev/null >/tmp/vm.out 2>&1) &
	pid=$!

	# Watchdog: TERM, then KILL, the test's whole process group.
	(
		i=0
		while [ "$i" -lt "$limit" ]; do
			sleep 1
			i=$((i + 1))
		done
		: >/tmp/vm.timedout
		kill -TERM -"$pid" 2>/dev/null
		sleep 5
		kill -KILL -"$pid" 2>/dev/null
	) &
	wd=$!

	wait "$pid"
	rc=$?
	kill "$wd" 2>/dev/null
	wait "$wd" 2>/dev/null
	# Whatever the test left running in its process group.
	kill -KILL -"$pid" 2>/dev/null

	# The reader ends when the last writer closes the fifo; a process that
	# escaped the group (setsid, daemon) could keep it open forever.
	i=0
	while kill -0 "$reader" 2>/dev/null && [ "$i" -lt 50 ]; do
		usleep 100000
		i=$((i + 1))
	done
	kill "$reader" 2>/dev/null
	wait "$reader" 2>/dev/null
	end=$(uptime_cs)
	busy=$(($(busy_cs) - busy))
	kmsg "test $name finished, exit $rc"

	ktap "# toytcp-vm: $name took $(((end - start) / 100)).$(((end - start) % 100 / 10))s, CPU busy $((busy / 100)).$((busy % 100 / 10))s"
	if [ -e /tmp/vm.timedout ]; then
		ktap "not ok $num $name # TIMEOUT $limit seconds"
		failed=$((failed + 1))
	elif [ "$rc" -eq 0 ]; then
		ktap "ok $num $name"
	elif [ "$rc" -eq 4 ]; then
		ktap "ok $num $name # SKIP"
	else
		if [ "$rc" -gt 128 ]; then
			ktap "# toytcp-vm: $name killed by signal $((rc - 128))"
		else
			ktap "# exit=$rc"
		fi
		ktap "not ok $num $name"
		failed=$((failed + 1))
	fi
	restore_state "$name"
}

run_tests() {
	local list count num name limit

	list=$(select_tests)
	count=$(echo "$list" | grep -c .)
	ktap "KTAP version 1"
	ktap "# toytcp-vm: kernel $(uname -r), tests: $(echo "$list" | cut -d' ' -f1 | tr '\n' ' ')"
	ktap "1..$count"
	failed=0
	num=0
	echo "$list" | {
		while read -r name limit; do
			[ -n "$name" ] || continue
			num=$((num + 1))
			run_test "$num" "$name" "$limit"
		done
		[ "$failed" -eq 0 ]
	}
}

KMEMLEAK=/sys/kernel/debug/kmemleak

# kmemleak reports an object only once it is older than 5 s and unchanged
# since the previous scan, so it takes two scans some seconds apart.
# "clear" then forgets what they found: leaks from boot are not the tests'.
kmemleak_forget_boot() {
	[ -w "$KMEMLEAK" ] && [ "$kmemleak" != off ] || return 0
	local start end

	start=$(uptime_cs)
	if ! { echo scan >"$KMEMLEAK" && echo scan >"$KMEMLEAK" &&
	       echo clear >"$KMEMLEAK"; }; then
		log "warning: kmemleak did not scan"
	fi
	end=$(uptime_cs)
	log "kmemleak: boot's objects scanned and forgotten in $(((end - start) / 100)) s"
}

# After the last test (and toytcp's unload): two scans more than 5 s apart,
# so that even an object the last test leaked is old enough and stable.
# The report goes to the console (ttyS0), as is: the host fails the run on
# "unreferenced object".  Returns non-zero on a report.
kmemleak_report() {
	local start end n

	[ -w "$KMEMLEAK" ] && [ "$kmemleak" != off ] || return 0
	start=$(uptime_cs)
	# A scan that fails means kmemleak turned itself off (its log line
	# fails the run too): no scan, no verdict.
	if ! { echo scan >"$KMEMLEAK" && sleep 6 && echo scan >"$KMEMLEAK" &&
	       cat "$KMEMLEAK" >/tmp/kmemleak; }; then
		ktap "# toytcp-vm: kmemleak could not scan"
		return 1
	fi
	end=$(uptime_cs)
	n=$(grep -c '^unreferenced object' /tmp/kmemleak)
	ktap "# toytcp-vm: kmemleak: $n unreferenced objects after the tests (scans took $(((end - start) / 100)) s)"
	[ "$n" -eq 0 ] && return 0
	log "kmemleak report:"
	cat /tmp/kmemleak
	ktap "# toytcp-vm: kmemleak's report is on the console"
	return 1
}

run_demo() {
	/selftests/vm/demo-guest.sh </dev/null >&3 2>&1
}

finish() {
	local result="$1"

	kmsg "done"
	echo "# toytcp-vm: dmesg begin"
	dmesg
	echo "# toytcp-vm: dmesg end"
	ktap "# toytcp-vm: END $nonce $result"
	log "END $nonce $result"
	sync
	reboot -f
	# reboot -f does not return; if it did, PID 1 exiting panics the
	# kernel, which with panic=-1 also ends the VM.
	sleep 5
	exit 1
}

setup_fs
parse_cmdline
# Tests with time bounds of their own may stretch them by it (README.md).
export TOYTCP_VM_TIMEOUT_SCALE="$timeout_scale"
# The results channel.  Raw, so that lines end in \n and not \r\n.
if [ -c /dev/ttyS1 ]; then
	stty -F /dev/ttyS1 raw -echo 2>/dev/null
	exec 3>/dev/ttyS1
else
	exec 3>&1
fi
setup_net
load_modules
. /selftests/lib/toytcp.sh
[ -e "$TOYTCP_KO" ] && toytcp_install
log "ready after $(cut -d' ' -f1 /proc/uptime) s"
# Kernel warnings (level 4) and worse go to the console from now on, live:
# "quiet" hid the boot messages only.
echo 5 >/proc/sys/kernel/printk

case "$run" in
demo) if run_demo; then finish PASS; else finish FAIL; fi ;;
bench)
	if /selftests/vm/bench-guest.sh </dev/null >&3 2>&1; then
		finish PASS
	else
		finish FAIL
	fi
	;;
*)
	kmemleak_forget_boot
	rc=0
	run_tests || rc=1
	kmemleak_report || rc=1
	if [ "$rc" = 0 ]; then finish PASS; else finish FAIL; fi
	;;
esac
