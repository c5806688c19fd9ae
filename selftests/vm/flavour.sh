# SPDX-License-Identifier: GPL-2.0
#
# flavour.sh - the kernel a VM boot uses.  Sourced (bash) by mkinitramfs.sh,
# run-vm.sh, check.sh, demo.sh and bench.sh after they have set $top and
# $BUILD.  The flavour is $TOYTCP_VM_FLAVOUR:
#
#   6.1, 6.12, sid   a stock Debian kernel (scripts/kernels.sh): 6.1 from
#          this machine's /boot and /lib/modules, 6.12 and sid from their
#          release's root in the cache; toytcp.ko ($TOYTCP_MODULE
#          overrides it) and the helper modules built for it with that
#          release's compiler in $BUILD/kernels/<id> ("kernels.sh build").
#          "stock" is 6.1.
#   debug  the debug kernel of scripts/debug-kernel.sh (KASAN, lockdep,
#          kmemleak...) on 6.1: its bzImage, every driver built in,
#          toytcp.ko and the helper modules built against it in
#          $BUILD/debug ("make debug-modules").  Tests get 5 times their
#          timeouts.
#
# Sets:
#   flavour             6.1, 6.12, sid or debug
#   flavour_stock       1 for a stock kernel, 0 for debug
#   flavour_name        the results' prefix: stock-<major.minor>, or debug
#   KVER                the guest's kernel release
#   flavour_root        stock: where the kernel's /boot and /lib/modules
#                       are ("/" or a release's root); debug: empty
#   flavour_vm          this flavour's directory for the initramfs and the
#                       logs: $BUILD/vm/<flavour>
#   flavour_kernel      the kernel image QEMU boots; empty for stock, where
#                       run-vm.sh works it out from $flavour_root/boot
#   flavour_kdir        debug: the kernel build directory; stock: empty
#   flavour_ko          the toytcp.ko to test
#   flavour_kmods       the directory holding modules/*.ko and vm/*.ko
#   flavour_timeout_scale   each test's timeout is multiplied by it
#   flavour_smp         QEMU's -smp: two CPUs
#
# Fails (non-zero) if the flavour is unknown or not prepared and built yet.

# shellcheck shell=bash
# shellcheck disable=SC2034 # the variables are the interface

flavour=${TOYTCP_VM_FLAVOUR:-6.1}
[ "$flavour" = stock ] && flavour=6.1
case "$flavour" in
6.1 | 6.12 | sid)
	flavour_stock=1
	KVER=$("$top/scripts/kernels.sh" kver "$flavour") || return 1
	flavour_name=stock-$(echo "$KVER" | cut -d. -f1-2)
	flavour_root=$("$top/scripts/kernels.sh" root "$flavour") || return 1
	flavour_root=${flavour_root%/}
	flavour_vm=$BUILD/vm/$flavour
	flavour_kernel=""
	flavour_kdir=""
	flavour_ko=${TOYTCP_MODULE:-$BUILD/kernels/$flavour/module/toytcp.ko}
	flavour_kmods=$BUILD/kernels/$flavour/selftests
	flavour_timeout_scale=1
	flavour_smp=2
	;;
debug)
	flavour_stock=0
	flavour_name=debug
	flavour_kdir=$("$top/scripts/debug-kernel.sh" --kdir) || return 1
	KVER=$("$top/scripts/debug-kernel.sh" --kver) || return 1
	flavour_root=""
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
	echo "flavour.sh: unknown TOYTCP_VM_FLAVOUR=$flavour (6.1, 6.12, sid or debug)" >&2
	return 1
	;;
esac
