#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Print the kernel release toytcp is built for (or, with --kdir, its build
# directory).  Order: $KVER if set; the running kernel if its headers are
# installed (a real test VM); else the newest Debian kernel image under /boot,
# which is the kernel the QEMU VM boots.
set -eu
kver=${KVER:-}
if [ -z "$kver" ]; then
	running=$(uname -r)
	if [ -e "/lib/modules/$running/build/Makefile" ]; then
		kver=$running
	else
		kver=$(ls /boot/vmlinuz-*-amd64 2>/dev/null | sed 's|/boot/vmlinuz-||' |
		       sort -V | tail -n 1)
	fi
fi
if [ -z "$kver" ]; then
	echo "kver.sh: no kernel found (install linux-image-amd64 linux-headers-amd64)" >&2
	exit 1
fi
if [ "${1:-}" = "--kdir" ]; then
	echo "/lib/modules/$kver/build"
else
	echo "$kver"
fi
