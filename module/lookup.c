// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp lookup tables and port allocator.
 *
 * Three tables, shared by all network namespaces (every entry is matched on
 * its netns too), none of them TCP's:
 *
 *   port table	  every socket that owns a local port: bound, listening,
 *		  connected, accepted children and TIME-WAIT.  Keyed by
 *		  (netns, port); linked through sk->sk_bind_node.  It holds no
 *		  reference: a socket leaves it (toytcp_put_port()) before it
 *		  is freed.
 *   listen table sockets in LISTEN, keyed by (netns, port); linked through
 *		  sk->sk_node and holding a reference.
 *   conn table	  sockets with a 4-tuple (SYN-SENT .. TIME-WAIT), keyed by
 *		  (netns, 4-tuple); linked through sk->sk_node (a socket is
 *		  never listening and connected at once) with a reference.
 *
 * Locking: each bucket has a spinlock, taken with spin_lock_bh() from
 * process context and spin_lock() from softirq.  Lookups from the receive
 * path take a reference under the bucket lock, so the socket cannot be freed
 * under them; there is no RCU walk.  The bucket lock nests inside the socket
 * lock, never the other way round.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jhash.h>
#include <linux/mm.h>
#include <linux/random.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <net/sock.h>

#include "toytcp.h"

#define TOYTCP_PORT_HASH_SIZE	1024
#define TOYTCP_CONN_HASH_SIZE	4096

struct toytcp_bucket {
	spinlock_t		lock;	/* protects chain */
	struct hlist_head	chain;
};

static struct toytcp_bucket *toytcp_port_table;
static struct toytcp_bucket *toytcp_listen_table;
static struct toytcp_bucket *toytcp_conn_table;
static u32 toytcp_conn_seed __read_mostly;

static struct toytcp_bucket *toytcp_port_bucket(struct toytcp_bucket *table,
						const struct net *net,
						u16 port)
{
	u32 h = jhash_1word(port, net_hash_mix(net));

	return &table[h & (TOYTCP_PORT_HASH_SIZE - 1)];
}

static struct toytcp_bucket *toytcp_conn_bucket(const struct net *net,
						__be32 laddr, u16 lport,
						__be32 raddr, __be16 rport)
{
	u32 h = jhash_3words((__force u32)laddr, (__force u32)raddr,
			     ((u32)lport << 16) | (__force u16)rport,
			     toytcp_conn_seed + net_hash_mix(net));

	return &toytcp_conn_table[h & (TOYTCP_CONN_HASH_SIZE - 1)];
}

/*
 * May @sk take the port that @other holds?  Linux TCP's rule: sockets bound
 * to different devices never clash; otherwise overlapping addresses (equal,
 * or either one the wildcard) clash unless both set SO_REUSEADDR and @other
 * is not listening.  @listening: @sk is about to listen, so it also clashes
 * with a listener regardless of SO_REUSEADDR.
 */
static bool toytcp_port_clash(const struct sock *sk, const struct sock *other,
			      bool listening)
{
	__be32 a = inet_sk(sk)->inet_rcv_saddr;
	__be32 b = inet_sk(other)->inet_rcv_saddr;

	if (sk->sk_bound_dev_if && other->sk_bound_dev_if &&
	    sk->sk_bound_dev_if != other->sk_bound_dev_if)
		return false;
	if (a && b && a != b)
		return false;
	if (listening)
		return other->sk_state == TCP_LISTEN;
	return !(sk->sk_reuse && other->sk_reuse &&
		 other->sk_state != TCP_LISTEN);
}

/* Caller holds the bucket lock. */
static bool toytcp_port_in_use(struct toytcp_bucket *b, const struct sock *sk,
			       u16 port, bool any_user)
{
	const struct net *net = sock_net(sk);
	struct sock *other;

	lockdep_assert_held(&b->lock);
	hlist_for_each_entry(other, &b->chain, sk_bind_node) {
		if (other == sk || !net_eq(sock_net(other), net) ||
		    inet_sk(other)->inet_num != port)
			continue;
		if (any_user || toytcp_port_clash(sk, other, false))
			return true;
	}
	return false;
}

/* Caller holds the bucket lock; @sk owns no port yet. */
static void toytcp_port_add(struct toytcp_bucket *b, struct sock *sk, u16 port)
{
	lockdep_assert_held(&b->lock);
	inet_sk(sk)->inet_num = port;
	hlist_add_head(&sk->sk_bind_node, &b->chain);
}

static int toytcp_get_ephemeral_port(struct sock *sk)
{
	struct net *net = sock_net(sk);
	int low, high, remaining, i;
	u32 offset;

	inet_get_local_port_range(net, &low, &high);
	remaining = high - low + 1;
	if (remaining <= 0)
		return -EADDRINUSE;
	offset = get_random_u32_below(remaining);

	/*
	 * A port nobody in this netns holds, so that a connect() with it
	 * never meets a 4-tuple clash.  Linear probing from a random start:
	 * RFC 6056's "simple port randomization".
	 */
	for (i = 0; i < remaining; i++) {
		u16 port = low + (offset + i) % remaining;
		struct toytcp_bucket *b;

		if (inet_is_local_reserved_port(net, port))
			continue;
		b = toytcp_port_bucket(toytcp_port_table, net, port);
		spin_lock_bh(&b->lock);
		if (!toytcp_port_in_use(b, sk, port, true)) {
			toytcp_port_add(b, sk, port);
			spin_unlock_bh(&b->lock);
			return 0;
		}
		spin_unlock_bh(&b->lock);
		cond_resched();
	}
	return -EADDRINUSE;
}

/**
 * toytcp_get_port - give @sk local port @snum, or an ephemeral one if 0
 * @sk: socket, locked by the caller, owning no port yet
 * @snum: port in host order, 0 to pick one
 *
 * This is struct proto's get_port, called by inet_bind() (which has already
 * checked the address and the privileged-port rule) and by connect() for an
 * unbound socket.  Return: 0, or -EADDRINUSE (inet_bind's errno for it).
 */
int toytcp_get_port(struct sock *sk, unsigned short snum)
{
	struct toytcp_bucket *b;
	int err = 0;

	sock_owned_by_me(sk);
	if (WARN_ON_ONCE(inet_sk(sk)->inet_num))
		return -EINVAL;
	if (!snum)
		return toytcp_get_ephemeral_port(sk);

	b = toytcp_port_bucket(toytcp_port_table, sock_net(sk), snum);
	spin_lock_bh(&b->lock);
	if (toytcp_port_in_use(b, sk, snum, false))
		err = -EADDRINUSE;
	else
		toytcp_port_add(b, sk, snum);
	spin_unlock_bh(&b->lock);
	return err;
}

/**
 * toytcp_port_can_listen - may @sk listen on the port it holds?
 * @sk: socket owning a port, locked by the caller
 *
 * Two sockets may share a port through SO_REUSEADDR, but only one of them
 * may listen on an overlapping address (Linux TCP's listen() rule).
 */
bool toytcp_port_can_listen(struct sock *sk)
{
	u16 port = inet_sk(sk)->inet_num;
	struct toytcp_bucket *b;
	struct sock *other;
	bool ok = true;

	sock_owned_by_me(sk);
	b = toytcp_port_bucket(toytcp_port_table, sock_net(sk), port);
	spin_lock_bh(&b->lock);
	hlist_for_each_entry(other, &b->chain, sk_bind_node) {
		if (other != sk && net_eq(sock_net(other), sock_net(sk)) &&
		    inet_sk(other)->inet_num == port &&
		    toytcp_port_clash(sk, other, true)) {
			ok = false;
			break;
		}
	}
	spin_unlock_bh(&b->lock);
	return ok;
}

/**
 * toytcp_inherit_port - an accepted child shares its listener's port
 * @child: new socket, not yet visible to anyone else
 * @listener: the listening socket whose port it takes
 */
void toytcp_inherit_port(struct sock *child, const struct sock *listener)
{
	u16 port = inet_sk(listener)->inet_num;
	struct toytcp_bucket *b;

	b = toytcp_port_bucket(toytcp_port_table, sock_net(child), port);
	spin_lock_bh(&b->lock);
	toytcp_port_add(b, child, port);
	spin_unlock_bh(&b->lock);
}

/**
 * toytcp_put_port - release the local port @sk holds, if any
 * @sk: socket; its port number is kept in inet_num for getsockname()
 *	unless it is cleared by the caller
 */
void toytcp_put_port(struct sock *sk)
{
	struct toytcp_bucket *b;

	if (hlist_unhashed(&sk->sk_bind_node))
		return;
	b = toytcp_port_bucket(toytcp_port_table, sock_net(sk),
			       inet_sk(sk)->inet_num);
	spin_lock_bh(&b->lock);
	hlist_del_init(&sk->sk_bind_node);
	spin_unlock_bh(&b->lock);
}

static struct toytcp_bucket *toytcp_sk_bucket(const struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);

	if (sk->sk_state == TCP_LISTEN)
		return toytcp_port_bucket(toytcp_listen_table, sock_net(sk),
					  inet->inet_num);
	return toytcp_conn_bucket(sock_net(sk), inet->inet_rcv_saddr,
				  inet->inet_num, inet->inet_daddr,
				  inet->inet_dport);
}

/*
 * Is the 4-tuple of @sk already taken by another connection?  Caller holds
 * the conn bucket lock.
 */
static bool toytcp_conn_taken(struct toytcp_bucket *b, const struct sock *sk)
{
	const struct inet_sock *inet = inet_sk(sk);
	struct sock *other;

	lockdep_assert_held(&b->lock);
	sk_for_each(other, &b->chain) {
		const struct inet_sock *o = inet_sk(other);

		if (net_eq(sock_net(other), sock_net(sk)) &&
		    o->inet_num == inet->inet_num &&
		    o->inet_rcv_saddr == inet->inet_rcv_saddr &&
		    o->inet_daddr == inet->inet_daddr &&
		    o->inet_dport == inet->inet_dport)
			return true;
	}
	return false;
}

/**
 * toytcp_hash - make @sk findable by incoming segments
 * @sk: socket in LISTEN (listen table) or with a full 4-tuple (conn table)
 *
 * struct proto's hash.  Return: 0, or -EADDRNOTAVAIL when another
 * connection already uses the same 4-tuple.
 */
int toytcp_hash(struct sock *sk)
{
	struct toytcp_bucket *b = toytcp_sk_bucket(sk);
	int err = 0;

	spin_lock_bh(&b->lock);
	if (sk->sk_state != TCP_LISTEN && toytcp_conn_taken(b, sk))
		err = -EADDRNOTAVAIL;
	else
		sk_add_node(sk, &b->chain);
	spin_unlock_bh(&b->lock);
	return err;
}

/**
 * toytcp_unhash - make @sk unreachable for incoming segments
 * @sk: socket; must still hold the state and 4-tuple it was hashed with
 */
void toytcp_unhash(struct sock *sk)
{
	struct toytcp_bucket *b;

	if (sk_unhashed(sk))
		return;
	b = toytcp_sk_bucket(sk);
	spin_lock_bh(&b->lock);
	sk_del_node_init(sk);
	spin_unlock_bh(&b->lock);
}

/**
 * toytcp_lookup_conn - find the connection a segment belongs to
 * @net: netns the segment arrived in
 * @laddr: local (destination) address
 * @lport: local port, network order
 * @raddr: remote (source) address
 * @rport: remote port, network order
 *
 * Called from softirq.  Return: the socket with a reference held, or NULL.
 */
struct sock *toytcp_lookup_conn(struct net *net, __be32 laddr, __be16 lport,
				__be32 raddr, __be16 rport)
{
	u16 port = ntohs(lport);
	struct toytcp_bucket *b;
	struct sock *sk, *found = NULL;

	b = toytcp_conn_bucket(net, laddr, port, raddr, rport);
	spin_lock(&b->lock);
	sk_for_each(sk, &b->chain) {
		const struct inet_sock *inet = inet_sk(sk);

		if (net_eq(sock_net(sk), net) && inet->inet_num == port &&
		    inet->inet_rcv_saddr == laddr &&
		    inet->inet_daddr == raddr && inet->inet_dport == rport) {
			sock_hold(sk);
			found = sk;
			break;
		}
	}
	spin_unlock(&b->lock);
	return found;
}

/**
 * toytcp_lookup_listener - find the listener for a new connection
 * @net: netns the segment arrived in
 * @laddr: local (destination) address
 * @lport: local port, network order
 * @dif: index of the device it arrived on
 *
 * A listener bound to @laddr beats one bound to the wildcard.  Called from
 * softirq.  Return: the socket with a reference held, or NULL.
 */
struct sock *toytcp_lookup_listener(struct net *net, __be32 laddr,
				    __be16 lport, int dif)
{
	u16 port = ntohs(lport);
	struct sock *sk, *best = NULL;
	struct toytcp_bucket *b;
	int best_score = 0;

	b = toytcp_port_bucket(toytcp_listen_table, net, port);
	spin_lock(&b->lock);
	sk_for_each(sk, &b->chain) {
		const struct inet_sock *inet = inet_sk(sk);
		int score = 1;

		if (!net_eq(sock_net(sk), net) || inet->inet_num != port)
			continue;
		if (inet->inet_rcv_saddr) {
			if (inet->inet_rcv_saddr != laddr)
				continue;
			score += 2;
		}
		if (sk->sk_bound_dev_if) {
			if (sk->sk_bound_dev_if != dif)
				continue;
			score += 1;
		}
		if (score > best_score) {
			best = sk;
			best_score = score;
		}
	}
	if (best)
		sock_hold(best);
	spin_unlock(&b->lock);
	return best;
}

/* First socket of @net in @table, with a reference held, or NULL. */
static struct sock *toytcp_first_in(struct toytcp_bucket *table,
				    unsigned int size, struct net *net)
{
	unsigned int i;

	for (i = 0; i < size; i++) {
		struct toytcp_bucket *b = &table[i];
		struct sock *sk;

		if (hlist_empty(&b->chain))
			continue;
		spin_lock_bh(&b->lock);
		sk_for_each(sk, &b->chain) {
			if (net_eq(sock_net(sk), net)) {
				sock_hold(sk);
				spin_unlock_bh(&b->lock);
				return sk;
			}
		}
		spin_unlock_bh(&b->lock);
	}
	return NULL;
}

/**
 * toytcp_lookup_any - any hashed socket of @net, for namespace teardown
 * @net: the namespace
 *
 * Return: a socket with a reference held, or NULL when there is none.
 */
struct sock *toytcp_lookup_any(struct net *net)
{
	return toytcp_first_in(toytcp_conn_table, TOYTCP_CONN_HASH_SIZE, net) ? :
	       toytcp_first_in(toytcp_listen_table, TOYTCP_PORT_HASH_SIZE, net);
}

static void toytcp_walk_table(struct toytcp_bucket *table, unsigned int size,
			      struct net *net, toytcp_sock_fn fn, void *arg)
{
	unsigned int i;

	for (i = 0; i < size; i++) {
		struct toytcp_bucket *b = &table[i];
		struct sock *sk;

		if (hlist_empty(&b->chain))
			continue;
		spin_lock_bh(&b->lock);
		sk_for_each(sk, &b->chain)
			if (net_eq(sock_net(sk), net))
				fn(sk, arg);
		spin_unlock_bh(&b->lock);
	}
}

/**
 * toytcp_walk_socks - call @fn for every socket of @net in the listen
 *	and connection tables
 * @net: the netns
 * @fn: callback, run under the bucket lock with BHs off: it must not sleep
 *	or take a socket lock
 * @arg: passed to @fn
 */
void toytcp_walk_socks(struct net *net, toytcp_sock_fn fn, void *arg)
{
	toytcp_walk_table(toytcp_listen_table, TOYTCP_PORT_HASH_SIZE, net, fn,
			  arg);
	toytcp_walk_table(toytcp_conn_table, TOYTCP_CONN_HASH_SIZE, net, fn,
			  arg);
}

static struct toytcp_bucket *toytcp_table_alloc(unsigned int size)
{
	struct toytcp_bucket *t;
	unsigned int i;

	t = kvmalloc_array(size, sizeof(*t), GFP_KERNEL);
	if (!t)
		return NULL;
	for (i = 0; i < size; i++) {
		spin_lock_init(&t[i].lock);
		INIT_HLIST_HEAD(&t[i].chain);
	}
	return t;
}

int toytcp_lookup_init(void)
{
	toytcp_conn_seed = get_random_u32();
	toytcp_port_table = toytcp_table_alloc(TOYTCP_PORT_HASH_SIZE);
	toytcp_listen_table = toytcp_table_alloc(TOYTCP_PORT_HASH_SIZE);
	toytcp_conn_table = toytcp_table_alloc(TOYTCP_CONN_HASH_SIZE);
	if (!toytcp_port_table || !toytcp_listen_table || !toytcp_conn_table) {
		toytcp_lookup_exit();
		return -ENOMEM;
	}
	return 0;
}

void toytcp_lookup_exit(void)
{
	kvfree(toytcp_conn_table);
	kvfree(toytcp_listen_table);
	kvfree(toytcp_port_table);
	toytcp_conn_table = NULL;
	toytcp_listen_table = NULL;
	toytcp_port_table = NULL;
}
