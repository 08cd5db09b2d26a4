/* SPDX-License-Identifier: MIT
 * test_netns_dns.c - qmail-remote in the namespaces of netns.sh, part two:
 * broken DNS answers from a real socket (baddns.py), recipient domains
 * rewritten to their CNAME target, qmail's tcpto period with the table
 * written by the test, and an IPv6 link-local source from domainips
 * ("%ifname").  Needs root (skips otherwise). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netns_util.h"

#define DNS_BOUND 15.0		/* seconds any broken answer may cost, at most */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* remote_bad - qmail-remote with baddns.py as its resolver (a private mount
 * namespace whose /etc/resolv.conf is DIR/resolv-bad.conf); exits 0 always */
static const char *
remote_bad(const char *host, const char *rcpt, double *secs)
{
	double t0 = now_s();
	int st;

	st = sh(out, sizeof(out), "ip netns exec %s unshare -m sh -c 'mount --bind %s/resolv-bad.conf "
	    "/etc/resolv.conf && QMAILHOME=%s exec %s/qmail-remote \"$1\" a@client.test \"$2\" "
	    "< %s/msg' x '%s' '%s'", ns_c, net, home, env("SQ_BUILDDIR"), home, host, rcpt);
	*secs = now_s() - t0;
	cr_assert_eq(st, 0, "qmail-remote exited %d (crash?) for %s: %s", st, host, out);
	return out;
}

TestSuite(baddns, .init = client, .fini = client_done, .timeout = 60);

Test(baddns, broken_answers_are_temporary_with_a_reason)
{
	static const struct {
		char host[32], want[160];
	} cases[] = {
		{ "loop1.bad.test", "ZDNS lookup for loop1.bad.test failed temporarily: CNAME loop, "
		    "or more than 8 CNAMEs in a row. (#4.4.3)\n|" },
		{ "c1.chain.bad.test", "ZDNS lookup for c1.chain.bad.test failed temporarily: CNAME "
		    "loop, or more than 8 CNAMEs in a row. (#4.4.3)\n|" },
		{ "tc.bad.test", "ZDNS lookup for tc.bad.test failed temporarily: truncated answer. "
		    "(#4.4.3)\n|" },
		{ "short.bad.test", "ZDNS lookup for short.bad.test failed temporarily: no answer, "
		    "or SERVFAIL. (#4.4.3)\n|" },
		{ "garbled.bad.test", "ZDNS lookup for garbled.bad.test failed temporarily: "
		    "malformed answer. (#4.4.3)\n|" },
		{ "ptrloop.bad.test", "ZDNS lookup for ptrloop.bad.test failed temporarily: "
		    "malformed answer. (#4.4.3)\n|" },
		{ "overrun.bad.test", "ZDNS lookup for overrun.bad.test failed temporarily: "
		    "malformed answer. (#4.4.3)\n|" },
		{ "servfail.bad.test", "ZDNS lookup for servfail.bad.test failed temporarily: "
		    "no answer, or SERVFAIL. (#4.4.3)\n|" },
		{ "softmx.bad.test", "ZDNS lookup for softmx.bad.test failed temporarily: "
		    "no answer, or SERVFAIL. (#4.4.3)\n|" },
	};
	double secs;

	/* the recipient's domain is a good one: its CNAME lookup comes first */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_str_eq(remote_bad(cases[i].host, "u@plain.test", &secs), cases[i].want,
		    "%s: %s", cases[i].host, out);
		cr_expect(secs < DNS_BOUND, "%s took %.1f s", cases[i].host, secs);
	}
}

Test(baddns, chains_within_the_limit_and_empty_mx)
{
	double secs;

	/* five CNAMEs (c16 .. c20), then the A record */
	cr_assert(strncmp(remote_bad("c16.chain.bad.test", "u@c16.chain.bad.test", &secs),
	    "r|K10.38.0.2 accepted", 21) == 0, "%s", out);
	/* an MX that names nothing: qmail's permanent "no mail exchanger" */
	cr_assert_str_eq(remote_bad("nomx.bad.test", "u@nomx.bad.test", &secs),
	    "DSorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n|");
	cr_assert_str_eq(remote_bad("nothing.bad.test", "u@nothing.bad.test", &secs),
	    "DSorry, I couldn't find any host named nothing.bad.test. (#5.1.2)\n|");
	/* the server works for the good names it forwards */
	cr_assert(strncmp(remote_bad("fine.bad.test", "u@plain.test", &secs),
	    "r|Kfd38::2 accepted", 19) == 0, "%s", out);
}

Test(baddns, recipient_cname_lookup)
{
	double secs;

	/* qmail's text when the CNAME of a recipient domain cannot be looked up */
	cr_assert_str_eq(remote_bad("fine.bad.test", "u@servfail.bad.test", &secs),
	    "ZCNAME lookup failed temporarily. (#4.4.3)\n"
	    "The lookup of servfail.bad.test gave: no answer, or SERVFAIL.\n|");
	cr_assert_str_eq(remote_bad("fine.bad.test", "u@garbled.bad.test", &secs),
	    "ZCNAME lookup failed temporarily. (#4.4.3)\n"
	    "The lookup of garbled.bad.test gave: malformed answer.\n|");
	cr_assert_str_eq(remote_bad("fine.bad.test", "u@tc.bad.test", &secs),
	    "ZCNAME lookup failed temporarily. (#4.4.3)\n"
	    "The lookup of tc.bad.test gave: truncated answer.\n|");
	/* a looping one is "not our problem" (qmail): the address goes as it is */
	cr_assert(strncmp(remote_bad("fine.bad.test", "u@loop1.bad.test", &secs),
	    "r|Kfd38::2 accepted", 19) == 0, "%s", out);
}

TestSuite(canon, .init = client, .fini = client_done, .timeout = 60);

/* peer_has - the sqmail peer queued a message for rcpt (its envelope) */
static int
peer_has(const char *rcpt)
{
	for (int i = 0; i < 30; i++) {
		if (sh(NULL, 0, "grep -rqa 'T%s' %s/peer/queue", rcpt, net) == 0)
			return 1;
		usleep(100000);
	}
	return 0;
}

Test(canon, recipient_domains_become_the_cname_target)
{
	/* cnsq.test is a CNAME of mx.sq.test: the peer takes u@mx.sq.test and
	 * would refuse u@cnsq.test (not in its rcpthosts) */
	cr_assert(strncmp(remote("cnsq.test", "cn1@cnsq.test"), "r|K10.38.0.7 accepted", 21) == 0,
	    "%s", out);
	cr_assert(peer_has("cn1@mx.sq.test"), "the peer has no cn1@mx.sq.test");
	/* a chain of two */
	cr_assert(strncmp(remote("cnsq2.test", "cn2@cnsq2.test"), "r|K10.38.0.7 accepted", 21) == 0,
	    "%s", out);
	cr_assert(peer_has("cn2@mx.sq.test"), "the peer has no cn2@mx.sq.test");
	/* a route names the relay: no rewriting (qmail), so the peer refuses */
	ctl("smtproutes", "cnsq.test:[10.38.0.7]\n");
	cr_assert(strncmp(remote("cnsq.test", "cn3@cnsq.test"),
	    "h10.38.0.7 does not like recipient.", 35) == 0, "%s", out);
}

TestSuite(tcpto, .init = client, .fini = client_done, .timeout = 60);

/* tcpto_set - the table with one record: family ip flag, last timeout age s ago */
static void
tcpto_set(const char *ip, int flag, long age)
{
	cr_assert_eq(sh(out, sizeof(out), "python3 -c 'import socket, struct, sys, time\n"
	    "ip = sys.argv[1]; f = socket.AF_INET6 if \":\" in ip else socket.AF_INET\n"
	    "b = socket.inet_pton(f, ip).ljust(16, b\"\\0\")\n"
	    "open(sys.argv[4], \"wb\").write(struct.pack(\"<BB6xq16s\", f, int(sys.argv[2]), "
	    "int(time.time()) - int(sys.argv[3]), b))' %s %d %ld %s/queue/lock/tcpto",
	    ip, flag, age, home), 0, "%s", out);
}

static const char *
tcpto_list(void)
{
	sh(out, sizeof(out), "QMAILHOME=%s %s/qmail-tcpto", home, env("SQ_BUILDDIR"));
	return out;
}

Test(tcpto, dead_for_qmails_period_then_retried)
{
	/* two timeouts a minute ago: skipped without a connection attempt */
	tcpto_set("10.38.0.2", 2, 60);
	cr_assert_str_eq(remote("amx.test", "u@amx.test"),
	    "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|");
	cr_assert(strncmp(tcpto_list(), "10.38.0.2 timed out 6", 21) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "; # recent timeouts: 2\n"), "%s", out);
	/* qmail's period is (60 + pid % 32) * 64 s: 3839 s is within it for any pid */
	tcpto_set("10.38.0.2", 2, 3839);
	cr_assert(strncmp(remote("amx.test", "u@amx.test"), "ZSorry, I wasn't able", 21) == 0,
	    "%s", out);
	/* past the longest period: tried again, and the record is cleared */
	tcpto_set("10.38.0.2", 2, 5825);
	cr_assert(strncmp(remote("amx.test", "u@amx.test"), "r|K10.38.0.2 accepted", 21) == 0,
	    "%s", out);
	cr_assert_str_eq(tcpto_list(), "");
	/* one timeout is not enough to skip */
	tcpto_set("10.38.0.2", 1, 10);
	cr_assert(strncmp(remote("amx.test", "u@amx.test"), "r|K10.38.0.2 accepted", 21) == 0,
	    "%s", out);
	/* qmail-tcpok forgets */
	tcpto_set("10.38.0.2", 2, 60);
	cr_assert_eq(sh(out, sizeof(out), "QMAILHOME=%s %s/qmail-tcpok", home, env("SQ_BUILDDIR")), 0);
	cr_assert_str_eq(tcpto_list(), "");
	cr_assert(strncmp(remote("amx.test", "u@amx.test"), "r|K10.38.0.2 accepted", 21) == 0,
	    "%s", out);
	/* a dead IPv6 address of an MX: its IPv4 address takes the mail */
	tcpto_set("fd38::2", 2, 60);
	cr_assert(strncmp(remote("plain.test", "u@plain.test"), "r|K10.38.0.2 accepted", 21) == 0,
	    "%s", out);
}

Test(tcpto, a_second_timeout_counts_after_two_minutes)
{
	double t0;

	ctl("timeoutconnect", "1\n");
	/* within two minutes of the last one: not counted */
	tcpto_set("10.38.5.5", 1, 60);
	remote("blackhole.test", "u@blackhole.test");
	cr_assert_not_null(strstr(tcpto_list(), "# recent timeouts: 1\n"), "%s", out);
	/* later: counted, and the address is skipped from then on */
	tcpto_set("10.38.5.5", 1, 200);
	cr_assert_str_eq(remote("blackhole.test", "u@blackhole.test"),
	    "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|");
	cr_assert_not_null(strstr(tcpto_list(), "# recent timeouts: 2\n"), "%s", out);
	/* a connection attempt would now take 5 s: far more than a skip
	 * takes even on a loaded machine */
	ctl("timeoutconnect", "5\n");
	t0 = now_s();
	remote("blackhole.test", "u@blackhole.test");
	cr_assert(now_s() - t0 < 4.0, "not skipped: %.2f s", now_s() - t0);
}

TestSuite(llu, .init = client, .fini = client_done, .timeout = 60);

Test(llu, domainips_link_local_source)
{
	const char *id = getenv("SQ_NETNS_ID");
	char line[256];

	ctl("smtproutes", "ll.test:[fe80::38:7]:2527\n");
	/* s/qmail's LLU form: the address and its interface */
	snprintf(line, sizeof(line), "client.test:fe80::38:1%%sqtr-c%s|helo.ll.test\n", id ? id : "");
	ctl("domainips", line);
	cr_assert(strncmp(remote("ll.test", "ll1@sq.test"), "r|Kfe80::38:7 accepted", 22) == 0,
	    "%s", out);
	cr_assert_eq(sh(out, sizeof(out), "grep -c 'Connection from \\[fe80::38:1\\]' "
	    "%s/peer2527.log", net), 0, "the peer saw no connection from fe80::38:1");
	/* without the interface a link-local address is of no link */
	ctl("domainips", "client.test:fe80::38:1\n");
	cr_assert_str_eq(remote("ll.test", "ll2@sq.test"),
	    "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|");
	ctl("domainips", "client.test:fe80::38:1%nosuchif0\n");
	cr_assert_str_eq(remote("ll.test", "ll3@sq.test"),
	    "Zcontrol/domainips names an interface this machine does not have. (#4.3.0)\n|");
	/* a route may name the link itself */
	ctl("domainips", "");
	snprintf(line, sizeof(line), "ll.test:[fe80::38:7%%sqtr-c%s]:2527\n", id ? id : "");
	ctl("smtproutes", line);
	cr_assert(strncmp(remote("ll.test", "ll4@sq.test"), "r|Kfe80::38:7 accepted", 22) == 0,
	    "%s", out);
}
