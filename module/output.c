// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp segment output and the retransmission queue.
 *
 * sk->sk_write_queue holds every segment sent but not yet acknowledged
 * (SYN and FIN included, as they use sequence space) followed by data not
 * yet sent, starting at tp->send_head.  Each queued skb carries its
 * sequence range in TOYTCP_SKB_CB and at most one MSS of data; it is never
 * sent itself: a clone with the TCP header pushed in front goes to IP, so
 * the original stays ready for retransmission until an ACK frees it.
 *
 * Segments are byte for byte RFC 9293 TCP: the checksum covers a pseudo
 * header with protocol 6; only the IP header's protocol field differs.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/skbuff.h>
#include <net/checksum.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "mib.h"
#include "toytcp.h"
#include "trace.h"

/*
 * A SYN's options: MSS (4 bytes), window scale (3 + NOP) and SACK-permitted
 * (2 + two NOPs); NOPs where one is left out.  ACKs may carry SACK blocks
 * (sack.c), up to the 40 bytes a header has for options.
 */
#define TOYTCP_SYN_OPTLEN	12
#define TOYTCP_MAX_OPTLEN	40

/* The largest segment a path MTU allows, within what the MSS field says. */
static u16 toytcp_mtu_mss(unsigned int mtu)
{
	return clamp_t(unsigned int, mtu - sizeof(struct iphdr) -
		       sizeof(struct tcphdr), 88, 65495);
}

static u16 toytcp_route_mss(struct sock *sk)
{
	struct dst_entry *dst = __sk_dst_get(sk);

	return toytcp_mtu_mss(dst ? dst_mtu(dst) : 576);
}

/* The MSS we announce: the route's, or less if the user set TCP_MAXSEG. */
u16 toytcp_adv_mss(struct sock *sk)
{
	u16 mss = toytcp_route_mss(sk);
	u16 user = toytcp_sk(sk)->opt.user_mss;

	return user && user < mss ? user : mss;
}

/* The send MSS: what the peer accepts, our route allows, and the user set. */
void toytcp_update_mss(struct sock *sk, u16 peer_mss)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	u16 mss = min(peer_mss, toytcp_route_mss(sk));

	if (tp->opt.user_mss && tp->opt.user_mss < mss)
		mss = tp->opt.user_mss;
	tp->mss = max_t(u16, mss, 64);
}

/* Our window shift: enough for the largest receive buffer allowed. */
u8 toytcp_choose_wscale(const struct sock *sk)
{
	u32 space = max_t(u32, READ_ONCE(sk->sk_rcvbuf),
			  READ_ONCE(toytcp_sk_cfg(sk)->rmem[2])) / 2;
	u8 ws = 0;

	while (ws < TOYTCP_MAX_WSCALE && (65535U << ws) < space)
		ws++;
	return ws;
}

/*
 * The window we can offer: the free receive buffer times the share of an
 * skb's truesize that is data, as measured on what arrived (rcv_ratio).
 * Receiver-side silly window avoidance (RFC 9293 3.8.6.2.2): less than a
 * segment (capped at the whole buffer, for tiny buffers) is not offered.
 */
u32 toytcp_rcv_window(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	int rcvbuf = READ_ONCE(sk->sk_rcvbuf);
	int free = rcvbuf - atomic_read(&sk->sk_rmem_alloc);
	u32 full, win, mss;

	if (free <= 0)
		return 0;
	/* 15/16 of the estimate: a margin for skbs fatter than the average */
	full = (u64)rcvbuf * tp->rcv_ratio * 15 >> 14;
	win = (u64)free * tp->rcv_ratio * 15 >> 14;
	/* the peer's segment size, as far as we can tell */
	mss = min_t(u32, min_t(u32, tp->adv_mss, tp->mss), full);
	/* less than a segment free: offer nothing until the reader frees one */
	if (win < mss)
		return 0;
	return min_t(u32, win, 1U << 30);
}

/* The window field of a SYN-ACK, which is never scaled. */
u16 toytcp_syn_window(struct sock *sk)
{
	return min_t(u32, toytcp_rcv_window(sk), 65535U);
}

/* The window field of an outgoing segment; also records what it offered. */
static u16 toytcp_select_window(struct sock *sk, bool syn)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 cur = tp->rcv_wnd - min(tp->rcv_wnd, tp->rcv_nxt - tp->rcv_wup);
	u32 win = toytcp_rcv_window(sk);
	u8 shift = syn ? 0 : tp->rcv_wscale;

	/* Never shrink the window we offered (RFC 9293 3.8.6.2.2). */
	if (win < cur)
		win = cur;
	win = min_t(u32, win, 65535U << shift);
	/* Round down to what the scaled field can say. */
	win = (win >> shift) << shift;
	if (win < cur)
		win = ALIGN(cur, 1U << shift);
	tp->rcv_wnd = win;
	tp->rcv_wup = tp->rcv_nxt;
	return min_t(u32, win >> shift, 65535U);
}

static unsigned int toytcp_write_syn_options(struct sock *sk, __be32 *ptr)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	*ptr++ = htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) | tp->adv_mss);
	/* A SYN-ACK carries window scale only if the SYN did (RFC 7323 1.3). */
	if (sk->sk_state == TCP_SYN_SENT || tp->wscale_ok)
		*ptr++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
			       (TCPOLEN_WINDOW << 8) | tp->rcv_wscale);
	else
		*ptr++ = htonl(TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
			       TCPOPT_NOP << 8 | TCPOPT_NOP);
	/* and SACK-permitted likewise (RFC 2018 section 2) */
	if (sk->sk_state == TCP_SYN_SENT || tp->sack_ok)
		*ptr = htonl((TCPOPT_NOP << 24) | (TCPOPT_NOP << 16) |
			     (TCPOPT_SACK_PERM << 8) | TCPOLEN_SACK_PERM);
	else
		*ptr = htonl(TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
			     TCPOPT_NOP << 8 | TCPOPT_NOP);
	return TOYTCP_SYN_OPTLEN;
}

static void toytcp_fill_checksum(struct sk_buff *skb, __be32 saddr,
				 __be32 daddr)
{
	struct tcphdr *th = tcp_hdr(skb);
	__wsum csum;

	th->check = 0;
	csum = skb_checksum(skb, 0, skb->len, 0);
	/* Protocol 6 in the pseudo header: the segment is TCP's, exactly. */
	th->check = csum_tcpudp_magic(saddr, daddr, skb->len, IPPROTO_TCP, csum);
	skb->ip_summed = CHECKSUM_NONE;
}

/*
 * The checksum of a connection's segment: left to the device when the route
 * goes through one that checksums any protocol from csum_start and
 * csum_offset (NETIF_F_HW_CSUM: loopback, veth, virtio-net); the header then
 * holds the pseudo header's sum, as TCP's does.  A device that can only
 * checksum TCP and UDP (NETIF_F_IP_CSUM) would not know protocol 253, so
 * then, and when the route is stale, the checksum is computed here.
 * skb_checksum_help() finishes a partial checksum in software if the packet
 * ends up on another device after all.
 */
static void toytcp_set_checksum(struct sock *sk, struct sk_buff *skb)
{
	struct inet_sock *inet = inet_sk(sk);
	struct dst_entry *dst = __sk_dst_check(sk, 0);
	struct tcphdr *th = tcp_hdr(skb);

	if (!dst || !(dst->dev->features & NETIF_F_HW_CSUM)) {
		toytcp_fill_checksum(skb, inet->inet_saddr, inet->inet_daddr);
		return;
	}
	th->check = ~csum_tcpudp_magic(inet->inet_saddr, inet->inet_daddr,
				       skb->len, IPPROTO_TCP, 0);
	skb->ip_summed = CHECKSUM_PARTIAL;
	skb->csum_start = skb_transport_header(skb) - skb->head;
	skb->csum_offset = offsetof(struct tcphdr, check);
}

/*
 * Push the TCP header onto @skb (a private copy or clone) and hand it to IP.
 * @seq and @flags come from the caller; ACK number and window are current.
 */
static int toytcp_transmit(struct sock *sk, struct sk_buff *skb, u32 seq,
			   u8 flags)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct inet_sock *inet = inet_sk(sk);
	__be32 sack_opt[TOYTCP_MAX_OPTLEN / 4];
	unsigned int optlen = 0;
	struct tcphdr *th;
	bool syn = flags & TCPHDR_SYN;
	int err;

	if (syn) {
		optlen = TOYTCP_SYN_OPTLEN;
	} else if ((flags & TCPHDR_ACK) && !(flags & TCPHDR_RST) &&
		   tp->sack_ok) {
		/* SACK blocks, in what the MSS leaves of a data segment */
		unsigned int room = TOYTCP_MAX_OPTLEN;

		if (skb->len)
			room = tp->mss > skb->len ?
			       min_t(unsigned int, room, tp->mss - skb->len) : 0;
		optlen = toytcp_sack_write(sk, sack_opt, room);
		if (optlen)
			TOYTCP_INC(sock_net(sk), SACK_BLOCKS_SENT);
	}
	skb_push(skb, sizeof(*th) + optlen);
	skb_reset_transport_header(skb);
	th = tcp_hdr(skb);
	memset(th, 0, sizeof(*th));
	th->source = inet->inet_sport;
	th->dest = inet->inet_dport;
	th->seq = htonl(seq);
	th->doff = (sizeof(*th) + optlen) >> 2;
	tcp_flag_byte(th) = flags;
	if (flags & TCPHDR_ACK) {
		th->ack_seq = htonl(tp->rcv_nxt);
		toytcp_timer_ack_sent(sk);
	}
	th->window = htons(toytcp_select_window(sk, syn));
	if (syn)
		toytcp_write_syn_options(sk, (__be32 *)(th + 1));
	else if (optlen)
		memcpy(th + 1, sack_opt, optlen);
	toytcp_set_checksum(sk, skb);
	trace_toytcp_segment(true, inet->inet_saddr, inet->inet_daddr, th,
			     skb->len - th->doff * 4);

	memset(skb->cb, 0, sizeof(skb->cb));	/* IPCB for the IP layer */
	skb->protocol = htons(ETH_P_IP);
	skb->priority = sk->sk_priority;
	skb->mark = sk->sk_mark;
	skb_set_owner_w(skb, sk);
	TOYTCP_INC(sock_net(sk), OUT_SEGS);
	if (flags & TCPHDR_RST)
		TOYTCP_INC(sock_net(sk), OUT_RSTS);
	/* congestion notified is sent; dropped on the way out is not */
	err = ip_queue_xmit(sk, skb, &inet->cork.fl);
	return net_xmit_eval(err);	/* a macro: its argument twice */
}

/* Send queued @skb (a clone of it) and note the time for RTT and RTO. */
static int toytcp_send_queued(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct sk_buff *clone;
	u8 flags = cb->flags;

	/*
	 * The header goes into the headroom that clones share: while an
	 * earlier transmission of @skb is still alive (in a qdisc, or queued
	 * at a loopback receiver), send a copy instead, so that its header is
	 * left alone.
	 */
	if (skb_cloned(skb))
		clone = pskb_copy(skb, GFP_ATOMIC);
	else
		clone = skb_clone(skb, GFP_ATOMIC);
	if (!clone)
		return -ENOBUFS;
	/* Every segment but the very first SYN carries the ACK bit. */
	if (sk->sk_state != TCP_SYN_SENT)
		flags |= TCPHDR_ACK;
	if (skb->len)
		flags |= TCPHDR_PSH;
	cb->when = jiffies;
	return toytcp_transmit(sk, clone, cb->seq, flags);
}

static struct sk_buff *toytcp_alloc_ctl(struct sock *sk, gfp_t gfp)
{
	struct sk_buff *skb = alloc_skb(TOYTCP_MAX_HEADER, gfp);

	if (skb)
		skb_reserve(skb, TOYTCP_MAX_HEADER);
	return skb;
}

/*
 * The one constructor of write queue skbs (SYN, FIN, data, a split's
 * second half): allocated with headroom for the headers, its control block
 * set for @seq and @flags (a SYN or FIN takes one sequence number, data
 * adds its length later), its truesize charged to the send buffer.  SYN and
 * FIN must be queued even when the protocol is out of memory: those few
 * bytes are then left uncharged.  Data is not made then.
 * toytcp_free_queued() undoes the charge.
 */
static struct sk_buff *toytcp_new_queued(struct sock *sk, gfp_t gfp, u32 seq,
					 u8 flags)
{
	bool ctl = flags & (TCPHDR_SYN | TCPHDR_FIN);
	struct toytcp_skb_cb *cb;
	struct sk_buff *skb;

	skb = alloc_skb_fclone(TOYTCP_MAX_HEADER, gfp);
	if (!skb)
		return NULL;
	skb_reserve(skb, TOYTCP_MAX_HEADER);
	cb = TOYTCP_SKB_CB(skb);
	cb->charged = sk_wmem_schedule(sk, skb->truesize);
	if (!cb->charged && !ctl) {
		__kfree_skb(skb);
		return NULL;
	}
	if (cb->charged) {
		sk_wmem_queued_add(sk, skb->truesize);
		sk_mem_charge(sk, skb->truesize);
	}
	cb->seq = seq;
	cb->end_seq = seq + ctl;
	cb->flags = flags;
	cb->sstate = 0;
	return skb;
}

/**
 * toytcp_entail - append a new skb to the write queue, at write_seq
 * @sk: socket, lock held
 * @gfp: allocation flags
 * @flags: TCPHDR_SYN or TCPHDR_FIN, or 0 for an skb that sendmsg() fills
 *
 * Return: the skb, now the queue's tail and part of the unsent data; NULL
 * if there is no memory for it.
 */
struct sk_buff *toytcp_entail(struct sock *sk, gfp_t gfp, u8 flags)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *skb;

	sock_owned_by_me(sk);
	skb = toytcp_new_queued(sk, gfp, tp->write_seq, flags);
	if (!skb)
		return NULL;
	__skb_queue_tail(&sk->sk_write_queue, skb);
	WRITE_ONCE(tp->write_seq, TOYTCP_SKB_CB(skb)->end_seq);
	if (!tp->send_head)
		tp->send_head = skb;
	return skb;
}

void toytcp_free_queued(struct sock *sk, struct sk_buff *skb)
{
	if (TOYTCP_SKB_CB(skb)->charged) {
		sk_wmem_queued_add(sk, -skb->truesize);
		sk_mem_uncharge(sk, skb->truesize);
	}
	__kfree_skb(skb);
}

void toytcp_purge_write_queue(struct sock *sk)
{
	struct sk_buff *skb;

	while ((skb = __skb_dequeue(&sk->sk_write_queue)))
		toytcp_free_queued(sk, skb);
	toytcp_sk(sk)->send_head = NULL;
	sk_mem_reclaim(sk);
}

/**
 * toytcp_send_syn - queue and send the SYN (active open) or SYN-ACK (child)
 * @sk: socket in SYN-SENT or SYN-RECEIVED with iss, route and MSS set
 * @gfp: allocation flags: the socket's own from connect(), GFP_ATOMIC for a
 *	child made in softirq (its sk_allocation, cloned from the listener,
 *	may sleep)
 *
 * Return: 0 or -ENOBUFS.
 */
int toytcp_send_syn(struct sock *sk, gfp_t gfp)
{
	/* connect() and the child set write_seq to iss */
	if (!toytcp_entail(sk, gfp, TCPHDR_SYN))
		return -ENOBUFS;
	toytcp_push(sk);
	return 0;
}

/* Send a bare ACK now; if no memory, leave it to the delayed ACK timer. */
void toytcp_send_ack(struct sock *sk)
{
	struct sk_buff *skb;

	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
		return;
	skb = toytcp_alloc_ctl(sk, GFP_ATOMIC);
	if (!skb) {
		toytcp_timer_ack_owed(sk);
		return;
	}
	toytcp_transmit(sk, skb, toytcp_sk(sk)->snd_nxt, TCPHDR_ACK);
}

/*
 * Window probe or keepalive: a segment with an old sequence number
 * (snd_una - 1) that the peer must answer with an ACK carrying its window.
 */
void toytcp_send_probe(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *skb;

	skb = toytcp_alloc_ctl(sk, GFP_ATOMIC);
	if (skb)
		toytcp_transmit(sk, skb, tp->snd_una - 1, TCPHDR_ACK);
}

/**
 * toytcp_send_fin - queue our FIN (close or shutdown(SHUT_WR)) and push it
 * @sk: socket in ESTABLISHED, SYN-RECEIVED or CLOSE-WAIT, lock held
 *
 * The FIN rides on the last unsent data segment if there is one.
 */
void toytcp_send_fin(struct sock *sk)
{
	struct sk_buff *tail = skb_peek_tail(&sk->sk_write_queue);
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (tp->fin_sent)
		return;
	tp->fin_sent = 1;
	if (tail && tp->send_head &&
	    !(TOYTCP_SKB_CB(tail)->flags & (TCPHDR_SYN | TCPHDR_FIN))) {
		TOYTCP_SKB_CB(tail)->flags |= TCPHDR_FIN;
		TOYTCP_SKB_CB(tail)->end_seq++;
		WRITE_ONCE(tp->write_seq, tp->write_seq + 1);
	} else {
		gfp_t gfp = sk->sk_allocation;

		/* A FIN must not get lost to memory: wait for it if we may. */
		if (gfpflags_allow_blocking(gfp))
			gfp |= __GFP_NOFAIL;
		if (!toytcp_entail(sk, gfp, TCPHDR_FIN)) {
			/* cannot even say goodbye: abort, as TCP does */
			toytcp_send_active_reset(sk, GFP_ATOMIC);
			toytcp_abort(sk, ENOMEM);
			return;
		}
	}
	toytcp_push(sk);
}

/* RST for a connection we abort (close with data unread, SO_LINGER 0). */
void toytcp_send_active_reset(struct sock *sk, gfp_t gfp)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *skb;

	skb = toytcp_alloc_ctl(sk, gfp);
	if (!skb)
		return;
	toytcp_transmit(sk, skb, tp->snd_nxt, TCPHDR_RST | TCPHDR_ACK);
}

/* The route back to where @in_skb came from, from the address it was sent to. */
static struct rtable *toytcp_reply_route(struct net *net,
					 struct sk_buff *in_skb)
{
	const struct iphdr *iph = ip_hdr(in_skb);
	struct flowi4 fl4;

	memset(&fl4, 0, sizeof(fl4));
	fl4.daddr = iph->saddr;
	fl4.saddr = iph->daddr;
	fl4.flowi4_proto = toytcp_ipproto;
	fl4.flowi4_oif = inet_iif(in_skb);
	fl4.flowi4_mark = in_skb->mark;
	fl4.flowi4_flags = FLOWI_FLAG_ANYSRC;
	return ip_route_output_key(net, &fl4);
}

/*
 * Put an IPv4 header in front of @skb (a reply sent by the control socket
 * @ctl from @saddr to @daddr, its route already attached) and send it,
 * as ip_build_and_send_pkt() did for us until 7.x stopped exporting it:
 * no IP options; DF with an ID of 0 for a short segment or where the
 * socket's PMTU discovery wants DF, otherwise a random ID (never the
 * shared hashed generator, whose IDs leak to an off-path observer:
 * CVE-2020-36516); the route's hop limit; the socket's priority, and its
 * mark unless the segment has one.  ip_local_out() fills in the length,
 * the header checksum and skb->protocol.
 */
static void toytcp_ip_send_reply(struct net *net, struct sock *ctl,
				 struct sk_buff *skb, __be32 saddr,
				 __be32 daddr)
{
	struct dst_entry *dst = skb_dst(skb);
	struct iphdr *iph;

	skb_push(skb, sizeof(*iph));
	skb_reset_network_header(skb);
	iph = ip_hdr(skb);
	iph->version = 4;
	iph->ihl = sizeof(*iph) / 4;
	iph->tos = READ_ONCE(inet_sk(ctl)->tos);
	if (skb->len <= IPV4_MIN_MTU || ip_dont_fragment(ctl, dst)) {
		iph->frag_off = htons(IP_DF);
		iph->id = 0;
	} else {
		iph->frag_off = 0;
		iph->id = (__force __be16)get_random_u16();
	}
	iph->ttl = ip4_dst_hoplimit(dst);
	iph->protocol = toytcp_ipproto;
	iph->saddr = saddr;
	iph->daddr = daddr;
	skb->priority = READ_ONCE(ctl->sk_priority);
	if (!skb->mark)
		skb->mark = READ_ONCE(ctl->sk_mark);
	ip_local_out(net, ctl, skb);
}

/*
 * Send @skb (TCP header pushed, at the transport header) through the netns'
 * control socket as the answer to @in_skb, on route @rt.  Fills in the
 * checksum.  Consumes @skb and the reference on @rt.
 */
static void toytcp_ctl_reply(struct net *net, struct sk_buff *in_skb,
			     struct sk_buff *skb, struct rtable *rt)
{
	const struct iphdr *iph = ip_hdr(in_skb);
	struct sock *ctl = toytcp_ctl_sock(net);

	skb_dst_set(skb, &rt->dst);
	if (!ctl) {
		kfree_skb(skb);
		return;
	}
	toytcp_fill_checksum(skb, iph->daddr, iph->saddr);
	trace_toytcp_segment(true, iph->daddr, iph->saddr, tcp_hdr(skb),
			     skb->len - tcp_hdr(skb)->doff * 4);

	TOYTCP_INC(net, OUT_SEGS);
	/*
	 * Softirq, or a listener's backlog drained by release_sock() in
	 * process context: bottom halves off either way.
	 */
	local_bh_disable();
	bh_lock_sock(ctl);
	toytcp_ip_send_reply(net, ctl, skb, iph->daddr, iph->saddr);
	bh_unlock_sock(ctl);
	local_bh_enable();
}

/* A header for a reply to @in: ports swapped, @optlen bytes of options. */
static struct tcphdr *toytcp_reply_header(struct sk_buff *skb,
					  const struct tcphdr *in,
					  unsigned int optlen)
{
	struct tcphdr *th;

	skb_reserve(skb, TOYTCP_MAX_HEADER);
	skb_push(skb, sizeof(*th) + optlen);
	skb_reset_transport_header(skb);
	th = tcp_hdr(skb);
	memset(th, 0, sizeof(*th) + optlen);
	th->source = in->dest;
	th->dest = in->source;
	th->doff = (sizeof(*th) + optlen) >> 2;
	return th;
}

/**
 * toytcp_send_reset_reply - answer segment @in_skb, which no connection
 *	accepts, with a RST (RFC 9293 3.10.7.1 "If the state is CLOSED")
 * @net: netns it arrived in
 * @in_skb: the offending segment, TCP header at transport_header
 *
 * Never answers a RST.  Sent through the netns' control socket.
 */
void toytcp_send_reset_reply(struct net *net, struct sk_buff *in_skb)
{
	const struct tcphdr *in = tcp_hdr(in_skb);
	struct sk_buff *skb;
	struct tcphdr *th;
	struct rtable *rt;

	if (in->rst)
		return;
	rt = toytcp_reply_route(net, in_skb);
	if (IS_ERR(rt))
		return;
	skb = alloc_skb(TOYTCP_MAX_HEADER, GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return;
	}
	th = toytcp_reply_header(skb, in, 0);
	th->rst = 1;
	if (in->ack) {
		/* <SEQ=SEG.ACK><CTL=RST> */
		th->seq = in->ack_seq;
	} else {
		/* <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> */
		th->ack = 1;
		th->ack_seq = htonl(ntohl(in->seq) +
				    TOYTCP_SKB_CB(in_skb)->wire_len);
	}
	TOYTCP_INC(net, OUT_RSTS);
	toytcp_ctl_reply(net, in_skb, skb, rt);
}

/**
 * toytcp_send_cookie_synack - answer a SYN to a full listener statelessly
 * @sk: the listener, locked
 * @in_skb: the SYN
 * @cookie: our ISS (syncookie.c)
 * @peer_wscale: the SYN's window scale option, -1: none (then we send none)
 *
 * The SYN-ACK carries what a child would have sent: our MSS, our window and,
 * if the peer offered one, our window scale.
 */
void toytcp_send_cookie_synack(struct sock *sk, struct sk_buff *in_skb,
			       u32 cookie, int peer_wscale)
{
	const struct tcphdr *in = tcp_hdr(in_skb);
	struct net *net = sock_net(sk);
	u16 user = toytcp_sk(sk)->opt.user_mss;
	struct sk_buff *skb;
	struct tcphdr *th;
	struct rtable *rt;
	unsigned int mss;
	__be32 *opt;

	rt = toytcp_reply_route(net, in_skb);
	if (IS_ERR(rt))
		return;
	skb = alloc_skb(TOYTCP_MAX_HEADER, GFP_ATOMIC);
	if (!skb) {
		ip_rt_put(rt);
		return;
	}
	/* the MSS a child would announce: the route's, or TCP_MAXSEG's */
	mss = toytcp_mtu_mss(dst_mtu(&rt->dst));
	if (user && user < mss)
		mss = user;
	th = toytcp_reply_header(skb, in, TOYTCP_SYN_OPTLEN);
	th->syn = 1;
	th->ack = 1;
	th->seq = htonl(cookie);
	th->ack_seq = htonl(TOYTCP_SKB_CB(in_skb)->seq + 1);
	th->window = htons(toytcp_syn_window(sk));
	opt = (__be32 *)(th + 1);
	*opt++ = htonl((TCPOPT_MSS << 24) | (TCPOLEN_MSS << 16) | mss);
	if (peer_wscale >= 0)
		*opt++ = htonl((TCPOPT_NOP << 24) | (TCPOPT_WINDOW << 16) |
			       (TCPOLEN_WINDOW << 8) | toytcp_choose_wscale(sk));
	else
		*opt++ = htonl(TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
			       TCPOPT_NOP << 8 | TCPOPT_NOP);
	/* the cookie has no room to remember SACK-permitted: not offered */
	*opt = htonl(TCPOPT_NOP << 24 | TCPOPT_NOP << 16 |
		     TCPOPT_NOP << 8 | TCPOPT_NOP);
	toytcp_ctl_reply(net, in_skb, skb, rt);
}

/* sk_write_space: wake writers once the send buffer has room again. */
void toytcp_write_space(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_wq *wq;

	if (!sock || !sk_stream_is_writeable(sk))
		return;
	clear_bit(SOCK_NOSPACE, &sock->flags);
	rcu_read_lock();
	wq = rcu_dereference(sk->sk_wq);
	if (skwq_has_sleeper(wq))
		wake_up_interruptible_poll(&wq->wait, EPOLLOUT | EPOLLWRNORM |
					   EPOLLWRBAND);
	if (wq && wq->fasync_list && !(sk->sk_shutdown & SEND_SHUTDOWN))
		sock_wake_async(wq, SOCK_WAKE_SPACE, POLL_OUT);
	rcu_read_unlock();
}

/*
 * Bytes in flight, for congestion control: all that is sent and not
 * acknowledged, or in SACK fast recovery the pipe (sack.c).
 */
static u32 toytcp_in_flight(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (tp->in_recovery == TOYTCP_RECOV_FAST && tp->sack_ok)
		return toytcp_sack_pipe(sk);
	return tp->snd_nxt - tp->snd_una;
}

/**
 * toytcp_retransmit_skb - send queued, already sent @skb again
 * @sk: socket, lock held
 * @skb: the segment
 *
 * Return: 0 or a negative errno from the IP layer.
 */
static int toytcp_retransmit_skb(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	TOYTCP_SKB_CB(skb)->sstate |= TOYTCP_SKB_RETRANS;
	tp->rtt_start = 0;
	tp->total_retrans++;
	TOYTCP_INC(sock_net(sk), RETRANS_SEGS);
	trace_toytcp_retransmit(sk, TOYTCP_SKB_CB(skb)->seq,
				TOYTCP_SKB_CB(skb)->end_seq, tp->retransmits);
	return toytcp_send_queued(sk, skb);
}

/* SACK fast recovery: send lost segments again while the pipe has room. */
static u32 toytcp_sack_retransmit(struct sock *sk, u32 flight)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct sk_buff *skb;

	while ((skb = toytcp_sack_next_hole(sk))) {
		struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
		u32 len = cb->end_seq - cb->seq;

		if (flight && flight + len > tp->cwnd)
			break;
		if (toytcp_retransmit_skb(sk, skb))
			break;
		TOYTCP_INC(sock_net(sk), SACK_RETRANS);
		cb->sstate |= TOYTCP_SKB_RECOV_RETX;
		flight += len;
	}
	return flight;
}

/*
 * Split queued @skb so that its first part carries @len data bytes; the
 * rest becomes a new unsent skb after it.  The data is in page fragments
 * (sendmsg()), which skb_split() moves; their share of the truesize, and
 * of what the socket is charged, moves with them (a receiver's
 * skb_try_coalesce() relies on truesize covering the data).
 * Return: 0 or -ENOMEM.
 */
static int toytcp_split(struct sock *sk, struct sk_buff *skb, unsigned int len)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	unsigned int moved = skb->len - len;
	struct sk_buff *tail;

	/* not a sendmsg() skb (charged, data in fragments): send it whole */
	if (skb_headlen(skb) > len || !cb->charged)
		return -EINVAL;
	tail = toytcp_new_queued(sk, GFP_ATOMIC, cb->seq + len, 0);
	if (!tail)
		return -ENOMEM;
	skb_split(skb, tail, len);
	/* both are charged: the charge moves, the socket's total stays */
	skb->truesize -= moved;
	tail->truesize += moved;
	TOYTCP_SKB_CB(tail)->end_seq = cb->end_seq;
	TOYTCP_SKB_CB(tail)->flags = cb->flags & TCPHDR_FIN;
	cb->flags &= ~TCPHDR_FIN;
	cb->end_seq = cb->seq + len;
	__skb_queue_after(&sk->sk_write_queue, skb, tail);
	return 0;
}

/**
 * toytcp_push - send what the peer's window, the congestion window and
 *	Nagle's rule (RFC 9293 3.7.4) allow from the unsent queue
 * @sk: socket, lock held
 */
void toytcp_push(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	bool failed = false;
	struct sk_buff *skb;
	u32 flight;

	flight = toytcp_in_flight(sk);
	if (tp->in_recovery == TOYTCP_RECOV_FAST && tp->sack_ok)
		flight = toytcp_sack_retransmit(sk, flight);

	while ((skb = tp->send_head)) {
		struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
		u32 wnd_end = tp->snd_una + tp->snd_wnd;
		u32 cwnd_room;

		if (cb->flags & TCPHDR_SYN)
			goto send;	/* SYN: nothing to wait for */

		if (sk->sk_state == TCP_SYN_SENT || sk->sk_state == TCP_SYN_RECV)
			break;		/* data waits for the handshake */

		/* receive window */
		if (skb->len && toytcp_after(cb->seq + skb->len, wnd_end)) {
			u32 room = toytcp_after(wnd_end, cb->seq) ?
				   wnd_end - cb->seq : 0;

			/*
			 * Send a part if it is worth a segment (RFC 1122
			 * 4.2.3.4), or, like Linux, whatever fits when nothing
			 * is in flight: the peer's window then closes and the
			 * persist timer takes over.
			 */
			if (room >= tp->mss || (room && room >= tp->max_window / 2) ||
			    (room && tp->snd_una == tp->snd_nxt)) {
				int err = toytcp_split(sk, skb, room);

				if (err) {
					failed = err == -ENOMEM;
					break;
				}
			} else {
				if (tp->snd_una == tp->snd_nxt)
					toytcp_timer_window_closed(sk);
				break;
			}
		}
		/* congestion window */
		/*
		 * Limited transmit (RFC 3042): the first two duplicate ACKs
		 * each let one new segment out beyond cwnd.
		 */
		cwnd_room = tp->cwnd + (tp->in_recovery ? 0 :
					min_t(u32, tp->dupacks, 2) * tp->mss);
		cwnd_room = cwnd_room > flight ? cwnd_room - flight : 0;
		if (skb->len && skb->len > cwnd_room && flight)
			break;
		/* Nagle: one small segment in flight at most */
		if (!tp->opt.nodelay && skb->len < tp->mss &&
		    skb_queue_is_last(&sk->sk_write_queue, skb) &&
		    !(cb->flags & TCPHDR_FIN) && tp->snd_nxt != tp->snd_una)
			break;
		if (tp->opt.cork && skb->len < tp->mss &&
		    skb_queue_is_last(&sk->sk_write_queue, skb) &&
		    !(cb->flags & TCPHDR_FIN))
			break;
send:
		if (toytcp_send_queued(sk, skb)) {
			failed = true;
			break;
		}
		if (!tp->rtt_start && !(cb->sstate & TOYTCP_SKB_RETRANS)) {
			tp->rtt_seq = cb->end_seq;
			tp->rtt_start = jiffies;
		}
		tp->snd_nxt = cb->end_seq;
		flight += cb->end_seq - cb->seq;
		/*
		 * Data sent soon after a segment came in: an exchange, whose
		 * next answer will carry the ACK (toytcp_cleanup_rbuf()).
		 */
		if (skb->len &&
		    time_before(jiffies, tp->rcv_tstamp + TOYTCP_DELACK_MIN))
			tp->pingpong = 1;
		tp->send_head = skb_queue_is_last(&sk->sk_write_queue, skb) ?
				NULL : skb->next;
		toytcp_timer_data_sent(sk);
	}
	if (failed)
		toytcp_timer_send_failed(sk);
}

/**
 * toytcp_retransmit_head - send the oldest unacknowledged segment again
 * @sk: socket, lock held
 *
 * Karn's rule: no RTT sample is taken from a retransmitted segment.
 */
int toytcp_retransmit_head(struct sock *sk)
{
	struct sk_buff *skb = skb_peek(&sk->sk_write_queue);

	if (!skb || skb == toytcp_sk(sk)->send_head)
		return 0;
	return toytcp_retransmit_skb(sk, skb);
}
