// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/toytcp: one line per toytcp socket of the reader's netns, in
 * the format of /proc/net/tcp (addresses and ports in hex as stored, state
 * as the kernel's TCP state number), so tools that read one read the other.
 * TIME-WAIT and other sockets closed by their user are listed too: this is
 * where a test sees them.  /proc/net/toytcp_stat has the counters (mib.h).
 */
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <net/sock.h>

#include "mib.h"
#include "toytcp.h"

struct toytcp_proc_walk {
	struct seq_file	*seq;
	int		n;
};

static void toytcp_proc_line(struct sock *sk, void *arg)
{
	struct toytcp_proc_walk *w = arg;
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	int state = inet_sk_state_load(sk);
	unsigned long when = 0;
	int timer = 0;
	u32 txq, rxq;

	if (state == TCP_LISTEN) {
		txq = 0;
		rxq = READ_ONCE(tp->lq_n_ready);
	} else {
		txq = READ_ONCE(tp->write_seq) - READ_ONCE(tp->snd_una);
		rxq = READ_ONCE(tp->rcv_nxt) - READ_ONCE(tp->copied_seq);
		if (rxq && sock_flag(sk, SOCK_DONE))
			rxq--;		/* the FIN is no byte to read */
	}
	/* /proc/net/tcp's timer codes: 1 retransmit, 2 keepalive, 3 TIME-WAIT, 4 probe */
	if (timer_pending(&tp->rtx_timer)) {
		timer = tp->timer_kind == TOYTCP_TIMER_RTX ? 1 : 4;
		when = tp->rtx_timer.expires;
	} else if (timer_pending(&tp->keepalive_timer)) {
		timer = state == TCP_TIME_WAIT ? 3 : 2;
		when = tp->keepalive_timer.expires;
	}
	seq_printf(w->seq,
		   "%4d: %08X:%04X %08X:%04X %02X %08X:%08X %02X:%08lX %08X %5u %8d %llu %d\n",
		   w->n++, inet->inet_rcv_saddr, inet->inet_num,
		   inet->inet_daddr, ntohs(inet->inet_dport), state, txq, rxq,
		   timer, timer ? jiffies_delta_to_clock_t(when - jiffies) : 0,
		   tp->total_retrans,
		   from_kuid_munged(seq_user_ns(w->seq), READ_ONCE(sk->sk_uid)),
		   0, (u64)sock_i_ino(sk), refcount_read(&sk->sk_refcnt));
}

static int toytcp_proc_show(struct seq_file *seq, void *v)
{
	struct toytcp_proc_walk w = { .seq = seq };

	seq_puts(seq, "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref\n");
	toytcp_walk_socks(seq_file_single_net(seq), toytcp_proc_line, &w);
	return 0;
}

static const char * const toytcp_mib_names[TOYTCP_MIB_MAX] = {
	[TOYTCP_MIB_ACTIVE_OPENS]	= "ActiveOpens",
	[TOYTCP_MIB_PASSIVE_OPENS]	= "PassiveOpens",
	[TOYTCP_MIB_ATTEMPT_FAILS]	= "AttemptFails",
	[TOYTCP_MIB_ESTAB_RESETS]	= "EstabResets",
	[TOYTCP_MIB_CURR_ESTAB]	= "CurrEstab",
	[TOYTCP_MIB_IN_SEGS]	= "InSegs",
	[TOYTCP_MIB_OUT_SEGS]	= "OutSegs",
	[TOYTCP_MIB_RETRANS_SEGS]	= "RetransSegs",
	[TOYTCP_MIB_IN_ERRS]	= "InErrs",
	[TOYTCP_MIB_IN_CSUM_ERRORS]	= "InCsumErrors",
	[TOYTCP_MIB_OUT_RSTS]	= "OutRsts",
	[TOYTCP_MIB_IN_RSTS]	= "InRsts",
	[TOYTCP_MIB_NO_SOCKET]	= "NoSocket",
	[TOYTCP_MIB_CHALLENGE_ACKS]	= "ChallengeAcks",
	[TOYTCP_MIB_OUT_OF_WINDOW]	= "OutOfWindow",
	[TOYTCP_MIB_OFO_QUEUED]	= "OfoQueued",
	[TOYTCP_MIB_RCV_QDROP]	= "RcvQDrop",
	[TOYTCP_MIB_BACKLOG_DROP]	= "BacklogDrop",
	[TOYTCP_MIB_LISTEN_DROPS]	= "ListenDrops",
	[TOYTCP_MIB_SYNCOOKIES_SENT]	= "SyncookiesSent",
	[TOYTCP_MIB_SYNCOOKIES_RECV]	= "SyncookiesRecv",
	[TOYTCP_MIB_SYNCOOKIES_FAILED]	= "SyncookiesFailed",
	[TOYTCP_MIB_TIME_WAITS]	= "TimeWaits",
	[TOYTCP_MIB_TIMEOUTS]	= "Timeouts",
	[TOYTCP_MIB_FAST_RETRANS]	= "FastRetrans",
	[TOYTCP_MIB_PERSIST_PROBES]	= "PersistProbes",
	[TOYTCP_MIB_KEEPALIVE_PROBES]	= "KeepaliveProbes",
	[TOYTCP_MIB_DELAYED_ACKS]	= "DelayedAcks",
	[TOYTCP_MIB_SACK_RECOVERY]	= "SackRecovery",
	[TOYTCP_MIB_SACK_RETRANS]	= "SackRetrans",
	[TOYTCP_MIB_SACK_BLOCKS_SENT]	= "SackBlocksSent",
};

/* /proc/net/toytcp_stat: the counters of the reader's netns. */
static int toytcp_stat_show(struct seq_file *seq, void *v)
{
	struct toytcp_mib __percpu *mib = toytcp_net_mib(seq_file_single_net(seq));
	int i, cpu;

	for (i = 1; i < TOYTCP_MIB_MAX; i++) {
		long sum = 0;

		for_each_possible_cpu(cpu)
			sum += per_cpu_ptr(mib, cpu)->mibs[i];
		seq_printf(seq, "%s %ld\n", toytcp_mib_names[i], sum);
	}
	return 0;
}

int toytcp_proc_init_net(struct net *net)
{
	if (!proc_create_net_single("toytcp", 0444, net->proc_net,
				    toytcp_proc_show, NULL))
		return -ENOMEM;
	if (!proc_create_net_single("toytcp_stat", 0444, net->proc_net,
				    toytcp_stat_show, NULL)) {
		remove_proc_entry("toytcp", net->proc_net);
		return -ENOMEM;
	}
	return 0;
}

void toytcp_proc_exit_net(struct net *net)
{
	remove_proc_entry("toytcp_stat", net->proc_net);
	remove_proc_entry("toytcp", net->proc_net);
}
