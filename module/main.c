// SPDX-License-Identifier: GPL-2.0
/*
 * toytcp module init and exit.
 *
 * Registration order: the socket slab (proto_register), then per-netns state
 * (the control socket that sends RSTs),
 * then the IP protocol handler, and only last the socket type
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
#include <net/netns/generic.h>

#include "mib.h"
#include "toytcp.h"

int toytcp_ipproto = IPPROTO_TOYTCP;
module_param_named(ipproto, toytcp_ipproto, int, 0444);
MODULE_PARM_DESC(ipproto, "IP protocol number to use: 253 (default) or 254");

/*
 * Per network namespace: the control socket that answers segments no
 * toytcp socket takes (RST) from the right netns, with the right protocol.
 */
struct toytcp_net {
	struct sock *ctl_sk;
	struct toytcp_mib __percpu *mib;
	struct toytcp_sysctl cfg;	/* net.toytcp.*, READ_ONCE */
	struct ctl_table_header *sysctl_hdr;
};

static unsigned int toytcp_net_id __read_mostly;

struct sock *toytcp_ctl_sock(struct net *net)
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

static int __net_init toytcp_net_init(struct net *net)
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
	err = toytcp_proc_init_net(net);
	if (err)
		goto err_ctl;
	toytcp_sysctl_defaults(&tn->cfg);
	tn->sysctl_hdr = toytcp_sysctl_register(net, &tn->cfg);
	if (!tn->sysctl_hdr) {
		err = -ENOMEM;
		goto err_proc;
	}
	return 0;

err_proc:
	toytcp_proc_exit_net(net);
err_ctl:
	inet_ctl_sock_destroy(tn->ctl_sk);
err_mib:
	free_percpu(tn->mib);
	return err;
}

static void __net_exit toytcp_net_exit(struct net *net)
{
	struct toytcp_net *tn = net_generic(net, toytcp_net_id);

	toytcp_net_purge(net);
	toytcp_sysctl_unregister(tn->sysctl_hdr);
	toytcp_proc_exit_net(net);
	inet_ctl_sock_destroy(tn->ctl_sk);
	free_percpu(tn->mib);
}

static struct pernet_operations toytcp_net_ops = {
	.init	= toytcp_net_init,
	.exit	= toytcp_net_exit,
	.id	= &toytcp_net_id,
	.size	= sizeof(struct toytcp_net),
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

	err = register_pernet_subsys(&toytcp_net_ops);
	if (err)
		goto err_socket;

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
