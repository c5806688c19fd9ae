// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp passive open: the listener, its embryonic connections and its
 * accept queue.
 *
 * A SYN to a listener creates a child socket at once (a clone of the
 * listener) in SYN-RECEIVED, hashed in the connection table so that the
 * rest of the handshake reaches it directly, and put on the listener's
 * lq_embryos.  The ACK of its SYN-ACK moves it to lq_ready, where accept()
 * takes it.  Both queues are bounded by the listen() backlog (embryos by at
 * least 8).  When lq_embryos is full, a SYN is answered with a SYN cookie
 * (syncookie.c) and no state; the ACK that returns the cookie creates the
 * child then, directly on its way to lq_ready.
 *
 * Lifetime of a child: its "life" reference (the one a socket file holds for
 * an ordinary socket) belongs to the listener's queue until accept() takes
 * the child off it, and to the user after that.  Until then the child is
 * marked SOCK_DEAD (no user), holds a reference on its listener, and
 * toytcp_done() on it unlinks it from the queue.  A child that accept()
 * has just unlinked is not released by toytcp_done(): accept() owns it.
 *
 * Lock order: listener's socket lock, then a child's socket lock
 * (bh_lock_sock, nested), then the listener's lq_lock.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/sched/signal.h>
#include <net/ip.h>
#include <net/route.h>
#include <net/sock.h>

#include "mib.h"
#include "toytcp.h"

static void toytcp_lq_init(struct toytcp_sock *tp)
{
	spin_lock_init(&tp->lq_lock);
	INIT_LIST_HEAD(&tp->lq_embryos);
	INIT_LIST_HEAD(&tp->lq_ready);
	tp->lq_n_embryos = 0;
	tp->lq_n_ready = 0;
	tp->lq_closed = false;
}

/**
 * toytcp_listen_start - make @sk a listener (struct proto_ops.listen's work)
 * @sk: socket, locked by the caller
 * @backlog: listen() backlog, bounding both queues
 *
 * Return: 0, -EINVAL for a socket that cannot listen, or -EADDRINUSE.
 */
int toytcp_listen_start(struct sock *sk, int backlog)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	int err;

	sock_owned_by_me(sk);
	WRITE_ONCE(sk->sk_max_ack_backlog, backlog);
	if (sk->sk_state == TCP_LISTEN)
		return 0;	/* only the backlog changes */
	if (sk->sk_state != TCP_CLOSE)
		return -EINVAL;

	if (!inet_sk(sk)->inet_num) {
		err = toytcp_get_port(sk, 0);
		if (err)
			return err;
	} else if (!toytcp_port_can_listen(sk)) {
		return -EADDRINUSE;
	}
	inet_sk(sk)->inet_sport = htons(inet_sk(sk)->inet_num);
	toytcp_lq_init(tp);
	toytcp_set_state(sk, TCP_LISTEN);
	return toytcp_hash(sk);
}

/* Abort one child taken off a closing listener's queue. */
static void toytcp_abort_child(struct sock *child)
{
	struct toytcp_sock *ctp = toytcp_sk(child);
	struct sock *listener;

	local_bh_disable();
	bh_lock_sock_nested(child);
	listener = ctp->listener;
	ctp->listener = NULL;
	if (child->sk_state != TCP_CLOSE) {
		toytcp_send_active_reset(child, GFP_ATOMIC);
		toytcp_set_state(child, TCP_CLOSE);
	}
	/* SOCK_DEAD, no listener: toytcp_done() releases it */
	toytcp_done(child);
	bh_unlock_sock(child);
	local_bh_enable();
	if (listener)
		sock_put(listener);
}

/**
 * toytcp_listen_stop - close a listener: reset every queued child
 * @sk: the listener, locked by the user; the caller moves it to CLOSED
 */
void toytcp_listen_stop(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	sock_owned_by_me(sk);
	spin_lock_bh(&tp->lq_lock);
	tp->lq_closed = true;
	for (;;) {
		struct toytcp_sock *ctp;

		ctp = list_first_entry_or_null(&tp->lq_ready,
					       struct toytcp_sock, lq_node);
		if (ctp) {
			tp->lq_n_ready--;
		} else {
			ctp = list_first_entry_or_null(&tp->lq_embryos,
						       struct toytcp_sock,
						       lq_node);
			if (!ctp)
				break;
			tp->lq_n_embryos--;
		}
		list_del_init(&ctp->lq_node);
		sock_hold((struct sock *)ctp);
		spin_unlock_bh(&tp->lq_lock);

		toytcp_abort_child((struct sock *)ctp);
		sock_put((struct sock *)ctp);

		spin_lock_bh(&tp->lq_lock);
	}
	spin_unlock_bh(&tp->lq_lock);
}

/**
 * toytcp_child_unlink - take @child off its listener's queue
 * @child: child socket, locked
 *
 * Return: true if it was queued (its life reference was the queue's),
 * false if accept() took it first.
 */
bool toytcp_child_unlink(struct sock *child)
{
	struct toytcp_sock *ctp = toytcp_sk(child);
	struct toytcp_sock *ltp = toytcp_sk(ctp->listener);
	bool queued;

	spin_lock_bh(&ltp->lq_lock);
	queued = !list_empty(&ctp->lq_node);
	if (queued) {
		if (ctp->lq_on_ready)
			ltp->lq_n_ready--;
		else
			ltp->lq_n_embryos--;
		list_del_init(&ctp->lq_node);
	}
	spin_unlock_bh(&ltp->lq_lock);
	return queued;
}

/**
 * toytcp_child_established - the handshake of @child completed
 * @child: child in SYN-RECEIVED, locked
 *
 * Return: false if the accept queue is full (the child stays in
 * SYN-RECEIVED; the peer's next ACK or our SYN-ACK retransmission retries).
 */
bool toytcp_child_established(struct sock *child)
{
	struct toytcp_sock *ctp = toytcp_sk(child);
	struct sock *listener = ctp->listener;
	struct toytcp_sock *ltp = toytcp_sk(listener);
	bool ok = false;

	spin_lock_bh(&ltp->lq_lock);
	if (!ltp->lq_closed && !list_empty(&ctp->lq_node) &&
	    ltp->lq_n_ready <= READ_ONCE(listener->sk_max_ack_backlog)) {
		list_move_tail(&ctp->lq_node, &ltp->lq_ready);
		ctp->lq_on_ready = true;
		ltp->lq_n_embryos--;
		ltp->lq_n_ready++;
		ok = true;
	}
	spin_unlock_bh(&ltp->lq_lock);
	if (ok)
		listener->sk_data_ready(listener);
	return ok;
}

/* Route and address the child; Return: 0 or -errno. */
static int toytcp_child_route(struct sock *child)
{
	struct inet_sock *inet = inet_sk(child);
	struct flowi4 *fl4 = &inet->cork.fl.u.ip4;
	struct rtable *rt;

	flowi4_init_output(fl4, child->sk_bound_dev_if, child->sk_mark,
			   toytcp_rt_tos(child), toytcp_rt_scope(child),
			   child->sk_protocol, inet_sk_flowi_flags(child),
			   inet->inet_daddr, inet->inet_saddr,
			   inet->inet_dport, inet->inet_sport, child->sk_uid);
	rt = ip_route_output_flow(sock_net(child), fl4, child);
	if (IS_ERR(rt))
		return PTR_ERR(rt);
	sk_dst_set(child, &rt->dst);
	return 0;
}

/*
 * Make a child of listener @sk for the connection that @skb (its SYN, or the
 * ACK that completes a SYN cookie's handshake) belongs to: a clone in
 * SYN-RECEIVED with the peer's ISN @irs, our ISS @iss and the peer's SYN
 * options @opt, routed, hashed and on lq_embryos (the caller checked the
 * room).  Return: the child, bh-locked, with a reference for the caller;
 * NULL if it could not be made.  Sparse cannot follow a lock taken only on
 * success: the lock leaves here unannotated and the caller re-announces it
 * with __acquire().
 */
static struct sock *toytcp_new_child(struct sock *sk, struct sk_buff *skb,
				     u32 irs, u32 iss,
				     const struct toytcp_options *opt)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct toytcp_sock *ctp;
	struct inet_sock *inet;
	struct sock *child;

	child = sk_clone_lock(sk, GFP_ATOMIC);
	if (!child)
		return NULL;
	/* sk_clone_lock() returns the child bh-locked; tell sparse */
	__acquire(&child->sk_lock.slock);
	ctp = toytcp_sk(child);
	inet = inet_sk(child);

	/* Nothing of the listener's own state carries over. */
	child->sk_state = TCP_CLOSE;
	INIT_HLIST_NODE(&child->sk_bind_node);	/* the listener's link */
	inet->inet_daddr = iph->saddr;
	inet->inet_dport = th->source;
	inet->inet_rcv_saddr = iph->daddr;
	inet->inet_saddr = iph->daddr;
	atomic_set(&inet->inet_id, get_random_u16());
	RCU_INIT_POINTER(inet->inet_opt, NULL);
	inet->mc_list = NULL;
	toytcp_init_private(child);
	sock_set_flag(child, SOCK_DEAD);	/* no user until accept() */
	child->sk_write_space = toytcp_write_space;

	if (toytcp_child_route(child))
		goto free_child;

	ctp->iss = iss;
	ctp->snd_una = iss;
	ctp->snd_nxt = iss;
	ctp->write_seq = iss;
	ctp->irs = irs;
	ctp->rcv_nxt = irs + 1;
	ctp->rcv_wup = ctp->rcv_nxt;
	ctp->copied_seq = ctp->rcv_nxt;
	ctp->snd_wnd = cb->window;
	ctp->max_window = ctp->snd_wnd;
	ctp->snd_wl1 = cb->seq;
	ctp->snd_wl2 = iss;
	ctp->adv_mss = toytcp_adv_mss(child);
	ctp->sack_ok = opt->sack_ok;
	if (opt->wscale >= 0) {
		ctp->wscale_ok = 1;
		ctp->snd_wscale = opt->wscale;
	} else {
		ctp->rcv_wscale = 0;
	}
	toytcp_update_mss(child, opt->mss ? : TOYTCP_DEFAULT_MSS);
	ctp->cwnd = TOYTCP_INIT_CWND * ctp->mss;
	ctp->rcv_tstamp = jiffies;

	toytcp_inherit_port(child, sk);
	toytcp_set_state(child, TCP_SYN_RECV);
	if (toytcp_hash(child))
		goto close_child;

	sock_hold(sk);
	ctp->listener = sk;
	spin_lock_bh(&tp->lq_lock);
	list_add_tail(&ctp->lq_node, &tp->lq_embryos);
	ctp->lq_on_ready = false;
	tp->lq_n_embryos++;
	spin_unlock_bh(&tp->lq_lock);
	__release(&child->sk_lock.slock);	/* still held: see above */
	return child;

close_child:
	toytcp_set_state(child, TCP_CLOSE);
free_child:
	/* never queued: toytcp_done() releases the life reference */
	toytcp_done(child);
	bh_unlock_sock(child);
	sock_put(child);
	return NULL;
}

/* The cookie's view of the connection @skb belongs to; @peer_isn: its ISN. */
static void toytcp_cookie_tuple(struct sk_buff *skb, u32 peer_isn,
				struct toytcp_cookie_tuple *t)
{
	t->saddr = ip_hdr(skb)->daddr;
	t->daddr = ip_hdr(skb)->saddr;
	t->sport = tcp_hdr(skb)->dest;
	t->dport = tcp_hdr(skb)->source;
	t->peer_isn = peer_isn;
}

/* A SYN for a listener: make a child in SYN-RECEIVED and send SYN-ACK. */
static void toytcp_listen_syn(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	const struct iphdr *iph = ip_hdr(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	unsigned int max = READ_ONCE(sk->sk_max_ack_backlog);
	struct toytcp_cookie_tuple t;
	struct toytcp_options opt;
	bool ready_full, embryos_full;
	struct sock *child;

	if (toytcp_parse_options(th, &opt))
		return;
	spin_lock_bh(&tp->lq_lock);
	ready_full = tp->lq_n_ready > max;
	embryos_full = tp->lq_n_embryos >= max(max, 8U);
	spin_unlock_bh(&tp->lq_lock);
	if (ready_full) {
		TOYTCP_INC(sock_net(sk), LISTEN_DROPS);
		return;		/* the peer retransmits its SYN */
	}
	if (embryos_full && !READ_ONCE(toytcp_sk_cfg(sk)->syncookies)) {
		TOYTCP_INC(sock_net(sk), LISTEN_DROPS);
		return;		/* net.toytcp.syncookies=0: like a full queue */
	}
	if (embryos_full) {
		/* no room to remember it: answer with a cookie instead */
		toytcp_cookie_tuple(skb, cb->seq, &t);
		tp->cookie_stamp = jiffies ? : 1;
		TOYTCP_INC(sock_net(sk), SYNCOOKIES_SENT);
		toytcp_send_cookie_synack(sk, skb,
					  toytcp_cookie_make(&t, opt.mss ? :
							     TOYTCP_DEFAULT_MSS,
							     opt.wscale),
					  opt.wscale);
		return;
	}

	child = toytcp_new_child(sk, skb, cb->seq,
				 toytcp_isn(iph->daddr, iph->saddr, th->dest,
					    th->source), &opt);
	if (!child)
		return;
	__acquire(&child->sk_lock.slock);
	if (toytcp_send_syn(child, GFP_ATOMIC))	/* softirq */
		toytcp_done(child);
	bh_unlock_sock(child);
	sock_put(child);	/* sk_clone_lock's second reference */
}

/* How long after the last cookie sent an ACK may still carry one. */
#define TOYTCP_COOKIE_WINDOW	(128 * HZ)

/*
 * An ACK for a listener: does it complete a handshake that a SYN cookie
 * answered?  If so, make the connection and let it take the segment.
 * Return: true if @skb was consumed; false: not a valid cookie, the caller
 * answers with a RST.
 */
static bool toytcp_listen_cookie_ack(struct sock *sk, struct sk_buff *skb)
{
	struct toytcp_skb_cb *cb = TOYTCP_SKB_CB(skb);
	struct toytcp_sock *tp = toytcp_sk(sk);
	unsigned int max = READ_ONCE(sk->sk_max_ack_backlog);
	struct toytcp_cookie_tuple t;
	struct toytcp_options opt;
	struct sock *child;
	bool ready_full;
	int wscale;
	u16 mss;

	if (!tp->cookie_stamp ||
	    time_after(jiffies, tp->cookie_stamp + TOYTCP_COOKIE_WINDOW) ||
	    (cb->flags & (TCPHDR_SYN | TCPHDR_RST)))
		return false;
	toytcp_cookie_tuple(skb, cb->seq - 1, &t);
	if (!toytcp_cookie_check(&t, cb->ack_seq - 1, &mss, &wscale)) {
		TOYTCP_INC(sock_net(sk), SYNCOOKIES_FAILED);
		return false;
	}

	spin_lock_bh(&tp->lq_lock);
	ready_full = tp->lq_n_ready > max;
	spin_unlock_bh(&tp->lq_lock);
	if (ready_full) {
		/* like a full accept queue in SYN-RECEIVED: the peer retries */
		TOYTCP_INC(sock_net(sk), LISTEN_DROPS);
		kfree_skb(skb);
		return true;
	}

	opt.mss = mss;
	opt.wscale = wscale;
	opt.sack_ok = 0;	/* the cookie's SYN-ACK did not offer SACK */
	child = toytcp_new_child(sk, skb, cb->seq - 1, cb->ack_seq - 1, &opt);
	if (!child) {
		kfree_skb(skb);
		return true;
	}
	__acquire(&child->sk_lock.slock);
	/* our SYN-ACK went out as the cookie: its sequence number is used */
	toytcp_sk(child)->snd_nxt = cb->ack_seq;
	toytcp_sk(child)->write_seq = cb->ack_seq;
	toytcp_sk(child)->rcv_wnd = toytcp_syn_window(sk);
	TOYTCP_INC(sock_net(sk), SYNCOOKIES_RECV);
	/* SYN-RECEIVED takes the ACK (and any data) and becomes ESTABLISHED */
	toytcp_do_rcv(child, skb);
	bh_unlock_sock(child);
	sock_put(child);
	return true;
}

/*
 * A segment that waited for the listener (in its backlog, or for its lock on
 * another CPU) may belong to a connection made meanwhile, for instance by
 * the ACK just before it that returned a SYN cookie.  Give it to that
 * connection.  Return: true if one took it.
 */
static bool toytcp_listen_redirect(struct sock *sk, struct sk_buff *skb)
{
	const struct iphdr *iph = ip_hdr(skb);
	const struct tcphdr *th = tcp_hdr(skb);
	struct sock *conn;

	conn = toytcp_lookup_conn(sock_net(sk), iph->daddr, th->dest,
				  iph->saddr, th->source);
	if (!conn)
		return false;
	bh_lock_sock(conn);
	if (!sock_owned_by_user(conn)) {
		toytcp_do_rcv(conn, skb);
	} else if (sk_add_backlog(conn, skb, READ_ONCE(conn->sk_rcvbuf) +
				  READ_ONCE(conn->sk_sndbuf))) {
		TOYTCP_INC(sock_net(conn), BACKLOG_DROP);
		kfree_skb(skb);
	}
	bh_unlock_sock(conn);
	sock_put(conn);
	return true;
}

/**
 * toytcp_listen_rcv - a segment for a listener (RFC 9293 3.10.7.2)
 * @sk: the listener, locked
 * @skb: the segment; consumed
 */
void toytcp_listen_rcv(struct sock *sk, struct sk_buff *skb)
{
	u8 flags = TOYTCP_SKB_CB(skb)->flags;

	if (toytcp_listen_redirect(sk, skb))
		return;
	if (flags & TCPHDR_RST)
		goto drop;			/* first: ignore RST */
	if (flags & TCPHDR_ACK) {
		if (toytcp_listen_cookie_ack(sk, skb))
			return;
		toytcp_send_reset_reply(sock_net(sk), skb); /* second */
		goto drop;
	}
	if (flags & TCPHDR_SYN)
		toytcp_listen_syn(sk, skb);	/* third */
drop:
	kfree_skb(skb);
}

/**
 * toytcp_accept_child - struct proto's accept: wait for an established child
 * @sk: the listener
 * @flags: O_NONBLOCK from the file
 * @err: where to put -errno when returning NULL
 *
 * Return: the child, owned by the caller, or NULL.
 */
struct sock *toytcp_accept_child(struct sock *sk, int flags, int *err)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	struct toytcp_sock *ctp = NULL;
	struct sock *child, *listener;
	long timeo;

	lock_sock(sk);
	timeo = sock_rcvtimeo(sk, flags & O_NONBLOCK);
	for (;;) {
		DEFINE_WAIT(wait);

		if (sk->sk_state != TCP_LISTEN) {
			*err = -EINVAL;
			goto out;
		}
		spin_lock_bh(&tp->lq_lock);
		ctp = list_first_entry_or_null(&tp->lq_ready,
					       struct toytcp_sock, lq_node);
		if (ctp) {
			list_del_init(&ctp->lq_node);
			tp->lq_n_ready--;
		}
		spin_unlock_bh(&tp->lq_lock);
		if (ctp)
			break;
		if (!timeo) {
			*err = -EAGAIN;
			goto out;
		}
		if (signal_pending(current)) {
			*err = sock_intr_errno(timeo);
			goto out;
		}
		prepare_to_wait_exclusive(sk_sleep(sk), &wait,
					  TASK_INTERRUPTIBLE);
		release_sock(sk);
		if (list_empty(&tp->lq_ready))
			timeo = schedule_timeout(timeo);
		/*
		 * Running again before lock_sock(), which may sleep: a child
		 * queued after prepare_to_wait() skips the schedule and would
		 * leave us TASK_INTERRUPTIBLE there.  The queue is checked
		 * again under the lock, so no wakeup is lost.
		 */
		finish_wait(sk_sleep(sk), &wait);
		lock_sock(sk);
	}
	release_sock(sk);

	/* Under the child's lock, so that toytcp_done() sees it consistent. */
	child = (struct sock *)ctp;
	lock_sock(child);
	sock_reset_flag(child, SOCK_DEAD);
	listener = ctp->listener;
	ctp->listener = NULL;
	release_sock(child);
	sock_put(listener);
	return child;

out:
	release_sock(sk);
	return NULL;
}
