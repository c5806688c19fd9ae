#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# dkms_build.sh ID: build and install toytcp with DKMS for stock kernel ID
# (scripts/kernels.sh: 6.1, 6.12, sid), as a user of that release would:
# "make dkms-source" lays out the sources as "make dkms-install" does, then
# that release's dkms (in its root; this machine's for 6.1) runs add,
# build and install for the kernel, in trees of this test's own
# (--dkmstree, --sourcetree, --installtree), so that no module is added
# to the machine's DKMS or /lib/modules (dkms may still make its module
# signing key in /var/lib/dkms, as on any first use).  Passes when dkms status says "installed" and the
# installed toytcp.ko carries the kernel's vermagic.  Run by check.sh on
# the host, before the kernel's VM boots (result <kernel>/dkms_build).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
export BUILD
id=${1:?usage: dkms_build.sh ID}
kernels=$top/scripts/kernels.sh

fail() { echo "dkms_build: $*" >&2; exit 1; }

kver=$("$kernels" kver "$id")
kdir=$("$kernels" kdir "$id")
version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
[ -n "$version" ] || fail "no PACKAGE_VERSION in dkms.conf"
work=$BUILD/dkms/$id
rm -rf "$work"
mkdir -p "$work/tree"
# The installtree stands for /lib/modules: one kernel, no module of its own.
mkdir -p "$work/install/$kver"
make -s -C "$top" dkms-source DESTDIR="$work/dest" >/dev/null
dk=(dkms --dkmstree "$work/tree" --sourcetree "$work/dest/usr/src"
	--installtree "$work/install")

rc=0
"$kernels" run "$id" sh -c 'command -v dkms >/dev/null' || rc=$?
case $rc in
0) ;;
1) fail "no dkms in the $id root (scripts/install-deps.sh kernels)" ;;
*) fail "could not run a command in the $id root (exit $rc)" ;;
esac
for step in add build install; do
	args=(-m toytcp -v "$version")
	# The installtree stands for /lib/modules: the headers are elsewhere.
	[ "$step" = add ] || args+=(-k "$kver" --kernelsourcedir "$kdir")
	if ! "$kernels" run "$id" "${dk[@]}" "$step" "${args[@]}" >"$work/$step.log" 2>&1; then
		tail -n 25 "$work/$step.log" >&2
		for f in "$work"/tree/toytcp/"$version"/build/make.log; do
			[ -e "$f" ] && tail -n 25 "$f" >&2
		done
		fail "dkms $step failed for $kver (log: $work/$step.log)"
	fi
done
status=$("$kernels" run "$id" "${dk[@]}" status -m toytcp -v "$version" -k "$kver" 2>&1)
grep -q "installed" <<<"$status" || fail "dkms status after install: $status"
ko=$(find "$work/install" -name 'toytcp.ko*' | head -n 1)
[ -n "$ko" ] || fail "dkms install left no toytcp.ko in $work/install"
vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null || true)
case "$vermagic" in
"$kver "*) ;;
*) fail "$ko has vermagic '$vermagic', not $kver" ;;
esac
echo "dkms_build: toytcp $version built and installed for $kver: ${ko#"$work/"} ($status)"
