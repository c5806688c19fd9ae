// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace state (struct toytcp_net): the control socket that
 * sends replies no socket owns, the counters (mib.h) and the tunables,
 * /proc/sys/net/toytcp/ (sysctl net.toytcp.*).  The bottom of the module:
 * every other file may call it, it calls none of them.
 *
 * Each namespace gets its own copy, set to Linux TCP's defaults when the
 * namespace is made.  A new value applies to what starts after the write
 * (a timer armed later, a socket created later); nothing already running is
 * recomputed.  Times are in milliseconds (rto_*, delack_ms) or seconds
 * (the rest), as the names say.
 *
 *   rto_min_ms, rto_max_ms   bounds of the retransmission timeout
 *   delack_ms                longest an ACK is delayed
 *   syn_retries              SYN retransmissions before connect() fails
 *   synack_retries           SYN-ACK retransmissions of a passive open
 *   retries2                 data retransmissions before ETIMEDOUT
 *   time_wait_secs           TIME-WAIT length (2 MSL)
 *   fin_timeout_secs         how long an orphan waits in FIN-WAIT-2
 *   keepalive_time_secs, keepalive_intvl_secs, keepalive_probes
 *                            keepalive defaults (SO_KEEPALIVE)
 *   rmem, wmem               "min default max" buffer sizes in bytes: the
 *                            default is a new socket's; max bounds the
 *                            window scale chosen
 *   syncookies               1: answer SYNs to a full listener with cookies;
 *                            0: drop them
 */
#include <linux/sysctl.h>
#include <net/inet_common.h>
#include <net/net_namespace.h>
#include <net/netns/generic.h>

#include "mib.h"
#include "toytcp.h"

/*
 * One per network namespace.  Set up before the protocol handler is
 * registered and torn down after it is gone, so that every packet and
 * every socket finds it; constant in between but for cfg, which sysctl
 * writes change (read it with READ_ONCE()).
 */
struct toytcp_net {
	struct sock *ctl_sk;	/* a raw socket: RST replies, cookie SYN-ACKs */
	struct toytcp_mib __percpu *mib;
	struct toytcp_sysctl cfg;	/* net.toytcp.* */
	struct ctl_table_header *sysctl_hdr;
};

static unsigned int toytcp_net_id __read_mostly;

static int ms_max = 600 * 1000;		/* 10 minutes */
static int secs_max = 24 * 3600;	/* a day */
static int count_max = 255;
static int buf_min = SOCK_MIN_RCVBUF;
static int buf_max = 64 * 1024 * 1024;

static void toytcp_sysctl_defaults(struct toytcp_sysctl *c)
{
	c->rto_min_ms = 200;
	c->rto_max_ms = 120 * 1000;
	c->delack_ms = 200;
	c->syn_retries = 6;
	c->synack_retries = 5;
	c->retries2 = 15;
	c->time_wait_secs = 60;
	c->fin_timeout_secs = 60;
	c->keepalive_time_secs = 7200;
	c->keepalive_intvl_secs = 75;
	c->keepalive_probes = 9;
	c->rmem[0] = 4096;
	c->rmem[1] = 256 * 1024;
	c->rmem[2] = 6 * 1024 * 1024;
	c->wmem[0] = 4096;
	c->wmem[1] = 256 * 1024;
	c->wmem[2] = 4 * 1024 * 1024;
	c->syncookies = 1;
}

/* An entry of @n ints at @_field; min and max apply to each. */
#define TOYTCP_CTL_N(_name, _field, _n, _min, _max)			\
	{								\
		.procname	= _name,				\
		.data		= (void *)offsetof(struct toytcp_sysctl, _field), \
		.maxlen		= (_n) * sizeof(int),			\
		.mode		= 0644,					\
		.proc_handler	= proc_dointvec_minmax,			\
		.extra1		= _min,					\
		.extra2		= _max,					\
	}
#define TOYTCP_CTL(_name, _field, _min, _max)				\
	TOYTCP_CTL_N(_name, _field, 1, _min, _max)

/* .data holds offsets into struct toytcp_sysctl until a copy is made. */
static const struct ctl_table toytcp_sysctl_template[] = {
	TOYTCP_CTL("rto_min_ms", rto_min_ms, SYSCTL_ONE, &ms_max),
	TOYTCP_CTL("rto_max_ms", rto_max_ms, SYSCTL_ONE, &ms_max),
	TOYTCP_CTL("delack_ms", delack_ms, SYSCTL_ONE, &ms_max),
	TOYTCP_CTL("syn_retries", syn_retries, SYSCTL_ONE, &count_max),
	TOYTCP_CTL("synack_retries", synack_retries, SYSCTL_ONE, &count_max),
	TOYTCP_CTL("retries2", retries2, SYSCTL_ONE, &count_max),
	TOYTCP_CTL("time_wait_secs", time_wait_secs, SYSCTL_ONE, &secs_max),
	TOYTCP_CTL("fin_timeout_secs", fin_timeout_secs, SYSCTL_ONE, &secs_max),
	TOYTCP_CTL("keepalive_time_secs", keepalive_time_secs, SYSCTL_ONE,
		   &secs_max),
	TOYTCP_CTL("keepalive_intvl_secs", keepalive_intvl_secs, SYSCTL_ONE,
		   &secs_max),
	TOYTCP_CTL("keepalive_probes", keepalive_probes, SYSCTL_ONE, &count_max),
	TOYTCP_CTL_N("rmem", rmem, 3, &buf_min, &buf_max),
	TOYTCP_CTL_N("wmem", wmem, 3, &buf_min, &buf_max),
	TOYTCP_CTL("syncookies", syncookies, SYSCTL_ZERO, SYSCTL_ONE),
	{ }
};

/* Give @net its net.toytcp table over @cfg; NULL if out of memory. */
static struct ctl_table_header *
toytcp_sysctl_register(struct net *net, struct toytcp_sysctl *cfg)
{
	struct ctl_table_header *hdr;
	struct ctl_table *t;
	int i;

	t = kmemdup(toytcp_sysctl_template, sizeof(toytcp_sysctl_template),
		    GFP_KERNEL);
	if (!t)
		return NULL;
	for (i = 0; t[i].procname; i++)
		t[i].data = (char *)cfg + (uintptr_t)t[i].data;
	hdr = toytcp_register_net_sysctl(net, "net/toytcp", t, i);
	if (!hdr)
		kfree(t);
	return hdr;
}

static void toytcp_sysctl_unregister(struct ctl_table_header *hdr)
{
	const struct ctl_table *t = hdr->ctl_table_arg;

	unregister_net_sysctl_table(hdr);
	kfree(t);
}

struct sock *toytcp_ctl_sock(const struct net *net)
{
	struct toytcp_net *tn = net_generic(net, toytcp_net_id);

	return tn->ctl_sk;
}

const struct toytcp_sysctl *toytcp_cfg(const struct net *net)
{
	struct toytcp_net *tn = net_generic(net, toytcp_net_id);

	return &tn->cfg;
}

struct toytcp_mib __percpu *toytcp_net_mib(const struct net *net)
{
	struct toytcp_net *tn = net_generic(net, toytcp_net_id);

	return tn->mib;
}

/* Counters, control socket and tunables of a new namespace. */
static int __net_init toytcp_ctrl_init_net(struct net *net)
{
	struct toytcp_net *tn = net_generic(net, toytcp_net_id);
	int err;

	tn->mib = alloc_percpu(struct toytcp_mib);
	if (!tn->mib)
		return -ENOMEM;
	/* a raw socket of our protocol: IP headers carry toytcp_ipproto */
	err = inet_ctl_sock_create(&tn->ctl_sk, PF_INET, SOCK_RAW,
				   toytcp_ipproto, net);
	if (err)
		goto err_mib;
	toytcp_sysctl_defaults(&tn->cfg);
	tn->sysctl_hdr = toytcp_sysctl_register(net, &tn->cfg);
	if (!tn->sysctl_hdr) {
		err = -ENOMEM;
		goto err_ctl;
	}
	return 0;

err_ctl:
	inet_ctl_sock_destroy(tn->ctl_sk);
err_mib:
	free_percpu(tn->mib);
	return err;
}

static void __net_exit toytcp_ctrl_exit_net(struct net *net)
{
	struct toytcp_net *tn = net_generic(net, toytcp_net_id);

	toytcp_sysctl_unregister(tn->sysctl_hdr);
	inet_ctl_sock_destroy(tn->ctl_sk);
	free_percpu(tn->mib);
}

static struct pernet_operations toytcp_ctrl_net_ops = {
	.init	= toytcp_ctrl_init_net,
	.exit	= toytcp_ctrl_exit_net,
	.id	= &toytcp_net_id,
	.size	= sizeof(struct toytcp_net),
};

/*
 * Registered before, and unregistered after, everything else that is per
 * namespace (main.c): a namespace's sockets are purged while its control
 * socket and counters still exist.
 */
int toytcp_ctrl_init(void)
{
	return register_pernet_subsys(&toytcp_ctrl_net_ops);
}

void toytcp_ctrl_exit(void)
{
	unregister_pernet_subsys(&toytcp_ctrl_net_ops);
}
