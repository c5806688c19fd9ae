#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# "make lint": checkpatch --strict (from Debian's linux-source-6.1, taken
# into build/ at run time) and sparse over module/.  Fails on any finding.
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

echo "== sparse (make C=2 W=1)"
kdir=$("$top/scripts/kver.sh" --kdir)
make -s -C "$kdir" M="$top" W=1 C=2 modules >"$lint/sparse.out" 2>&1 || rc=1
if grep -E 'warning|error' "$lint/sparse.out"; then
	rc=1
else
	echo "clean"
fi
exit $rc
