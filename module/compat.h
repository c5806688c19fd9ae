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

#endif /* _TOYTCP_COMPAT_H */
