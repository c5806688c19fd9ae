// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp timers.  Every timer of a socket lives here:
 *
 *   rtx_timer	retransmission (RFC 6298: RTO from SRTT/RTTVAR, 200 ms
 *		floor, doubling backoff, 120 s ceiling) of the oldest
 *		unacknowledged segment, SYN and FIN included; or, while the
 *		peer's window is zero, the persist timer that sends window
 *		probes with the same backoff; or, when a segment could not
 *		be sent (no memory, a local drop) and nothing is in flight,
 *		the retry of toytcp_push() (TCP's probe timer does both).
 *   delack_timer	a delayed ACK, 40 ms after the first unacknowledged
 *		segment (at most 200 ms, RFC 1122 4.2.3.2).
 *   keepalive_timer	one timer for the idle connection: keepalive probes
 *		when SO_KEEPALIVE is on, the FIN-WAIT-2 timeout of an
 *		orphan, and the TIME-WAIT period of 2 MSL (60 s).
 *
 * Send and receive code only report what happened (data sent, ACK advanced,
 * window closed, ACK owed); this file decides what to arm.
 *
 * Each timer holds a reference on its socket while pending (sk_reset_timer).
 * A timer that fires while a user owns the socket leaves its work to
 * toytcp_release_cb(), which release_sock() calls, instead of racing it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <net/sock.h>

#include "mib.h"
#include "toytcp.h"

static u32 toytcp_rto_backed_off(const struct toytcp_sock *tp)
{
	const struct toytcp_sysctl *cfg = toytcp_sk_cfg((struct sock *)tp);
	u64 rto = (u64)tp->rto << tp->backoff;

	return min_t(u64, rto, msecs_to_jiffies(READ_ONCE(cfg->rto_max_ms)));
}

/* RFC 6298 section 2: fold one RTT measurement into SRTT and RTTVAR. */
void toytcp_rtt_sample(struct sock *sk, long rtt_jiffies)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 m = jiffies_to_usecs(max(rtt_jiffies, 1L));
	u32 rto;

	if (!tp->srtt_us) {
		tp->srtt_us = m << 3;
		tp->rttvar_us = m << 1;		/* (m / 2) << 2 */
	} else {
		s32 err = m - (tp->srtt_us >> 3);

		tp->srtt_us += err;			/* srtt += err / 8 */
		if (err < 0)
			err = -err;
		/* rttvar += (|err| - rttvar) / 4 */
		tp->rttvar_us += err - (tp->rttvar_us >> 2);
	}
	/* RTO = SRTT + max(G, 4 * RTTVAR), with Linux's 200 ms floor */
	rto = usecs_to_jiffies((tp->srtt_us >> 3) + tp->rttvar_us);
	tp->rto = clamp_t(u32, rto, msecs_to_jiffies(READ_ONCE(toytcp_sk_cfg(sk)->rto_min_ms)),
			  max(msecs_to_jiffies(READ_ONCE(toytcp_sk_cfg(sk)->rto_min_ms)),
			      msecs_to_jiffies(READ_ONCE(toytcp_sk_cfg(sk)->rto_max_ms))));
}

static void toytcp_arm_rtx(struct sock *sk, u8 kind, unsigned long when)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	tp->timer_kind = kind;
	sk_reset_timer(sk, &tp->rtx_timer, jiffies + when);
}

/* Something was sent: time it if nothing is, and make sure the RTO runs. */
void toytcp_timer_data_sent(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (tp->timer_kind != TOYTCP_TIMER_RTX || !timer_pending(&tp->rtx_timer))
		toytcp_arm_rtx(sk, TOYTCP_TIMER_RTX, toytcp_rto_backed_off(tp));
}

/* snd_una moved forward: restart the RTO, or stop it if all is acked. */
void toytcp_timer_ack_advanced(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	tp->backoff = 0;
	tp->retransmits = 0;
	tp->rtx_start = 0;
	if (tp->snd_una == tp->snd_nxt) {
		if (tp->timer_kind == TOYTCP_TIMER_RTX) {
			tp->timer_kind = TOYTCP_TIMER_NONE;
			sk_stop_timer(sk, &tp->rtx_timer);
		}
		return;
	}
	toytcp_arm_rtx(sk, TOYTCP_TIMER_RTX, tp->rto);
}

/* The peer's window is zero with data waiting: probe it (persist timer). */
void toytcp_timer_window_closed(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (tp->snd_una != tp->snd_nxt || timer_pending(&tp->rtx_timer))
		return;		/* the RTO will elicit the window update */
	toytcp_arm_rtx(sk, TOYTCP_TIMER_PERSIST, toytcp_rto_backed_off(tp));
}

/*
 * toytcp_push() could not send (no memory for a copy, the device dropped
 * it) and nothing is in flight: no ACK will come to push again, so try
 * again every half second, without backoff: the shortage is local and says
 * nothing about the path (TCP's TCP_RESOURCE_PROBE_INTERVAL).
 */
void toytcp_timer_send_failed(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (tp->snd_una != tp->snd_nxt || timer_pending(&tp->rtx_timer))
		return;		/* an ACK, the RTO or a probe comes first */
	toytcp_arm_rtx(sk, TOYTCP_TIMER_RETRY, HZ / 2);
}

void toytcp_timer_ack_owed(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	unsigned long delay = TOYTCP_DELACK_MIN;

	tp->ack_pending = 1;
	if (tp->srtt_us)
		delay = clamp_t(unsigned long,
				usecs_to_jiffies(tp->srtt_us >> 3),
				TOYTCP_DELACK_MIN,
				max_t(unsigned long, TOYTCP_DELACK_MIN,
				      msecs_to_jiffies(READ_ONCE(toytcp_sk_cfg(sk)->delack_ms))));
	if (!timer_pending(&tp->delack_timer))
		sk_reset_timer(sk, &tp->delack_timer, jiffies + delay);
}

void toytcp_timer_ack_sent(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	tp->ack_pending = 0;
	tp->unacked_segs = 0;
	tp->quickack = 0;
	if (timer_pending(&tp->delack_timer))
		sk_stop_timer(sk, &tp->delack_timer);
}

void toytcp_timer_time_wait(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	sk_reset_timer(sk, &tp->keepalive_timer,
		       jiffies + toytcp_secs(READ_ONCE(toytcp_sk_cfg(sk)->time_wait_secs)));
}

void toytcp_timer_fin_wait2(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	sk_reset_timer(sk, &tp->keepalive_timer,
		       jiffies + toytcp_secs(READ_ONCE(toytcp_sk_cfg(sk)->fin_timeout_secs)));
}

static u32 toytcp_keepalive_time(const struct toytcp_sock *tp)
{
	return tp->opt.keepalive_time ? :
	       toytcp_secs(READ_ONCE(toytcp_sk_cfg((struct sock *)tp)->keepalive_time_secs));
}

static u32 toytcp_keepalive_intvl(const struct toytcp_sock *tp)
{
	return tp->opt.keepalive_intvl ? :
	       toytcp_secs(READ_ONCE(toytcp_sk_cfg((struct sock *)tp)->keepalive_intvl_secs));
}

/* (Re)start the keepalive clock after activity or a setting change. */
void toytcp_timer_keepalive_reset(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (sk->sk_state == TCP_TIME_WAIT || sk->sk_state == TCP_FIN_WAIT2 ||
	    sk->sk_state == TCP_LISTEN || sk->sk_state == TCP_CLOSE)
		return;
	if (!sock_flag(sk, SOCK_KEEPOPEN)) {
		sk_stop_timer(sk, &tp->keepalive_timer);
		return;
	}
	tp->probes_out = 0;
	sk_reset_timer(sk, &tp->keepalive_timer,
		       jiffies + toytcp_keepalive_time(tp));
}

static void toytcp_rtx_work(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	unsigned long when;
	unsigned int limit;

	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
		return;
	if (time_before(jiffies, tp->rtx_timer.expires)) {
		/* rearmed while the work was deferred */
		sk_reset_timer(sk, &tp->rtx_timer, tp->rtx_timer.expires);
		return;
	}

	if (tp->timer_kind == TOYTCP_TIMER_RETRY) {
		tp->timer_kind = TOYTCP_TIMER_NONE;
		toytcp_push(sk);	/* which arms it again if it fails */
		return;
	}
	if (tp->timer_kind == TOYTCP_TIMER_PERSIST) {
		tp->timer_kind = TOYTCP_TIMER_NONE;
		toytcp_push(sk);
		if (!tp->send_head || tp->snd_una != tp->snd_nxt)
			return;		/* the window let data out */
		/*
		 * Still no window for the next segment (zero, or too small to
		 * be worth sending): RFC 9293 3.8.6.1, probe for as long as
		 * the peer answers.
		 */
		TOYTCP_INC(sock_net(sk), PERSIST_PROBES);
		toytcp_send_probe(sk);
		if (tp->backoff < 15)
			tp->backoff++;
		toytcp_arm_rtx(sk, TOYTCP_TIMER_PERSIST,
			       toytcp_rto_backed_off(tp));
		return;
	}
	if (tp->timer_kind != TOYTCP_TIMER_RTX || tp->snd_una == tp->snd_nxt)
		return;

	if (sk->sk_state == TCP_SYN_SENT)
		limit = tp->opt.syn_retries ? : READ_ONCE(toytcp_sk_cfg(sk)->syn_retries);
	else if (sk->sk_state == TCP_SYN_RECV)
		limit = READ_ONCE(toytcp_sk_cfg(sk)->synack_retries);
	else
		limit = READ_ONCE(toytcp_sk_cfg(sk)->retries2);
	/* nobody waits for an orphan: give up sooner, as TCP does */
	if (sock_flag(sk, SOCK_DEAD) && !tp->listener)
		limit = min_t(unsigned int, limit, TOYTCP_ORPHAN_RETRIES);

	if (!tp->rtx_start)
		tp->rtx_start = jiffies;
	if (tp->retransmits >= limit ||
	    (tp->opt.user_timeout &&
	     time_after_eq(jiffies, tp->rtx_start +
			   msecs_to_jiffies(tp->opt.user_timeout)))) {
		/* RFC 9293 3.8.3: give up on the connection */
		toytcp_abort(sk, sk->sk_err_soft ? : ETIMEDOUT);
		return;
	}

	TOYTCP_INC(sock_net(sk), TIMEOUTS);
	/* RFC 5681 3.1: a timeout means heavy loss; start over slowly. */
	tp->ssthresh = max_t(u32, (tp->snd_nxt - tp->snd_una) / 2,
			     2 * tp->mss);
	tp->cwnd = tp->mss;
	tp->dupacks = 0;
	/*
	 * Everything in flight may be lost: recover up to snd_nxt, one
	 * retransmission per partial ACK (RFC 6582), not one RTO per hole.
	 */
	tp->in_recovery = TOYTCP_RECOV_RTO;
	tp->recover = tp->snd_nxt;
	toytcp_sack_forget(sk);

	toytcp_retransmit_head(sk);
	tp->retransmits++;
	if (tp->backoff < 15)
		tp->backoff++;
	when = toytcp_rto_backed_off(tp);
	if (tp->opt.user_timeout) {
		/* wake up at the TCP_USER_TIMEOUT deadline, not after it */
		unsigned long deadline = tp->rtx_start +
					 msecs_to_jiffies(tp->opt.user_timeout);

		if (time_after(jiffies + when, deadline))
			when = max_t(long, deadline - jiffies, 1);
	}
	toytcp_arm_rtx(sk, TOYTCP_TIMER_RTX, when);
}

static void toytcp_delack_work(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (sk->sk_state == TCP_CLOSE || sk->sk_state == TCP_LISTEN)
		return;
	if (tp->ack_pending) {
		/* no answer came in time to carry it: not an exchange */
		tp->pingpong = 0;
		TOYTCP_INC(sock_net(sk), DELAYED_ACKS);
		toytcp_send_ack(sk);
	}
}

static void toytcp_keepalive_work(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);
	u32 idle;

	switch (sk->sk_state) {
	case TCP_FIN_WAIT2:
		/* a user's FIN-WAIT-2 waits as long as the peer likes */
		if (!sock_flag(sk, SOCK_DEAD))
			return;
		fallthrough;
	case TCP_TIME_WAIT:
		/* 2 MSL passed, or the orphan's peer never sent its FIN */
		toytcp_done(sk);
		return;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
		break;
	default:
		return;
	}
	if (!sock_flag(sk, SOCK_KEEPOPEN))
		return;

	/* Only an idle connection with nothing in flight is probed. */
	idle = jiffies - tp->rcv_tstamp;
	if (tp->snd_una != tp->snd_nxt || idle < toytcp_keepalive_time(tp)) {
		u32 left = tp->snd_una != tp->snd_nxt ?
			   toytcp_keepalive_time(tp) :
			   toytcp_keepalive_time(tp) - idle;

		tp->probes_out = 0;
		sk_reset_timer(sk, &tp->keepalive_timer, jiffies + left);
		return;
	}
	if (tp->probes_out >= (tp->opt.keepalive_probes ? :
			       READ_ONCE(toytcp_sk_cfg(sk)->keepalive_probes))) {
		toytcp_abort(sk, ETIMEDOUT);
		return;
	}
	TOYTCP_INC(sock_net(sk), KEEPALIVE_PROBES);
	toytcp_send_probe(sk);
	tp->probes_out++;
	sk_reset_timer(sk, &tp->keepalive_timer,
		       jiffies + toytcp_keepalive_intvl(tp));
}

/*
 * Common body of the three timer callbacks: run @work under the socket
 * lock, or defer it to release_sock() when a user owns the socket.
 */
static void toytcp_timer_fire(struct sock *sk, int deferred_bit,
			      void (*work)(struct sock *sk))
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	bh_lock_sock(sk);
	if (sock_owned_by_user(sk)) {
		/* The reference of the timer passes to the deferred work. */
		if (!test_and_set_bit(deferred_bit, &tp->deferred))
			sock_hold(sk);
	} else {
		work(sk);
	}
	bh_unlock_sock(sk);
	sock_put(sk);
}

static void toytcp_rtx_timer(struct timer_list *t)
{
	struct toytcp_sock *tp = timer_container_of(tp, t, rtx_timer);

	toytcp_timer_fire((struct sock *)tp, TOYTCP_RTX_DEFERRED,
			  toytcp_rtx_work);
}

static void toytcp_delack_timer(struct timer_list *t)
{
	struct toytcp_sock *tp = timer_container_of(tp, t, delack_timer);

	toytcp_timer_fire((struct sock *)tp, TOYTCP_DELACK_DEFERRED,
			  toytcp_delack_work);
}

static void toytcp_keepalive_timer(struct timer_list *t)
{
	struct toytcp_sock *tp = timer_container_of(tp, t, keepalive_timer);

	toytcp_timer_fire((struct sock *)tp, TOYTCP_KEEPALIVE_DEFERRED,
			  toytcp_keepalive_work);
}

/**
 * toytcp_release_cb - run timer work deferred while the user owned @sk
 * @sk: socket; release_sock() calls this with the socket still owned and
 *	its spinlock held, so nothing else runs toytcp code on it
 */
void toytcp_release_cb(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	if (!READ_ONCE(tp->deferred))
		return;
	if (test_and_clear_bit(TOYTCP_RTX_DEFERRED, &tp->deferred)) {
		toytcp_rtx_work(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(TOYTCP_DELACK_DEFERRED, &tp->deferred)) {
		toytcp_delack_work(sk);
		__sock_put(sk);
	}
	if (test_and_clear_bit(TOYTCP_KEEPALIVE_DEFERRED, &tp->deferred)) {
		toytcp_keepalive_work(sk);
		__sock_put(sk);
	}
}

void toytcp_init_timers(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	timer_setup(&tp->rtx_timer, toytcp_rtx_timer, 0);
	timer_setup(&tp->delack_timer, toytcp_delack_timer, 0);
	timer_setup(&tp->keepalive_timer, toytcp_keepalive_timer, 0);
	tp->timer_kind = TOYTCP_TIMER_NONE;
	tp->deferred = 0;
}

/*
 * Stop every timer; each one that was pending drops its reference.  A
 * callback already running finds the socket CLOSED and does nothing.
 */
void toytcp_stop_timers(struct sock *sk)
{
	struct toytcp_sock *tp = toytcp_sk(sk);

	tp->timer_kind = TOYTCP_TIMER_NONE;
	sk_stop_timer(sk, &tp->rtx_timer);
	sk_stop_timer(sk, &tp->delack_timer);
	sk_stop_timer(sk, &tp->keepalive_timer);
}
