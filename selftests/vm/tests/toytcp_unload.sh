#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs after every other test of a VM boot: once the tests have closed
# their sockets and deleted their namespaces, toytcp must unload.  A module
# that cannot is leaking a socket or a reference; unloading also runs the
# module's exit path, where leaked objects show up as kernel splats
# (kmem_cache_destroy of a non-empty cache) that the host then reports.
# shellcheck source=selftests/lib/ktap.sh
. "$(dirname "$0")/../lib/ktap.sh"
# shellcheck source=selftests/lib/toytcp.sh
. "$(dirname "$0")/../lib/toytcp.sh"

ktap_print_header
ktap_set_plan 1
if ! toytcp_loaded; then
	ktap_test_skip toytcp_unload "toytcp was not loaded"
elif toytcp_unload; then
	ktap_test_pass toytcp_unload
else
	ktap_print_msg "rmmod toytcp failed; /proc/modules says:"
	grep '^toytcp ' /proc/modules | sed 's/^/# /'
	ktap_test_fail toytcp_unload
fi
ktap_finished
