#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# A whole toytcp connection as Wireshark sees it: dumpcap captures a
# connection between two namespaces (handshake, 20 KiB each way through the
# tool's echo server, four-way close), and tshark decodes the capture with
#
#	tshark -r FILE -d ip.proto==253,tcp -o tcp.check_checksum:TRUE
#
# Both veth ends have TX checksumming off (ethtool -K DEV tx off): with it
# on, toytcp leaves the checksum to the device as TCP does, and a capture
# on a veth sees it unfinished (Wireshark's "checksum offload" warning).
#
# Every segment must be IP protocol 253, decode as TCP with a good checksum,
# and the conversation must be the textbook one: SYN, SYN-ACK acknowledging
# the client's ISN + 1, ACK; the data in both directions with consecutive
# sequence numbers; the client's FIN at ISN + 1 + its data (a FIN may ride on
# the last data segment: its sequence number is then that segment's seq + len),
# acknowledged;
# the server's FIN the same; no RST.  Sequence numbers are absolute.
#
# vm-timeout: 300

# "local" is not POSIX but dash, bash and busybox sh all have it.
# shellcheck disable=SC3043

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=selftests/lib/ktap.sh
. "$here/lib/ktap.sh"
# shellcheck source=selftests/lib/toytcp.sh
. "$here/lib/toytcp.sh"
# shellcheck source=selftests/lib/netns.sh
. "$here/lib/netns.sh"

SRV_IP=10.9.6.1
CLI_IP=10.9.6.2
PORT=7300
SIZE=20480
tmp=$(mktemp -d)
pids=""

cleanup() {
	local p

	for p in $pids; do
		kill "$p" 2>/dev/null
	done
	netns_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	ktap_print_msg "FAIL: $*"
	return 1
}

capture_connection() {
	local dumpcap server

	"$IP" netns exec "$cli" dumpcap -i ve1 -f "ip proto 253" -w "$tmp/cap.pcapng" \
		>"$tmp/dumpcap.out" 2>&1 &
	dumpcap=$!
	pids="$pids $dumpcap"
	wait_until 60 grep -q "Capturing on" "$tmp/dumpcap.out" ||
		{ fail "dumpcap: $(cat "$tmp/dumpcap.out")"; return 1; }

	"$IP" netns exec "$srv" "$TOYTCP_TOOL" -q -w 60 echo -b "$SRV_IP" -c 1 "$PORT" \
		>"$tmp/server.out" 2>&1 &
	server=$!
	pids="$pids $server"
	wait_until 30 in_ns "$srv" grep -q ":$(printf '%04X' $PORT) 00000000:0000 0A" \
		/proc/net/toytcp || { fail "no listener: $(cat "$tmp/server.out")"; return 1; }

	head -c "$SIZE" /dev/urandom >"$tmp/sent"
	"$IP" netns exec "$cli" "$TOYTCP_TOOL" -q -w 60 connect "$SRV_IP" "$PORT" \
		<"$tmp/sent" >"$tmp/echoed" 2>"$tmp/client.err" ||
		{ fail "client: $(cat "$tmp/client.err")"; return 1; }
	wait "$server" || { fail "server: $(cat "$tmp/server.out")"; return 1; }
	cmp "$tmp/sent" "$tmp/echoed" || { fail "echo differs"; return 1; }

	# The client's last ACK has left: give dumpcap a moment to write it.
	sleep 1
	kill -INT "$dumpcap"
	wait "$dumpcap"
	[ -s "$tmp/cap.pcapng" ] || { fail "empty capture"; return 1; }
}

decode() {
	tshark -r "$tmp/cap.pcapng" -d ip.proto==253,tcp \
		-o tcp.check_checksum:TRUE -o tcp.relative_sequence_numbers:FALSE \
		-T fields -E separator=' ' -e frame.number -e ip.proto \
		-e tcp.srcport -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack \
		-e tcp.flags.fin -e tcp.flags.reset -e tcp.seq -e tcp.ack \
		-e tcp.len -e tcp.checksum.status -e _ws.col.Protocol \
		>"$tmp/fields" 2>"$tmp/tshark.err" ||
		{ fail "tshark: $(cat "$tmp/tshark.err")"; return 1; }
	ktap_print_msg "$(wc -l <"$tmp/fields") segments decoded"
	[ -s "$tmp/fields" ] || { fail "tshark decoded nothing: $(cat "$tmp/tshark.err")"; return 1; }
}

# Every segment: protocol 253, dissected as TCP, checksum good (1), no RST.
all_tcp_good_checksum() {
	awk '
		NF != 13 { print "# frame " $1 ": not dissected as TCP: " $0; bad = 1; next }
		$2 != 253 || $13 != "TCP" { print "# frame " $1 ": protocol " $2 " shown as " $13; bad = 1 }
		$12 != 1 { print "# frame " $1 ": checksum status " $12 " (1 = good)"; bad = 1 }
		$8 != 0 { print "# frame " $1 ": RST"; bad = 1 }
		END { exit bad }' "$tmp/fields"
}

# The conversation, from the client's port ($3 of frame 1).
conversation() {
	awk -v size="$SIZE" -v sport="$PORT" '
		function fail(msg) { print "# " msg; bad = 1 }
		function add(a, b) { return (a + b) % 4294967296 }
		{ n++; src[n] = $3; syn[n] = $5; ack[n] = $6; fin[n] = $7
		  seq[n] = $9; an[n] = $10; len[n] = $11 }
		END {
			if (n < 8) fail("only " n " segments")
			if (!(syn[1] && !ack[1] && src[1] != sport)) fail("frame 1 is not the client SYN")
			cisn = seq[1]; cport = src[1]
			if (!(syn[2] && ack[2] && src[2] == sport)) fail("frame 2 is not the SYN-ACK")
			if (an[2] != add(cisn, 1)) fail("SYN-ACK acknowledges " an[2] ", not ISN+1 " add(cisn, 1))
			sisn = seq[2]
			if (syn[3] || !ack[3] || src[3] != cport) fail("frame 3 is not the client ACK")
			if (seq[3] != add(cisn, 1) || an[3] != add(sisn, 1)) fail("frame 3: seq " seq[3] " ack " an[3])
			cnext = add(cisn, 1); snext = add(sisn, 1)
			for (i = 4; i <= n; i++) {
				if (syn[i]) fail("frame " i ": SYN again")
				if (!ack[i]) fail("frame " i ": no ACK bit")
				if (src[i] == cport) {
					if (len[i] > 0 || fin[i]) {
						if (seq[i] != cnext) fail("frame " i ": client seq " seq[i] ", expected " cnext)
						cnext = add(cnext, len[i]); cdata += len[i]
					}
					if (fin[i]) { cfin = i; cfinseq = add(seq[i], len[i]); cnext = add(cnext, 1) }
					if (sfin && an[i] == snext) sfin_acked = i
				} else {
					if (len[i] > 0 || fin[i]) {
						if (seq[i] != snext) fail("frame " i ": server seq " seq[i] ", expected " snext)
						snext = add(snext, len[i]); sdata += len[i]
					}
					if (fin[i]) { sfin = i; snext = add(snext, 1) }
					if (cfin && an[i] == cnext) cfin_acked = i
				}
			}
			if (cdata != size) fail("client sent " cdata " bytes, expected " size)
			if (sdata != size) fail("server sent " sdata " bytes, expected " size)
			if (!cfin) fail("no client FIN")
			if (!sfin) fail("no server FIN")
			if (cfin && cfinseq != add(cisn, 1 + size)) fail("client FIN at " cfinseq ", expected " add(cisn, 1 + size))
			if (!cfin_acked) fail("the client FIN is never acknowledged")
			if (!sfin_acked) fail("the server FIN is never acknowledged")
			if (sfin_acked != n) fail("the last segment is not the ACK of the server FIN")
			print "# client ISN " cisn ", server ISN " sisn "; " n " segments; FINs in frames " cfin " and " sfin
			exit bad
		}' "$tmp/fields"
}

ktap_print_header
for p in tshark dumpcap; do
	command -v "$p" >/dev/null || ktap_skip_all "$p is not in the VM image"
done
ETHTOOL=/usr/sbin/ethtool
[ -x "$ETHTOOL" ] || ktap_skip_all "ethtool is not in the VM image"
toytcp_load || ktap_skip_all "toytcp does not load"
ktap_set_plan 4

netns_new srv cli
veth_link "$srv" "$SRV_IP/24" "$cli" "$CLI_IP/24" ve0 ve1 || ktap_skip_all "no veth"
in_ns "$srv" "$ETHTOOL" -K ve0 tx off >/dev/null &&
	in_ns "$cli" "$ETHTOOL" -K ve1 tx off >/dev/null ||
	ktap_skip_all "ethtool -K tx off failed"

ktap_test_result capture_connection capture_connection
ktap_test_result tshark_decodes decode
ktap_test_result every_segment_tcp_with_good_checksum all_tcp_good_checksum
ktap_test_result textbook_conversation conversation
ktap_finished
