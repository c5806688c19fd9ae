#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The stock kernels toytcp is built for and tested on, each with its own
# Debian release's compiler, as that release's users build it:
#
#   id    release            kernel                     where it comes from
#   6.1   Debian 12 bookworm linux-image-amd64 (6.1)    this machine's /boot and /lib/modules
#   6.12  Debian 13 trixie   linux-image-amd64 (6.12)   a trixie root in the cache
#   sid   Debian unstable    linux-image-amd64 (newest) a sid root in the cache
#
# A root is a minimal debootstrap of that release (gcc, make, kmod, dkms,
# linux-image-amd64, linux-headers-amd64), made once per machine in
# $TOYTCP_CACHE/roots/<release> (default ~/.cache/toytcp).  "prepare"
# runs apt-get in it every time, so that a new kernel the release ships is
# fetched, not silently replaced by the cached one; with no archive to
# reach it says so and goes on with what it has.  Kernels are named by the
# metapackage, never by a version: the next sid kernel is tested as it
# comes.
#
#   kernels.sh list                 the ids, in test order
#   kernels.sh prepare ID           make or update the root; print the kernel release
#   kernels.sh kver ID              the kernel release (the newest in the root)
#   kernels.sh name ID              the results' prefix: stock-<major.minor>
#   kernels.sh root ID              the root ("/" for 6.1)
#   kernels.sh kdir ID              the kernel build directory, inside the root
#   kernels.sh run ID CMD...        run CMD in the root (chroot, /proc mounted,
#                                   this tree and $BUILD at their own paths)
#   kernels.sh build ID             toytcp.ko and the helper modules for ID,
#                                   W=1, into $BUILD/kernels/ID; fails on
#                                   any compiler warning (log: build.log there)
#
# Environment: TOYTCP_CACHE, TOYTCP_DEBIAN_MIRROR (http://deb.debian.org/debian),
# BUILD (default: build/ of this tree).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
BUILD=${BUILD:-$top/build}
cache=${TOYTCP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/toytcp}
mirror=${TOYTCP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# What a root holds.  Part of its key: a change makes a new root.
root_pkgs="gcc,make,libc6-dev,kmod,xz-utils,zstd,dkms,linux-image-amd64,linux-headers-amd64"

die() { echo "kernels: $*" >&2; exit 1; }

release_of() {
	case "$1" in
	6.1) echo bookworm ;;
	6.12) echo trixie ;;
	sid) echo sid ;;
	*) die "unknown kernel '$1' (known: 6.1 6.12 sid)" ;;
	esac
}

root_of() {
	local rel

	rel=$(release_of "$1")
	if [ "$rel" = bookworm ]; then
		echo /
	else
		echo "$cache/roots/$rel"
	fi
}

# The newest Debian kernel in root $1 whose headers are there too.
newest_kver() {
	local root=${1%/} k best=""

	for k in $(ls "$root"/boot/vmlinuz-*-amd64 2>/dev/null |
		   sed 's|.*/vmlinuz-||' | sort -V); do
		[ -e "$root/usr/src/linux-headers-$k/Makefile" ] ||
		[ -e "$root/lib/modules/$k/build/Makefile" ] || continue
		best=$k
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

kver_of() {
	local id=$1 root

	root=$(root_of "$id")
	if [ "$id" = 6.1 ]; then
		# The kernel the VM boots: the newest 6.1 image installed here.
		newest_kver / | grep -q '^6\.1\.' || die "no Debian 6.1 kernel with headers in /boot (apt-get install linux-image-amd64 linux-headers-amd64)"
		newest_kver /
		return
	fi
	[ -e "$root/.toytcp-root" ] || die "no $(release_of "$id") root yet (kernels.sh prepare $id)"
	newest_kver "$root" || die "no kernel with headers in $root"
}

kdir_of() {
	local kver=$1 root=${2%/}

	if [ -e "$root/usr/src/linux-headers-$kver/Makefile" ]; then
		echo "/usr/src/linux-headers-$kver"
	else
		echo "/lib/modules/$kver/build"
	fi
}

# run_in ROOT CMD...: CMD in ROOT with /proc, /dev, this tree and $BUILD
# mounted at their own paths, in a mount namespace of its own (the mounts
# go away with it).  objtool and gcc need /proc.  It holds the root's lock
# shared, so that no "prepare" (exclusive) replaces a kernel under a build
# (or under lint's sparse); prepare itself runs it with the lock held.
run_in() {
	local root=$1
	local -a lock=()

	shift
	if [ "$root" = / ]; then
		"$@"
		return
	fi
	mkdir -p "$BUILD"
	if [ -z "${TOYTCP_ROOT_LOCKED:-}" ]; then
		lock=(flock -s "$root.lock")
	fi
	# Private, so that no mount made here shows (and stays) outside.  In
	# a chroot whose / is no mount point the kernel refuses that.
	if ! unshare --mount --propagation private true 2>/dev/null; then
		die "cannot make a private mount namespace (unshare --mount as root; inside a chroot, / must be a mount point: bind-mount it on itself)"
	fi
	"${lock[@]}" unshare --mount --propagation private -- /bin/bash -c '
		set -e
		root=$1 top=$2 build=$3
		shift 3
		mount -t proc proc "$root/proc"
		mount --rbind /dev "$root/dev"
		for d in "$top" "$build"; do
			mkdir -p "$root$d"
			mount --bind "$d" "$root$d"
		done
		exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' run_in "$root" "$top" "$BUILD" "$@"
}

root_key() {
	echo "$1 $root_pkgs" | sha256sum | cut -c1-16
}

# prepare_root ID: make the root if missing (or made from another package
# list), then bring its kernel up to date.
prepare_root() {
	local id=$1 rel root key log

	rel=$(release_of "$id")
	root=$(root_of "$id")
	key=$(root_key "$rel")
	log=$cache/roots/$rel.log
	mkdir -p "$cache/roots"
	exec 7>"$root.lock"
	flock 7
	export TOYTCP_ROOT_LOCKED=1
	if [ "$(cat "$root/.toytcp-root" 2>/dev/null)" != "$key" ]; then
		command -v debootstrap >/dev/null ||
			die "debootstrap is missing (scripts/install-deps.sh kernels)"
		echo "kernels: making a Debian $rel root for kernel $id in $root (log: $log)" >&2
		rm -rf "$root" "$root.tmp"
		if ! debootstrap --variant=minbase --include="$root_pkgs" \
			"$rel" "$root.tmp" "$mirror" >"$log" 2>&1; then
			tail -n 20 "$log" >&2
			die "debootstrap of $rel failed"
		fi
		# sid's Release file may carry a Valid-Until in the past on a
		# mirror that lags; the packages are still signed.
		echo 'Acquire::Check-Valid-Until "false";' \
			>"$root.tmp/etc/apt/apt.conf.d/99toytcp"
		echo "$key" >"$root.tmp/.toytcp-root"
		mv "$root.tmp" "$root"
		return
	fi
	# The cached root: fetch a kernel the release has published since.
	if run_in "$root" apt-get -q update >"$log" 2>&1 &&
	   run_in "$root" apt-get -y -q install linux-image-amd64 linux-headers-amd64 \
		>>"$log" 2>&1; then
		# Old kernels' images, headers and modules go: only the newest is tested.
		run_in "$root" apt-get -y -q autoremove --purge >>"$log" 2>&1 || true
	else
		echo "kernels: could not update the $rel root (offline?); testing its cached kernel (log: $log)" >&2
	fi
}

# build ID: toytcp.ko and the helper modules for kernel ID into
# $BUILD/kernels/ID.  kbuild writes next to the sources: the module's
# sources are copied there (only those that changed, so that kbuild sees
# what to rebuild), and objects of another kernel release are thrown away.
build() {
	local id=$1 kver root kdir out log f

	kver=$(kver_of "$id")
	root=$(root_of "$id")
	kdir=$(kdir_of "$kver" "$root")
	out=$BUILD/kernels/$id
	log=$out/build.log
	mkdir -p "$out"
	if [ "$(cat "$out/kver" 2>/dev/null)" != "$kver" ]; then
		rm -rf "$out/module" "$out/selftests"
		echo "$kver" >"$out/kver"
	fi
	(cd "$top" && for f in Kbuild module/Kbuild module/*.[ch] module/uapi/*.h; do
		# What a build in module/ generated is not a source.
		case "$f" in *.mod.c) continue ;; esac
		mkdir -p "$out/$(dirname "$f")"
		cmp -s "$f" "$out/$f" || cp "$f" "$out/$f"
	done)
	if ! {
		run_in "$root" make -C "$kdir" M="$out/module" W=1 modules &&
		run_in "$root" make -C "$top/selftests" --no-print-directory kmods \
			BUILD="$BUILD" KDIR="$kdir" KMOD_OUT="$out/selftests"
	} >"$log" 2>&1; then
		tail -n 30 "$log" >&2
		die "the build for $kver failed (log: $log)"
	fi
	if grep -q 'warning:' "$log"; then
		grep 'warning:' "$log" >&2
		die "the build for $kver has warnings (log: $log)"
	fi
	echo "$out/module/toytcp.ko"
}

main() {
	local what=${1:-} id=${2:-} kver series other

	case "$what" in
	list) echo "6.1 6.12 sid" ;;
	prepare)
		[ "$id" = 6.1 ] || prepare_root "$id"
		kver_of "$id"
		;;
	kver) kver_of "$id" ;;
	name)
		# sid's kernel is named by its series, unless trixie has the same
		# (as sid had 6.12 in 2025): then stock-sid-<series>.
		kver=$(kver_of "$id")
		series=$(echo "$kver" | cut -d. -f1-2)
		if [ "$id" = sid ] && other=$(kver_of 6.12 2>/dev/null) &&
		   [ "$(echo "$other" | cut -d. -f1-2)" = "$series" ]; then
			echo "stock-sid-$series"
		else
			echo "stock-$series"
		fi
		;;
	root) root_of "$id" ;;
	kdir)
		kver=$(kver_of "$id")
		kdir_of "$kver" "$(root_of "$id")"
		;;
	run)
		shift 2
		run_in "$(root_of "$id")" "$@"
		;;
	build) build "$id" ;;
	*)
		sed -n '/^#   kernels.sh/p' "$0" | sed 's/^# *//' >&2
		exit 2
		;;
	esac
}

main "$@"; exit $?
