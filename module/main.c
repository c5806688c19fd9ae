// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp module init and exit.
 *
 * Registration order: the socket slab (proto_register), then per-netns state
 * (ctrl.c: the control socket that sends RSTs, counters, sysctls; then
 * /proc), then the IP protocol handler, and only last the socket type
 * (inet_register_protosw).  Nothing can fail after the socket type appears,
 * so no socket can ever exist for a module whose init failed, and every
 * packet that arrives finds its per-netns state already there.  Exit undoes
 * it in reverse; by then no socket exists, because every toytcp socket (and
 * every TIME-WAIT socket) holds a reference on this module through
 * toytcp_prot.owner.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/net.h>
#include <net/protocol.h>
#include <net/inet_common.h>
#include <net/net_namespace.h>

#include "toytcp.h"

int toytcp_ipproto = IPPROTO_TOYTCP;
module_param_named(ipproto, toytcp_ipproto, int, 0444);
MODULE_PARM_DESC(ipproto, "IP protocol number to use: 253 (default) or 254");

/*
 * What a namespace holds beyond ctrl.c's state: /proc/net/toytcp*, and at
 * its exit the purge of the sockets still in it.  Registered after ctrl.c's
 * part, so its exit runs first.
 */
static int __net_init toytcp_net_init(struct net *net)
{
	return toytcp_proc_init_net(net);
}

static void __net_exit toytcp_net_exit(struct net *net)
{
	toytcp_net_purge(net);
	toytcp_proc_exit_net(net);
}

static struct pernet_operations toytcp_net_ops = {
	.init	= toytcp_net_init,
	.exit	= toytcp_net_exit,
};

static struct net_protocol toytcp_protocol = {
	.handler	= toytcp_v4_rcv,
	.no_policy	= 1,
};

static struct inet_protosw toytcp_protosw = {
	.type		= SOCK_STREAM,
	.prot		= &toytcp_prot,
	.ops		= &toytcp_stream_ops,
	/* .protocol is set from the module parameter at init */
};

static int __init toytcp_init(void)
{
	int err;

	if (toytcp_ipproto != IPPROTO_TOYTCP &&
	    toytcp_ipproto != IPPROTO_TOYTCP_ALT) {
		pr_err("ipproto=%d refused: use %d or %d (RFC 3692 experimental)\n",
		       toytcp_ipproto, IPPROTO_TOYTCP, IPPROTO_TOYTCP_ALT);
		return -EINVAL;
	}
	toytcp_protosw.protocol = toytcp_ipproto;

	err = toytcp_lookup_init();
	if (err)
		return err;

	err = proto_register(&toytcp_prot, 1);
	if (err)
		goto err_lookup;

	err = toytcp_socket_init();
	if (err)
		goto err_proto;

	err = toytcp_ctrl_init();
	if (err)
		goto err_socket;

	err = register_pernet_subsys(&toytcp_net_ops);
	if (err)
		goto err_ctrl;

	err = inet_add_protocol(&toytcp_protocol, toytcp_ipproto);
	if (err) {
		pr_err("IP protocol %d is already registered by another module\n",
		       toytcp_ipproto);
		err = -EBUSY;
		goto err_pernet;
	}

	inet_register_protosw(&toytcp_protosw);
	pr_info("registered IP protocol %d\n", toytcp_ipproto);
	return 0;

err_pernet:
	unregister_pernet_subsys(&toytcp_net_ops);
err_ctrl:
	toytcp_ctrl_exit();
err_socket:
	toytcp_socket_exit();
err_proto:
	proto_unregister(&toytcp_prot);
err_lookup:
	toytcp_lookup_exit();
	return err;
}

static void __exit toytcp_exit(void)
{
	inet_unregister_protosw(&toytcp_protosw);
	inet_del_protocol(&toytcp_protocol, toytcp_ipproto);
	/* inet_del_protocol() waited for readers of the handler pointer. */
	unregister_pernet_subsys(&toytcp_net_ops);
	toytcp_ctrl_exit();
	toytcp_socket_exit();
	proto_unregister(&toytcp_prot);
	toytcp_lookup_exit();
	pr_info("unregistered IP protocol %d\n", toytcp_ipproto);
}

module_init(toytcp_init);
module_exit(toytcp_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("toytcp: a teaching TCP on its own IP protocol number");
MODULE_AUTHOR("The toytcp developers");
/*
 * socket(AF_INET, SOCK_STREAM, 253) loads the module through the alias
 * net-pf-2-proto-253-type-1.  Literal numbers: SOCK_STREAM is an enum in the
 * kernel and would not be stringified.
 */
MODULE_ALIAS_NET_PF_PROTO_TYPE(PF_INET, 253, 1);
