// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-check: a module whose init hits WARN_ON(1), to prove that
 * the VM harness fails a run with a kernel warning in it.  Built into
 * build/selftests/vm/, never loaded by anything but selfcheck_warn.sh.
 */
#include <linux/module.h>
#include <linux/bug.h>

static int __init toytcp_vm_warn_init(void)
{
	WARN_ON(1);
	return -EINVAL;
}
module_init(toytcp_vm_warn_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("toytcp VM harness self-check: WARN_ON(1) at load");
