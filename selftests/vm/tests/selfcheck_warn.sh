#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-check: a kernel WARNING.  Loads a module whose init calls
# WARN_ON(1); with panic_on_warn=1 the guest panics and reboots, and the host
# must report the splat (guest_kernel_clean) and the missing end marker.
echo "TAP version 13"
echo "1..1"
insmod "$(dirname "$0")/toytcp_vm_warn.ko"
echo "not ok 1 still_alive_after_warn"
exit 1
