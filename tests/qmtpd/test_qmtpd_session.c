/* SPDX-License-Identifier: MIT
 * test_qmtpd_session.c - qmail-qmtpd's engine on a socketpair: sessions, policy,
 * qmail-queue results, and every malformed stream (nothing queued, no hang).
 */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmtp_harness.h"
#include "qmtpd.h"

TestSuite(qmtpd, .init = qh_setup, .fini = qh_teardown, .timeout = 30);

/* ns - append netstring(s) to b at *off */
static void
ns(char *b, size_t *off, const char *s, size_t n)
{
	*off += (size_t)sprintf(b + *off, "%zu:", n);
	memcpy(b + *off, s, n);
	*off += n;
	b[(*off)++] = ',';
}

/* qmsg - one QMTP message: body (with its line-ending byte), sender, rcpts (NULL-ended) */
static size_t
qmsg(char *b, size_t off, const char *body, const char *sender, ...)
{
	char list[4096];
	size_t lo = 0;
	const char *r;
	va_list ap;

	va_start(ap, sender);
	while ((r = va_arg(ap, const char *)) != NULL)
		ns(list, &lo, r, strlen(r));
	va_end(ap);
	ns(b, &off, body, strlen(body));
	ns(b, &off, sender, strlen(sender));
	ns(b, &off, list, lo);
	return off;
}

static void
rm_rec(void)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/env", Q.rec);
	unlink(p);
	snprintf(p, sizeof(p), "%s/msg", Q.rec);
	unlink(p);
}

/* queued - did qmail-queue get an envelope (qmail-queue queues only then)? */
static int
queued(void)
{
	size_t len = 0;
	char *env = qh_read_rec("env", &len);

	free(env);
	return env != NULL && len > 0;
}

static const char BODY[] = "\nSubject: t\n\nhello\n";

Test(qmtpd, single_message)
{
	char in[8192], *msg, *env;
	struct qh_result r;
	size_t n, envlen;

	n = qmsg(in, 0, BODY, "s@b.test", "alice@example.com", "bob@example.com", NULL);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_eq(r.exitcode, 0, "exit %d: %s", r.exitcode, r.out);
	cr_assert(strncmp(r.out, "", 0) == 0);
	cr_assert(r.out[0] >= '1' && strstr(r.out, ":Kok ") != NULL, "%s", r.out);
	cr_assert_not_null(strstr(strstr(r.out, ":Kok ") + 1, ":Kok "), "two answers: %s", r.out);
	msg = qh_read_rec("msg", NULL);
	cr_assert_not_null(msg);
	cr_assert(strncmp(msg, "Received: from unknown (192.0.2.7)\n  by test.example with QMTP; ",
	    63) == 0, "%s", msg);
	cr_assert_not_null(strstr(msg, " -0000\nSubject: t\n\nhello\n"), "%s", msg);
	env = qh_read_rec("env", &envlen);
	cr_assert_eq(envlen, sizeof("Fs@b.test\0Talice@example.com\0Tbob@example.com\0"));
	cr_assert(memcmp(env, "Fs@b.test\0Talice@example.com\0Tbob@example.com\0\0", envlen) == 0);
	free(msg);
	free(env);
	free(r.out);
}

Test(qmtpd, crlf_message)
{
	char in[8192], *msg;
	struct qh_result r;
	size_t n;

	n = qmsg(in, 0, "\rSubject: t\r\n\r\nbare\rcr\r\nend\r\n", "", "a@example.com", NULL);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_eq(r.exitcode, 0);
	cr_assert_not_null(strstr(r.out, ":Kok "), "%s", r.out);
	msg = qh_read_rec("msg", NULL);
	cr_assert_not_null(strstr(msg, "-0000\nSubject: t\n\nbare\rcr\nend\n"), "%s", msg);
	cr_assert_null(strstr(msg, "\r\n"));
	free(msg);
	free(r.out);
}

Test(qmtpd, several_messages)
{
	char in[8192], *all, *p;
	struct qh_result r;
	size_t n;

	n = qmsg(in, 0, "\nSubject: one\n\n1\n", "s@b.test", "a@example.com", NULL);
	n = qmsg(in, n, "\nSubject: two\n\n2\n", "s@b.test", "b@example.com", NULL);
	n = qmsg(in, n, "\nSubject: three\n\n3\n", "", "c@example.com", "d@example.com", NULL);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_eq(r.exitcode, 0);
	for (p = r.out, n = 0; (p = strstr(p, ":Kok ")) != NULL; p++)
		n++;
	cr_assert_eq(n, 4, "one answer per recipient: %s", r.out);
	all = qh_read_rec("all", NULL);
	cr_assert_not_null(strstr(all, "Subject: one\n\n1\n"));
	cr_assert_not_null(strstr(all, "Subject: two\n\n2\n"));
	cr_assert_not_null(strstr(all, "Subject: three\n\n3\n"));
	free(all);
	free(r.out);
}

Test(qmtpd, rcpthosts_and_relayclient)
{
	char in[8192], *env;
	struct qh_result r;
	size_t n, envlen;

	n = qmsg(in, 0, BODY, "s@b.test", "x@elsewhere.test", "a@example.com", NULL);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_eq(r.exitcode, 0);
	cr_assert(strncmp(r.out, "66:Dsorry, that domain isn't in my list of allowed rcpthosts "
	    "(#5.7.1),", 70) == 0, "%s", r.out);
	cr_assert_not_null(strstr(r.out + 70, ":Kok "), "%s", r.out);
	env = qh_read_rec("env", &envlen);
	cr_assert(memcmp(env, "Fs@b.test\0Ta@example.com\0\0", envlen) == 0);
	free(env);
	free(r.out);
	/* only refused recipients: nothing queued */
	n = qmsg(in, 0, BODY, "s@b.test", "x@elsewhere.test", NULL);
	rm_rec();
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert(strncmp(r.out, "66:D", 4) == 0, "%s", r.out);
	cr_assert(!queued());
	free(r.out);
	setenv("RELAYCLIENT", "", 1);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_not_null(strstr(r.out, ":Kok "), "%s", r.out);
	env = qh_read_rec("env", &envlen);
	cr_assert(memcmp(env, "Fs@b.test\0Tx@elsewhere.test\0\0", envlen) == 0);
	free(env);
	free(r.out);
}

Test(qmtpd, databytes)
{
	char in[8192];
	struct qh_result r;
	size_t n;

	qh_control("databytes", "10\n");
	n = qmsg(in, 0, "\nSubject: too long for ten bytes\n\n", "s@b.test", "a@example.com",
	    NULL);
	n = qmsg(in, n, "\nshort\n", "s@b.test", "a@example.com", NULL);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_eq(r.exitcode, 0);
	cr_assert(strncmp(r.out, "61:Dsorry, that message size exceeds my databytes limit "
	    "(#5.3.4),", 65) == 0, "%s", r.out);
	cr_assert_not_null(strstr(r.out + 65, ":Kok "), "%s", r.out);
	free(r.out);
	r.out = qh_read_rec("all", NULL);
	cr_assert_null(strstr(r.out, "Subject"), "the big one was not queued");
	free(r.out);
	setenv("DATABYTES", "1000", 1);
	n = qmsg(in, 0, "\nSubject: fits the environment's limit\n\n", "", "a@example.com",
	    NULL);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_not_null(strstr(r.out, ":Kok "), "%s", r.out);
	free(r.out);
}

Test(qmtpd, queue_results)
{
	char in[8192];
	struct qh_result r;
	size_t n;

	n = qmsg(in, 0, BODY, "s@b.test", "a@example.com", "b@example.com", NULL);
	setenv("QQREC_EXIT", "71", 1);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert(r.out[0] != '\0' && strstr(r.out, ":K") == NULL, "%s", r.out);
	cr_assert(strstr(r.out, ":Z") != NULL && strstr(strstr(r.out, ":Z") + 1, ":Z") != NULL,
	    "Z for both: %s", r.out);
	free(r.out);
	setenv("QQREC_EXIT", "31", 1);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert(strstr(r.out, ":D") != NULL && strstr(r.out, ":K") == NULL, "%s", r.out);
	free(r.out);
}

static void
refused(const char *in, size_t n, const char *why)
{
	struct qh_result r;

	rm_rec();
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_eq(r.outlen, 0, "%s: answered %s", why, r.out);
	cr_assert_eq(r.exitcode, QMTPD_EXIT_DROP, "%s: exit %d", why, r.exitcode);
	cr_assert(!queued(), "%s: something was queued", why);
	cr_assert_lt(r.seconds, 5.0, "%s: took %.1f s", why, r.seconds);
	free(r.out);
}

#define REFUSED(s, why) refused(s, sizeof(s) - 1, why)

Test(qmtpd, malformed)
{
	REFUSED("x:\nhi,1:s,5:1:a@b,,", "non-digit length");
	REFUSED("019:\nSubject: x\n\nhello,1:s,17:13:a@example.com,,", "leading zero");
	REFUSED("19:\nSubject: x\n\nhello;1:s,17:13:a@example.com,,", "missing comma (body)");
	REFUSED("19:\nSubject: x\n\nhello,1:s;17:13:a@example.com,,", "missing comma (sender)");
	REFUSED("19:\nSubject: x\n\nhello,1:s,17:13:a@example.com,;", "missing comma (list)");
	REFUSED("19:\nSubject: x\n\nhello,1:s,17:13:a@example.com;,", "missing comma (rcpt)");
	REFUSED("19:\nSubject: x\n\nhello,1:s,0:,", "empty recipient list");
	REFUSED("19:\nSubject: x\n\nhel", "truncated body");
	REFUSED("19:\nSubject: x\n\nhello,1:s,17:13:a@exa", "truncated list");
	REFUSED("19:\nSubject: x\n\nhello,1:s,", "no list");
	REFUSED("19", "truncated length");
	REFUSED("0:,1:s,17:13:a@example.com,,", "no line-ending byte");
	REFUSED("19:xSubject: x\n\nhello,1:s,17:13:a@example.com,,", "unknown line ending");
	REFUSED("99999999999999999999999:\n", "absurd length");
	REFUSED("19:\nSubject: x\n\nhello,1001:", "sender longer than 1000");
	REFUSED("19:\nSubject: x\n\nhello,1:s,1048577:", "recipient list beyond 1 MiB");
}

Test(qmtpd, malformed_after_good_message)
{
	char in[8192];
	struct qh_result r;
	size_t n;

	n = qmsg(in, 0, BODY, "s@b.test", "a@example.com", NULL);
	memcpy(in + n, "5:x", 3);
	qh_session(qmtpd_serve, in, n + 3, 0, &r);
	cr_assert_eq(r.exitcode, QMTPD_EXIT_DROP);
	cr_assert_not_null(strstr(r.out, ":Kok "), "the first one is answered: %s", r.out);
	free(r.out);
}

Test(qmtpd, stalled_client_times_out)
{
	struct qh_result r;

	qh_control("timeoutqmtpd", "1\n");
	qh_session(qmtpd_serve, "19:\nSubject", 11, 1, &r);
	cr_assert_eq(r.exitcode, QMTPD_EXIT_DROP);
	cr_assert_eq(r.outlen, 0);
	cr_assert_lt(r.seconds, 4.0, "took %.1f s", r.seconds);
	free(r.out);
}

/* hops_message - "\n" + n header lines (Received: and Delivered-To: in turn), body */
static char *
hops_message(unsigned n)
{
	char *b = malloc(64 * (size_t)n + 256);
	size_t off = 0;

	b[off++] = '\n';
	for (unsigned i = 0; i < n; i++)
		off += (size_t)sprintf(b + off, i % 2 ? "Delivered-To: x@example.com\n" :
		    "received: from hop%u\n", i);
	off += (size_t)sprintf(b + off, "Subject: loop\n\nReceived: in the body\n");
	return b;
}

Test(qmtpd, hop_count)
{
	static const char want[] = "48:Dtoo many hops, this message is looping (#5.4.6),";
	char *in = malloc(65536), *body;
	struct qh_result r;
	size_t n;

	/* 99 in the header (the body's does not count): queued */
	body = hops_message(99);
	n = qmsg(in, 0, body, "s@b.test", "a@example.com", NULL);
	free(body);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_not_null(strstr(r.out, ":Kok "), "%s", r.out);
	free(r.out);
	/* 100: qmail-smtpd's limit; refused for every recipient, nothing queued */
	rm_rec();
	body = hops_message(100);
	n = qmsg(in, 0, body, "s@b.test", "a@example.com", "b@example.com", NULL);
	free(body);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_eq(r.exitcode, 0);
	cr_assert_eq(r.outlen, 2 * (sizeof(want) - 1), "%s", r.out);
	cr_assert(strncmp(r.out, want, sizeof(want) - 1) == 0, "%s", r.out);
	cr_assert(!queued());
	free(r.out);
	free(in);
}

Test(qmtpd, hop_count_crlf)
{
	char *in = malloc(65536), *body = malloc(65536);
	struct qh_result r;
	size_t n, off = 0;

	body[off++] = '\r';
	for (int i = 0; i < 100; i++)
		off += (size_t)sprintf(body + off, "Received: from hop%d\r\n", i);
	off += (size_t)sprintf(body + off, "\r\nbody\r\n");
	n = qmsg(in, 0, body, "s@b.test", "a@example.com", NULL);
	qh_session(qmtpd_serve, in, n, 0, &r);
	cr_assert_not_null(strstr(r.out, ":Dtoo many hops"), "%s", r.out);
	cr_assert(!queued());
	free(r.out);
	free(body);
	free(in);
}

/* session_log - what the engine logged (<home>/session.log) */
static char *
session_log(void)
{
	char *l = qh_read_rec("../session.log", NULL);

	cr_assert_not_null(l);
	return l;
}

Test(qmtpd, unified_log_lines)
{
	char in[8192], *log, *p;
	struct qh_result r;
	size_t n;

	n = qmsg(in, 0, BODY, "s@b.test", "alice@example.com", "x@elsewhere.test", NULL);
	qh_session(qmtpd_serve, in, n, 0, &r);
	free(r.out);
	log = session_log();
	/* s/qmail's shape, as qmail-smtpd's (QMTP has no HELO) */
	cr_assert_not_null(strstr(log, "<6>qmail-qmtpd: pid "), "%s", log);
	cr_assert_not_null(strstr(log, " Accept::RCPT::Rcpthosts_Rcptto P:QMTP "
	    "S:192.0.2.7:unknown F:s@b.test T:alice@example.com\n"), "%s", log);
	cr_assert_not_null(strstr(log, " Reject::SNDR::Invalid_Relay P:QMTP "
	    "S:192.0.2.7:unknown F:s@b.test T:x@elsewhere.test\n"), "%s", log);
	p = strstr(log, " Accept::DATA::Queued P:QMTP S:192.0.2.7:unknown F:s@b.test T: 'qp ");
	cr_assert_not_null(p, "%s", log);
	cr_assert(strstr(p, " bytes 18 rcpts 1'\n") != NULL, "%s", log);
	free(log);
	/* the relay client, the size limit and a protocol error are named too */
	setenv("RELAYCLIENT", "", 1);
	qh_control("databytes", "5\n");
	n = qmsg(in, 0, BODY, "s@b.test", "x@elsewhere.test", NULL);
	memcpy(in + n, "5:x", 3);
	qh_session(qmtpd_serve, in, n + 3, 0, &r);
	free(r.out);
	log = session_log();
	cr_assert_not_null(strstr(log, " Accept::RCPT::Relayclient P:QMTP"), "%s", log);
	cr_assert_not_null(strstr(log, " Reject::DATA::Invalid_Size P:QMTP S:192.0.2.7:unknown "
	    "F:s@b.test T: 'Dsorry, that message size exceeds"), "%s", log);
	cr_assert_not_null(strstr(log, " Reject::DATA::Netstring_Syntax P:QMTP S:192.0.2.7:unknown "
	    "F: T: 'nothing queued'\n"), "%s", log);
	free(log);
}
