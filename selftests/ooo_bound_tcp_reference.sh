#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# ooo_bound run against the kernel's own TCP (TOYTCP_PROTO=6) on the VM's
# kernel: the same out-of-order, overlapping, duplicate and beyond-window
# segments, and the same checks of receive memory and of the bytes read
# (the /proc/net/toytcp_stat counters are toytcp's and are left out there).
# If this fails, the test is wrong, not toytcp.
#
# vm-timeout: 300
TOYTCP_PROTO=6 exec "$(dirname "$0")/ooo_bound"
