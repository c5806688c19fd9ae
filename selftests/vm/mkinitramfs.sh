#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the initramfs the selftest VM boots, from this machine's Debian
# packages (busybox-static, iproute2, kmod, linux-image) and from build/.
# Nothing is downloaded.  Rebuilt on every run: it takes about a second.
#
#   mkinitramfs.sh [OUTPUT]     default: $BUILD/vm/<flavour>/initramfs.cpio.gz
#
# TOYTCP_VM_FLAVOUR=debug builds it for the debug kernel (flavour.sh): no
# module but toytcp's and the helpers, built against that kernel; the
# network drivers are built in.
#
# Guest layout; tests may rely on these paths (see README.md):
#   /init                      selftests/vm/init.sh
#   /toytcp/toytcp.ko          module/toytcp.ko, not installed at boot time
#   /usr/bin/toytcp            tools/toytcp
#   /usr/bin/toytcp-run        tools/toytcp-run, with /usr/lib/toytcp/libtoytcp-preload.so
#   /usr/bin/toytcp-bench      tools/toytcp-bench ("make bench", bench_tool.sh)
#   /usr/bin/perf              Debian's linux-perf, only with TOYTCP_VM_PERF=1
#   /usr/bin/{iperf3,wget,tshark,dumpcap}, /usr/sbin/mini_httpd   Debian's,
#                              for preload_apps.sh and tshark_decode.sh
#   /selftests/<name>          build/selftests/* (test programs and scripts)
#   /selftests/lib/*.sh        selftests/lib/ (shell helpers)
#   /selftests/modules/*.ko    build/selftests/modules/*.ko (helper modules)
#   /selftests/vm/<name>       the harness's own tests (build/selftests/vm/)
#   /selftests/MANIFEST        "group name timeout" for every test, in order
#   /usr/sbin/{ip,tc}, /usr/bin/ss   iproute2 (call them by full path)
#   /sbin/modprobe ...         kmod; /lib/modules/$KVER holds the network
#                              modules below, with their dependencies (the
#                              debug kernel: modules.builtin only)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-$top/build}
# KVER, flavour_vm, flavour_ko, flavour_kmods, flavour_kdir
# shellcheck source=selftests/vm/flavour.sh
. "$here/flavour.sh" || exit 1
out=${1:-$flavour_vm/initramfs.cpio.gz}
root=$flavour_vm/initramfs
# The module and tool to test; TOYTCP_MODULE (flavour.sh) and
# TOYTCP_TOOL_BIN override them to test another build.
TOYTCP_MODULE=$flavour_ko
TOYTCP_TOOL_BIN=${TOYTCP_TOOL_BIN:-$top/tools/toytcp}

# Kernel modules the guest preloads, in this order (each with its
# dependencies): veth/tun/dummy/ifb links, the qdiscs, classifiers and actions
# tests use to delay, drop and rewrite packets (netem, the 253<->6 protocol
# rewrite with pedit + csum).
guest_modules="veth tun dummy ifb sch_netem sch_ingress sch_tbf sch_prio
	sch_htb cls_u32 cls_matchall cls_flower act_gact act_mirred act_pedit
	act_csum"

# Default per-test timeout in seconds.  Generous because the VM usually runs
# under software emulation (TCG), where code runs 10-50 times slower.
# A test overrides it with a "vm-timeout: SECONDS" comment in its source.
default_timeout=${TOYTCP_VM_TEST_TIMEOUT:-300}

die() { echo "mkinitramfs: $*" >&2; exit 1; }

# Copy a file to the same path under $root, following symlinks.  Mode 0755
# by default: the dynamic loader must be executable.
copy_file() {
	install -D -m "${2:-0755}" "$(readlink -f "$1")" "$root$1"
}

# Copy a dynamically linked program and the shared libraries ldd finds for
# it (the dynamic loader included), each to the same path under $root.
copy_elf() {
	local bin=$1 dest=${2:-$1} lib

	install -D -m 0755 "$(readlink -f "$bin")" "$root$dest"
	for lib in $(ldd "$bin" 2>/dev/null |
		     sed -n 's|.*=> \(/[^ ]*\) .*|\1|p; s|^[[:space:]]*\(/[^ ]*\) .*|\1|p'); do
		[ -e "$root$lib" ] || copy_file "$lib"
	done
}

# The timeout a test asks for in its source ("vm-timeout: 600"), or the
# default.  $1 is the built file, $2 the directory of its sources.
test_timeout() {
	local name=$1 srcdir=$2 src t=""

	for src in "$srcdir/$name" "$srcdir/$name.c"; do
		[ -f "$src" ] || continue
		t=$(sed -n 's/.*vm-timeout:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$src" |
		    head -n 1)
		break
	done
	echo "${t:-$default_timeout}"
}

# Copy the tests of one build directory to /selftests/$3 and list them in the
# manifest: executables and *.sh at the top of the directory, sorted by name.
add_tests() {
	local group=$1 from=$2 to=$3 srcdir=$4 f name

	[ -d "$from" ] || return 0
	for f in "$from"/*; do
		[ -f "$f" ] || continue
		name=${f##*/}
		case "$name" in
		*.sh) ;;
		*.ko|*.o|*.d|*.c|*.h|*.txt|*.log|MANIFEST) continue ;;
		*) [ -x "$f" ] || continue ;;
		esac
		install -D -m 0755 "$f" "$root/selftests/$to$name"
		echo "$group $to$name $(test_timeout "$name" "$srcdir")" >>"$root/selftests/MANIFEST"
	done
}

if [ "$flavour_stock" = 1 ]; then
	[ -e "$flavour_root/boot/vmlinuz-$KVER" ] || die "no $flavour_root/boot/vmlinuz-$KVER (apt-get install linux-image-amd64)"
	[ -d "$flavour_root/lib/modules/$KVER/kernel" ] || die "no $flavour_root/lib/modules/$KVER"
else
	[ -r "$flavour_kdir/modules.builtin" ] || die "no $flavour_kdir/modules.builtin"
fi
[ -x /bin/busybox ] || die "no /bin/busybox (apt-get install busybox-static)"
ldd /bin/busybox >/dev/null 2>&1 && die "/bin/busybox is not static (apt-get install busybox-static)"

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,lib,lib64,etc,proc,sys,dev,tmp,run,root,mnt}
mkdir -p "$root"/{toytcp,selftests/lib,selftests/modules,selftests/vm}
mkdir -p "$root/var" && ln -s /run "$root/var/run"	# ip netns: /var/run/netns

# /bin/sh is dash, as on Debian: busybox sh would run its own applets (ip,
# modprobe...) before the real programs in PATH.  bash is there for
# #!/bin/bash scripts.  Busybox provides the other tools; a real program
# installed here (ip, tc, ss, modprobe...) takes precedence: no applet link
# is made where one exists, and PATH puts /usr/sbin, /usr/bin, /sbin first.
install -m 0755 /bin/busybox "$root/bin/busybox"
copy_elf /bin/dash /bin/sh
copy_elf /bin/bash /bin/bash

# Debian's awk (mawk, or gawk) rather than busybox's, as on a real test
# machine.
copy_elf /usr/bin/awk /usr/bin/awk

copy_elf /usr/sbin/ip
copy_elf /usr/sbin/tc
copy_elf /usr/bin/ss
# kmod is what Debian runs as /sbin/modprobe, and what the kernel runs to
# autoload toytcp on socket(AF_INET, SOCK_STREAM, 253).
copy_elf /bin/kmod /bin/kmod
for t in modprobe insmod rmmod lsmod modinfo depmod; do
	ln -s /bin/kmod "$root/sbin/$t"
done

applets=()
for applet in $(/bin/busybox --list); do
	case "$applet" in busybox) continue ;; esac
	[ -e "$root/bin/$applet" ] || [ -e "$root/sbin/$applet" ] ||
	[ -e "$root/usr/bin/$applet" ] || [ -e "$root/usr/sbin/$applet" ] ||
		applets+=("$applet")
done
# One process for a few hundred links (perl-base is essential in Debian).
(cd "$root/bin" && perl -e 'symlink("busybox", $_) or die "$_: $!\n" for @ARGV' "${applets[@]}")

cat >"$root/etc/passwd" <<EOF
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<EOF
root:x:0:
nogroup:x:65534:
EOF
printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost\n' >"$root/etc/hosts"
printf 'tcp\t6\tTCP\nudp\t17\tUDP\n' >"$root/etc/protocols"
[ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$root/etc/"

# Kernel modules: each with its dependencies, in load order, as modprobe
# would load them.  Compressed modules (later Debian kernels) are unpacked
# here so the guest needs no decompressor.  The debug kernel has them all
# built in: /etc/vm-modules stays empty, and modules.builtin lets modprobe
# (tc, ip, a test) succeed for them as it would for a loadable module.
# A stock kernel's modules are in its release's root (flavour.sh), which
# may be another Debian release than this machine's.
mods=/lib/modules/$KVER
srcmods=${flavour_root:-}$mods
mkdir -p "$root$mods/extra"
: >"$root/etc/vm-modules"
[ "$flavour_stock" = 1 ] || guest_modules=""
for m in $guest_modules; do
	modprobe -d "${flavour_root:-/}" -S "$KVER" --show-depends "$m" | while read -r kind path _; do
		[ "$kind" = insmod ] || continue
		rel=${path#"$srcmods/"}
		base=${rel%.ko*}
		case "$path" in
		*.ko) install -D -m 0644 "$path" "$root$mods/$base.ko" ;;
		*.ko.xz) mkdir -p "$(dirname "$root$mods/$base")"; xz -dc "$path" >"$root$mods/$base.ko" ;;
		*.ko.zst) mkdir -p "$(dirname "$root$mods/$base")"; zstd -qdc "$path" >"$root$mods/$base.ko" ;;
		*.ko.gz) mkdir -p "$(dirname "$root$mods/$base")"; gzip -dc "$path" >"$root$mods/$base.ko" ;;
		*) die "unexpected module $path" ;;
		esac
	done
	echo "$m" >>"$root/etc/vm-modules"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	if [ "$flavour_stock" = 1 ]; then
		[ -e "$srcmods/$f" ] && cp "$srcmods/$f" "$root$mods/"
	else
		[ -e "$flavour_kdir/$f" ] && cp "$flavour_kdir/$f" "$root$mods/"
	fi
done
depmod -b "$root" "$KVER"

# The module and the tool under test.
if [ -e "$TOYTCP_MODULE" ]; then
	install -m 0644 "$TOYTCP_MODULE" "$root/toytcp/toytcp.ko"
else
	echo "mkinitramfs: warning: no $TOYTCP_MODULE" >&2
fi
if [ -e "$TOYTCP_TOOL_BIN" ]; then
	# Meant to be static; if it is not, bring its libraries along.
	copy_elf "$TOYTCP_TOOL_BIN" /usr/bin/toytcp
else
	echo "mkinitramfs: warning: no $TOYTCP_TOOL_BIN" >&2
fi

# toytcp-run and its library, for unmodified programs.
if [ -e "$top/tools/libtoytcp-preload.so" ]; then
	install -D -m 0755 "$top/tools/toytcp-run" "$root/usr/bin/toytcp-run"
	copy_elf "$top/tools/libtoytcp-preload.so" /usr/lib/toytcp/libtoytcp-preload.so
else
	echo "mkinitramfs: warning: no tools/libtoytcp-preload.so" >&2
fi
# The benchmark; perf (about 25 MiB with its libraries) only when asked.
if [ -e "$top/tools/toytcp-bench" ]; then
	copy_elf "$top/tools/toytcp-bench" /usr/bin/toytcp-bench
else
	echo "mkinitramfs: warning: no tools/toytcp-bench" >&2
fi
if [ "${TOYTCP_VM_PERF:-0}" = 1 ]; then
	if [ -x /usr/bin/perf ]; then
		copy_elf /usr/bin/perf
	else
		echo "mkinitramfs: warning: no /usr/bin/perf (apt-get install linux-perf)" >&2
	fi
fi
# Debian programs the selftests run over toytcp (preload_apps.sh,
# tshark_decode.sh), and ethtool to turn a veth's offloads off, with their
# libraries; a test that misses one says so.
for prog in /usr/bin/iperf3 /usr/sbin/mini_httpd /usr/bin/wget \
	    /usr/bin/tshark /usr/bin/dumpcap /usr/sbin/ethtool; do
	if [ -x "$prog" ]; then
		copy_elf "$prog"
	else
		echo "mkinitramfs: warning: no $prog (scripts/install-deps.sh vm)" >&2
	fi
done

# Tests, helpers and the manifest init reads.
: >"$root/selftests/MANIFEST"
add_tests main "$BUILD/selftests" "" "$top/selftests"
add_tests vm "$BUILD/selftests/vm" vm/ "$here/tests"
cp "$top"/selftests/lib/*.sh "$root/selftests/lib/" 2>/dev/null || true
# Helper modules: those built for this flavour's kernel.
cp "$flavour_kmods"/modules/*.ko "$root/selftests/modules/" 2>/dev/null || true
cp "$flavour_kmods"/vm/*.ko "$root/selftests/vm/" 2>/dev/null || true
install -m 0755 "$here/demo-guest.sh" "$root/selftests/vm/demo-guest.sh"
install -m 0755 "$here/bench-guest.sh" "$root/selftests/vm/bench-guest.sh"
install -m 0755 "$here/init.sh" "$root/init"

# The kernel's built-in initramfs already has /dev/console; the archive can
# therefore be made without root and device nodes.
mkdir -p "$(dirname "$out")"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
echo "mkinitramfs: $out ($flavour_name kernel $KVER, $(du -k "$out" | cut -f1) KiB, $(grep -c . "$root/selftests/MANIFEST") tests)" >&2
