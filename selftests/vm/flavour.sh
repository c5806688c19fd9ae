# SPDX-License-Identifier: GPL-2.0
#
# flavour.sh - the kernel flavour a VM boot uses.  Sourced (bash) by
# mkinitramfs.sh, run-vm.sh and check.sh after they have set $top and
# $BUILD.  The flavour is $TOYTCP_VM_FLAVOUR:
#
#   stock  Debian's kernel: /boot/vmlinuz-$KVER (KVER from scripts/kver.sh
#          unless set), its modules from /lib/modules/$KVER, toytcp.ko from
#          module/ ($TOYTCP_MODULE), helper modules from $BUILD/selftests.
#   debug  the debug kernel of scripts/debug-kernel.sh (KASAN, lockdep,
#          kmemleak...): its bzImage, every driver built in, toytcp.ko
#          and the helper modules built against it in $BUILD/debug
#          ("make debug-modules").  Tests get 5 times their timeouts.
#
# Sets:
#   flavour             stock or debug
#   KVER                the guest's kernel release
#   flavour_vm          this flavour's directory for the initramfs and the
#                       logs: $BUILD/vm (stock), $BUILD/vm/debug (debug)
#   flavour_kernel      the kernel image QEMU boots; empty for stock, where
#                       run-vm.sh works it out from /boot/vmlinuz-$KVER
#   flavour_kdir        debug: the kernel build directory; stock: empty
#   flavour_ko          the toytcp.ko to test
#   flavour_kmods       the directory holding modules/*.ko and vm/*.ko
#   flavour_timeout_scale   each test's timeout is multiplied by it
#   flavour_smp         QEMU's -smp: two CPUs
#
# Fails (non-zero) if the flavour is unknown or, for debug, not built yet.

# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are the interface

flavour=${TOYTCP_VM_FLAVOUR:-stock}
case "$flavour" in
stock)
	KVER=${KVER:-$("$top/scripts/kver.sh")}
	flavour_vm=$BUILD/vm
	flavour_kernel=""
	flavour_kdir=""
	flavour_ko=${TOYTCP_MODULE:-$top/module/toytcp.ko}
	flavour_kmods=$BUILD/selftests
	flavour_timeout_scale=1
	flavour_smp=2
	;;
debug)
	# $KVER may be the stock kernel's (check.sh exports it): not used here.
	flavour_kdir=$("$top/scripts/debug-kernel.sh" --kdir) || return 1
	KVER=$("$top/scripts/debug-kernel.sh" --kver) || return 1
	flavour_vm=$BUILD/vm/debug
	# The bzImage, not vmlinux through its PVH entry point (as for
	# stock): xen_prepare_pvh() is KASAN-instrumented and runs before
	# KASAN's shadow exists, so a PVH boot faults at once.  Decompressing
	# costs about 3 s a boot under emulation.
	flavour_kernel=$flavour_kdir/arch/x86/boot/bzImage
	flavour_ko=$BUILD/debug/module/toytcp.ko
	flavour_kmods=$BUILD/debug/selftests
	# KASAN + lockdep under software emulation run traffic 5-6 times
	# slower; the tests' timeouts are written for the stock kernel.
	flavour_timeout_scale=${TOYTCP_VM_TIMEOUT_SCALE:-5}
	# Without ACPI the kernel finds CPUs in SeaBIOS's MP table, which
	# lists one CPU per package: two cores of one socket would be one CPU.
	flavour_smp=2,sockets=2,cores=1,threads=1
	;;
*)
	echo "flavour.sh: unknown TOYTCP_VM_FLAVOUR=$flavour (stock or debug)" >&2
	return 1
	;;
esac
