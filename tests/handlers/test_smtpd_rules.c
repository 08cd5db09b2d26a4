/* SPDX-License-Identifier: MIT
 * test_smtpd_rules.c - per-client rules (control/rules.smtpd.cdb from tcprules),
 * the recipients extension with qmail-recipients, and lib/rules.c directly.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rules.h"
#include "smtp_harness.h"

static int
have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* tcprules_make - compile rules text with ucspi-tcp's tcprules into control/ */
static void
tcprules_make(const char *text)
{
	char cmd[1024];

	if (!have("tcprules"))
		cr_skip_test("tcprules (ucspi-tcp) not installed");
	harness_control("rules.smtpd.txt", text);
	snprintf(cmd, sizeof(cmd), "cd %s/control && tcprules rules.smtpd.cdb rules.smtpd.tmp "
	    "< rules.smtpd.txt", H.home);
	cr_assert_eq(system(cmd), 0, "tcprules failed");
}

/* cdb_make_records - "+klen,dlen:key->data" records (n bytes, may hold NULs)
 * through tinycdb's cdb -c */
static void
cdb_make_records(const char *file, const char *records, size_t n)
{
	char cmd[1024], path[512];
	FILE *fp;

	if (!have("cdb"))
		cr_skip_test("cdb (tinycdb) not installed");
	snprintf(path, sizeof(path), "%s/records.txt", H.home);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fwrite(records, 1, n, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "cd %s && cdb -c %s < records.txt", H.home, file);
	cr_assert_eq(system(cmd), 0, "cdb -c failed");
}
#define CDB_RECORDS(file, lit) cdb_make_records(file, lit, sizeof(lit) - 1)

static char *
session(const char *lines, int *code)
{
	struct session_result r;
	char *in = harness_crlf(lines), *out;

	harness_session(in, strlen(in), 0, &r);
	out = harness_norm(r.out);
	free(in);
	free(r.out);
	if (code)
		*code = r.exitcode;
	return out;
}

TestSuite(rules, .init = harness_setup, .fini = harness_teardown, .timeout = 30);

Test(rules, allow_sets_relayclient)
{
	char *out, *env;

	tcprules_make("192.0.2.:allow,RELAYCLIENT=\"@gw.test\"\n:allow\n");
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<u@other.test>\nDATA\nx\n.\nQUIT\n", NULL);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n"
	    "354 go ahead\n250 2.0.0 ok N qp N\n221 2.0.0 test.example\n");
	env = harness_read_rec("env", NULL);
	cr_assert(memcmp(env, "Fa@b.test\0Tu@other.test@gw.test\0", 32) == 0);
	free(out);
	free(env);
	unsetenv("RELAYCLIENT");
}

Test(rules, exact_ip_wins_over_prefix)
{
	char *out;

	tcprules_make("192.0.2.7:allow,DATABYTES=\"10\"\n192.0.2.:deny\n");
	out = session("EHLO x\nQUIT\n", NULL);
	cr_assert_not_null(strstr(out, "250-SIZE 10\n"), "%s", out);
	free(out);
	unsetenv("DATABYTES");
}

Test(rules, deny_refuses_with_554)
{
	char *out;
	int code;

	tcprules_make("192.0.2.7:deny\n:allow\n");
	out = session("MAIL FROM:<a@b.test>\nQUIT\n", &code);
	cr_assert_str_eq(out, "554 5.7.1 sorry, this client may not use this service\n");
	cr_assert_eq(code, 1);
	free(out);
}

Test(rules, default_rule_and_no_match)
{
	char *out;
	int code;

	tcprules_make("10.:allow,RELAYCLIENT=\"\"\n:deny\n");
	out = session("QUIT\n", &code);
	cr_assert_str_eq(out, "554 5.7.1 sorry, this client may not use this service\n");
	free(out);
	tcprules_make("10.:allow,RELAYCLIENT=\"\"\n");
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<u@other.test>\nQUIT\n", &code);
	cr_assert_not_null(strstr(out, "553 5.7.1"), "no rule, no relay: %s", out);
	free(out);
}

Test(rules, tcpserver_already_applied)
{
	char *out;

	tcprules_make(":deny\n");
	setenv("PROTO", "TCP", 1);
	out = session("QUIT\n", NULL);
	unsetenv("PROTO");
	cr_assert_str_eq(out, "220 test.example ESMTP\n221 2.0.0 test.example\n");
	free(out);
}

Test(rules, ipv6_prefix)
{
	char *out;

	/* Debian's tcprules knows IPv4 only: write the IPv6 keys with tinycdb, in the
	 * form of ucspi-tcp's IPv6 patch (compact address, prefixes ending in ':') */
	CDB_RECORDS("control/rules.smtpd.cdb",
	    "+9,14:2001:db8:->+RELAYCLIENT=\0\n+0,1:->D\n\n");
	setenv("TCPREMOTEIP", "2001:db8::5", 1);
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<u@other.test>\nQUIT\n", NULL);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n"
	    "221 2.0.0 test.example\n");
	free(out);
	unsetenv("RELAYCLIENT");
	setenv("TCPREMOTEIP", "2001:db9::5", 1);
	out = session("QUIT\n", NULL);
	cr_assert_str_eq(out, "554 5.7.1 sorry, this client may not use this service\n");
	free(out);
}

Test(rules, broken_file_is_421)
{
	char *out;
	int code;

	harness_control("rules.smtpd.cdb", "not a cdb");
	out = session("QUIT\n", &code);
	cr_assert_str_eq(out, "421 4.3.0 unable to read controls\n");
	cr_assert_eq(code, 111);
	free(out);
}

Test(rules, lookup_order_unit)
{
	struct rules_match m;
	char path[512];

	CDB_RECORDS("r.cdb", "+13,4:joe@192.0.2.7->+A=1\n+9,4:192.0.2.7->+A=2\n"
	    "+8,4:192.0.2.->+A=3\n+11,4:=.host.test->+A=4\n+0,4:->+A=5\n\n");
	snprintf(path, sizeof(path), "%s/r.cdb", H.home);
	cr_assert_eq(rules_lookup(path, "192.0.2.7", NULL, "joe", &m), 0);
	cr_assert_str_eq(m.key, "joe@192.0.2.7");
	cr_assert_eq(rules_lookup(path, "192.0.2.7", NULL, "bill", &m), 0);
	cr_assert_str_eq(m.key, "192.0.2.7");
	cr_assert_eq(rules_lookup(path, "192.0.2.9", NULL, NULL, &m), 0);
	cr_assert_str_eq(m.key, "192.0.2.");
	cr_assert_eq(rules_lookup(path, "198.51.100.1", "a.host.test", NULL, &m), 0);
	cr_assert_str_eq(m.key, "=.host.test");
	cr_assert_eq(rules_lookup(path, "198.51.100.1", NULL, NULL, &m), 0);
	cr_assert_eq(m.found, 1);
	cr_assert_str_eq(m.key, "");
	cr_assert_eq(rules_setenv(&m), 1);
	cr_assert_str_eq(getenv("A"), "5");
	unsetenv("A");
	snprintf(path, sizeof(path), "%s/missing.cdb", H.home);
	cr_assert_eq(rules_lookup(path, "192.0.2.7", NULL, NULL, &m), 0);
	cr_assert_eq(m.found, 0);
}

/* recipients_make - users/recipients through the built qmail-recipients */
static void
recipients_make(const char *list)
{
	const char *build = getenv("SQ_BUILDDIR");
	char path[512], cmd[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/users", H.home);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/users/recipients", H.home);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(list, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "%s/handlers/recipients/qmail-recipients",
	    build ? build : ".");
	cr_assert_eq(system(cmd), 0, "qmail-recipients failed");
}

Test(rules, recipients_extension)
{
	char *out;

	recipients_make("# valid users\nalice@example.com\nBob@Example.com  \nlist-@example.com\n");
	harness_control("recipients", "example.com:users/recipients.cdb\n");
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<alice@example.com>\nRCPT TO:<ALICE@example.COM>\n"
	    "RCPT TO:<bob@example.com>\nRCPT TO:<carol@example.com>\nRCPT TO:<list-owner@example.com>\n"
	    "RCPT TO:<alice-ext@example.com>\nRCPT TO:<x@sub.wild.example>\nQUIT\n", NULL);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n250 2.1.5 ok\n"
	    "250 2.1.5 ok\n550 5.1.1 sorry, no mailbox here by that name\n250 2.1.5 ok\n"
	    "550 5.1.1 sorry, no mailbox here by that name\n"
	    "550 5.1.1 sorry, no mailbox here by that name\n221 2.0.0 test.example\n");
	free(out);
	/* "!*" lets the domains no line names pass; RECIPIENTS450 softens */
	harness_control("recipients", "example.com:users/recipients.cdb\n!*\n");
	setenv("RECIPIENTS450", "", 1);
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<x@sub.wild.example>\n"
	    "RCPT TO:<carol@example.com>\nQUIT\n", NULL);
	unsetenv("RECIPIENTS450");
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n"
	    "450 4.1.1 sorry, no mailbox here by that name\n221 2.0.0 test.example\n");
	free(out);
	/* "!domain" accepts all of it; "@exact:" does not match subdomains; "*:" all */
	harness_control("recipients", "!sub.wild.example\n@example.com:users/recipients.cdb\n");
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<x@sub.wild.example>\n"
	    "RCPT TO:<alice@example.com>\nQUIT\n", NULL);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n250 2.1.5 ok\n"
	    "221 2.0.0 test.example\n");
	free(out);
	/* relay clients are not checked */
	setenv("RELAYCLIENT", "", 1);
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<carol@example.com>\nQUIT\n", NULL);
	unsetenv("RELAYCLIENT");
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n"
	    "221 2.0.0 test.example\n");
	free(out);
}

Test(rules, recipients_broken_cdb_is_temporary)
{
	char *out;

	harness_control("recipients", "example.com:control/me\n");
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<alice@example.com>\nQUIT\n", NULL);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n"
	    "451 4.3.0 unable to read recipients, try again later\n221 2.0.0 test.example\n");
	free(out);
	/* a cdb that does not exist knows nobody */
	harness_control("recipients", "example.com:users/none.cdb\n");
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<alice@example.com>\nQUIT\n", NULL);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n"
	    "550 5.1.1 sorry, no mailbox here by that name\n221 2.0.0 test.example\n");
	free(out);
}

/* "domain|program": the address on fd 3 as addr\0\0\0, exit 0 known, 111 temporary */
Test(rules, recipients_program)
{
	char path[512], line[700], *out;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/checkrcpt.sh", H.home);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("#!/bin/sh\n[ \"$1\" = -x ] || exit 1\naddr=$(tr '\\000' '\\n' <&3 | head -n 1)\n"
	    "case $addr in alice@example.com|list-@example.com) exit 0 ;; tmp@*) exit 111 ;; esac\n"
	    "exit 1\n", fp);
	fclose(fp);
	chmod(path, 0755);
	snprintf(line, sizeof(line), "example.com|%s -x\n", path);
	harness_control("recipients", line);
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<Alice@Example.com>\nRCPT TO:<bob@example.com>\n"
	    "RCPT TO:<list-bounce-x=y@example.com>\nRCPT TO:<tmp@example.com>\nQUIT\n", NULL);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n"
	    "550 5.1.1 sorry, no mailbox here by that name\n250 2.1.5 ok\n"
	    "451 4.3.0 unable to read recipients, try again later\n221 2.0.0 test.example\n");
	free(out);
}

/* TARPITCOUNT/TARPITDELAY: after the first RCPT, each reply waits a second */
Test(rules, tarpit_delays_replies)
{
	struct timespec t0, t1;
	char *out;
	double secs;

	setenv("TARPITCOUNT", "1", 1);
	setenv("TARPITDELAY", "1", 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<a@example.com>\nRCPT TO:<b@example.com>\n"
	    "RCPT TO:<c@other.test>\nQUIT\n", NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	unsetenv("TARPITCOUNT");
	unsetenv("TARPITDELAY");
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n250 2.1.5 ok\n"
	    "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts\n"
	    "221 2.0.0 test.example\n");
	cr_assert_geq(secs, 1.9, "tarpit took %.2f s", secs);
	cr_assert_lt(secs, 10.0, "tarpit took %.2f s", secs);
	free(out);
}
