#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# "make lint": checkpatch --strict (from Debian's linux-source-6.1, taken
# into build/ at run time) over module/, and sparse (make C=2 W=1) against
# each kernel of $KERNELS (default: 6.1 6.12 sid, scripts/kernels.sh), with
# the sparse of that kernel's release.  Fails on any finding.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
tarball=/usr/src/linux-source-6.1.tar.xz
lint=$build/lint

if [ ! -e "$lint/scripts/checkpatch.pl" ]; then
	[ -e "$tarball" ] || "$top/scripts/install-deps.sh" vm
	mkdir -p "$lint"
	tar -xJf "$tarball" -C "$lint" --strip-components=1 \
		linux-source-6.1/scripts/checkpatch.pl \
		linux-source-6.1/scripts/spelling.txt \
		linux-source-6.1/scripts/const_structs.checkpatch
fi

rc=0
cd "$top"
echo "== checkpatch --strict"
perl "$lint/scripts/checkpatch.pl" --no-tree --strict --terse --show-types \
	-f module/*.c module/*.h module/uapi/*.h |
	grep -v '^total:' | grep -v 'toytcp.mod.c' >"$lint/checkpatch.out" || true
if [ -s "$lint/checkpatch.out" ]; then
	cat "$lint/checkpatch.out"
	rc=1
else
	echo "clean"
fi

# sparse against the running/VM kernel: the tree itself, as "make" builds it
echo "== sparse (make C=2 W=1), $("$top/scripts/kver.sh")"
kdir=$("$top/scripts/kver.sh" --kdir)
make -s -C "$kdir" M="$top" W=1 C=2 modules >"$lint/sparse.out" 2>&1 || rc=1
if grep -E 'warning|error' "$lint/sparse.out"; then
	rc=1
else
	echo "clean"
fi

# and against each stock kernel, in its release's root (the copy that
# "kernels.sh build" compiles; sparse installed there on first use)
for id in ${KERNELS:-$("$top/scripts/kernels.sh" list)}; do
	[ "$id" = 6.1 ] && continue
	"$top/scripts/kernels.sh" prepare "$id" >/dev/null
	"$top/scripts/kernels.sh" build "$id" >/dev/null
	kver=$("$top/scripts/kernels.sh" kver "$id")
	echo "== sparse (make C=2 W=1), $kver"
	"$top/scripts/kernels.sh" run "$id" sh -c 'command -v sparse >/dev/null' ||
		"$top/scripts/kernels.sh" run "$id" apt-get install -y -q sparse >/dev/null
	"$top/scripts/kernels.sh" run "$id" make -s -C "$("$top/scripts/kernels.sh" kdir "$id")" \
		M="$build/kernels/$id/module" W=1 C=2 modules >"$lint/sparse-$id.out" 2>&1 || rc=1
	if grep -E 'warning|error' "$lint/sparse-$id.out"; then
		rc=1
	else
		echo "clean"
	fi
done
exit $rc
