/* SPDX-License-Identifier: MIT
 * test_netns.c - qmail-remote with real DNS (dnsmasq) and real peers
 * (smtp-sink, Postfix with TLS and Cyrus SASL, another sqmail) in network
 * namespaces set up by netns.sh; and qmail-send's remote deliveries through
 * qmail-rspawn: delivered, bounced at once on 5xx, retried on 4xx and
 * bounced after queuelifetime.  Needs root (skips otherwise). */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netns_util.h"

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	netns_names();
	if (geteuid() != 0 || sh(NULL, 0, "command -v dnsmasq && command -v smtp-sink && "
	    "command -v ip") != 0)
		return;
	sh(NULL, 0, "rm -rf %s", net);
	/* the tests run in other processes (re-executed): a file says "up" */
	sh(NULL, 0, "sh %s/tests/remote/netns.sh up %s %s %s >%s.log 2>&1 && touch %s/up",
	    env("SQ_SRCDIR"), net, env("SQ_BUILDDIR"), env("SQ_SRCDIR"), net, net);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	netns_names();
	if (geteuid() == 0)
		sh(NULL, 0, "sh %s/tests/remote/netns.sh down %s; rm -rf %s %s.log",
		    env("SQ_SRCDIR"), net, net, net);
}

TestSuite(dns, .init = client, .fini = client_done, .timeout = 60);

Test(dns, mx_implicit_mx_cname_ipv6)
{
	cr_assert_str_eq(remote("plain.test", "u@plain.test"),
	    "r|Kfd38::2 accepted message.\nRemote host said: 250 2.0.0 Ok\n|", "IPv6 first: %s", out);
	cr_assert(strncmp(remote("amx.test", "u@amx.test"), "r|K10.38.0.2 accepted", 21) == 0,
	    "implicit MX: %s", out);
	cr_assert(strncmp(remote("alias2.test", "u@alias2.test"), "r|K10.38.0.2 accepted", 21) == 0,
	    "CNAME chain: %s", out);
	cr_assert(strncmp(remote("v6only.test", "u@v6only.test"), "r|Kfd38::2 accepted", 19) == 0,
	    "AAAA only: %s", out);
	cr_assert(strncmp(remote("v6dead.test", "u@v6dead.test"), "r|K10.38.0.2 accepted", 21) == 0,
	    "IPv6 refused, IPv4 works: %s", out);
	cr_assert(strncmp(remote("[10.38.0.2]", "u@[10.38.0.2]"), "r|K10.38.0.2 accepted", 21) == 0,
	    "literal: %s", out);
}

Test(dns, next_mx_after_failure)
{
	cr_assert(strncmp(remote("multi.test", "u@multi.test"), "r|Kfd38::2 accepted", 19) == 0,
	    "4xx at the best MX, the next one takes it: %s", out);
	cr_assert(strncmp(remote("dead.test", "u@dead.test"), "r|Kfd38::2 accepted", 19) == 0,
	    "best MX refuses connections: %s", out);
	cr_assert(strncmp(remote("temp.test", "u@temp.test"),
	    "ZConnected to 10.38.0.3 but sender was rejected.", 48) == 0, "%s", out);
	cr_assert(strncmp(remote("perm.test", "u@perm.test"),
	    "h10.38.0.4 does not like recipient.", 35) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "|DGiving up on 10.38.0.4.\n|"), "%s", out);
}

Test(dns, random_choice_among_equal_preferences)
{
	int plain = 0, perm = 0;

	/* two MX of preference 10: one accepts, one refuses the recipient */
	for (int i = 0; i < 16; i++) {
		remote("equal.test", "u@equal.test");
		plain += strncmp(out, "r|Kfd38::2 accepted", 19) == 0;
		perm += strncmp(out, "h10.38.0.4 does not like", 24) == 0;
		usleep(20000);
	}
	cr_assert_eq(plain + perm, 16);
	cr_assert(plain > 0 && perm > 0, "always the same MX: %d %d", plain, perm);
}

Test(dns, failures)
{
	cr_assert_str_eq(remote("nullmx.test", "u@nullmx.test"),
	    "Dnullmx.test does not accept mail: null MX (RFC 7505). (#5.1.10)\n|");
	cr_assert_str_eq(remote("nothing.test", "u@nothing.test"),
	    "DSorry, I couldn't find any host named nothing.test. (#5.1.2)\n|");
	cr_assert(strncmp(remote("slow.test", "u@plain.test"), "ZDNS lookup for slow.test failed "
	    "temporarily", 40) == 0, "%s", out);
	/* the recipient's domain is looked up first (its CNAME, as qmail does) */
	cr_assert(strncmp(remote("slow.test", "u@slow.test"), "ZCNAME lookup failed temporarily. "
	    "(#4.4.3)\n", 42) == 0, "%s", out);
	cr_assert(strncmp(remote("self.test", "u@self.test"), "DSorry. Although I'm listed as a "
	    "best-preference MX", 49) == 0, "never to myself: %s", out);
	cr_assert(strncmp(remote("selflast.test", "u@selflast.test"), "r|Kfd38::2 accepted", 19) == 0,
	    "%s", out);
}

Test(dns, routes_and_domainips)
{
	ctl("smtproutes", "route.test:mx1.plain.test;25\nv6route.test:[fd38::2]:25\n");
	ctl("domainips", "client.test:10.38.0.1|helo.client.test\n");
	cr_assert(strncmp(remote("route.test", "u@route.test"), "r|Kfd38::2 accepted", 19) == 0,
	    "%s", out);
	cr_assert(strncmp(remote("v6route.test", "u@v6route.test"), "r|Kfd38::2 accepted", 19) == 0,
	    "%s", out);
	ctl("smtproutes", "route.test:[10.38.0.7]\n");
	cr_assert(strncmp(remote("route.test", "u@sq.test"), "r|K10.38.0.7 accepted", 21) == 0,
	    "%s", out);
	/* the sqmail peer logs the EHLO name it got and the peer address */
	cr_assert_eq(sh(out, sizeof(out), "sleep 0.3; cat %s/peer/queue/mess/*/* | "
	    "grep -c 'helo.client.test'", net), 0, "%s", out);
}

Test(dns, connect_timeout_and_tcpto)
{
	time_t t0;

	ctl("timeoutconnect", "1\n");
	t0 = time(NULL);
	cr_assert_str_eq(remote("blackhole.test", "u@blackhole.test"),
	    "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|");
	cr_assert(time(NULL) - t0 <= 4, "%ld s", (long)(time(NULL) - t0));
	cr_assert_eq(sh(out, sizeof(out), "QMAILHOME=%s %s/qmail-tcpto", home, env("SQ_BUILDDIR")), 0);
	cr_assert(strncmp(out, "10.38.5.5 timed out ", 20) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "# recent timeouts: 1\n"), "%s", out);
	cr_assert_eq(sh(out, sizeof(out), "QMAILHOME=%s %s/qmail-tcpok && QMAILHOME=%s %s/qmail-tcpto",
	    home, env("SQ_BUILDDIR"), home, env("SQ_BUILDDIR")), 0);
	cr_assert_str_eq(out, "");
}

Test(dns, tcpto_programs)
{
	cr_assert_eq(sh(out, sizeof(out), "QMAILHOME=%s %s/qmail-tcpok && QMAILHOME=%s %s/qmail-tcpto",
	    home, env("SQ_BUILDDIR"), home, env("SQ_BUILDDIR")), 0);
	cr_assert_str_eq(out, "");
}

TestSuite(tls, .init = client, .fini = client_done, .timeout = 60);

Test(tls, starttls_policies_and_smtps)
{
	char line[1024], pin[200] = "";

	cr_assert_eq(sh(pin, sizeof(pin), "tr -d '\\n' < %s/postfix/server.sha256", net), 0);
	cr_assert(strlen(pin) == 64, "fingerprint: %s", pin);
	cr_assert_not_null(strstr(remote("tls.test", "u@tls.test"), "verified=no (opportunistic)"),
	    "%s", out);
	snprintf(line, sizeof(line), "=mx.tls.test:%s/postfix/ca.pem\n", net);
	ctl("tlsdestinations", line);
	cr_assert_not_null(strstr(remote("tls.test", "u@tls.test"), "verified=yes (verify+name)"),
	    "%s", out);
	ctl("smtproutes", "tls.test:mx.tls.test;465\n");
	cr_assert_not_null(strstr(remote("tls.test", "u@tls.test"), "|K10.38.0.5 accepted message.\nTLS: "),
	    "SMTPS: %s", out);
	ctl("smtproutes", "");
	ctl("tlsdestinations", "=mx.tls.test\n");	/* system trust store: unknown CA */
	cr_assert(strncmp(remote("tls.test", "u@tls.test"), "ZTLS connection to 10.38.0.5 failed: "
	    "certificate not accepted", 60) == 0, "%s", out);
	/* a certificate that does not name the host it was reached as */
	snprintf(line, sizeof(line), "~other.tls.test:%s/postfix/ca.pem\n", net);
	ctl("tlsdestinations", line);
	ctl("smtproutes", "tls.test:other.tls.test\n");
	cr_assert(strncmp(remote("tls.test", "u@tls.test"), "ZTLS connection to 10.38.0.5 failed: "
	    "certificate not accepted", 60) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "name in the certificate does not match"), "%s", out);
	ctl("smtproutes", "");
	snprintf(line, sizeof(line), "%%mx.tls.test:=%s\n", pin);
	ctl("tlsdestinations", line);
	cr_assert_not_null(strstr(remote("tls.test", "u@tls.test"), "verified=yes (pinned)"), "%s", out);
	pin[0] = pin[0] == '0' ? '1' : '0';
	snprintf(line, sizeof(line), "%%mx.tls.test:=%s\n", pin);
	ctl("tlsdestinations", line);
	cr_assert_str_eq(remote("tls.test", "u@tls.test"), "ZTLS connection to 10.38.0.5 failed: "
	    "server certificate does not match the pinned fingerprint (#4.7.5)\n|");
	ctl("tlsdestinations", "!mx.tls.test\n");
	cr_assert(strncmp(remote("tls.test", "u@tls.test"), "r|K10.38.0.5 accepted message.\nRemote", 37)
	    == 0, "never TLS: %s", out);
	ctl("tlsdestinations", "-mx1.plain.test\n");
	cr_assert(strncmp(remote("plain.test", "u@plain.test"), "ZTLS is required for ", 21) == 0,
	    "smtp-sink offers no STARTTLS: %s", out);
}

Test(tls, domaincerts_client_certificate)
{
	char line[1024];

	snprintf(line, sizeof(line), "client.test:%s/postfix/client.pem|%s/postfix/client.key\n",
	    net, net);
	ctl("domaincerts", line);
	cr_assert(strncmp(remote("tls.test", "u-ccert@tls.test"), "r|K10.38.0.5 accepted", 21) == 0,
	    "%s", out);
	/* Postfix's Received line names the client certificate it verified */
	for (int i = 0; i < 50 && sh(NULL, 0, "grep -rqs 'Client CN \"sqtest client\"' "
	    "%s/postfix/Maildir/new", net) != 0; i++)
		usleep(100000);
	cr_assert_eq(sh(out, sizeof(out), "grep -rh -A1 'Client CN' %s/postfix/Maildir/new | "
	    "grep -c 'verified OK'", net), 0, "%s", out);
}

Test(tls, auth_with_postfix_sasl)
{
	static const char *const ports[] = { "25", "2525", "2526", "465" };
	static const char *const mech[] = { "CRAM-MD5", "PLAIN", "LOGIN", "CRAM-MD5" };
	char line[256], id[64];
	const char *q;

	ctl("smtproutes", "relay.test:mx.tls.test\n");
	cr_assert(strncmp(remote("relay.test", "u@relay.test"), "h10.38.0.5 does not like recipient.", 35)
	    == 0, "relaying needs AUTH: %s", out);
	for (int i = 0; i < 4; i++) {
		snprintf(line, sizeof(line), "relay.test:mx.tls.test:%s|sqtest|sqpass\n", ports[i]);
		ctl("smtproutes", line);
		cr_assert(strncmp(remote("relay.test", "u@relay.test"), "r|K10.38.0.5 accepted", 21) == 0,
		    "port %s: %s", ports[i], out);
		q = strstr(out, "queued as ");
		cr_assert_not_null(q, "%s", out);
		snprintf(id, sizeof(id), "%.*s", (int)strcspn(q + 10, "\n"), q + 10);
		cr_assert_eq(sh(out, sizeof(out), "sleep 0.2; grep -c '%s: client=.*sasl_method=%s, "
		    "sasl_username=sqtest' %s/postfix/maillog", id, mech[i], net), 0,
		    "%s %s", id, mech[i]);
	}
	ctl("smtproutes", "relay.test:mx.tls.test|sqtest|wrong\n");
	cr_assert(strncmp(remote("relay.test", "u@relay.test"), "ZAUTH CRAM-MD5 at 10.38.0.5 failed.", 35)
	    == 0, "%s", out);
	ctl("smtproutes", "");
	ctl("authsenders", "a@client.test:mx.tls.test;2525|sqtest|sqpass\n");
	cr_assert(strncmp(remote("relay.test", "u@relay.test"), "r|K10.38.0.5 accepted", 21) == 0,
	    "authsenders: %s", out);
}

/* --- qmail-send -> qmail-rspawn -> qmail-remote, a whole instance in the
 * client namespace (sandbox.sh) --- */

static void
instance(void)
{
	client();
	ctl("queuelifetime", "3\n");	/* read at start: 4xx becomes a bounce soon */
	/* tests run in parallel: each instance its own port */
	cr_assert_eq(sh(out, sizeof(out), "ip netns exec %s env SMTP_PORT=%d "
	    "SANDBOX_IPV6=no sh %s/sandbox-tools/sandbox.sh start %s %s 2>&1", ns_c,
	    38300 + (int)(getpid() % 500), env("SQ_SRCDIR"), home, env("SQ_BUILDDIR")), 0, "%s", out);
}

/* inject - sendmail from alice@sandbox.test to rcpt, the token in the subject */
static void
inject(const char *rcpt, const char *token)
{
	cr_assert_eq(sh(out, sizeof(out), "printf 'Subject: %s\\n\\nbody %s\\n' | "
	    "%s/bin/sendmail -f alice@sandbox.test %s 2>&1", token, token, home, rcpt), 0,
	    "%s", out);
}

/* wait_grep - up to tenths/10 s for a file under dir holding both words */
static int
wait_grep(const char *dir, const char *w1, const char *w2, int tenths)
{
	for (int i = 0; i < tenths; i++) {
		if (sh(NULL, 0, "grep -rl -- '%s' %s 2>/dev/null | xargs -r grep -l -- '%s' | "
		    "grep -q .", w1, dir, w2) == 0)
			return 0;
		usleep(100000);
	}
	return -1;
}

/* send_alarm - SIGALRM to this instance's qmail-send: retry now */
static void
send_alarm(void)
{
	cr_assert_eq(sh(out, sizeof(out), "for p in /proc/[0-9]*; do "
	    "[ \"$(cat $p/comm 2>/dev/null)\" = qmail-send ] || continue; "
	    "case $(readlink $p/cwd) in %s/*) kill -ALRM ${p#/proc/}; echo sent;; esac; done",
	    home), 0);
	cr_assert_not_null(strstr(out, "sent"), "no qmail-send found");
}

TestSuite(send, .init = instance, .fini = client_done, .timeout = 60);

Test(send, remote_mail_leaves_and_bounces)
{
	char maildir[512], peerq[512];

	snprintf(maildir, sizeof(maildir), "%s/home/alice/Maildir/new", home);
	snprintf(peerq, sizeof(peerq), "%s/peer/queue/mess", net);
	inject("u@sq.test", "tok-sq-1");
	cr_assert_eq(wait_grep(peerq, "tok-sq-1", "Received", 150), 0,
	    "the message did not reach the sqmail peer");
	/* 5xx to RCPT: bounced at once, in QSBMF */
	inject("u@perm.test", "tok-perm-2");
	cr_assert_eq(wait_grep(maildir, "tok-perm-2", "does not like recipient", 150), 0,
	    "no bounce for the 5xx");
	cr_assert_eq(wait_grep(maildir, "tok-perm-2", "<u@perm.test>:", 1), 0, "not QSBMF");
	cr_assert_eq(sh(out, sizeof(out), "grep -c 'success: 10.38.0.7_accepted_message' "
	    "%s/log/send.log", home), 0, "%s", out);
}

Test(send, temporary_failure_until_queuelifetime)
{
	char maildir[512];

	snprintf(maildir, sizeof(maildir), "%s/home/alice/Maildir/new", home);
	inject("u@temp.test", "tok-temp-3");
	for (int i = 0; i < 100 && sh(NULL, 0, "grep -q 'deferral: Connected_to_10.38.0.3_but_sender_"
	    "was_rejected' %s/log/send.log", home) != 0; i++)
		usleep(100000);
	cr_assert_eq(sh(out, sizeof(out), "grep -c 'deferral: Connected_to_10.38.0.3' %s/log/send.log",
	    home), 0, "no deferral logged");
	cr_assert_neq(wait_grep(maildir, "tok-temp-3", "", 10), 0, "bounced before queuelifetime");
	sleep(4);
	send_alarm();
	cr_assert_eq(wait_grep(maildir, "tok-temp-3", "sender was rejected", 150), 0,
	    "no bounce after queuelifetime");
}
