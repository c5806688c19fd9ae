// SPDX-License-Identifier: GPL-2.0
/*
 * squatter - test-only module that takes an IP protocol number.
 *
 * It registers a dummy IPv4 protocol handler on IP protocol @proto (253 by
 * default, the number toytcp wants), so that the selftests can check that
 * toytcp refuses to load, says why, and leaves nothing behind when its
 * protocol number is already taken.  The handler drops whatever arrives.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/skbuff.h>
#include <net/protocol.h>

static int proto = 253;
module_param(proto, int, 0444);
MODULE_PARM_DESC(proto, "IP protocol number to take (default 253)");

static int squatter_rcv(struct sk_buff *skb)
{
	kfree_skb(skb);
	return 0;
}

static const struct net_protocol squatter_protocol = {
	.handler	= squatter_rcv,
	.no_policy	= 1,
};

static int __init squatter_init(void)
{
	if (proto < 1 || proto > 255) {
		pr_err("proto=%d out of range 1..255\n", proto);
		return -EINVAL;
	}
	/* inet_add_protocol() fails, with -1, if the slot is not free. */
	if (inet_add_protocol(&squatter_protocol, proto) < 0) {
		pr_err("IP protocol %d is taken already\n", proto);
		return -EBUSY;
	}
	pr_info("holding IP protocol %d\n", proto);
	return 0;
}

static void __exit squatter_exit(void)
{
	/* Waits (synchronize_net) until no CPU runs our handler any more. */
	inet_del_protocol(&squatter_protocol, proto);
	pr_info("released IP protocol %d\n", proto);
}

module_init(squatter_init);
module_exit(squatter_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("toytcp selftest helper: occupies an IP protocol number");
