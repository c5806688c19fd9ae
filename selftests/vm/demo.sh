#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make demo": boot the Debian kernel in QEMU, load toytcp, run a server and
# a client through it and show what happened.  The guest side is
# demo-guest.sh; its output appears here as it runs.  Logs: build/vm/demo/.
#
#   demo.sh            (after "make": needs tools/toytcp)
#
# KERNELS picks the kernel (scripts/kernels.sh: 6.1, 6.12 or sid; default
# 6.1), fetched and toytcp built for it first; several run one after the
# other.  TOYTCP_VM_FLAVOUR=debug runs it on the debug kernel instead
# (built first if needed: "make debug-modules"); logs in
# build/vm/<kernel>/demo/.  TOYTCP_VM_ACCEL=kvm|tcg forces the accelerator.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
export BUILD
# shellcheck source=selftests/vm/kernel-select.sh
. "$here/kernel-select.sh"
# KVER, flavour_vm
# shellcheck source=selftests/vm/flavour.sh
. "$here/flavour.sh" || exit 1
export KVER
out=$flavour_vm/demo

# Called on the last line: bash has then read the whole file first.
main() {
	local accel f rc

	accel="software emulation (TCG: slow, be patient)"
	[ "$TOYTCP_VM_ACCEL" = kvm ] && accel=KVM

	for f in tools/toytcp; do
		if [ ! -e "$top/$f" ]; then
			echo "demo: $f is missing; run \"make\" first" >&2
			exit 1
		fi
	done

	# One VM run at a time per build directory (see check.sh).
	mkdir -p "$BUILD/vm"
	exec 9>"$BUILD/vm/lock"
	if ! flock -n 9; then
		echo "demo: waiting for another check/demo using $BUILD/vm to finish" >&2
		flock 9
	fi

	"$here/mkinitramfs.sh"
	echo "=== booting Linux $KVER in QEMU, $accel"
	rc=0
	"$here/run-vm.sh" -m demo -o "$out" || rc=$?

	echo
	case $rc in
	0) echo "demo: done (logs in $out)" ;;
	1) echo "demo: some steps failed (logs in $out)" ;;
	*)
		echo "demo: the VM did not finish cleanly; kernel console ($out/console.log):"
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
