/* SPDX-License-Identifier: GPL-2.0 */
/*
 * toytcp: a teaching TCP, registered as its own IPv4 transport.
 *
 * Map of the module (one job per file), top of the call graph first: a file
 * calls the ones below it, not those above.
 *   main.c	module init/exit, registration
 *   socket.c	socket operations (struct proto_ops and struct proto)
 *   listen.c	listeners: embryonic children, accept queue, accept()
 *   proc.c	/proc/net/toytcp
 *   input.c	segment input and the state machine (RFC 9293 3.10.7)
 *   output.c	segment output, the retransmission queue, the receive window,
 *		RST replies
 *   timer.c	every timer: RTO, persist, delayed ACK, keepalive, TIME-WAIT
 *   sack.c	SACK (RFC 2018, RFC 6675): blocks sent, scoreboard, pipe
 *   options.c	TCP option parsing
 *   syncookie.c	SYN cookies: a full listener answers without state
 *   isn.c	initial sequence numbers (RFC 6528)
 *   lookup.c	the port, listener and connection tables; port allocator
 *   state.c	toytcp_set_state(): the single place a state changes
 *   trace.c	tracepoints (trace.h): states, segments, retransmits, resets
 *   ctrl.c	per network namespace state: control socket, counters,
 *		net.toytcp.* tunables
 *
 * The one way up: the end of a connection, toytcp_done() and toytcp_abort()
 * (socket.c), is reached from input.c, listen.c and timer.c, as tcp_done()
 * is in Linux TCP.
 *
 * States use the kernel's TCP numbering (TCP_ESTABLISHED ... TCP_CLOSING from
 * <net/tcp_states.h>) so that the generic inet socket helpers (inet_bind,
 * inet_getname, inet_shutdown, inet_stream_connect, inet_accept) see the
 * states they expect.  Only toytcp_set_state() writes sk->sk_state.
 */
#ifndef _TOYTCP_H
#define _TOYTCP_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/netdevice.h>
#include <net/inet_sock.h>
#include <net/tcp_states.h>
#include <net/tcp.h>

#include "compat.h"
#include "uapi/toytcp.h"

/* Headroom for a segment: link layer, IP and TCP headers with options. */
#define TOYTCP_MAX_HEADER	(MAX_HEADER + 128)

/* The IP protocol number in use (module parameter "ipproto"). */
extern int toytcp_ipproto;

extern struct proto toytcp_prot;
extern const struct proto_ops toytcp_stream_ops;

/*
 * Timer and protocol constants.  Those a user tunes are per-namespace
 * sysctls (ctrl.c, Linux TCP's defaults); these are the fixed ones.
 */
#define TOYTCP_RTO_INIT		(1 * HZ)	/* RFC 6298 2.1 */
#define TOYTCP_DELACK_MIN	(HZ / 25)	/* 40 ms */
#define TOYTCP_ORPHAN_RETRIES	8		/* tcp_orphan_retries's 0 */
#define TOYTCP_DEFAULT_MSS	536		/* RFC 9293 3.7.1 */
#define TOYTCP_MAX_WSCALE	14
#define TOYTCP_INIT_CWND	10		/* segments, RFC 6928 */

/* Per-segment state in skb->cb, for queued and received segments. */
struct toytcp_skb_cb {
	u32	seq;		/* first sequence number */
	u32	end_seq;	/* seq + data length + SYN + FIN */
	u32	ack_seq;	/* received: acknowledgment number */
	u8	flags;		/* TCPHDR_* */
	u8	sstate;		/* queued: TOYTCP_SKB_* below */
	u8	charged;	/* queued: truesize is charged to the socket */
	u16	window;		/* received: raw window field */
	u32	wire_len;	/* received: SEG.LEN as sent, SYN data included */
	unsigned long when;	/* queued: jiffies when last sent */
};

#define TOYTCP_SKB_CB(skb)	((struct toytcp_skb_cb *)&((skb)->cb[0]))

/* toytcp_skb_cb.sstate of a queued segment */
#define TOYTCP_SKB_RETRANS	0x01	/* sent more than once (Karn's rule) */
#define TOYTCP_SKB_SACKED	0x02	/* the peer holds it (SACK) */
#define TOYTCP_SKB_RECOV_RETX	0x04	/* sent again in this SACK recovery */

/* Bits of toytcp_sock.deferred: timer work waiting for release_sock(). */
enum {
	TOYTCP_RTX_DEFERRED,
	TOYTCP_DELACK_DEFERRED,
	TOYTCP_KEEPALIVE_DEFERRED,
};

/* toytcp_sock.in_recovery */
enum {
	TOYTCP_RECOV_NONE,
	TOYTCP_RECOV_FAST,	/* fast recovery: NewReno, or SACK's RFC 6675 */
	TOYTCP_RECOV_RTO,	/* after a timeout: NewReno up to recover */
};

/* What the retransmission timer is armed for. */
enum {
	TOYTCP_TIMER_NONE,
	TOYTCP_TIMER_RTX,	/* unacknowledged data, SYN or FIN */
	TOYTCP_TIMER_PERSIST,	/* zero window probe */
	TOYTCP_TIMER_RETRY,	/* a send that failed, with nothing in flight */
};

/* What the user set with setsockopt(SOL_TCP); it outlives a connection. */
struct toytcp_user_opts {
	u32	user_timeout;		/* TCP_USER_TIMEOUT in ms, 0: none */
	u32	keepalive_time;		/* TCP_KEEPIDLE in jiffies, 0: default */
	u32	keepalive_intvl;	/* TCP_KEEPINTVL in jiffies, 0: default */
	u16	user_mss;		/* TCP_MAXSEG, 0: unset */
	u8	keepalive_probes;	/* TCP_KEEPCNT, 0: default */
	u8	syn_retries;		/* TCP_SYNCNT, 0: default */
	u8	nodelay:1,		/* TCP_NODELAY */
		cork:1;			/* TCP_CORK */
};

/*
 * struct toytcp_sock - a toytcp socket
 *
 * Unless a field says otherwise it is protected by the socket lock: process
 * context holds it with lock_sock() (sock_owned_by_me()), softirq and timers
 * with bh_lock_sock() and only when the socket is not owned by a user.
 * Sequence variables are named as in RFC 9293 section 3.3.1.
 */
struct toytcp_sock {
	struct inet_sock	inet;	/* must be first: inet_sk() */

	/* send sequence space */
	u32	iss;
	u32	snd_una;	/* oldest unacknowledged */
	u32	snd_nxt;	/* next to send */
	u32	snd_wnd;	/* peer's window, scaled */
	u32	snd_wl1;	/* seq of the segment that last updated snd_wnd */
	u32	snd_wl2;	/* ack of that segment */
	u32	write_seq;	/* end of what the user queued (+ FIN) */
	u32	max_window;	/* largest window the peer offered */
	struct sk_buff *send_head;	/* first queued skb not yet sent */

	/* receive sequence space */
	u32	irs;
	u32	rcv_nxt;	/* next expected */
	u32	rcv_wnd;	/* window last advertised */
	u32	rcv_wup;	/* rcv_nxt when rcv_wnd was advertised */
	u32	copied_seq;	/* next byte the user reads */
	struct sk_buff_head ooo_queue;	/* out-of-order segments by seq */
	u32	ooo_last_seq;	/* seq of the last segment put on ooo_queue */
	u16	rcv_ratio;	/* data bytes per 1024 bytes of skb truesize */

	/* options */
	u16	mss;		/* send MSS: peer's MSS, route, TCP_MAXSEG */
	u16	adv_mss;	/* MSS we announce */
	u8	snd_wscale;	/* peer's window shift */
	u8	rcv_wscale;	/* our window shift */
	u8	wscale_ok:1,	/* both sides sent the window scale option */
		sack_ok:1,	/* both sides sent SACK-permitted (RFC 2018) */
		fin_sent:1,	/* our FIN has been queued */
		quickack:1,	/* next ACK is not delayed */
		pingpong:1;	/* interactive: our data follows the peer's */

	/* round trip and retransmission, RFC 6298 */
	u32	srtt_us;	/* smoothed RTT << 3, 0 before the first sample */
	u32	rttvar_us;	/* RTT variation << 2 */
	u32	rto;		/* jiffies */
	u32	rtt_seq;	/* segment being timed ends here */
	u32	rtt_start;	/* jiffies when it was sent; 0: none timed */
	u8	backoff;	/* RTO doublings since the last new ACK */
	u8	retransmits;	/* retransmissions of the head segment */
	u8	timer_kind;	/* TOYTCP_TIMER_* of rtx_timer */
	u8	probes_out;	/* zero window or keepalive probes unanswered */
	u8	dupacks;
	unsigned long rtx_start;	/* jiffies of the first retransmission */
	u32	total_retrans;
	unsigned long last_challenge;	/* jiffies of the last challenge ACK */

	/* congestion control: Reno, RFC 5681 */
	u32	cwnd;		/* bytes */
	u32	ssthresh;	/* bytes */
	u32	cwnd_acked;	/* bytes acknowledged toward the next cwnd step */
	u32	recover;	/* NewReno: snd_nxt when recovery began */
	u8	in_recovery;	/* TOYTCP_RECOV_* */

	/* SACK scoreboard of the write queue (sack.c) */
	u32	sacked_out;	/* bytes marked TOYTCP_SKB_SACKED */
	u32	highest_sack;	/* end_seq of the highest SACKed segment */
	u32	lost_bound;	/* segments below it are lost (sack.c) */

	/* delayed ACK */
	u8	ack_pending;	/* an ACK is owed */
	u16	unacked_segs;	/* full-sized segments received since our ACK */

	/* keepalive */
	unsigned long rcv_tstamp;	/* jiffies of the last segment in */

	/*
	 * A listener's queues of children (listen.c).  lq_lock protects the
	 * lists, the counts, lq_closed and, in every child, lq_node.  Always
	 * taken with spin_lock_bh(): the listener's segments are processed
	 * in softirq and also from its backlog in process context.
	 */
	spinlock_t		lq_lock;
	struct list_head	lq_embryos;	/* children in SYN-RECEIVED */
	struct list_head	lq_ready;	/* established, not accepted */
	unsigned int		lq_n_embryos;
	unsigned int		lq_n_ready;
	bool			lq_closed;
	/*
	 * jiffies when this listener last answered with a SYN cookie; an ACK
	 * is checked as a cookie only for a while after.  Listener's socket
	 * lock.
	 */
	unsigned long		cookie_stamp;

	/* A child before accept(): its listener (a reference) and queue link. */
	struct sock		*listener;
	struct list_head	lq_node;
	bool			lq_on_ready;	/* lq_node is on lq_ready */
	bool			released;	/* toytcp_done() freed it all */

	/*
	 * Kept when a connection is reset for reuse (toytcp_reset_conn()):
	 * everything above this point is per connection.
	 */
	struct toytcp_user_opts opt;

	/* timers, see timer.c */
	struct timer_list rtx_timer;
	struct timer_list delack_timer;
	struct timer_list keepalive_timer; /* also FIN-WAIT-2 and TIME-WAIT */
	unsigned long deferred;		/* TOYTCP_*_DEFERRED, atomic bitops */
};

static inline struct toytcp_sock *toytcp_sk(const struct sock *sk)
{
	return (struct toytcp_sock *)sk;
}

/* Sequence number comparisons, safe across 2^32 wraparound. */
static inline bool toytcp_before(u32 a, u32 b)
{
	return (s32)(a - b) < 0;
}

/* Remaining space of the window we last advertised. */
static inline u32 toytcp_cur_rcv_wnd(const struct toytcp_sock *tp)
{
	s32 w = tp->rcv_wup + tp->rcv_wnd - tp->rcv_nxt;

	return w > 0 ? w : 0;
}

#define toytcp_after(a, b)	toytcp_before(b, a)

/* a <= b <= c in sequence space */
static inline bool toytcp_between(u32 a, u32 b, u32 c)
{
	return c - a >= b - a;
}

/* state.c */
void toytcp_set_state(struct sock *sk, int state);

/* lookup.c */
typedef void (*toytcp_sock_fn)(struct sock *sk, void *arg);
int toytcp_get_port(struct sock *sk, unsigned short snum);
bool toytcp_port_can_listen(struct sock *sk);
void toytcp_inherit_port(struct sock *child, const struct sock *listener);
void toytcp_put_port(struct sock *sk);
int toytcp_hash(struct sock *sk);
void toytcp_unhash(struct sock *sk);
struct sock *toytcp_lookup_conn(struct net *net, __be32 laddr, __be16 lport,
				__be32 raddr, __be16 rport);
struct sock *toytcp_lookup_listener(struct net *net, __be32 laddr,
				    __be16 lport, int dif);
struct sock *toytcp_lookup_any(struct net *net);
void toytcp_walk_socks(struct net *net, toytcp_sock_fn fn, void *arg);

/* proc.c */
int toytcp_proc_init_net(struct net *net);
void toytcp_proc_exit_net(struct net *net);
int toytcp_lookup_init(void);
void toytcp_lookup_exit(void);

/* socket.c */
int toytcp_socket_init(void);
void toytcp_socket_exit(void);
void toytcp_done(struct sock *sk);
void toytcp_abort(struct sock *sk, int err);
void toytcp_init_private(struct sock *sk);
void toytcp_net_purge(struct net *net);

/* input.c */
int toytcp_v4_rcv(struct sk_buff *skb);
int toytcp_do_rcv(struct sock *sk, struct sk_buff *skb);

/* output.c */
int toytcp_send_syn(struct sock *sk, gfp_t gfp);
void toytcp_send_ack(struct sock *sk);
void toytcp_send_fin(struct sock *sk);
void toytcp_send_active_reset(struct sock *sk, gfp_t gfp);
void toytcp_send_reset_reply(struct net *net, struct sk_buff *skb);
void toytcp_send_cookie_synack(struct sock *sk, struct sk_buff *in_skb,
			       u32 cookie, int peer_wscale);
struct sk_buff *toytcp_entail(struct sock *sk, gfp_t gfp, u8 flags);
void toytcp_push(struct sock *sk);
int toytcp_retransmit_head(struct sock *sk);
void toytcp_send_probe(struct sock *sk);
void toytcp_free_queued(struct sock *sk, struct sk_buff *skb);
void toytcp_write_space(struct sock *sk);
void toytcp_purge_write_queue(struct sock *sk);
u16 toytcp_adv_mss(struct sock *sk);
void toytcp_update_mss(struct sock *sk, u16 peer_mss);
u8 toytcp_choose_wscale(const struct sock *sk);
u32 toytcp_rcv_window(struct sock *sk);
u16 toytcp_syn_window(struct sock *sk);

/* options.c */
struct toytcp_options {
	u16	mss;		/* 0: not present */
	s8	wscale;		/* -1: not present */
	u8	sack_ok;	/* SYN: SACK-permitted present */
	u8	sack_off;	/* not SYN: offset of the SACK option from th, 0: none */
	u8	num_sacks;	/* its number of blocks */
};

int toytcp_parse_options(const struct tcphdr *th, struct toytcp_options *opt);

/* sack.c */
unsigned int toytcp_sack_write(struct sock *sk, __be32 *ptr, unsigned int room);
void toytcp_sack_update(struct sock *sk, const struct tcphdr *th,
			const struct toytcp_options *opt);
void toytcp_sack_unlink(struct sock *sk, struct sk_buff *skb);
u32 toytcp_sack_pipe(struct sock *sk);
struct sk_buff *toytcp_sack_next_hole(struct sock *sk);
void toytcp_sack_end_recovery(struct sock *sk);
void toytcp_sack_forget(struct sock *sk);

/* isn.c */
u32 toytcp_isn(__be32 saddr, __be32 daddr, __be16 sport, __be16 dport);

/* syncookie.c: a connection as a cookie sees it (s: ours, d: the peer's) */
struct toytcp_cookie_tuple {
	__be32	saddr;
	__be32	daddr;
	__be16	sport;
	__be16	dport;
	u32	peer_isn;
};

u32 toytcp_cookie_make(const struct toytcp_cookie_tuple *t, u16 peer_mss,
		       int peer_wscale);
bool toytcp_cookie_check(const struct toytcp_cookie_tuple *t, u32 cookie,
			 u16 *mss, int *wscale);

/* listen.c */
int toytcp_listen_start(struct sock *sk, int backlog);
void toytcp_listen_stop(struct sock *sk);
void toytcp_listen_rcv(struct sock *sk, struct sk_buff *skb);
bool toytcp_child_established(struct sock *child);
bool toytcp_child_unlink(struct sock *child);

/* timer.c */
void toytcp_init_timers(struct sock *sk);
void toytcp_stop_timers(struct sock *sk);
void toytcp_timer_data_sent(struct sock *sk);
void toytcp_timer_ack_advanced(struct sock *sk);
void toytcp_timer_window_closed(struct sock *sk);
void toytcp_timer_send_failed(struct sock *sk);
void toytcp_timer_ack_owed(struct sock *sk);
void toytcp_timer_ack_sent(struct sock *sk);
void toytcp_timer_time_wait(struct sock *sk);
void toytcp_timer_fin_wait2(struct sock *sk);
void toytcp_timer_keepalive_reset(struct sock *sk);
void toytcp_release_cb(struct sock *sk);
void toytcp_rtt_sample(struct sock *sk, long rtt_jiffies);

/* ctrl.c: per-netns state; net.toytcp.*, one copy per network namespace */
struct toytcp_sysctl {
	int	rto_min_ms;
	int	rto_max_ms;
	int	delack_ms;
	int	syn_retries;
	int	synack_retries;
	int	retries2;
	int	time_wait_secs;
	int	fin_timeout_secs;
	int	keepalive_time_secs;
	int	keepalive_intvl_secs;
	int	keepalive_probes;
	int	rmem[3];
	int	wmem[3];
	int	syncookies;
};

int toytcp_ctrl_init(void);
void toytcp_ctrl_exit(void);
struct sock *toytcp_ctl_sock(const struct net *net);
const struct toytcp_sysctl *toytcp_cfg(const struct net *net);

/*
 * The tunables of @sk's namespace.  Read each with READ_ONCE(): a sysctl
 * write may race with the reader.
 */
static inline const struct toytcp_sysctl *toytcp_sk_cfg(const struct sock *sk)
{
	return toytcp_cfg(sock_net(sk));
}

static inline unsigned long toytcp_secs(int secs)
{
	return (unsigned long)secs * HZ;
}

#endif /* _TOYTCP_H */
