#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Install, from Debian's packages, what a make target needs and is missing.
#
#   install-deps.sh [SET...]      default: build
#
#   build: kernel headers (and, when not on a Debian kernel, the Debian kernel
#          image the VM boots), compiler, make
#   vm:    build + qemu, busybox-static, iproute2, linux-source-6.1 (kselftest
#          harness, checkpatch), sparse, cpio, libc6-dev, kmod
#   kernels: what the Debian 13 and sid kernels' roots are made with
#          (scripts/kernels.sh): debootstrap; unshare and chroot are in
#          Debian's essential packages
#   debug: build + what building the debug kernel from linux-source-6.1
#          takes (scripts/debug-kernel.sh): flex, bison, bc, libelf-dev
#          (objtool), libssl-dev (the certificate tools)
# Does nothing when everything is present, so a plain "make" stays offline.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sets=${*:-build}
has_set() { case " $sets " in *" $1 "*) return 0 ;; esac; return 1; }

need=""
have_cmd() { command -v "$1" >/dev/null 2>&1; }
# Each package once, though two sets may want it.
want() {
	for p in "$@"; do
		case "$need " in *" $p "*) ;; *) need="$need $p" ;; esac
	done
}

have_cmd gcc || want gcc
have_cmd make || want make
have_cmd readelf || want binutils
if ! kdir=$("$here/kver.sh" --kdir 2>/dev/null) || [ ! -e "$kdir/Makefile" ]; then
	running=$(uname -r)
	case "$running" in
	*-amd64|*-cloud-amd64|*-rt-amd64)
		want "linux-headers-$running" ;;
	*)
		# Not a Debian kernel: build for the Debian kernel the VM boots.
		want linux-image-amd64 linux-headers-amd64 ;;
	esac
fi
if has_set vm; then
	have_cmd qemu-system-x86_64 || want qemu-system-x86
	[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -qx ash &&
		ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' || want busybox-static
	[ -x /sbin/ip ] || [ -x /usr/sbin/ip ] || want iproute2
	[ -e /usr/src/linux-source-6.1.tar.xz ] || want linux-source-6.1
	have_cmd sparse || want sparse
	have_cmd cpio || want cpio
	have_cmd xz || want xz-utils
	have_cmd perl || want perl
	# static test binaries need libc.a; the VM's modprobe/depmod are kmod's
	[ -e /usr/lib/x86_64-linux-gnu/libc.a ] || want libc6-dev
	have_cmd depmod || [ -x /sbin/depmod ] || want kmod
	# Real programs the selftests run over toytcp (preload_apps.sh,
	# tshark_decode.sh)
	have_cmd iperf3 || want iperf3
	[ -x /usr/sbin/mini_httpd ] || want mini-httpd
	have_cmd wget || want wget
	have_cmd tshark || want tshark
	# offloads off on a veth: tshark_decode.sh (checksums filled in),
	# the benchmark's lossy link (netem drops segments, not GSO bursts)
	[ -x /usr/sbin/ethtool ] || [ -x /sbin/ethtool ] || want ethtool
	ls /boot/vmlinuz-*-amd64 >/dev/null 2>&1 || want linux-image-amd64
	# The VM boots the newest image; its headers must be there too.
	want_hdr=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' | sort -V | tail -n 1)
	if [ -n "$want_hdr" ] && [ ! -e "/lib/modules/$want_hdr/build/Makefile" ]; then
		want "linux-headers-$want_hdr"
	fi
fi

if has_set kernels; then
	have_cmd debootstrap || [ -x /usr/sbin/debootstrap ] || want debootstrap
	# the host-side DKMS test builds for 6.1 with this machine's dkms
	have_cmd dkms || [ -x /usr/sbin/dkms ] || want dkms
fi

if has_set debug; then
	[ -e /usr/src/linux-source-6.1.tar.xz ] || want linux-source-6.1
	have_cmd flex || want flex
	have_cmd bison || want bison
	have_cmd bc || want bc
	have_cmd perl || want perl
	have_cmd xz || want xz-utils
	[ -e /usr/include/libelf.h ] || want libelf-dev
	[ -e /usr/include/openssl/opensslv.h ] || want libssl-dev
fi

[ -z "$need" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: missing:$need; run as root or: sudo apt-get install$need" >&2
	exit 1
fi
echo "install-deps: installing:$need"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $need >/dev/null
