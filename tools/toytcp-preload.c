// SPDX-License-Identifier: GPL-2.0
/*
 * libtoytcp-preload.so: make an unmodified, dynamically linked program use
 * toytcp for its TCP.  Loaded with LD_PRELOAD (see toytcp-run), it wraps
 * socket(): a request for a stream socket over IPv4 with protocol 0 or
 * IPPROTO_TCP gets IP protocol 253 (IPPROTO_TOYTCP) instead.  Every other
 * socket (IPv6, UDP, UNIX, raw, netlink...) is left alone, and so are the
 * flags in the type (SOCK_NONBLOCK, SOCK_CLOEXEC).
 *
 * Environment:
 *   TOYTCP_PROTO=N        use IP protocol N instead of 253 (e.g. 254 when
 *                         the module was loaded with ipproto=254)
 *   TOYTCP_PRELOAD_DEBUG  report each socket it changes on stderr
 *
 * If the toytcp socket cannot be made (module missing: EPROTONOSUPPORT),
 * socket() fails with that error: the program never silently falls back to
 * the kernel's TCP.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "toytcp.h"

typedef int (*socket_fn)(int, int, int);

static int toytcp_proto(void)
{
	const char *s = getenv("TOYTCP_PROTO");
	char *end;
	long p;

	if (!s || !*s)
		return IPPROTO_TOYTCP;
	p = strtol(s, &end, 10);
	if (*end || p <= 0 || p > 255)
		return IPPROTO_TOYTCP;
	return (int)p;
}

int socket(int domain, int type, int protocol)
{
	static socket_fn real_socket;
	int base = type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC);
	int proto, fd, err;

	if (!real_socket) {
		real_socket = (socket_fn)dlsym(RTLD_NEXT, "socket");
		if (!real_socket) {
			errno = ENOSYS;
			return -1;
		}
	}
	if (domain != AF_INET || base != SOCK_STREAM ||
	    (protocol != 0 && protocol != IPPROTO_TCP))
		return real_socket(domain, type, protocol);

	proto = toytcp_proto();
	fd = real_socket(domain, type, proto);
	err = errno;
	if (getenv("TOYTCP_PRELOAD_DEBUG")) {
		if (fd >= 0)
			fprintf(stderr, "toytcp-preload: socket(AF_INET, SOCK_STREAM, %d) -> fd %d, IP protocol %d\n",
				protocol, fd, proto);
		else
			fprintf(stderr, "toytcp-preload: socket(AF_INET, SOCK_STREAM, %d) -> IP protocol %d failed: %m\n",
				protocol, proto);
	}
	errno = err;
	return fd;
}
