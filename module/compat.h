/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels toytcp builds for lives here, so that
 * the rest of the module is written against one API: Debian 12's 6.1 first,
 * then 6.12 and newer.  Each entry names the kernel that changed the API and
 * tests for the new name itself, not for a version number.
 */
#ifndef _TOYTCP_COMPAT_H
#define _TOYTCP_COMPAT_H

#include <linux/timer.h>

/* 6.16 renamed from_timer() to timer_container_of(). */
#ifndef timer_container_of
#define timer_container_of(var, t, field)	from_timer(var, t, field)
#endif

/*
 * 6.5 added register_net_sysctl_sz() (the table's size, for tables without
 * the empty end entry); register_net_sysctl() became a macro that takes
 * ARRAY_SIZE() of its argument, which a kmemdup()ed copy cannot give.
 * @n counts the entries before the end entry.
 */
#include <net/net_namespace.h>
#ifdef register_net_sysctl
#define toytcp_register_net_sysctl(net, path, table, n)	\
	register_net_sysctl_sz(net, path, table, n)
#else
#define toytcp_register_net_sysctl(net, path, table, n)	\
	register_net_sysctl(net, path, table)
#endif

#endif /* _TOYTCP_COMPAT_H */
