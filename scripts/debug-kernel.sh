#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The debug kernel the selftests also run under: Debian's linux-source-6.1,
# "make tinyconfig" plus selftests/vm/kernel/debug.config (KASAN, lockdep,
# DEBUG_ATOMIC_SLEEP, DEBUG_OBJECTS_TIMERS, kmemleak, panic_on_oops).  Built
# once per machine into a cache directory outside the repository and reused
# while the source package, the config fragment and the compiler stay the
# same (they name the directory).
#
#   debug-kernel.sh [build]   build if needed; print the kernel build directory
#   debug-kernel.sh --kdir    print the build directory (fail if not built)
#   debug-kernel.sh --kver    print its kernel release (fail if not built)
#
# Cache: $TOYTCP_CACHE, default ${XDG_CACHE_HOME:-$HOME/.cache}/toytcp.
# Build log: <build directory>/../build.log.  About 16 minutes on 2 cores.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
tarball=${LINUX_SOURCE_TAR:-/usr/src/linux-source-6.1.tar.xz}
fragment=$top/selftests/vm/kernel/debug.config
cache=${TOYTCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toytcp}

die() { echo "debug-kernel: $*" >&2; exit 1; }

# The cache key: what the kernel is made of.
key() {
	{
		dpkg-query -W -f='${Version}\n' linux-source-6.1 2>/dev/null ||
			stat -c '%s %Y' "$tarball"
		cat "$fragment"
		gcc --version | head -n 1
	} | sha256sum | cut -c1-12
}

# Every option of the fragment must have survived olddefconfig: a missing
# dependency silently drops an option, and with it a checker.
verify_config() {
	local config=$1 line name bad=0

	while read -r line; do
		case "$line" in
		CONFIG_*=*) ;;
		"# CONFIG_"*" is not set")
			name=${line#\# }
			name=${name%% *}
			if grep -q "^$name=" "$config"; then
				echo "debug-kernel: $name should be off" >&2
				bad=1
			fi
			continue ;;
		*) continue ;;
		esac
		if ! grep -qxF "$line" "$config"; then
			echo "debug-kernel: wanted $line, got: $(grep "^${line%%=*}=" "$config" || echo "not set")" >&2
			bad=1
		fi
	done <"$fragment"
	return $bad
}

build() {
	local dir=$1 src=$1/linux-source-6.1 log=$1/build.log

	[ -r "$tarball" ] || die "no $tarball (apt-get install linux-source-6.1)"
	echo "debug-kernel: building into $dir (log: $log); about 16 minutes on 2 cores" >&2
	rm -rf "$src"
	mkdir -p "$dir"
	tar -xJf "$tarball" -C "$dir"
	(
		cd "$src"
		make tinyconfig
		scripts/kconfig/merge_config.sh -m .config "$fragment"
		make olddefconfig
	) >"$log" 2>&1 || { tail -n 30 "$log" >&2; die "configuration failed"; }
	verify_config "$src/.config" || die "configuration lacks options (see above)"
	if ! make -C "$src" -j"$(nproc)" all >>"$log" 2>&1; then
		tail -n 40 "$log" >&2
		die "build failed"
	fi
	make -s -C "$src" kernelrelease >"$dir/kernelrelease"
	# What module builds and the VM need stays; objects go (about 2 GB).
	find "$src" -name '*.o' ! -path '*/scripts/*' ! -path '*/tools/*' -delete
	touch "$dir/built"
	echo "debug-kernel: built $(cat "$dir/kernelrelease")" >&2
}

main() {
	local what=${1:-build} dir

	[ -r "$fragment" ] || die "no $fragment"
	dir=$cache/debug-kernel-$(key)
	case "$what" in
	build)
		mkdir -p "$cache"
		exec 8>"$cache/debug-kernel.lock"
		flock 8
		[ -e "$dir/built" ] || build "$dir"
		echo "$dir/linux-source-6.1"
		;;
	--kdir)
		[ -e "$dir/built" ] || die "not built yet (scripts/debug-kernel.sh build)"
		echo "$dir/linux-source-6.1"
		;;
	--kver)
		[ -e "$dir/built" ] || die "not built yet (scripts/debug-kernel.sh build)"
		cat "$dir/kernelrelease"
		;;
	*)
		sed -n '/^#   debug-kernel.sh/p' "$0" | sed 's/^# *//' >&2
		exit 2
		;;
	esac
}

main "$@"; exit $?
