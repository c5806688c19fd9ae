#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Print the QEMU accelerator the VMs use: "kvm" or "tcg".
#
# $TOYTCP_VM_ACCEL=kvm|tcg forces one.  Otherwise KVM only when /dev/kvm
# runs a guest: a device that opens but cannot run one (a cloud VM without
# nested virtualisation) makes QEMU hang in the BIOS, so a probe boots a
# 40-byte multiboot kernel under KVM that writes to QEMU's isa-debug-exit
# port at once; if QEMU has not exited with that code within
# $TOYTCP_KVM_PROBE_TIMEOUT seconds (5), KVM does not work.  When it falls
# back to software emulation it says so, in one line on stderr.
#
#   vm-accel.sh              print kvm or tcg
#   vm-accel.sh --selftest   the probe under TCG, where it must run: exit 0
#                            if it did (check.sh's harness/accel_probe_runs_under_tcg;
#                            a broken probe would send every KVM host to TCG)
set -euo pipefail

probe_timeout=${TOYTCP_KVM_PROBE_TIMEOUT:-5}

# The probe kernel: a multiboot header whose a.out kludge (flag 16) loads
# the file at 1 MiB and enters 32 bytes in, where the code does
#   mov al, 0x31 ; out 0xf4, al ; hlt ; jmp $-1
# isa-debug-exit turns the write into QEMU's exit status (0x31 << 1) | 1.
write_probe() {
	le() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' \
		$(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)))"; }
	{
		le $((0x1BADB002))			# magic
		le $((0x00010000))			# flags: addresses below
		le $(((-(0x1BADB002 + 0x00010000)) & 0xffffffff))	# checksum
		le $((0x00100000))			# header_addr
		le $((0x00100000))			# load_addr
		le 0					# load_end_addr: whole file
		le 0					# bss_end_addr: none
		le $((0x00100020))			# entry_addr
		printf '\xb0\x31\xe6\xf4\xf4\xeb\xfd\x90'
	} >"$1"
}

# probe ACCEL: 0 if QEMU under ACCEL ran the probe kernel to its exit;
# otherwise say why in $why.
why=""
probe() {
	local dir rc=0

	dir=$(mktemp -d)
	write_probe "$dir/probe.elf"
	# The braces take the shell's own notice of a QEMU killed by a signal.
	{ timeout -k 2 "$probe_timeout" qemu-system-x86_64 -accel "$1" -cpu max -m 32 \
		-nodefaults -nographic -no-reboot -monitor none -serial none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$dir/probe.elf" </dev/null >"$dir/log" 2>&1; } 2>/dev/null || rc=$?
	case "$rc" in
	99) ;;
	124 | 137) why="a probe boot did not finish in $probe_timeout s" ;;
	*) why="QEMU exited $rc on a probe boot: $(head -c 160 "$dir/log" | tr '\n' ' ')" ;;
	esac
	rm -rf "$dir"
	[ "$rc" = 99 ]
}

main() {
	if [ "${1:-}" = --selftest ]; then
		probe tcg && return 0
		echo "vm-accel: the probe kernel did not run under TCG ($why)" >&2
		return 1
	fi
	case "${TOYTCP_VM_ACCEL:-}" in
	kvm | tcg)
		echo "$TOYTCP_VM_ACCEL"
		return
		;;
	"") ;;
	*)
		echo "vm-accel: TOYTCP_VM_ACCEL must be kvm or tcg, not '$TOYTCP_VM_ACCEL'" >&2
		return 2
		;;
	esac
	if [ ! -e /dev/kvm ]; then
		echo tcg
		return
	fi
	if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		echo "vm: /dev/kvm is not usable by $(id -un): software emulation (TCG)" >&2
		echo tcg
		return
	fi
	if probe kvm; then
		echo kvm
	else
		echo "vm: /dev/kvm cannot run a guest ($why): software emulation (TCG)" >&2
		echo tcg
	fi
}

main "$@"; exit $?
