// SPDX-License-Identifier: GPL-2.0
/*
 * Per network namespace tunables: /proc/sys/net/toytcp/ (sysctl net.toytcp.*).
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
#include <net/net_namespace.h>

#include "toytcp.h"

static int ms_max = 600 * 1000;		/* 10 minutes */
static int secs_max = 24 * 3600;	/* a day */
static int count_max = 255;
static int buf_min = SOCK_MIN_RCVBUF;
static int buf_max = 64 * 1024 * 1024;

void toytcp_sysctl_defaults(struct toytcp_sysctl *c)
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

/**
 * toytcp_sysctl_register - give @net its net.toytcp table over @cfg
 * @net: the namespace
 * @cfg: its tunables, already set to the defaults
 *
 * Return: the header to unregister, or NULL if out of memory.
 */
struct ctl_table_header *toytcp_sysctl_register(struct net *net,
						struct toytcp_sysctl *cfg)
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

void toytcp_sysctl_unregister(struct ctl_table_header *hdr)
{
	const struct ctl_table *t = hdr->ctl_table_arg;

	unregister_net_sysctl_table(hdr);
	kfree(t);
}
