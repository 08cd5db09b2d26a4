/* SPDX-License-Identifier: MIT */
#ifndef SQ_PEER_H
#define SQ_PEER_H

#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>

/* Who is on the other end of the connection. tcpserver and sslserver (and
 * tcprules) describe it in TCPREMOTEIP/TCP6REMOTEIP & co.; under systemd
 * (Accept=yes) or inetd the socket itself on fd 0 tells. An IPv4-mapped IPv6
 * address is shown as plain IPv4. */

#define PEER_IP_MAX 64

struct peer {
	char remoteip[PEER_IP_MAX];	/* "unknown" when nothing tells */
	char localip[PEER_IP_MAX];	/* "unknown" when nothing tells */
	unsigned remoteport, localport;	/* 0 when unknown */
	const char *remotehost;		/* TCPREMOTEHOST, or NULL */
	const char *remoteinfo;		/* TCPREMOTEINFO (ident, later AUTH user), or NULL */
	const char *localhost;		/* TCPLOCALHOST, or NULL */
};

/* peer_get - fill p from the environment, else from getpeername/getsockname(fd) */
void peer_get(struct peer *p, int fd);
/* peer_ntop - numeric text of an AF_INET/AF_INET6 address (v4-mapped as v4): 0 or -1 */
int peer_ntop(const struct sockaddr *sa, char *out, size_t size, unsigned *port);
/* peer_ip_is_mine - is the textual address (v4, v6, "IPv6:v6") one of this host's? */
int peer_ip_is_mine(const char *text);

#endif
