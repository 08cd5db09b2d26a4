/* SPDX-License-Identifier: MIT
 * test_units.c - qmail-remote's parts on their own: smtproutes, authsenders,
 * domainips, tlsdestinations, literals, DNS answer parsing (good, null MX,
 * truncated, looping, malformed), base64, tcpto. */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <criterion/criterion.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

static struct cfg_list
list(const char *const *items)
{
	struct cfg_list l;

	cfg_list_init(&l);
	for (; *items != NULL; items++)
		cfg_list_add(&l, *items, strlen(*items));
	return l;
}

Test(route, value_forms)
{
	struct route r;

	cr_assert_eq(route_parse_value("relay.example:2525", &r), 0);
	cr_assert_str_eq(r.relay, "relay.example");
	cr_assert_eq(r.port, 2525);
	cr_assert_eq(route_parse_value("relay.example;587|u|p:w", &r), 0);
	cr_assert_eq(r.port, 587);
	cr_assert_str_eq(r.user, "u");
	cr_assert_str_eq(r.pass, "p:w");
	cr_assert_eq(route_parse_value("[2001:db8::1]:26", &r), 0);
	cr_assert_str_eq(r.relay, "[2001:db8::1]");
	cr_assert_eq(r.port, 26);
	cr_assert_eq(route_parse_value("", &r), 0);
	cr_assert_str_eq(r.relay, "");
	cr_assert_eq(route_parse_value(";465", &r), 0);
	cr_assert_eq(r.port, 465);
	cr_assert_eq(route_parse_value("x:99999", &r), -1);
	cr_assert_eq(route_parse_value("x|onlyuser", &r), -1);
	cr_assert_eq(route_parse_value("[::1:25", &r), -1);
}

Test(route, lookup_order)
{
	static const char *const items[] = { "a.example:relay-a", ".example:relay-sub;2525",
		"direct.example:", "!@:bounces", ":default:26", NULL };
	struct cfg_list l = list(items);
	struct route r;

	cr_assert_eq(route_smtp(&l, "a.example", "s@x", &r), 1);
	cr_assert_str_eq(r.relay, "relay-a");
	cr_assert_eq(route_smtp(&l, "b.a.example", "s@x", &r), 1);
	cr_assert_str_eq(r.relay, "relay-sub");
	cr_assert_eq(r.port, 2525);
	cr_assert_eq(route_smtp(&l, "direct.example", "s@x", &r), 1);
	cr_assert_str_eq(r.relay, "");
	cr_assert_eq(route_smtp(&l, "other.test", "s@x", &r), 1);
	cr_assert_str_eq(r.relay, "default");
	cr_assert_eq(route_smtp(&l, "other.test", "", &r), 1);
	cr_assert_str_eq(r.relay, "bounces");
	l.n = 1;
	cr_assert_eq(route_smtp(&l, "other.test", "s@x", &r), 0);
}

Test(route, authsenders_and_domainips)
{
	static const char *const auth[] = { "boss@example.org:mail.isp;587|boss|pw",
		"@example.org:|all|pw2", NULL };
	static const char *const ips[] = { "example.org:192.0.2.7|mx.example.org",
		"*:2001:db8::7", NULL };
	struct cfg_list a = list(auth), d = list(ips);
	struct route r;
	struct remote_addr src;
	char helo[64] = "default";
	int has;

	cr_assert_eq(route_authsender(&a, "boss@example.org", &r), 1);
	cr_assert_str_eq(r.relay, "mail.isp");
	cr_assert_eq(r.port, 587);
	cr_assert_eq(route_authsender(&a, "x@example.org", &r), 1);
	cr_assert_str_eq(r.user, "all");
	cr_assert_eq(route_authsender(&a, "x@other.org", &r), 0);
	cr_assert_eq(route_domainip(&d, "x@example.org", &src, &has, helo, sizeof(helo)), 1);
	cr_assert(has && src.family == AF_INET && src.ip[3] == 7);
	cr_assert_str_eq(helo, "mx.example.org");
	snprintf(helo, sizeof(helo), "default");
	cr_assert_eq(route_domainip(&d, "x@else.org", &src, &has, helo, sizeof(helo)), 1);
	cr_assert(has && src.family == AF_INET6);
	cr_assert_str_eq(helo, "default");
	cr_assert_eq(src.scope, 0);
}

Test(route, link_local_with_interface)
{
	static const char *const ips[] = { "a.example:fe80::7%lo|ll.example",
		"b.example:fe80::7%nosuchif9", NULL };
	struct cfg_list d = list(ips);
	struct remote_addr src, lit;
	char helo[64] = "";
	int has;

	cr_assert_eq(route_domainip(&d, "x@a.example", &src, &has, helo, sizeof(helo)), 1);
	cr_assert(has && src.family == AF_INET6 && src.ip[0] == 0xfe && src.ip[15] == 7);
	cr_assert_eq(src.scope, if_nametoindex("lo"));
	cr_assert_neq(src.scope, 0);
	cr_assert_eq(route_domainip(&d, "x@b.example", &src, &has, helo, sizeof(helo)), -2);
	cr_assert_eq(mx_parse_literal("[fe80::1%lo]", &lit), 1);
	cr_assert_eq(lit.scope, if_nametoindex("lo"));
	cr_assert_eq(mx_parse_literal("[fe80::1%nosuchif9]", &lit), 0);
}

Test(tlspolicy, marks_and_precedence)
{
	static const char *const items[] = { "*:/etc/ca.pem", "!plain.example",
		"=strict.example:/ca2.pem|SECURE256", "~.wild.example", "-anon.example",
		"%pin.example:=AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01",
		"=port.example:;465", NULL };
	struct cfg_list l = list(items);
	struct tls_policy p;

	cr_assert_eq(tls_policy_find(&l, "any.test", 25, &p), 1);
	cr_assert_eq(p.mode, TLSP_VERIFY);
	cr_assert_str_eq(p.cafile, "/etc/ca.pem");
	tls_policy_find(&l, "plain.example", 25, &p);
	cr_assert_eq(p.mode, TLSP_NEVER);
	tls_policy_find(&l, "strict.example", 25, &p);
	cr_assert_eq(p.mode, TLSP_NAME);
	cr_assert_str_eq(p.cafile, "/ca2.pem");
	cr_assert_str_eq(p.ciphers, "SECURE256");
	tls_policy_find(&l, "mx.wild.example", 25, &p);
	cr_assert_eq(p.mode, TLSP_WILDCARD);
	tls_policy_find(&l, "anon.example", 25, &p);
	cr_assert_eq(p.mode, TLSP_ANON);
	tls_policy_find(&l, "pin.example", 25, &p);
	cr_assert_eq(p.mode, TLSP_PIN);
	cr_assert_str_eq(p.pin, "abcdef0123456789abcdef0123456789abcdef01");
	tls_policy_find(&l, "port.example", 25, &p);
	cr_assert_eq(p.mode, TLSP_VERIFY);	/* the ";465" rule is for SMTPS only */
	tls_policy_find(&l, "port.example", 465, &p);
	cr_assert_eq(p.mode, TLSP_NAME);
	l.n = 1;
	l.item[0] = (char *)"%bad.example:=1234";
	cr_assert_eq(tls_policy_find(&l, "bad.example", 25, &p), -1);
	l.n = 0;
	cr_assert_eq(tls_policy_find(&l, "x", 25, &p), 0);
	cr_assert_eq(p.mode, TLSP_OPPORTUNISTIC);
}

Test(mx, literals)
{
	struct remote_addr a;

	cr_assert_eq(mx_parse_literal("[192.0.2.1]", &a), 1);
	cr_assert_eq(a.family, AF_INET);
	cr_assert_eq(mx_parse_literal("[IPv6:2001:db8::1]", &a), 1);
	cr_assert_eq(a.family, AF_INET6);
	cr_assert_eq(mx_parse_literal("[::1]", &a), 1);
	cr_assert_eq(mx_parse_literal("example.com", &a), 0);
	cr_assert_eq(mx_parse_literal("[300.1.1.1]", &a), 0);
	cr_assert_eq(mx_parse_literal("[]", &a), 0);
}

/* a DNS answer: header, question "ex.", answer records given raw */
static int
answer(unsigned char *p, int ancount, const unsigned char *rr, size_t rrlen)
{
	static const unsigned char head[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0,
		2, 'e', 'x', 0, 0, 15, 0, 1 };

	memcpy(p, head, sizeof(head));
	p[7] = (unsigned char)ancount;
	memcpy(p + sizeof(head), rr, rrlen);
	return (int)(sizeof(head) + rrlen);
}

Test(mx, answer_parsing)
{
	/* MX 10 mx.ex (name compressed to the question), A 192.0.2.5 */
	static const unsigned char rr[] = {
		0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 7, 0, 10, 2, 'm', 'x', 0xc0, 12,
		0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 5 };
	static const unsigned char nullmx[] = { 0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 3, 0, 0, 0 };
	static const unsigned char loop[] = { 0xc0, 12, 0, 15, 0, 1, 0, 0, 0, 60, 0, 4, 0, 10,
		0xc0, 34 };
	unsigned char p[512];
	struct remote_addrs addrs = { .n = 0 };
	char names[4][REMOTE_NAMEMAX];
	unsigned pref[4];
	size_t nmx = 0;
	int len = answer(p, 2, rr, sizeof(rr));

	cr_assert_eq(mx_parse_answer(p, len, ns_t_mx, "ex", &addrs, names, pref, &nmx, NULL, 0), 1);
	cr_assert_eq(nmx, 1);
	cr_assert_str_eq(names[0], "mx.ex");
	cr_assert_eq(pref[0], 10);
	cr_assert_eq(mx_parse_answer(p, len, ns_t_a, "ex", &addrs, NULL, NULL, &nmx, NULL, 0), 1);
	cr_assert_eq(addrs.n, 1);
	cr_assert_eq(addrs.a[0].ip[3], 5);
	nmx = 0;
	len = answer(p, 1, nullmx, sizeof(nullmx));
	cr_assert_eq(mx_parse_answer(p, len, ns_t_mx, "ex", &addrs, names, pref, &nmx, NULL, 0), 1);
	cr_assert_str_eq(names[0], "");
	/* truncated in the middle of a record, a count larger than the data,
	 * a compression pointer pointing at itself: all malformed */
	len = answer(p, 2, rr, sizeof(rr));
	cr_assert_eq(mx_parse_answer(p, len - 3, ns_t_a, "ex", &addrs, NULL, NULL, &nmx, NULL, 0), -1);
	len = answer(p, 5, rr, sizeof(rr));
	cr_assert_eq(mx_parse_answer(p, len, ns_t_a, "ex", &addrs, NULL, NULL, &nmx, NULL, 0), -1);
	len = answer(p, 1, loop, sizeof(loop));
	cr_assert_eq(mx_parse_answer(p, len, ns_t_mx, "ex", &addrs, names, pref, &nmx, NULL, 0), -1);
	cr_assert_eq(mx_parse_answer(p, 5, ns_t_mx, "ex", &addrs, names, pref, &nmx, NULL, 0), -1);
}

Test(auth, base64)
{
	struct buf b;

	buf_init(&b, 1024);
	smtp_b64_encode(&b, "\0user\0pass", 10);
	cr_assert_str_eq(buf_str(&b), "AHVzZXIAcGFzcw==");
	buf_reset(&b);
	cr_assert_eq(smtp_b64_decode(&b, "PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+"), 0);
	cr_assert_str_eq(buf_str(&b), "<1896.697170952@postoffice.reston.mci.net>");
	cr_assert_eq(smtp_b64_decode(&b, "a*b"), -1);
}

Test(tcpto, two_timeouts_two_minutes_apart)
{
	char path[] = "/tmp/sq-tcpto-XXXXXX";
	int fd = mkstemp(path);
	struct remote_addr a = { .family = AF_INET, .ip = { 192, 0, 2, 9 } };
	struct remote_addr b = { .family = AF_INET6, .ip = { 0x20, 1, 0xd, 0xb8, [15] = 1 } };
	struct buf out;

	close(fd);
	tcpto_err(path, &a, 1, 1000);
	cr_assert_eq(tcpto_is_dead(path, &a, 1001), 0);
	tcpto_err(path, &a, 1, 1050);	/* too soon: not counted */
	cr_assert_eq(tcpto_is_dead(path, &a, 1060), 0);
	tcpto_err(path, &a, 1, 1200);
	cr_assert_eq(tcpto_is_dead(path, &a, 1300), 1);
	cr_assert_eq(tcpto_is_dead(path, &b, 1300), 0);
	/* qmail's period: (60 + pid % 32) * 64 s, 3840 to 5824 */
	cr_assert_eq(tcpto_is_dead(path, &a, 1200 + 3839), 1);
	cr_assert_eq(tcpto_is_dead(path, &a, 1200 + 5824), 0);	/* then try again */
	buf_init(&out, 4096);
	cr_assert_eq(tcpto_list(path, &out, 1300), 0);
	cr_assert_not_null(strstr(buf_str(&out), "192.0.2.9 timed out 100 seconds ago; # recent timeouts: 2"));
	tcpto_err(path, &a, 0, 1301);		/* a connection worked */
	cr_assert_eq(tcpto_is_dead(path, &a, 1302), 0);
	tcpto_err(path, &b, 1, 1000);
	tcpto_err(path, &b, 1, 1200);
	cr_assert_eq(tcpto_is_dead(path, &b, 1300), 1);
	cr_assert_eq(tcpto_clear(path), 0);
	cr_assert_eq(tcpto_is_dead(path, &b, 1300), 0);
	unlink(path);
}

Test(tcpto, qmails_count_cap_and_replacement)
{
	char path[] = "/tmp/sq-tcpto-XXXXXX";
	int fd = mkstemp(path);
	struct remote_addr a = { .family = AF_INET, .ip = { 192, 0, 2, 1 } };
	struct buf out;
	long t = 100000;

	close(fd);
	/* at most 10 timeouts are counted */
	for (int i = 0; i < 14; i++, t += 200)
		tcpto_err(path, &a, 1, t);
	buf_init(&out, 1 << 16);
	cr_assert_eq(tcpto_list(path, &out, t), 0);
	cr_assert_not_null(strstr(buf_str(&out), "192.0.2.1 timed out 200 seconds ago; "
	    "# recent timeouts: 10\n"), "%s", buf_str(&out));
	/* a full table: a new address replaces the smallest last timeout + 1024 s
	 * per counted timeout; 192.0.2.1 (10 timeouts) outlives newer single ones */
	for (int i = 2; i < TCPTO_SIZE + 1; i++) {
		struct remote_addr b = { .family = AF_INET, .ip = { 198, 51, 100, (unsigned char)i } };

		tcpto_err(path, &b, 1, t + i);
	}
	{
		struct remote_addr c = { .family = AF_INET, .ip = { 203, 0, 113, 9 } };

		tcpto_err(path, &c, 1, t + 100);
	}
	buf_reset(&out);
	cr_assert_eq(tcpto_list(path, &out, t + 200), 0);
	cr_assert_not_null(strstr(buf_str(&out), "203.0.113.9 timed out"), "%s", buf_str(&out));
	cr_assert_not_null(strstr(buf_str(&out), "192.0.2.1 timed out"), "%s", buf_str(&out));
	cr_assert_null(strstr(buf_str(&out), "198.51.100.2 timed out"), "the oldest stays: %s",
	    buf_str(&out));
	unlink(path);
}
