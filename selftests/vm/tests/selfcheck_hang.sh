#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Harness self-check: a test that never finishes.  The VM's init must kill
# it when its timeout runs out and report it as failed.
# vm-timeout: 3
echo "TAP version 13"
echo "1..1"
echo "# sleeping past the 3 s timeout"
sleep 600
echo "ok 1 woke_up"
