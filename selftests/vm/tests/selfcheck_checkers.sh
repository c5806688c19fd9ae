#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-check for the debug kernel: loads a module that leaks memory,
# takes two locks in both orders and calls might_sleep() with preemption
# off.  The kernel goes on running; the host must find the reports of
# kmemleak (init.sh's scan after the last test), lockdep and
# DEBUG_ATOMIC_SLEEP in the kernel log and fail the run.
echo "TAP version 13"
echo "1..1"
if insmod "$(dirname "$0")/toytcp_vm_bugs.ko"; then
	echo "ok 1 loaded"
else
	echo "not ok 1 loaded"
	exit 1
fi
