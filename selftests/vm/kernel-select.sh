# SPDX-License-Identifier: GPL-2.0
#
# kernel-select.sh - which kernel "make demo" and "make bench" boot.
# Sourced (bash) by demo.sh and bench.sh after they have set $top and
# $BUILD.
#
# $KERNELS (default 6.1) names stock kernels of scripts/kernels.sh (6.1,
# 6.12, sid).  With several, the sourcing script runs again once for each
# and exits.  With one, its root is fetched or updated and toytcp and the
# helper modules are built for it ("kernels.sh prepare/build"), and
# $TOYTCP_VM_FLAVOUR names it for flavour.sh.  TOYTCP_VM_FLAVOUR=debug
# instead boots the debug kernel (built first: "make debug-modules").
# Either way $TOYTCP_VM_ACCEL is set once (scripts/vm-accel.sh).

# shellcheck shell=bash

if [ "${TOYTCP_VM_FLAVOUR:-}" = debug ]; then
	make -C "$top" --no-print-directory BUILD="$BUILD" debug-modules
else
	ks_kernels=${KERNELS:-6.1}
	if [ "$(wc -w <<<"$ks_kernels")" -gt 1 ]; then
		ks_rc=0
		for ks_k in $ks_kernels; do
			KERNELS=$ks_k "$0" "$@" || ks_rc=$?
		done
		exit "$ks_rc"
	fi
	"$top/scripts/kernels.sh" prepare "$ks_kernels" >/dev/null || exit 1
	"$top/scripts/kernels.sh" build "$ks_kernels" >/dev/null || exit 1
	export TOYTCP_VM_FLAVOUR=$ks_kernels
fi
TOYTCP_VM_ACCEL=$("$top/scripts/vm-accel.sh") || exit 1
export TOYTCP_VM_ACCEL
