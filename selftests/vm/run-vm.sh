#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the selftest VM once and collect what it says.
#
#   run-vm.sh [-o DIR] [-t TEST,TEST...] [-m test|demo|bench] [-T SECONDS]
#             [-i INITRAMFS] [-a KERNEL_ARGS] [-q]
#
#   -o DIR      logs go here (default $BUILD/vm/<flavour>/run);
#               emptied first
#   -t LIST     tests to run, comma separated, by manifest name
#               (default: every test of the "main" group)
#   -m MODE     "test" (default), "demo" (runs demo-guest.sh) or "bench"
#               (runs bench-guest.sh)
#   -T SECONDS  kill QEMU after that long (default: $TOYTCP_VM_TIMEOUT, or
#               the sum of the selected tests' timeouts plus 180 s for boot
#               and shutdown, times the flavour's timeout scale)
#   -i FILE     initramfs (default initramfs.cpio.gz in $BUILD/vm/<flavour>,
#               from mkinitramfs.sh)
#   -a ARGS     more kernel command line
#   -q          do not copy the guest's output to stdout
#
# TOYTCP_VM_MEM is QEMU's -m, the guest's memory (default 1G);
# TOYTCP_VM_SMP its -smp (default: the flavour's, two CPUs).
# TOYTCP_VM_FLAVOUR=debug boots the debug kernel instead of Debian's
# (flavour.sh), with the tests' timeouts scaled by toytcp_vm.timeout_scale.
#
# The guest's results channel (ttyS1: KTAP, or the demo's output) is copied
# to stdout as it arrives.  In DIR afterwards:
#   output.log   the results channel
#   console.log  the kernel console (ttyS0) with the final dmesg
#   qemu.log     QEMU's own stderr
#   end          the guest's end marker line; empty if it never came
#   splats       kernel log lines that make a run fail (see scan_kernel_log)
#   elapsed      seconds from QEMU start to exit; timedout if it was killed
#
# Exit status: 0 when the guest reached its end marker with PASS and the
# kernel log is clean; 1 when the guest reported a failure; 2 when there is
# no end marker (panic, hang, timeout: the guest died); 3 when the kernel
# log has a splat.  When several apply, the highest wins.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
# KVER, flavour_vm, flavour_kernel, flavour_timeout_scale
# shellcheck source=selftests/vm/flavour.sh
. "$here/flavour.sh" || exit 2

out=$flavour_vm/run
tests=""
mode="test"
limit=${TOYTCP_VM_TIMEOUT:-}
initrd=$flavour_vm/initramfs.cpio.gz
extra_args=""
quiet=0

usage() {
	sed -n '/^#   run-vm.sh/,/^#   -q/p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}

# pvh_kernel: print the path of the uncompressed kernel, extracting it once
# into $BUILD/vm, or fail.  Under TCG the kernel's own decompressor (xz for
# Debian) costs 2-3 s of every boot; a kernel with a PVH entry point
# (CONFIG_PVH, an ELF note) lets QEMU load the ELF directly and skip it.
pvh_kernel() {
	local elf=$BUILD/vm/vmlinux-$KVER magic off tool

	if [ ! -s "$elf" ]; then
		mkdir -p "$BUILD/vm"
		for magic in '\3757zXZ:xz' '\050\265\057\375:zstd' '\037\213\010:gzip'; do
			tool=${magic##*:}
			command -v "$tool" >/dev/null || continue
			# shellcheck disable=SC2059 # the format is the magic
			off=$(LC_ALL=C grep -obUaF "$(printf "${magic%:*}")" "$bzimage" |
			      head -n 1 | cut -d: -f1)
			[ -n "$off" ] || continue
			# Trailing data after the stream makes the tool complain.
			tail -c +$((off + 1)) "$bzimage" | "$tool" -dcq >"$elf.tmp" 2>/dev/null
			if [ "$(head -c 4 "$elf.tmp" | od -An -c | tr -d ' ')" = '177ELF' ]; then
				mv "$elf.tmp" "$elf"
				break
			fi
		done
		rm -f "$elf.tmp"
	fi
	# XEN_ELFNOTE_PHYS32_ENTRY (18): what QEMU looks for.
	[ -s "$elf" ] && readelf -n "$elf" 2>/dev/null | grep -qE 'PHYS32_ENTRY|\(0x00000012\)' &&
		echo "$elf"
}

# Lines of the kernel log that fail a run.  Markers that userspace writes
# to /dev/kmsg, which start with "toytcp-" ("toytcp-vm: test NAME
# starting"; the module's own lines start with "toytcp: "), are excluded: a
# test name may contain any of these words.  So are known harmless lines
# that happen to match, in $splat_allow.
splat_pattern='BUG:|WARNING:|Oops|KASAN|UBSAN|kernel BUG|Kernel panic|kernel panic'
splat_pattern+='|general protection fault|Unable to handle|Call Trace'
splat_pattern+='|lockdep|possible circular locking|possible recursive locking'
splat_pattern+='|INFO: task .* blocked|INFO: rcu.* detected stall'
splat_pattern+='|list_(add|del) corruption|refcount_t:|[Ll]eak'
# The debug kernel's checkers: debugobjects (timers, work, rcu heads) and
# kmemleak's report, which init.sh prints after the tests.
splat_pattern+='|ODEBUG|unreferenced object'
splat_allow='^(# )?(\[ *[0-9.]+\] )?toytcp-|data leaks? possible|leaks? possible via'
# Boot messages of the debug kernel: kmemleak's (not "... detector
# disabled": that fails) and RCU's.
splat_allow+='|kmemleak: Kernel memory leak detector initialized'
splat_allow+='|RCU lockdep checking is enabled'

# scan_kernel_log CONSOLE_LOG: print each matching line once.  The live
# console and the dmesg dump at the end repeat the same lines, timestamps
# included; the first copy is kept.
scan_kernel_log() {
	tr -d '\r' <"$1" | grep -aE "$splat_pattern" | grep -avE "$splat_allow" |
		awk '!seen[$0]++' || true
}

# The overall timeout: every selected test's own timeout, plus boot, times
# the flavour's scale (the debug kernel boots and runs slower).
default_limit() {
	local manifest=${initrd%.cpio.gz}/selftests/MANIFEST

	if [ "$mode" != test ] || [ ! -r "$manifest" ]; then
		echo $((600 * flavour_timeout_scale))
		return
	fi
	awk -v want="$tests" -v scale="$flavour_timeout_scale" '
		BEGIN { n = split(want, w, ","); for (i = 1; i <= n; i++) sel[w[i]] = 1 }
		n == 0 && $1 == "main" { sum += $3; next }
		($2 in sel) || (($2 ~ /\.sh$/) && (substr($2, 1, length($2) - 3) in sel)) { sum += $3 }
		$2 == "vm/toytcp_unload.sh" { sum += $3 }
		END { print (sum + 180) * scale }' "$manifest"
}

# Everything runs from main, called on the last line: bash has then read
# the whole file, which may change under it (a shared tree) while QEMU runs.
main() {
	local opt bzimage kernel nonce cmdline start qemu_rc elapsed rc
	local -a accel qemu

	while getopts "o:t:m:T:i:a:qh" opt; do
		case "$opt" in
		o) out=$OPTARG ;;
		t) tests=$OPTARG ;;
		m) mode=$OPTARG ;;
		T) limit=$OPTARG ;;
		i) initrd=$OPTARG ;;
		a) extra_args=$OPTARG ;;
		q) quiet=1 ;;
		*) usage ;;
		esac
	done

	if [ -n "$flavour_kernel" ]; then
		# The debug kernel's bzImage (flavour.sh says why not PVH).
		kernel=$flavour_kernel
	else
		bzimage=$flavour_root/boot/vmlinuz-$KVER
		[ -r "$bzimage" ] || { echo "run-vm: cannot read $bzimage" >&2; exit 2; }
		if [ -n "${TOYTCP_VM_KERNEL:-}" ]; then
			kernel=$TOYTCP_VM_KERNEL
		elif ! kernel=$(pvh_kernel); then
			kernel=$bzimage
		fi
	fi
	[ -r "$kernel" ] || { echo "run-vm: cannot read $kernel" >&2; exit 2; }
	[ -r "$initrd" ] || { echo "run-vm: no $initrd (run mkinitramfs.sh)" >&2; exit 2; }

	# KVM when it runs a guest, else software emulation
	# (scripts/vm-accel.sh; check.sh, demo.sh and bench.sh probe once and
	# pass the answer in $TOYTCP_VM_ACCEL).  "-cpu max" is the host CPU
	# under KVM and every feature TCG emulates otherwise.  Except 5-level
	# paging (la57=off): identify_cpu() clears and refills the boot
	# CPU's feature bits with interrupts on (6.1.192), and an interrupt
	# in that window sees pgtable_l5_enabled() false, so KASAN takes the
	# 5-level direct map (0xff11...) for a wild address and panics the
	# debug kernel at boot (seen once in three boots with three guests
	# on two cores).  Four levels are what most machines run anyway.
	accel=(-accel "$("$top/scripts/vm-accel.sh")")

	nonce=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
	cmdline="console=ttyS0 panic_on_warn=1 oops=panic panic=-1 quiet"
	# A task blocked for 120 s panics the guest too, so that a deadlock
	# ends the run at once instead of at the overall timeout; so does a
	# CPU spinning in the kernel for 20 s (a soft lockup: the test it
	# hangs cannot be killed, and init would wait for it for ever).
	cmdline+=" hung_task_panic=1 softlockup_panic=1"
	# Room for the whole run's kernel log in the dmesg dumped at the end.
	cmdline+=" log_buf_len=8M"
	cmdline+=" toytcp_vm.run=$mode toytcp_vm.nonce=$nonce"
	[ "$flavour_timeout_scale" = 1 ] ||
		cmdline+=" toytcp_vm.timeout_scale=$flavour_timeout_scale"
	[ -n "$tests" ] && cmdline+=" toytcp_vm.tests=$tests"
	[ -n "$extra_args" ] && cmdline+=" $extra_args"
	[ -n "$limit" ] || limit=$(default_limit)

	rm -rf "$out"
	mkdir -p "$out"
	echo "$cmdline" >"$out/cmdline"
	: >"$out/end"

	# ttyS0 (console) goes to a file, ttyS1 (results) to stdout.  No
	# network card, no disk, no display: -nodefaults.  QEMU exits when the
	# guest reboots (-no-reboot), which is how the guest powers off, and
	# on a panic (panic=-1 reboots at once).
	qemu=(qemu-system-x86_64
		"${accel[@]}" -cpu max,la57=off -m "${TOYTCP_VM_MEM:-1G}" -smp "${TOYTCP_VM_SMP:-$flavour_smp}"
		-nodefaults -nographic -no-reboot
		-kernel "$kernel" -initrd "$initrd" -append "$cmdline"
		-serial "file:$out/console.log" -serial stdio -monitor none)
	echo "${qemu[*]}" >"$out/qemu.cmd"

	start=$(date +%s)
	set +e
	# The pipe's read end stays open (tee) until QEMU exits; -k: KILL after
	# TERM if QEMU ignores it.
	timeout -k 10 "$limit" "${qemu[@]}" </dev/null 2>"$out/qemu.log" |
		tr -d '\r' | if [ "$quiet" = 1 ]; then cat >"$out/output.log"; else tee "$out/output.log"; fi
	qemu_rc=${PIPESTATUS[0]}
	set -e
	elapsed=$(($(date +%s) - start))
	if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
		echo "timedout after $elapsed s (limit $limit s)" >"$out/elapsed"
	else
		echo "$elapsed" >"$out/elapsed"
	fi

	grep -a "^# toytcp-vm: END $nonce " "$out/output.log" | tail -n 1 >"$out/end" || true
	scan_kernel_log "$out/console.log" >"$out/splats"

	rc=0
	grep -q " PASS$" "$out/end" || rc=1
	[ -s "$out/end" ] || rc=2
	[ -s "$out/splats" ] && rc=3
	return $rc
}

main "$@"; exit $?
