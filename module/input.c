// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp segment input and the state machine.
 *
 * toytcp_v4_rcv() is the IP protocol handler: it validates the segment,
 * finds its socket and runs toytcp_do_rcv() under the socket lock, or queues
 * the segment on the socket's backlog when a user owns the socket (the
 * backlog runs through the same function from release_sock()).
 *
 * toytcp_do_rcv() follows RFC 9293 section 3.10.7 "SEGMENT ARRIVES" step by
 * step; the comments name the steps.  The listener's part (a SYN creating a
 * child) is in listen.c.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/skbuff.h>
#include <net/ip.h>
#include <net/sock.h>

#include "mib.h"
#include "toytcp.h"
#include "trace.h"

/*
 * An acceptable RST ended the connection (RFC 9293 3.10.7.4, "second,
 * check the RST bit"): count it, trace it, report @err and close.
 */
static void toytcp_reset_rcvd(struct sock *sk, int err)
{
	TOYTCP_INC(sock_net(sk), IN_RSTS);
	trace_toytcp_reset(sk, sk->sk_state, err);
	toytcp_abort(sk, err);
}

/* The error a RST means for the user, as Linux TCP reports it. */
static int toytcp_reset_errno(const struct sock *sk)
{
	switch (sk->sk_state) {
	case TCP_SYN_SENT:
		return -ECONNREFUSED;
	case TCP_CLOSE_WAIT:
		return -EPIPE;
	default:
		return -ECONNRESET;
	}
}

/* RFC 5961 challenge ACK, at most one per 100 ms per connection. */
static void toytcp_challenge_ack(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (time_before(jiffies, tp->last_challenge + HZ / 10))
		return;
	tp->last_challenge = jiffies;
	TOYTCP_INC(sock_net(sk), CHALLENGE_ACKS);
	toytcp_send_ack(sk);
}

/* Our FIN: peer's FIN arrived in order (RFC 9293 3.10.7.4, eighth). */
static void toytcp_fin(struct sock *sk)
{
	WRITE_ONCE(sk->sk_shutdown, sk->sk_shutdown | RCV_SHUTDOWN);
	sock_set_flag(sk, SOCK_DONE);

	switch (sk->sk_state) {
	case TCP_SYN_RECV:
	case TCP_ESTABLISHED:
		toytcp_set_state(sk, TCP_CLOSE_WAIT);
		break;
	case TCP_FIN_WAIT1:
		/* Our FIN is not acked yet: simultaneous close. */
		toytcp_set_state(sk, TCP_CLOSING);
		break;
	case TCP_FIN_WAIT2:
		toytcp_set_state(sk, TCP_TIME_WAIT);
		toytcp_timer_time_wait(sk);
		break;
	default:
		break;
	}
	toytcp_sk(sk)->quickack = 1;
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_state_change(sk);
}

/* Track how much of an arriving skb's truesize is data (EWMA, 1/8). */
static void toytcp_measure_ratio(struct toytcp_sock *tp,
				 const struct sk_buff *skb)
{
	u32 r = clamp_t(u32, ((u64)skb->len << 10) / skb->truesize, 32, 1024);

	tp->rcv_ratio = tp->rcv_ratio - (tp->rcv_ratio >> 3) + (r >> 3);
}

/*
 * A small segment in a big buffer (or one whose data a loopback sender
 * still shares) is copied into an skb that fits, so that the receive buffer
 * holds data, not slack.  Return: the skb to keep (maybe @skb itself).
 */
static struct sk_buff *toytcp_copybreak(struct sk_buff *skb)
{
	struct sk_buff *copy;

	if (skb->len > 1024 || skb->truesize <= 4 * (skb->len + 512))
		return skb;
	copy = alloc_skb(skb->len, GFP_ATOMIC);
	if (!copy)
		return skb;
	if (skb_copy_bits(skb, 0, skb_put(copy, skb->len), skb->len)) {
		kfree_skb(copy);
		return skb;
	}
	*TOYTCP_SKB_CB(copy) = *TOYTCP_SKB_CB(skb);
	consume_skb(skb);
	return copy;
}

/*
 * Hand in-order segment @skb (payload at skb->data, cb->seq <= rcv_nxt) to
 * the receive queue, and take its FIN.  Consumes @skb.
 */
static void toytcp_queue_in_order(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	bool fin = cb->flags & TCPHDR_FIN;
	u32 off = tp->rcv_nxt - cb->seq;

	if (off >= skb->len) {
		/* no new data: only the FIN may be new */
		if (fin && cb->end_seq - 1 == tp->rcv_nxt)
			goto fin;
		goto drop;
	}
	if (off) {
		if (!pskb_pull(skb, off))
			goto drop;
		cb->seq += off;
	}
	if (skb->sk != sk) {
		skb = toytcp_copybreak(skb);
		cb = TOYTCP_SKB_CB(skb);
		/*
		 * In-order data inside the window we offered is taken even
		 * a little over the buffer (the data/truesize ratio behind
		 * the offer is an estimate), up to twice it; beyond, or past
		 * the protocol's memory, the peer resends.
		 */
		if (atomic_read(&sk->sk_rmem_alloc) > 2 * sk->sk_rcvbuf ||
		    !sk_rmem_schedule(sk, skb, skb->truesize)) {
			TOYTCP_INC(sock_net(sk), RCV_QDROP);
			goto drop;
		}
		skb_dst_drop(skb);
		skb_set_owner_r(skb, sk);
		toytcp_measure_ratio(tp, skb);
	}
	__skb_queue_tail(&sk->sk_receive_queue, skb);
	tp->rcv_nxt = cb->seq + skb->len;
	if (!fin)
		return;
	tp->rcv_nxt++;
	toytcp_fin(sk);
	return;
fin:
	tp->rcv_nxt++;
	toytcp_fin(sk);
drop:
	kfree_skb(skb);
}

/* Insert out-of-order @skb into ooo_queue, ordered by seq. */
static bool toytcp_queue_ooo(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *pos;

	/* Out-of-order data counts against the receive buffer too. */
	if (atomic_read(&sk->sk_rmem_alloc) + skb->truesize > sk->sk_rcvbuf ||
	    !sk_rmem_schedule(sk, skb, skb->truesize)) {
		TOYTCP_INC(sock_net(sk), RCV_QDROP);
		return false;
	}

	skb_queue_reverse_walk(&tp->ooo_queue, pos) {
		struct toytcp_skb_cb *pcb = TOYTCP_SKB_CB(pos);

		if (!toytcp_after(pcb->seq, cb->seq)) {
			/* already covered by @pos: a duplicate */
			if (!toytcp_after(cb->end_seq, pcb->end_seq))
				return false;
			break;
		}
	}
	TOYTCP_INC(sock_net(sk), OFO_QUEUED);
	tp->ooo_last_seq = cb->seq;
	skb_dst_drop(skb);
	skb_set_owner_r(skb, sk);
	if (pos == (struct sk_buff *)&tp->ooo_queue)
		__skb_queue_head(&tp->ooo_queue, skb);
	else
		__skb_queue_after(&tp->ooo_queue, pos, skb);
	return true;
}

/* Acknowledge received data now or later (RFC 9293 3.8.6.3). */
static void toytcp_ack_policy(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	tp->unacked_segs++;
	if (tp->quickack || tp->unacked_segs >= 2 ||
	    !skb_queue_empty(&tp->ooo_queue))
		toytcp_send_ack(sk);
	else
		toytcp_timer_ack_owed(sk);
}

/*
 * Seventh and eighth steps: segment text and FIN.  @skb's payload starts at
 * skb->data.  Consumes @skb.
 */
static void toytcp_data_queue(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	bool had_ooo = !skb_queue_empty(&tp->ooo_queue);
	struct sk_buff *o;

	if (!toytcp_after(cb->end_seq, tp->rcv_nxt)) {
		/* all old: a retransmission; tell the peer where we are */
		kfree_skb(skb);
		toytcp_send_ack(sk);
		return;
	}
	if (toytcp_after(cb->seq, tp->rcv_nxt)) {
		/* a gap before it: hold it, and ACK at once (RFC 5681 4.2) */
		if (!toytcp_queue_ooo(sk, skb))
			kfree_skb(skb);
		toytcp_send_ack(sk);
		return;
	}

	toytcp_queue_in_order(sk, skb);
	/* Segments the gap was holding back may now be in order. */
	while ((o = skb_peek(&tp->ooo_queue)) &&
	       !toytcp_after(TOYTCP_SKB_CB(o)->seq, tp->rcv_nxt)) {
		__skb_unlink(o, &tp->ooo_queue);
		if (toytcp_after(TOYTCP_SKB_CB(o)->end_seq, tp->rcv_nxt))
			toytcp_queue_in_order(sk, o);
		else
			kfree_skb(o);
	}
	if (had_ooo)
		tp->quickack = 1;
	toytcp_ack_policy(sk);
	if (!sock_flag(sk, SOCK_DEAD))
		sk->sk_data_ready(sk);
}

/* Update the peer's window from an acceptable segment (RFC 9293 3.10.7.4). */
static void toytcp_update_window(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 wnd = (u32)cb->window << tp->snd_wscale;

	if (toytcp_before(tp->snd_wl1, cb->seq) ||
	    (tp->snd_wl1 == cb->seq && !toytcp_before(cb->ack_seq, tp->snd_wl2))) {
		bool opened = !tp->snd_wnd && wnd;

		tp->snd_wnd = wnd;
		tp->snd_wl1 = cb->seq;
		tp->snd_wl2 = cb->ack_seq;
		tp->max_window = max(tp->max_window, wnd);
		if (opened && tp->timer_kind == TOYTCP_TIMER_PERSIST) {
			tp->timer_kind = TOYTCP_TIMER_NONE;
			tp->backoff = 0;
			sk_stop_timer(sk, &tp->rtx_timer);
		}
	}
}

/* Congestion window growth for @acked new bytes (RFC 5681 3.1, NewReno). */
static void toytcp_cong_ack(struct sock *sk, u32 ack, u32 acked)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (tp->in_recovery) {
		if (!toytcp_before(ack, tp->recover)) {
			if (tp->in_recovery == TOYTCP_RECOV_FAST && tp->sack_ok)
				toytcp_sack_end_recovery(sk);
			tp->in_recovery = TOYTCP_RECOV_NONE;
			tp->cwnd = tp->ssthresh;
		} else if (tp->in_recovery == TOYTCP_RECOV_FAST &&
			   tp->sack_ok) {
			/*
			 * RFC 6675: cwnd stays, the pipe decides what is sent
			 * (toytcp_push()).  Without SACK information above
			 * the new snd_una, the head is the next hole.
			 */
			struct sk_buff *head = skb_peek(&sk->sk_write_queue);

			if (!tp->sacked_out && head && head != tp->send_head &&
			    !(TOYTCP_SKB_CB(head)->sstate &
			      TOYTCP_SKB_RECOV_RETX) &&
			    !toytcp_retransmit_head(sk))
				TOYTCP_SKB_CB(head)->sstate |=
					TOYTCP_SKB_RECOV_RETX;
		} else {
			/* partial ACK (RFC 6582): the next hole is lost too */
			toytcp_retransmit_head(sk);
			tp->cwnd = max_t(u32, tp->cwnd - min(tp->cwnd, acked) +
					 tp->mss, tp->mss);
		}
		return;
	}
	/*
	 * Appropriate byte counting (RFC 3465): growth follows the bytes
	 * acknowledged, not the number of ACKs, so that delayed ACKs do not
	 * halve it.  Slow start: up to 2 MSS per ACK (L = 2).  Congestion
	 * avoidance: one MSS per cwnd of bytes acknowledged.
	 */
	if (tp->cwnd < tp->ssthresh) {
		tp->cwnd += min(acked, 2 * (u32)tp->mss);
	} else {
		tp->cwnd_acked += acked;
		if (tp->cwnd_acked >= tp->cwnd) {
			tp->cwnd_acked -= tp->cwnd;
			tp->cwnd += tp->mss;
		}
	}
	tp->cwnd = min_t(u32, tp->cwnd, 1U << 30);
}

/*
 * Fast retransmit and fast recovery: NewReno (RFC 5681 3.2, RFC 6582), or
 * with SACK the pipe algorithm of RFC 6675 (sack.c, toytcp_push()).
 */
static void toytcp_enter_recovery(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *head = skb_peek(&sk->sk_write_queue);

	tp->ssthresh = max_t(u32, (tp->snd_nxt - tp->snd_una) / 2, 2 * tp->mss);
	tp->recover = tp->snd_nxt;
	tp->in_recovery = TOYTCP_RECOV_FAST;
	TOYTCP_INC(sock_net(sk), FAST_RETRANS);
	if (!tp->sack_ok) {
		tp->cwnd = tp->ssthresh + 3 * tp->mss;
		toytcp_retransmit_head(sk);
		return;
	}
	tp->cwnd = tp->ssthresh;
	TOYTCP_INC(sock_net(sk), SACK_RECOVERY);
	/* the head is lost whatever the SACK blocks say (RFC 6675 5, step 4) */
	if (head && head != tp->send_head &&
	    !(TOYTCP_SKB_CB(head)->sstate & TOYTCP_SKB_SACKED) &&
	    !toytcp_retransmit_head(sk))
		TOYTCP_SKB_CB(head)->sstate |= TOYTCP_SKB_RECOV_RETX;
}

/*
 * Three segments' worth SACKed above snd_una means loss even without three
 * duplicate ACKs (RFC 6675 IsLost()), e.g. when the ACKs carried data.
 */
static void toytcp_sack_check_loss(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (tp->sack_ok && !tp->in_recovery &&
	    tp->sacked_out >= 3 * (u32)tp->mss)
		toytcp_enter_recovery(sk);
}

/*
 * Duplicate ACKs that mean loss: three (RFC 5681 3.2), or with fewer than
 * four segments outstanding and nothing new to send, one less than those
 * (early retransmit, RFC 5827): a small window could never bring three.
 */
static unsigned int toytcp_dupthresh(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 outstanding = DIV_ROUND_UP(tp->snd_nxt - tp->snd_una,
				       max_t(u32, tp->mss, 1));

	if (outstanding < 4 && !tp->send_head)
		return max_t(u32, outstanding - 1, 1);
	return 3;
}

/* A duplicate ACK: the third (usually) starts fast recovery (RFC 5681 3.2). */
static void toytcp_dupack(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (tp->in_recovery) {
		/* NewReno inflates; with SACK the pipe shrank instead */
		if (!(tp->in_recovery == TOYTCP_RECOV_FAST && tp->sack_ok))
			tp->cwnd += tp->mss;
		return;
	}
	if (tp->dupacks < U8_MAX)
		tp->dupacks++;
	if (tp->dupacks < toytcp_dupthresh(sk)) {
		/* limited transmit: new data may go out (toytcp_push()) */
		return;
	}
	toytcp_enter_recovery(sk);
}

/*
 * Fifth step: the ACK field, for a synchronized connection.  Return: false
 * if the segment must be dropped.
 */
static bool toytcp_ack(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 ack = cb->ack_seq;
	u32 acked;

	tp->probes_out = 0;	/* the peer is alive: keepalive starts over */
	if (toytcp_after(ack, tp->snd_nxt)) {
		/* acks something not yet sent (RFC 5961 5.2) */
		toytcp_challenge_ack(sk);
		return false;
	}
	if (toytcp_before(ack, tp->snd_una - tp->max_window)) {
		toytcp_challenge_ack(sk);
		return false;
	}
	if (tp->sack_ok) {
		struct toytcp_options opt;

		/* the header is still there: validated in toytcp_v4_rcv() */
		if (!toytcp_parse_options(tcp_hdr(skb), &opt))
			toytcp_sack_update(sk, tcp_hdr(skb), &opt);
	}
	if (!toytcp_after(ack, tp->snd_una)) {
		/*
		 * Old or duplicate ACK.  RFC 5681 wants the window unchanged;
		 * a receiver holding out-of-order data offers less with each
		 * one, so only a window that opened makes it no duplicate.
		 */
		bool dup = ack == tp->snd_una && skb->len == 0 &&
			   !(cb->flags & (TCPHDR_SYN | TCPHDR_FIN)) &&
			   tp->snd_una != tp->snd_nxt &&
			   ((u32)cb->window << tp->snd_wscale) <= tp->snd_wnd;

		toytcp_update_window(sk, skb);
		if (dup)
			toytcp_dupack(sk);
		toytcp_sack_check_loss(sk);
		return true;
	}

	acked = ack - tp->snd_una;
	tp->snd_una = ack;
	tp->dupacks = 0;
	while (!skb_queue_empty(&sk->sk_write_queue)) {
		struct sk_buff *q = skb_peek(&sk->sk_write_queue);

		if (q == tp->send_head ||
		    toytcp_after(TOYTCP_SKB_CB(q)->end_seq, ack))
			break;
		__skb_unlink(q, &sk->sk_write_queue);
		toytcp_sack_unlink(sk, q);
		toytcp_free_queued(sk, q);
	}
	/* RTT sample, unless the timed segment was retransmitted (Karn). */
	if (tp->rtt_start && !toytcp_before(ack, tp->rtt_seq)) {
		toytcp_rtt_sample(sk, jiffies - tp->rtt_start);
		tp->rtt_start = 0;
	}
	toytcp_cong_ack(sk, ack, acked);
	toytcp_sack_check_loss(sk);
	toytcp_update_window(sk, skb);
	toytcp_timer_ack_advanced(sk);

	sk_mem_reclaim(sk);
	/*
	 * Wake writers only if one found the buffer full (sendmsg() waiting,
	 * or poll() without POLLOUT): readers sleep on the same queue.
	 */
	if (sk->sk_socket && test_bit(SOCK_NOSPACE, &sk->sk_socket->flags) &&
	    sk_stream_is_writeable(sk))
		sk->sk_write_space(sk);
	return true;
}

/* Is our FIN sent and acknowledged? */
static bool toytcp_fin_acked(const struct toytcp_sock *tp)
{
	return tp->fin_sent && tp->snd_una == tp->write_seq &&
	       !tp->send_head;
}

/* SYN-SENT (RFC 9293 3.10.7.3). */
static void toytcp_rcv_syn_sent(struct sock *sk, struct sk_buff *skb,
				const struct toytcp_options *opt)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	bool ack = cb->flags & TCPHDR_ACK;

	/* first, the ACK bit */
	if (ack && (!toytcp_after(cb->ack_seq, tp->iss) ||
		    toytcp_after(cb->ack_seq, tp->snd_nxt))) {
		if (!(cb->flags & TCPHDR_RST))
			toytcp_send_reset_reply(sock_net(sk), skb);
		return;
	}
	/* second, the RST bit */
	if (cb->flags & TCPHDR_RST) {
		if (ack)
			toytcp_reset_rcvd(sk, ECONNREFUSED);
		return;
	}
	/* fourth, the SYN bit */
	if (!(cb->flags & TCPHDR_SYN))
		return;

	tp->irs = cb->seq;
	tp->rcv_nxt = cb->seq + 1;
	tp->rcv_wup = tp->rcv_nxt;
	tp->copied_seq = tp->rcv_nxt;
	tp->sack_ok = opt->sack_ok;
	if (opt->wscale >= 0) {
		tp->wscale_ok = 1;
		tp->snd_wscale = opt->wscale;
	} else {
		tp->rcv_wscale = 0;
	}
	toytcp_update_mss(sk, opt->mss ? : TOYTCP_DEFAULT_MSS);
	tp->cwnd = TOYTCP_INIT_CWND * tp->mss;
	/* The SYN's window is never scaled. */
	tp->snd_wnd = cb->window;
	tp->max_window = tp->snd_wnd;
	tp->snd_wl1 = cb->seq;
	tp->snd_wl2 = cb->ack_seq;
	tp->rcv_tstamp = jiffies;

	if (ack) {
		/* our SYN is acknowledged: ESTABLISHED */
		tp->snd_una = cb->ack_seq;
		while (!skb_queue_empty(&sk->sk_write_queue) &&
		       skb_peek(&sk->sk_write_queue) != tp->send_head) {
			struct sk_buff *q = __skb_dequeue(&sk->sk_write_queue);

			toytcp_free_queued(sk, q);
		}
		if (tp->rtt_start) {
			toytcp_rtt_sample(sk, jiffies - tp->rtt_start);
			tp->rtt_start = 0;
		}
		toytcp_timer_ack_advanced(sk);
		toytcp_set_state(sk, TCP_ESTABLISHED);
		toytcp_timer_keepalive_reset(sk);
		toytcp_send_ack(sk);
		toytcp_push(sk);
		return;
	}
	/* simultaneous open: SYN-RECEIVED, our SYN goes again with ACK */
	toytcp_set_state(sk, TCP_SYN_RECV);
	toytcp_retransmit_head(sk);
	tp->total_retrans--;	/* not a loss: a SYN-ACK */
}

/*
 * First step for synchronized states: is the segment acceptable?
 * (RFC 9293 3.10.7.4, the four cases of the table.)
 */
static bool toytcp_seq_acceptable(const struct toytcp_sock *tp, u32 seq,
				  u32 len)
{
	u32 wnd = toytcp_cur_rcv_wnd(tp);

	if (!len)
		return wnd ? toytcp_between(tp->rcv_nxt, seq,
					    tp->rcv_nxt + wnd - 1) :
			     seq == tp->rcv_nxt;
	if (!wnd)
		return false;
	return toytcp_between(tp->rcv_nxt, seq, tp->rcv_nxt + wnd - 1) ||
	       toytcp_between(tp->rcv_nxt, seq + len - 1,
			      tp->rcv_nxt + wnd - 1);
}

/* Synchronized states and SYN-RECEIVED (RFC 9293 3.10.7.4). */
static void toytcp_rcv_synchronized(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 len = cb->end_seq - cb->seq;

	if (sk->sk_state == TCP_SYN_RECV && (cb->flags & TCPHDR_SYN) &&
	    cb->seq == tp->irs && (cb->flags & TCPHDR_ACK) &&
	    toytcp_after(cb->ack_seq, tp->snd_una) &&
	    !toytcp_after(cb->ack_seq, tp->snd_nxt)) {
		/*
		 * Simultaneous open (RFC 9293 figure 8, line 6): the peer's
		 * SYN-ACK; its SYN is old news, its ACK completes ours.
		 */
		cb->flags &= ~TCPHDR_SYN;
		cb->seq++;
		len--;
	}

	/* first, check the sequence number */
	if (!toytcp_seq_acceptable(tp, cb->seq, len)) {
		TOYTCP_INC(sock_net(sk), OUT_OF_WINDOW);
		if (cb->flags & TCPHDR_RST)
			goto drop;
		if (sk->sk_state == TCP_SYN_RECV &&
		    (cb->flags & TCPHDR_SYN) && cb->seq == tp->irs) {
			/* the peer lost our SYN-ACK and sent its SYN again */
			toytcp_retransmit_head(sk);
			goto drop;
		}
		/*
		 * A zero window refuses data, but the ACK and window of the
		 * segment still count (RFC 9293 3.10.7.4: "special allowance").
		 */
		if (!toytcp_cur_rcv_wnd(tp) && cb->seq == tp->rcv_nxt &&
		    (cb->flags & TCPHDR_ACK) && !(cb->flags & TCPHDR_SYN)) {
			toytcp_ack(sk, skb);
			toytcp_push(sk);
		}
		if (sk->sk_state == TCP_TIME_WAIT && (cb->flags & TCPHDR_FIN))
			toytcp_timer_time_wait(sk);	/* FIN again: 2 MSL more */
		toytcp_send_ack(sk);
		goto drop;
	}

	/* second, the RST bit (RFC 5961 3.2) */
	if (cb->flags & TCPHDR_RST) {
		/*
		 * RFC 1337: a RST must not cut TIME-WAIT short (an old
		 * duplicate's answer could otherwise let its twin through).
		 */
		if (sk->sk_state == TCP_TIME_WAIT)
			goto drop;
		if (cb->seq != tp->rcv_nxt) {
			toytcp_challenge_ack(sk);
			goto drop;
		}
		if (sk->sk_state == TCP_SYN_RECV && tp->listener) {
			/* a passive open just goes away */
			toytcp_done(sk);
			goto drop;
		}
		toytcp_reset_rcvd(sk, -toytcp_reset_errno(sk));
		goto drop;
	}

	/* fourth, the SYN bit: never valid here (RFC 5961 4.2) */
	if (cb->flags & TCPHDR_SYN) {
		toytcp_challenge_ack(sk);
		goto drop;
	}

	/* fifth, the ACK field */
	if (!(cb->flags & TCPHDR_ACK))
		goto drop;
	tp->rcv_tstamp = jiffies;

	if (sk->sk_state == TCP_SYN_RECV) {
		if (!toytcp_after(cb->ack_seq, tp->snd_una) ||
		    toytcp_after(cb->ack_seq, tp->snd_nxt)) {
			toytcp_send_reset_reply(sock_net(sk), skb);
			goto drop;
		}
		if (tp->listener && !toytcp_child_established(sk))
			goto drop;	/* accept queue full: stay, like Linux */
		toytcp_set_state(sk, TCP_ESTABLISHED);
		toytcp_timer_keepalive_reset(sk);
		tp->snd_wl1 = cb->seq;
		tp->snd_wl2 = cb->ack_seq;
		tp->snd_wnd = (u32)cb->window << tp->snd_wscale;
		tp->max_window = max(tp->max_window, tp->snd_wnd);
	}
	if (!toytcp_ack(sk, skb))
		goto drop;

	switch (sk->sk_state) {
	case TCP_FIN_WAIT1:
		if (toytcp_fin_acked(tp)) {
			toytcp_set_state(sk, TCP_FIN_WAIT2);
			if (sock_flag(sk, SOCK_DEAD))
				toytcp_timer_fin_wait2(sk);
		}
		break;
	case TCP_CLOSING:
		if (toytcp_fin_acked(tp)) {
			toytcp_set_state(sk, TCP_TIME_WAIT);
			toytcp_timer_time_wait(sk);
		}
		break;
	case TCP_LAST_ACK:
		if (toytcp_fin_acked(tp)) {
			toytcp_done(sk);
			goto drop;
		}
		break;
	default:
		break;
	}

	/* seventh and eighth: text and FIN */
	if (len) {
		switch (sk->sk_state) {
		case TCP_ESTABLISHED:
		case TCP_FIN_WAIT1:
		case TCP_FIN_WAIT2:
			if ((sk->sk_shutdown & RCV_SHUTDOWN) &&
			    sock_flag(sk, SOCK_DEAD) && skb->len &&
			    toytcp_after(cb->seq + skb->len, tp->rcv_nxt)) {
				/* data for a closed reader: abort (RFC 2525) */
				toytcp_send_active_reset(sk, GFP_ATOMIC);
				toytcp_abort(sk, ECONNRESET);
				goto drop;
			}
			toytcp_data_queue(sk, skb);
			toytcp_push(sk);
			return;
		default:
			/* after the peer's FIN: nothing more is new */
			break;
		}
	}
	toytcp_push(sk);
drop:
	kfree_skb(skb);
}

/**
 * toytcp_do_rcv - process one segment for @sk
 * @sk: socket, locked: bh_lock_sock() from softirq, or owned by the user
 *	while release_sock() drains the backlog
 * @skb: the segment, with TOYTCP_SKB_CB filled and skb->data at the
 *	payload (the TCP header is at the transport header)
 *
 * Return: 0 (the segment is always consumed).
 */
int toytcp_do_rcv(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_options opt;

	switch (sk->sk_state) {
	case TCP_CLOSE:
		toytcp_send_reset_reply(sock_net(sk), skb);
		break;
	case TCP_LISTEN:
		toytcp_listen_rcv(sk, skb);
		return 0;
	case TCP_SYN_SENT:
		if (!toytcp_parse_options(tcp_hdr(skb), &opt))
			toytcp_rcv_syn_sent(sk, skb, &opt);
		break;
	default:
		toytcp_rcv_synchronized(sk, skb);
		return 0;
	}
	kfree_skb(skb);
	return 0;
}

/* Lengths, checksum and options: is this a segment at all? */
static bool toytcp_segment_valid(struct sk_buff *skb)
{
	struct toytcp_options opt;
	const struct tcphdr *th;

	if (!pskb_may_pull(skb, sizeof(struct tcphdr)))
		return false;
	th = tcp_hdr(skb);
	if (th->doff < sizeof(struct tcphdr) / 4 ||
	    !pskb_may_pull(skb, th->doff * 4))
		return false;
	/* The pseudo header carries protocol 6: this is TCP's checksum. */
	if (skb_checksum_init(skb, IPPROTO_TCP, inet_compute_pseudo) ||
	    skb_checksum_complete(skb)) {
		TOYTCP_INC(dev_net(skb->dev), IN_CSUM_ERRORS);
		return false;
	}
	th = tcp_hdr(skb);
	if (toytcp_parse_options(th, &opt))
		return false;
	/* Flag combinations no TCP sends. */
	if ((th->syn && th->fin) || (th->syn && th->rst) ||
	    !(th->syn || th->fin || th->rst || th->ack || th->psh))
		return false;
	return true;
}

/**
 * toytcp_v4_rcv - IP protocol handler for toytcp
 * @skb: the IP datagram, network header parsed, data at the TCP header
 *
 * Return: 0; the segment is always consumed.
 */
int toytcp_v4_rcv(struct sk_buff *skb)
{
	struct net *net = dev_net(skb->dev);
	const struct iphdr *iph = ip_hdr(skb);
	struct toytcp_skb_cb *cb;
	const struct tcphdr *th;
	struct sock *sk;

	if (skb->pkt_type != PACKET_HOST)
		goto drop;
	if (!toytcp_segment_valid(skb)) {
		TOYTCP_INC(net, IN_ERRS);
		goto drop;
	}
	TOYTCP_INC(net, IN_SEGS);
	iph = ip_hdr(skb);
	th = tcp_hdr(skb);

	cb = TOYTCP_SKB_CB(skb);
	cb->seq = ntohl(th->seq);
	cb->ack_seq = ntohl(th->ack_seq);
	cb->flags = tcp_flag_byte(th);
	cb->window = ntohs(th->window);
	/* Data on a SYN is not taken (no Fast Open): the peer resends it. */
	__skb_pull(skb, th->doff * 4);
	trace_toytcp_segment(false, iph->saddr, iph->daddr, th, skb->len);
	cb->wire_len = skb->len + th->syn + th->fin;
	if (th->syn)
		skb_trim(skb, 0);
	cb->end_seq = cb->seq + skb->len + th->syn + th->fin;

	sk = toytcp_lookup_conn(net, iph->daddr, th->dest, iph->saddr,
				th->source);
	if (!sk)
		sk = toytcp_lookup_listener(net, iph->daddr, th->dest,
					    inet_iif(skb));
	if (!sk) {
		/* RFC 9293 3.10.7.1: no connection, answer with RST */
		TOYTCP_INC(net, NO_SOCKET);
		toytcp_send_reset_reply(net, skb);
		goto drop;
	}

	/*
	 * _nested: a listener's lock is held here while the child it
	 * creates is locked too (listen.c).
	 */
	bh_lock_sock_nested(sk);
	if (!sock_owned_by_user(sk)) {
		toytcp_do_rcv(sk, skb);
	} else if (sk_add_backlog(sk, skb, READ_ONCE(sk->sk_rcvbuf) +
				  READ_ONCE(sk->sk_sndbuf))) {
		TOYTCP_INC(net, BACKLOG_DROP);
		bh_unlock_sock(sk);
		sock_put(sk);
		goto drop;
	}
	bh_unlock_sock(sk);
	sock_put(sk);
	return 0;

drop:
	kfree_skb(skb);
	return 0;
}
