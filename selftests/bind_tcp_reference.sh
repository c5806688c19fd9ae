#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The bind selftest run against the kernel's own TCP (TOYTCP_PROTO=6) on the
# VM's kernel.  bind.c claims that toytcp must behave as Linux TCP does; this
# proves, on every run and on the very kernel toytcp runs on, that what bind.c
# expects is indeed what TCP does.  If this fails, the test is wrong, not
# toytcp.
#
# vm-timeout: 120
TOYTCP_PROTO=6 exec "$(dirname "$0")/bind"
