/* SPDX-License-Identifier: MIT
 * peer.c - the remote and local address of a connection handler.
 *
 * Runs as:    network handlers (qmaild), once per connection.
 * Trusted:    TCP* environment (set by tcpserver/sslserver or the unit).
 * Hostile:    nothing is read from the peer here.
 * May touch:  getpeername/getsockname on the given fd, getifaddrs.
 */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "num.h"
#include "peer.h"

static const char *
peer_env(const char *v4name, const char *v6name)
{
	const char *s = getenv(v4name);

	if (s == NULL || *s == '\0')
		s = getenv(v6name);
	return s && *s ? s : NULL;
}

/* peer_ntop - numeric form; IPv4-mapped IPv6 (::ffff:a.b.c.d) is shown as a.b.c.d */
int
peer_ntop(const struct sockaddr *sa, char *out, size_t size, unsigned *port)
{
	const struct sockaddr_in6 *s6;
	const struct sockaddr_in *s4;
	struct in_addr a4;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)sa;
		if (port)
			*port = ntohs(s4->sin_port);
		return inet_ntop(AF_INET, &s4->sin_addr, out, size) ? 0 : -1;
	}
	if (sa->sa_family != AF_INET6)
		return -1;
	s6 = (const struct sockaddr_in6 *)sa;
	if (port)
		*port = ntohs(s6->sin6_port);
	if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
		memcpy(&a4, &s6->sin6_addr.s6_addr[12], sizeof(a4));
		return inet_ntop(AF_INET, &a4, out, size) ? 0 : -1;
	}
	return inet_ntop(AF_INET6, &s6->sin6_addr, out, size) ? 0 : -1;
}

static void
peer_copy(char *dst, const char *src)
{
	size_t n = strlen(src);

	if (n >= PEER_IP_MAX)
		n = PEER_IP_MAX - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* peer_copy_ip - an address from the environment; ::ffff:a.b.c.d becomes a.b.c.d
 * (ucspi-tcp6 may hand IPv4 clients over in that form) */
static void
peer_copy_ip(char *dst, const char *src)
{
	struct in6_addr a6;
	struct in_addr a4;

	if (inet_pton(AF_INET6, src, &a6) == 1 && IN6_IS_ADDR_V4MAPPED(&a6)) {
		memcpy(&a4, &a6.s6_addr[12], sizeof(a4));
		if (inet_ntop(AF_INET, &a4, dst, PEER_IP_MAX))
			return;
	}
	peer_copy(dst, src);
}

static void
peer_port(const char *v4name, const char *v6name, unsigned *port)
{
	const char *s = peer_env(v4name, v6name);
	unsigned long v;

	if (s && num_parse_uint(s, 0, 65535, &v) == 0)
		*port = (unsigned)v;
}

/* peer_get - environment first (tcpserver), then the socket (systemd, inetd) */
void
peer_get(struct peer *p, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	const char *s;

	memset(p, 0, sizeof(*p));
	peer_copy(p->remoteip, "unknown");
	peer_copy(p->localip, "unknown");
	if ((s = peer_env("TCPREMOTEIP", "TCP6REMOTEIP")) != NULL) {
		peer_copy_ip(p->remoteip, s);
		peer_port("TCPREMOTEPORT", "TCP6REMOTEPORT", &p->remoteport);
	} else {
		len = sizeof(ss);
		if (getpeername(fd, (struct sockaddr *)&ss, &len) == 0)
			peer_ntop((struct sockaddr *)&ss, p->remoteip, sizeof(p->remoteip),
			    &p->remoteport);
	}
	if ((s = peer_env("TCPLOCALIP", "TCP6LOCALIP")) != NULL) {
		peer_copy_ip(p->localip, s);
		peer_port("TCPLOCALPORT", "TCP6LOCALPORT", &p->localport);
	} else {
		len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0)
			peer_ntop((struct sockaddr *)&ss, p->localip, sizeof(p->localip),
			    &p->localport);
	}
	p->remotehost = peer_env("TCPREMOTEHOST", "TCP6REMOTEHOST");
	p->remoteinfo = peer_env("TCPREMOTEINFO", "TCP6REMOTEINFO");
	p->localhost = peer_env("TCPLOCALHOST", "TCP6LOCALHOST");
}

static int
peer_same(const struct sockaddr *sa, int family, const void *addr)
{
	const struct sockaddr_in6 *s6;

	if (sa == NULL)
		return 0;
	if (family == AF_INET && sa->sa_family == AF_INET)
		return memcmp(&((const struct sockaddr_in *)sa)->sin_addr, addr, 4) == 0;
	if (family != AF_INET6 || sa->sa_family != AF_INET6)
		return 0;
	s6 = (const struct sockaddr_in6 *)sa;
	return memcmp(&s6->sin6_addr, addr, 16) == 0;
}

/* peer_ip_is_mine - qmail's ipme: an address of one of our interfaces (or loopback) */
int
peer_ip_is_mine(const char *text)
{
	unsigned char addr[16];
	struct ifaddrs *ifa, *i;
	int family = AF_INET, mine = 0;

	if (strncasecmp(text, "IPv6:", 5) == 0) {
		text += 5;
		family = AF_INET6;
	} else if (strchr(text, ':'))
		family = AF_INET6;
	if (inet_pton(family, text, addr) != 1)
		return 0;
	if (family == AF_INET && addr[0] == 127)
		return 1;
	if (family == AF_INET6 && IN6_IS_ADDR_LOOPBACK((struct in6_addr *)addr))
		return 1;
	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i && !mine; i = i->ifa_next)
		mine = peer_same(i->ifa_addr, family, addr);
	freeifaddrs(ifa);
	return mine;
}
