/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every difference between the kernels toytcp builds for lives here, so that
 * the rest of the module is written against one API: Debian 12's 6.1 first,
 * then 6.12 and newer.  Each entry names the kernel that changed the API.
 */
#ifndef _TOYTCP_COMPAT_H
#define _TOYTCP_COMPAT_H

#include <linux/version.h>
#include <linux/timer.h>

/* 6.2 renamed del_timer*() to timer_delete*(); 6.15 dropped the old names. */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 2, 0)
#define timer_delete_sync(t)	del_timer_sync(t)
#define timer_delete(t)		del_timer(t)
#endif

/* 6.16 renamed from_timer() to timer_container_of(). */
#ifndef timer_container_of
#define timer_container_of(var, t, field)	from_timer(var, t, field)
#endif

#endif /* _TOYTCP_COMPAT_H */
