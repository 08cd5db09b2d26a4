/* SPDX-License-Identifier: MIT
 * test_peer.c - lib/peer: tcpserver environment first, then the socket (v4, v6, v4-mapped).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "peer.h"

static void
clear_env(void)
{
	static const char *const vars[] = { "TCPREMOTEIP", "TCP6REMOTEIP", "TCPREMOTEPORT",
	    "TCP6REMOTEPORT", "TCPLOCALIP", "TCP6LOCALIP", "TCPLOCALPORT", "TCPREMOTEHOST",
	    "TCPREMOTEINFO", "TCPLOCALHOST", "TCP6REMOTEHOST", NULL };

	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
}

TestSuite(peer, .init = clear_env, .timeout = 10);

Test(peer, environment_wins)
{
	struct peer p;

	setenv("TCPREMOTEIP", "192.0.2.1", 1);
	setenv("TCPREMOTEPORT", "4242", 1);
	setenv("TCPLOCALIP", "198.51.100.2", 1);
	setenv("TCPREMOTEHOST", "client.test", 1);
	setenv("TCPREMOTEINFO", "ident", 1);
	peer_get(&p, -1);
	cr_assert_str_eq(p.remoteip, "192.0.2.1");
	cr_assert_eq(p.remoteport, 4242);
	cr_assert_str_eq(p.localip, "198.51.100.2");
	cr_assert_str_eq(p.remotehost, "client.test");
	cr_assert_str_eq(p.remoteinfo, "ident");
	cr_assert_null(p.localhost);
}

Test(peer, tcp6_environment)
{
	struct peer p;

	setenv("TCP6REMOTEIP", "2001:db8::1", 1);
	setenv("TCP6REMOTEHOST", "v6.test", 1);
	peer_get(&p, -1);
	cr_assert_str_eq(p.remoteip, "2001:db8::1");
	cr_assert_str_eq(p.remotehost, "v6.test");
	setenv("TCP6REMOTEIP", "::ffff:192.0.2.9", 1);
	setenv("TCP6LOCALIP", "::ffff:198.51.100.1", 1);
	peer_get(&p, -1);
	cr_assert_str_eq(p.remoteip, "192.0.2.9", "v4-mapped shown as v4");
	cr_assert_str_eq(p.localip, "198.51.100.1");
}

Test(peer, not_a_socket_is_unknown)
{
	struct peer p;
	int sv[2];

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	peer_get(&p, sv[0]);
	cr_assert_str_eq(p.remoteip, "unknown");
	cr_assert_str_eq(p.localip, "unknown");
	peer_get(&p, -1);
	cr_assert_str_eq(p.remoteip, "unknown");
	close(sv[0]);
	close(sv[1]);
}

/* connect_pair - a TCP connection to ourselves; the accepted end in *srv */
static int
connect_pair(int family, const char *listen_ip, const char *connect_ip, int port, int *cli)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
	struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
	int ls, srv, one = 1, zero = 0, cfam = strchr(connect_ip, ':') ? AF_INET6 : AF_INET;
	socklen_t len;

	if ((ls = socket(family, SOCK_STREAM, 0)) < 0)
		return -1;
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (family == AF_INET6)
		setsockopt(ls, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	memset(&ss, 0, sizeof(ss));
	if (family == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, listen_ip, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, listen_ip, &s4->sin_addr);
		len = sizeof(*s4);
	}
	if (bind(ls, (struct sockaddr *)&ss, len) < 0 || listen(ls, 1) < 0) {
		close(ls);
		return -1;
	}
	*cli = socket(cfam, SOCK_STREAM, 0);
	memset(&ss, 0, sizeof(ss));
	if (cfam == AF_INET6) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		inet_pton(AF_INET6, connect_ip, &s6->sin6_addr);
		len = sizeof(*s6);
	} else {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		inet_pton(AF_INET, connect_ip, &s4->sin_addr);
		len = sizeof(*s4);
	}
	if (connect(*cli, (struct sockaddr *)&ss, len) < 0) {
		close(ls);
		close(*cli);
		return -1;
	}
	srv = accept(ls, NULL, NULL);
	close(ls);
	return srv;
}

Test(peer, ipv4_socket)
{
	struct peer p;
	int cli, srv = connect_pair(AF_INET, "127.0.0.1", "127.0.0.1", 34010, &cli);

	cr_assert_geq(srv, 0);
	peer_get(&p, srv);
	cr_assert_str_eq(p.remoteip, "127.0.0.1");
	cr_assert_str_eq(p.localip, "127.0.0.1");
	cr_assert_eq(p.localport, 34010);
	cr_assert_neq(p.remoteport, 0);
	close(cli);
	close(srv);
}

Test(peer, ipv6_and_mapped)
{
	struct peer p;
	int cli, srv = connect_pair(AF_INET6, "::", "::1", 34011, &cli);

	if (srv < 0)
		cr_skip_test("no IPv6 loopback here");
	peer_get(&p, srv);
	cr_assert_str_eq(p.remoteip, "::1");
	close(cli);
	close(srv);
	srv = connect_pair(AF_INET6, "::", "127.0.0.1", 34012, &cli);
	cr_assert_geq(srv, 0);
	peer_get(&p, srv);
	cr_assert_str_eq(p.remoteip, "127.0.0.1", "v4-mapped shown as v4");
	cr_assert_str_eq(p.localip, "127.0.0.1");
	close(cli);
	close(srv);
}

Test(peer, ip_is_mine)
{
	cr_assert(peer_ip_is_mine("127.0.0.1"));
	cr_assert(peer_ip_is_mine("IPv6:::1"));
	cr_assert(peer_ip_is_mine("::1"));
	cr_assert_not(peer_ip_is_mine("192.0.2.200"));
	cr_assert_not(peer_ip_is_mine("not-an-ip"));
	cr_assert_not(peer_ip_is_mine(""));
}
