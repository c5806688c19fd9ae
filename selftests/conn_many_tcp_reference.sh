#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# conn_many run against the kernel's own TCP (TOYTCP_PROTO=6) on the VM's
# kernel: the same thousands of connections, bytes, /proc/net/tcp states and
# counters (the module's reference count and TimeWaits are toytcp's and are
# left out there).  If this fails, the test is wrong, not toytcp.
#
# vm-timeout: 600
TOYTCP_PROTO=6 exec "$(dirname "$0")/conn_many"
