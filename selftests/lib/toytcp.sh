# SPDX-License-Identifier: GPL-2.0
#
# toytcp.sh - where things are in the selftest VM, and the module's states.
# POSIX sh: works under dash, busybox sh and bash.  Source it:
#
#	. "$(dirname "$0")/lib/toytcp.sh"
#
# The VM boots with toytcp *installed* (socket(AF_INET, SOCK_STREAM, 253)
# autoloads it through /sbin/modprobe) but not loaded.  Between two tests the
# VM's init puts it back installed if a test uninstalled it; it does not
# unload it.
#
#	toytcp_install      copy toytcp.ko to /lib/modules/$(uname -r)/extra
#	                    and run depmod, so the autoload alias resolves
#	toytcp_uninstall    unload it (if loaded) and remove it, so that
#	                    socket(..., 253) fails with EPROTONOSUPPORT
#	toytcp_installed    true if installed
#	toytcp_load [PARAM=VALUE...]   load it (modprobe if installed, else
#	                    insmod), with module parameters
#	toytcp_unload       unload it, retrying while sockets wind down
#	toytcp_loaded       true if loaded

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

# Paths; init exports the same values, these defaults let a test run
# outside the VM too (e.g. on a real test VM, from the source tree).
: "${TOYTCP_KO:=/toytcp/toytcp.ko}"		# the module, as built
: "${TOYTCP_TOOL:=/usr/bin/toytcp}"		# the command-line tool
: "${SELFTESTS:=/selftests}"			# tests and helpers

# iproute2, by full path: busybox sh would run its own "ip" applet first.
: "${IP:=/usr/sbin/ip}"
: "${TC:=/usr/sbin/tc}"
: "${SS:=/usr/bin/ss}"

TOYTCP_INSTALLED_KO=/lib/modules/$(uname -r)/extra/toytcp.ko

toytcp_loaded() {
	grep -q '^toytcp ' /proc/modules
}

toytcp_installed() {
	[ -e "$TOYTCP_INSTALLED_KO" ]
}

toytcp_install() {
	mkdir -p "$(dirname "$TOYTCP_INSTALLED_KO")" &&
		cp "$TOYTCP_KO" "$TOYTCP_INSTALLED_KO" &&
		/sbin/depmod -a
}

toytcp_unload() {
	local i=0

	toytcp_loaded || return 0
	# Sockets that are closing hold the module: TIME-WAIT for 2 MSL
	# (60 s), an orphan's FIN-WAIT-2 as long.  75 s covers both.
	while ! /sbin/rmmod toytcp 2>/dev/null; do
		i=$((i + 1))
		if [ "$i" -ge 150 ]; then
			/sbin/rmmod toytcp	# once more, to show the error
			return 1
		fi
		usleep 500000
	done
}

toytcp_uninstall() {
	toytcp_unload || return 1
	rm -f "$TOYTCP_INSTALLED_KO"
	/sbin/depmod -a
}

toytcp_load() {
	toytcp_loaded && return 0
	if toytcp_installed; then
		/sbin/modprobe toytcp "$@"
	else
		/sbin/insmod "$TOYTCP_KO" "$@"
	fi
}
