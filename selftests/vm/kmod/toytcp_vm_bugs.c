// SPDX-License-Identifier: GPL-2.0
/*
 * Harness self-check for the debug kernel: a module whose init commits
 * three errors that the debug kernel's checkers report without panicking,
 * to prove that the VM harness fails a run with any of their reports:
 *
 *   - eight blocks of 64 bytes allocated and forgotten: kmemleak, at the
 *     scan after the last test ("unreferenced object ...
 *     toytcp_vm_bugs_leak");
 *   - two mutexes taken in both orders: lockdep ("possible circular
 *     locking dependency");
 *   - might_sleep() with preemption off: DEBUG_ATOMIC_SLEEP ("sleeping
 *     function called from invalid context").
 *
 * It stays loaded, so that the reports name its functions.  Built into
 * build/{,debug/}selftests/vm/, loaded only by selfcheck_checkers.sh.
 */
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/preempt.h>
#include <linux/slab.h>

static DEFINE_MUTEX(toytcp_vm_bugs_a);
static DEFINE_MUTEX(toytcp_vm_bugs_b);
static void *toytcp_vm_bugs_ptr;

/*
 * Not __init, and not a tail call into kmalloc(): kmemleak's backtrace
 * must name this function, and the module's init text is gone by the time
 * the report is printed.
 *
 * Eight blocks, not one: kmemleak scans kernel stacks, and a copy of a
 * pointer left in a stack slot that nothing overwrote (a cached thread
 * stack, say) keeps that block referenced: kmemleak's known false
 * negative, and the likely reason why one CI run reported no leak from a
 * single block.  Each allocation here reuses the slots of the one before,
 * so such a copy can hide the last block at most.
 */
static noinline void toytcp_vm_bugs_leak(void)
{
	int i;

	for (i = 0; i < 8; i++) {
		WRITE_ONCE(toytcp_vm_bugs_ptr, kmalloc(64, GFP_KERNEL));
		WRITE_ONCE(toytcp_vm_bugs_ptr, NULL);
	}
}

static noinline void toytcp_vm_bugs_lock_order(void)
{
	mutex_lock(&toytcp_vm_bugs_a);
	mutex_lock(&toytcp_vm_bugs_b);
	mutex_unlock(&toytcp_vm_bugs_b);
	mutex_unlock(&toytcp_vm_bugs_a);

	mutex_lock(&toytcp_vm_bugs_b);
	mutex_lock(&toytcp_vm_bugs_a);
	mutex_unlock(&toytcp_vm_bugs_a);
	mutex_unlock(&toytcp_vm_bugs_b);
}

static noinline void toytcp_vm_bugs_atomic_sleep(void)
{
	preempt_disable();
	might_sleep();
	preempt_enable();
}

static int __init toytcp_vm_bugs_init(void)
{
	toytcp_vm_bugs_leak();
	toytcp_vm_bugs_lock_order();
	toytcp_vm_bugs_atomic_sleep();
	return 0;
}
module_init(toytcp_vm_bugs_init);

static void __exit toytcp_vm_bugs_exit(void)
{
}
module_exit(toytcp_vm_bugs_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("toytcp VM harness self-check: a leak, a lock inversion, a sleep in atomic context");
