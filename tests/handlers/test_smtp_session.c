/* SPDX-License-Identifier: MIT
 * test_smtp_session.c - the SMTP engine over a socketpair: verbs, sequence, relay control.
 */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_harness.h"

TestSuite(smtp, .init = harness_setup, .fini = harness_teardown, .timeout = 20);

static char *
run(const char *lines, int *exitcode)
{
	struct session_result r;
	char *in = harness_crlf(lines), *norm;

	harness_session(in, strlen(in), 0, &r);
	free(in);
	norm = harness_norm(r.out);
	free(r.out);
	if (exitcode)
		*exitcode = r.exitcode;
	return norm;
}

Test(smtp, simple_message_is_queued)
{
	int code;
	char *out = run("HELO client.test\nMAIL FROM:<a@b.test>\nRCPT TO:<u@example.com>\n"
	    "DATA\nSubject: hi\n\nbody\n.\nQUIT\n", &code);
	char *msg, *env;
	size_t envlen;

	cr_assert_str_eq(out, "220 test.example ESMTP\n250 test.example\n250 2.1.0 ok\n"
	    "250 2.1.5 ok\n354 go ahead\n250 2.0.0 ok N qp N\n221 2.0.0 test.example\n");
	cr_assert_eq(code, 0);
	msg = harness_read_rec("msg", NULL);
	cr_assert_not_null(msg);
	cr_assert(strncmp(msg, "Received: from unknown (HELO client.test) (192.0.2.7)\n"
	    "  by test.example with SMTP; ", 82) == 0, "%s", msg);
	cr_assert(strstr(msg, " -0000\nSubject: hi\n\nbody\n") != NULL, "%s", msg);
	env = harness_read_rec("env", &envlen);
	cr_assert_eq(envlen, sizeof("Fa@b.test\0Tu@example.com\0"));
	cr_assert(memcmp(env, "Fa@b.test\0Tu@example.com\0\0", envlen) == 0);
	free(msg);
	free(env);
	free(out);
}

static void
setup_capture(void)
{
	harness_setup();
	cr_redirect_stderr();
}

/* one log line per decision, stable shape, client bytes escaped */
Test(smtp, log_lines, .init = setup_capture)
{
	char *out, line[1024], *all = NULL;
	size_t cap = 0;
	FILE *mem = open_memstream(&all, &cap), *err;

	out = run("HELO evil\x01host\nMAIL FROM:<a@b.test> FOO=1\nMAIL FROM:<a@b.test>\n"
	    "RCPT TO:<x@relay.test>\nRCPT TO:<u@example.com>\nDATA\nhi\n.\nQUIT\n", NULL);
	free(out);
	fflush(stderr);
	err = cr_get_redirected_stderr();
	while (fgets(line, sizeof(line), err)) {
		fputs(line, mem);
		if (strstr(line, "Accept::DATA::Queued"))
			break;
	}
	fclose(mem);
	/* s/qmail's unified line; the pid varies, the rest is fixed */
	cr_assert_not_null(strstr(all, " Info::CONN::Connect P:SMTP S:192.0.2.7:unknown H: F: T:\n"),
	    "%s", all);
	cr_assert_not_null(strstr(all, "<6>qmail-smtpd: pid "), "%s", all);
	cr_assert_not_null(strstr(all, " Reject::ORIG::Invalid_Parameter P:SMTP S:192.0.2.7:unknown "
	    "H:evil\\x01host F:a@b.test T:\n"), "%s", all);
	cr_assert_not_null(strstr(all, " Reject::SNDR::Invalid_Relay P:SMTP S:192.0.2.7:unknown "
	    "H:evil\\x01host F:a@b.test T:x@relay.test\n"), "%s", all);
	cr_assert_not_null(strstr(all, " Accept::RCPT::Rcpthosts_Rcptto P:SMTP S:192.0.2.7:unknown "
	    "H:evil\\x01host F:a@b.test T:u@example.com\n"), "%s", all);
	cr_assert_not_null(strstr(all, " Accept::DATA::Queued P:SMTP S:192.0.2.7:unknown "
	    "H:evil\\x01host F:a@b.test T: 'qp "), "%s", all);
	free(all);
}
