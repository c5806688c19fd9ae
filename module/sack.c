// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp selective acknowledgment (RFC 2018) and the loss recovery built on
 * it (RFC 6675, simplified).
 *
 * Both sides must have sent SACK-permitted on their SYN (tp->sack_ok).
 *
 * As receiver, an ACK sent while out-of-order data is held carries up to
 * four SACK blocks: the block holding the segment that arrived last first
 * (RFC 2018 section 4), then the others from the lowest sequence number.
 * Only data on ooo_queue is ever reported, so nothing SACKed is dropped
 * later except with the whole queue.
 *
 * As sender, the blocks mark segments of the write queue SACKED; sacked_out
 * counts their bytes and highest_sack is where the highest of them ends.
 * An unSACKed segment is taken as lost once more than 2 MSS above it are
 * SACKed (RFC 6675 IsLost(), with DupThresh 3): lost_bound is the end of
 * the highest such segment, recomputed with each SACK.  During fast
 * recovery the amount in the network ("pipe") is what was sent and is
 * neither SACKed nor lost, plus what was sent again in this recovery.
 * output.c sends while the pipe is below cwnd: the lost segments first,
 * once each, then new data.  A retransmission timeout forgets the marks
 * (the receiver may have dropped SACKed data since, RFC 2018 section 8).
 *
 * Everything here runs under the socket lock.
 */
#include "toytcp.h"

#define TOYTCP_MAX_SACK_BLOCKS	4

/*
 * One block of ooo_queue: from @skb, the segments that touch or overlap.
 * Return: the first segment of the next block, or NULL.
 */
static struct sk_buff *toytcp_ooo_block(struct sock *sk, struct sk_buff *skb,
					u32 *start, u32 *end)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	*start = TOYTCP_SKB_CB(skb)->seq;
	*end = TOYTCP_SKB_CB(skb)->end_seq;
	for (;;) {
		skb = skb_queue_is_last(&tp->ooo_queue, skb) ? NULL : skb->next;
		if (!skb || toytcp_after(TOYTCP_SKB_CB(skb)->seq, *end))
			return skb;
		if (toytcp_after(TOYTCP_SKB_CB(skb)->end_seq, *end))
			*end = TOYTCP_SKB_CB(skb)->end_seq;
	}
}

static __be32 *toytcp_put_block(__be32 *ptr, u32 start, u32 end)
{
	*ptr++ = htonl(start);
	*ptr++ = htonl(end);
	return ptr;
}

/**
 * toytcp_sack_write - the SACK option for an outgoing ACK
 * @sk: socket, lock held
 * @ptr: where the option goes (32-bit aligned)
 * @room: bytes of option space there may be
 *
 * Return: the option's length in bytes (a multiple of 4), 0 if none.
 */
unsigned int toytcp_sack_write(struct sock *sk, __be32 *ptr, unsigned int room)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	unsigned int max, n = 0;
	u32 start, end, first_start = 0, first_end = 0;
	struct sk_buff *skb;
	__be32 *p;

	if (!tp->sack_ok || skb_queue_empty(&tp->ooo_queue) || room < 12)
		return 0;
	max = min_t(unsigned int, (room - 4) / 8, TOYTCP_MAX_SACK_BLOCKS);

	/* first the block with the latest arrival */
	for (skb = skb_peek(&tp->ooo_queue); skb;) {
		skb = toytcp_ooo_block(sk, skb, &start, &end);
		if (!toytcp_before(tp->ooo_last_seq, start) &&
		    toytcp_before(tp->ooo_last_seq, end)) {
			first_start = start;
			first_end = end;
			break;
		}
	}
	p = ptr + 1;
	if (first_start != first_end) {
		p = toytcp_put_block(p, first_start, first_end);
		n++;
	}
	for (skb = skb_peek(&tp->ooo_queue); skb && n < max;) {
		skb = toytcp_ooo_block(sk, skb, &start, &end);
		if (start == first_start && end == first_end)
			continue;
		p = toytcp_put_block(p, start, end);
		n++;
	}
	*ptr = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
		     (TCPOPT_SACK << 8) |
		     (TCPOLEN_SACK_BASE + n * TCPOLEN_SACK_PERBLOCK));
	return 4 + n * TCPOLEN_SACK_PERBLOCK;
}

/* Mark the sent segments inside [@start, @end) SACKED. */
static void toytcp_sack_mark(struct sock *sk, u32 start, u32 end)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);

		if (skb == tp->send_head || !toytcp_before(cb->seq, end))
			break;
		if (toytcp_before(cb->seq, start) ||
		    toytcp_after(cb->end_seq, end) ||
		    (cb->sstate & TOYTCP_SKB_SACKED))
			continue;
		cb->sstate |= TOYTCP_SKB_SACKED;
		tp->sacked_out += cb->end_seq - cb->seq;
		if (toytcp_after(cb->end_seq, tp->highest_sack))
			tp->highest_sack = cb->end_seq;
	}
}

/* Set lost_bound: walk down from the last segment sent. */
static void toytcp_sack_find_lost(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 above = 0, limit = 2 * (u32)tp->mss;
	struct sk_buff *skb;

	tp->lost_bound = tp->snd_una;
	if (!tp->sacked_out)
		return;
	skb = tp->send_head ? tp->send_head->prev :
			      skb_peek_tail(&sk->sk_write_queue);
	for (; skb && skb != (struct sk_buff *)&sk->sk_write_queue;
	     skb = skb->prev) {
		struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);

		if (cb->sstate & TOYTCP_SKB_SACKED) {
			above += cb->end_seq - cb->seq;
		} else if (above > limit) {
			tp->lost_bound = cb->end_seq;
			return;
		}
	}
}

/**
 * toytcp_sack_update - take the SACK blocks of an incoming ACK
 * @sk: socket, lock held
 * @th: the segment's header
 * @opt: its options (sack_off and num_sacks)
 *
 * Blocks that do not lie within what is sent and unacknowledged (a D-SACK
 * below snd_una, or nonsense) are ignored.
 */
void toytcp_sack_update(struct sock *sk, const struct tcphdr *th,
			const struct toytcp_options *opt)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	const u8 *p;
	int i;

	sock_owned_by_me(sk);
	if (!tp->sack_ok || !opt->num_sacks)
		return;
	if (!tp->sacked_out)
		tp->highest_sack = tp->snd_una;
	p = (const u8 *)th + opt->sack_off + TCPOLEN_SACK_BASE;
	for (i = 0; i < opt->num_sacks; i++, p += TCPOLEN_SACK_PERBLOCK) {
		u32 start = get_unaligned_be32(p);
		u32 end = get_unaligned_be32(p + 4);

		if (!toytcp_after(end, start) ||
		    toytcp_before(start, tp->snd_una) ||
		    toytcp_after(end, tp->snd_nxt))
			continue;
		toytcp_sack_mark(sk, start, end);
	}
	toytcp_sack_find_lost(sk);
}

/**
 * toytcp_sack_unlink - @skb, fully acknowledged, leaves the write queue
 * @sk: socket, lock held
 * @skb: the segment
 */
void toytcp_sack_unlink(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (cb->sstate & TOYTCP_SKB_SACKED)
		tp->sacked_out -= min(tp->sacked_out, cb->end_seq - cb->seq);
}

/* Is unSACKed @skb taken as lost?  Only during fast recovery. */
static bool toytcp_sack_lost(const struct toytcp_sock *tp,
			     const struct sk_buff *skb)
{
	return tp->sacked_out &&
	       toytcp_before(TOYTCP_SKB_CB(skb)->seq, tp->lost_bound);
}

/**
 * toytcp_sack_pipe - bytes taken to be in the network (RFC 6675 SetPipe)
 * @sk: socket in SACK fast recovery, lock held
 *
 * Return: the pipe, in bytes.
 */
u32 toytcp_sack_pipe(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *skb;
	u32 pipe = 0;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
		u32 len;

		if (skb == tp->send_head)
			break;
		if (cb->sstate & TOYTCP_SKB_SACKED)
			continue;
		/* the head may be acknowledged in part */
		len = cb->end_seq - (toytcp_before(cb->seq, tp->snd_una) ?
				     tp->snd_una : cb->seq);
		if (!toytcp_sack_lost(tp, skb))
			pipe += len;
		if (cb->sstate & TOYTCP_SKB_RECOV_RETX)
			pipe += len;
	}
	return pipe;
}

/**
 * toytcp_sack_next_hole - the next segment to send again in recovery
 * @sk: socket in SACK fast recovery, lock held
 *
 * Return: the lowest segment taken as lost and not yet sent again in this
 * recovery, or NULL.
 */
struct sk_buff *toytcp_sack_next_hole(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb) {
		struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);

		if (skb == tp->send_head || !toytcp_sack_lost(tp, skb))
			break;
		if (!(cb->sstate & (TOYTCP_SKB_SACKED | TOYTCP_SKB_RECOV_RETX)))
			return skb;
	}
	return NULL;
}

/**
 * toytcp_sack_end_recovery - fast recovery is over: a lost segment may be
 *	sent again in the next one
 * @sk: socket, lock held
 */
void toytcp_sack_end_recovery(struct sock *sk)
{
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb)
		TOYTCP_SKB_CB(skb)->sstate &= ~TOYTCP_SKB_RECOV_RETX;
}

/**
 * toytcp_sack_forget - drop the scoreboard (retransmission timeout)
 * @sk: socket, lock held
 */
void toytcp_sack_forget(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *skb;

	skb_queue_walk(&sk->sk_write_queue, skb)
		TOYTCP_SKB_CB(skb)->sstate &= TOYTCP_SKB_RETRANS;
	tp->sacked_out = 0;
	tp->highest_sack = tp->snd_una;
	tp->lost_bound = tp->snd_una;
}
