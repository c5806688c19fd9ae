# SPDX-License-Identifier: GPL-2.0
#
# netns.sh - network namespaces, veth links and polling for shell selftests.
# POSIX sh: works under dash (the VM's /bin/sh), busybox sh and bash.
#
#	. "$(dirname "$0")/lib/netns.sh"
#
#	netns_new VAR [VAR...]	create a namespace with a unique name (lo up)
#				for each VAR and store the name in it
#	netns_cleanup		delete every namespace netns_new made; run it
#				from "trap netns_cleanup EXIT"
#	veth_link NS1 ADDR1 NS2 ADDR2 [DEV1 DEV2]
#				join NS1 and NS2 with a veth pair, with the
#				addresses given (CIDR, e.g. 10.0.1.1/24), up
#	in_ns NS CMD...		run CMD in NS
#	wait_until SECONDS CMD...
#				poll CMD every 0.1 s until it succeeds; fails
#				after SECONDS.  Use it instead of fixed sleeps
#				for readiness (a server listening, a state...)
#
# Example:
#	netns_new cli srv
#	trap netns_cleanup EXIT
#	veth_link "$cli" 10.0.1.1/24 "$srv" 10.0.1.2/24
#	in_ns "$srv" toytcp listen 7000 >out & ...

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

: "${IP:=/usr/sbin/ip}"

NETNS_CREATED=""

netns_new() {
	local var name

	for var in "$@"; do
		name="$var-$(cut -c1-8 /proc/sys/kernel/random/uuid)"
		"$IP" netns add "$name" || return 1
		NETNS_CREATED="$NETNS_CREATED $name"
		"$IP" -n "$name" link set lo up || return 1
		eval "$var=\$name"
	done
}

netns_cleanup() {
	local ns

	for ns in $NETNS_CREATED; do
		"$IP" netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		"$IP" netns delete "$ns" 2>/dev/null
	done
	NETNS_CREATED=""
}

veth_link() {
	local ns1="$1" addr1="$2" ns2="$3" addr2="$4" dev1="${5:-veth0}" dev2="${6:-veth1}"

	"$IP" link add "$dev1" netns "$ns1" type veth peer "$dev2" netns "$ns2" &&
	"$IP" -n "$ns1" addr add "$addr1" dev "$dev1" &&
	"$IP" -n "$ns2" addr add "$addr2" dev "$dev2" &&
	"$IP" -n "$ns1" link set "$dev1" up &&
	"$IP" -n "$ns2" link set "$dev2" up
}

in_ns() {
	local ns="$1"

	shift
	"$IP" netns exec "$ns" "$@"
}

wait_until() {
	local limit="$(($1 * 10))" i=0

	shift
	until "$@"; do
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || return 1
		sleep 0.1
	done
}
