/* SPDX-License-Identifier: MIT
 * test_smtp.c - qmail-remote against a scripted SMTP server on loopback:
 * report format, ESMTP, dot-stuffing, per-recipient results, failures at
 * each step, timeouts, hostile replies, AUTH. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "support.h"

#define MSG "Subject: test\n\n.leading dot\nline two\r\n..two dots\nend\n"
#define EHLO_PIPE "250-fake\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 100000\r\n"

static char out[1 << 16];
static char tpath[256];
static pid_t srv;

static void
stop(void)
{
	if (srv > 0)
		t_fake_stop(srv);
	srv = 0;
	t_cleanup();
	remove(tpath);
}

/* deliver - start the fake with f on port, route everything there, run qmail-remote */
static const char *
deliver(unsigned port, const struct fake_smtp *f, const char *routeextra, const char *msg,
    const char *r1, const char *r2)
{
	const char *home = t_home_new();
	char route[256];

	snprintf(tpath, sizeof(tpath), "%s/transcript", home);
	srv = t_fake_start(&port, f, tpath);
	snprintf(route, sizeof(route), ":[127.0.0.1]:%u%s\n", port, routeextra ? routeextra : "");
	t_ctl(home, "smtproutes", route);
	t_ctl(home, "timeoutremote", "3\n");
	cr_assert_eq(t_remote(home, msg, out, sizeof(out), "example.com", "a@example.org",
	    r1, r2, NULL), 0);
	return t_slurp(tpath);
}

TestSuite(smtp, .fini = stop, .timeout = 30);

Test(smtp, helo_fallback_dot_stuffing_crlf)
{
	struct fake_smtp f = { 0 };
	const char *t = deliver(T_PORT, &f, NULL, MSG, "b@example.com", NULL);

	/* qmail-remote does not wait for the answer to QUIT (nor does qmail's):
	 * give the fake server time to read and record it */
	for (int i = 0; i < 50 && strstr(t, "QUIT\r\n") == NULL; i++) {
		usleep(100000);
		free((void *)t);
		t = t_slurp(tpath);
	}
	cr_assert_str_eq(out, "r|K127.0.0.1 accepted message.\nRemote host said: 250 ok queued\n|");
	cr_assert_not_null(strstr(t, "EHLO example.org\r\nHELO example.org\r\n"), "%s", t);
	cr_assert_not_null(strstr(t, "MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\n"));
	cr_assert_not_null(strstr(t, "\r\n\r\n..leading dot\r\nline two\r\n...two dots\r\nend\r\n.\r\nQUIT"),
	    "%s", t);
}

Test(smtp, pipelining_size_and_recipient_verdicts)
{
	struct fake_smtp f = { .ehlo = EHLO_PIPE };
	const char *t = deliver(T_PORT + 1, &f, NULL, MSG, "bad@example.com", "later@example.com");

	cr_assert_not_null(strstr(out, "h127.0.0.1 does not like recipient.\nRemote host said: 550 no such user\n|"
	    "s127.0.0.1 does not like recipient.\nRemote host said: 451 try later\n|D"), "%s", out);
	cr_assert_not_null(strstr(t, "MAIL FROM:<a@example.org> SIZE=59\r\nRCPT TO:<bad@example.com>\r\n"
	    "RCPT TO:<later@example.com>\r\nDATA\r\n"), "%s", t);
}

Test(smtp, pipelined_mixed_recipients_accepted)
{
	struct fake_smtp f = { .ehlo = EHLO_PIPE };

	deliver(T_PORT + 2, &f, NULL, MSG, "ok@example.com", "bad@example.com");
	cr_assert(strncmp(out, "r|h127.0.0.1 does not like", 26) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "|K127.0.0.1 accepted message."), "%s", out);
}

Test(smtp, eightbitmime_announced_for_8bit_mail)
{
	struct fake_smtp f = { .ehlo = "250-fake\r\n250 8BITMIME\r\n" };
	const char *t = deliver(T_PORT + 15, &f, NULL, "Subject: caf\303\251\n\nx\n", "b@example.com",
	    NULL);

	cr_assert(out[2] == 'K', "%s", out);
	cr_assert_not_null(strstr(t, "MAIL FROM:<a@example.org> BODY=8BITMIME\r\n"), "%s", t);
	stop();
	t = deliver(T_PORT + 15, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert_not_null(strstr(t, "MAIL FROM:<a@example.org>\r\n"), "7-bit: no BODY=: %s", t);
}

Test(smtp, broken_starttls_falls_back_to_plain_text)
{
	struct fake_smtp f = { .ehlo = "250-fake\r\n250 STARTTLS\r\n" };
	const char *t = deliver(T_PORT + 16, &f, NULL, MSG, "b@example.com", NULL);

	cr_assert(strncmp(out, "r|K127.0.0.1 accepted message.\nRemote", 37) == 0, "%s", out);
	cr_assert_not_null(strstr(t, "STARTTLS\r\nEHLO example.org\r\nMAIL FROM"), "%s", t);
	stop();
	/* required TLS: no fallback */
	f.ehlo = "250-fake\r\n250 STARTTLS\r\n";
	{
		const char *home = t_home_new();
		unsigned port = T_PORT + 16;
		char route[64];

		snprintf(tpath, sizeof(tpath), "%s/transcript", home);
		srv = t_fake_start(&port, &f, tpath);
		snprintf(route, sizeof(route), ":[127.0.0.1]:%u\n", port);
		t_ctl(home, "smtproutes", route);
		t_ctl(home, "tlsdestinations", "-*\n");
		t_remote(home, MSG, out, sizeof(out), "example.com", "a@example.org", "b@example.com",
		    NULL);
		cr_assert(strncmp(out, "ZTLS connection to 127.0.0.1 failed: ", 37) == 0,
		    "%s", out);
	}
}

Test(smtp, size_refused_before_mail)
{
	struct fake_smtp f = { .ehlo = "250-fake\r\n250 SIZE 20\r\n" };
	const char *t = deliver(T_PORT + 3, &f, NULL, MSG, "b@example.com", NULL);

	cr_assert(strncmp(out, "DMessage is 59 bytes, 127.0.0.1 accepts at most 20.", 51) == 0, "%s", out);
	cr_assert_null(strstr(t, "MAIL FROM"));
}

Test(smtp, greeting_4xx_and_5xx)
{
	struct fake_smtp f = { .greeting = "421 busy\r\n" };

	deliver(T_PORT + 4, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert_str_eq(out, "ZConnected to 127.0.0.1 but greeting failed.\nRemote host said: 421 busy\n|");
	stop();
	f.greeting = "554 go away\r\n";
	deliver(T_PORT + 4, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(out[0] == 'D', "%s", out);
}

Test(smtp, sender_rejected)
{
	struct fake_smtp f = { .mail = "553 sender not liked\r\n" };

	deliver(T_PORT + 5, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(strncmp(out, "DConnected to 127.0.0.1 but sender was rejected.", 48) == 0, "%s", out);
	stop();
	f.mail = "451 later\r\n";
	deliver(T_PORT + 5, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(out[0] == 'Z', "%s", out);
}

Test(smtp, data_and_final_replies)
{
	struct fake_smtp f = { .data = "554 no data\r\n" };

	deliver(T_PORT + 6, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(strncmp(out, "r|D127.0.0.1 failed on DATA command.", 36) == 0, "%s", out);
	stop();
	f.data = NULL;
	f.dot = "452 full\r\n";
	deliver(T_PORT + 6, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(strncmp(out, "r|Z127.0.0.1 failed after I sent the message.", 45) == 0, "%s", out);
	stop();
	f.dot = "554 spam\r\n";
	deliver(T_PORT + 6, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(strncmp(out, "r|D127.0.0.1 failed after I sent the message.", 45) == 0, "%s", out);
}

Test(smtp, drop_mid_data_is_temporary)
{
	struct fake_smtp f = { .drop_in_data = 1 };

	deliver(T_PORT + 7, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(strstr(out, "|ZConnected to 127.0.0.1 but connection died.") != NULL, "%s", out);
}

Test(smtp, silent_server_times_out)
{
	struct fake_smtp f = { .silent = 1 };
	time_t t0 = time(NULL);

	deliver(T_PORT + 8, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(out[0] == 'Z', "%s", out);
	cr_assert_not_null(strstr(out, "timed out"), "%s", out);
	cr_assert(time(NULL) - t0 <= 12, "%ld s", (long)(time(NULL) - t0));	/* 3 s + mkhome.sh */
}

Test(smtp, endless_greeting_stops_at_the_timeout)
{
	struct fake_smtp f = { .drip = 1 };
	time_t t0 = time(NULL);

	deliver(T_PORT + 14, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(strncmp(out, "ZConnected to 127.0.0.1 but greeting failed.\nreply too long or too slow",
	    70) == 0, "%s", out);
	cr_assert(time(NULL) - t0 <= 12, "%ld s", (long)(time(NULL) - t0));
}

Test(smtp, hostile_replies)
{
	size_t n = 1200 * 1024;
	char *big = malloc(n + 1);
	struct fake_smtp f = { 0 };

	for (size_t i = 0; i < n; i += 10)
		memcpy(big + i, "220-aaaa\r\n", 10);
	big[n] = '\0';
	f.greeting = big;
	deliver(T_PORT + 9, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(out[0] == 'Z' && strstr(out, "too long") != NULL, "%.200s", out);
	stop();
	f.greeting = "hello there\r\n";
	deliver(T_PORT + 9, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(out[0] == 'Z' && strstr(out, "invalid reply") != NULL, "%s", out);
	stop();
	f.greeting = "220 ok\r\n";
	f.ehlo = "250-fake\r\n250-\001\002\377binary\r\n250 PIPELINING\r\n";
	f.dot = "250 \033[31mred\r\n";
	deliver(T_PORT + 9, &f, NULL, MSG, "b@example.com", NULL);
	cr_assert(strncmp(out, "r|K127.0.0.1 accepted message.\nRemote host said: 250 ?[31mred", 60) == 0,
	    "%s", out);
	free(big);
}

Test(smtp, auth_cram_md5_rfc2195)
{
	struct fake_smtp f = { .ehlo = "250-fake\r\n250 AUTH LOGIN PLAIN CRAM-MD5\r\n" };
	const char *t = deliver(T_PORT + 10, &f, "|tim|tanstaaftanstaaf", MSG, "b@example.com", NULL);

	cr_assert(out[2] == 'K', "%s", out);
	cr_assert_not_null(strstr(t, "AUTH CRAM-MD5\r\ndGltIGI5MTNhNjAyYzdlZGE3YTQ5NWI0ZTZlNzMzNGQzODkw\r\n"),
	    "%s", t);
}

Test(smtp, auth_plain_and_login)
{
	struct fake_smtp f = { .ehlo = "250-fake\r\n250 AUTH=PLAIN LOGIN\r\n" };
	const char *t = deliver(T_PORT + 11, &f, "|user|pass", MSG, "b@example.com", NULL);

	cr_assert(out[2] == 'K', "%s", out);
	cr_assert_not_null(strstr(t, "AUTH PLAIN AHVzZXIAcGFzcw==\r\n"), "%s", t);
	stop();
	f.ehlo = "250-fake\r\n250 AUTH LOGIN\r\n";
	t = deliver(T_PORT + 11, &f, "|user|pass", MSG, "b@example.com", NULL);
	cr_assert(out[2] == 'K', "%s", out);
	cr_assert_not_null(strstr(t, "AUTH LOGIN\r\ndXNlcg==\r\ncGFzcw==\r\n"), "%s", t);
}

Test(smtp, auth_failures_are_temporary)
{
	struct fake_smtp f = { .ehlo = "250-fake\r\n250 AUTH PLAIN\r\n", .auth = "535 bad credentials\r\n" };

	deliver(T_PORT + 12, &f, "|user|wrong", MSG, "b@example.com", NULL);
	cr_assert(strncmp(out, "ZAUTH PLAIN at 127.0.0.1 failed.", 32) == 0, "%s", out);
	stop();
	f.ehlo = "250 fake\r\n";
	deliver(T_PORT + 12, &f, "|user|pass", MSG, "b@example.com", NULL);
	cr_assert(strncmp(out, "ZAUTH (not offered)", 19) == 0, "%s", out);
}

Test(smtp, authsenders_credentials_and_null_sender)
{
	struct fake_smtp f = { .ehlo = "250-fake\r\n250 AUTH PLAIN\r\n" };
	const char *home = t_home_new();
	const char *t;
	unsigned port = T_PORT + 13;
	char route[64];

	snprintf(tpath, sizeof(tpath), "%s/transcript", home);
	srv = t_fake_start(&port, &f, tpath);
	snprintf(route, sizeof(route), ":[127.0.0.1]:%u\n", port);
	t_ctl(home, "smtproutes", route);
	t_ctl(home, "authsenders", "@example.org:|user|pass\n");
	cr_assert_eq(t_remote(home, MSG, out, sizeof(out), "example.com", "a@example.org",
	    "b@example.com", NULL), 0);
	cr_assert(out[2] == 'K', "%s", out);
	cr_assert_eq(t_remote(home, MSG, out, sizeof(out), "example.com", "",
	    "b@example.com", NULL), 0);
	t = t_slurp(tpath);
	cr_assert_not_null(strstr(t, "AUTH PLAIN AHVzZXIAcGFzcw==\r\nMAIL FROM:<a@example.org>"), "%s", t);
	cr_assert_not_null(strstr(t, "MAIL FROM:<>\r\n"), "%s", t);
}

Test(smtp, usage_and_no_connection)
{
	const char *home = t_home_new();

	cr_assert_eq(t_remote(home, MSG, out, sizeof(out), "example.com", "a@b", NULL), 0);
	cr_assert_str_eq(out, "DI (qmail-remote) was invoked improperly. (#5.3.5)\n|");
	t_ctl(home, "smtproutes", "example.com:[127.0.0.1]:38099\n");
	cr_assert_eq(t_remote(home, MSG, out, sizeof(out), "example.com", "a@b", "c@example.com",
	    NULL), 0);
	cr_assert_str_eq(out, "ZSorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n|");
}

Test(smtp, partial_final_line_bounces)
{
	struct fake_smtp f = { 0 };
	const char *t = deliver(T_PORT, &f, NULL, "Subject: x\n\nno newline at the end",
	    "b@example.com", NULL);

	/* qmail's text and code; we find out before connecting */
	cr_assert_str_eq(out, "DSMTP cannot transfer messages with partial final lines. (#5.6.2)\n|");
	cr_assert_str_eq(t, "", "the server was contacted: %s", t);
	/* the same message with its newline goes */
	stop();
	t = deliver(T_PORT, &f, NULL, "Subject: x\n\nnewline at the end\n", "b@example.com", NULL);
	cr_assert(strncmp(out, "r|K127.0.0.1 accepted", 21) == 0, "%s", out);
	cr_assert_not_null(strstr(t, "\r\nnewline at the end\r\n.\r\n"), "%s", t);
}
