/* SPDX-License-Identifier: MIT
 * test_inject.c - qmail-inject and sendmail: address lists, recipients from
 * arguments or headers, added fields, QMAILQUEUE, exit codes, the real queue. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inject.h"
#include "qtest.h"

static char home[256];

static void
setup(void)
{
	qt_mkhome(home, sizeof(home));
}

static void
teardown(void)
{
	qt_rmhome(home);
}

/* ---- unit: address lists ---- */

static void
collect(void *arg, const char *addr)
{
	struct buf *b = arg;

	buf_cats(b, addr);
	buf_catc(b, '|');
}

Test(inject_addr, lists)
{
	const struct { const char *label, *in, *want; int r; } cases[] = {
		{ "plain", "a@b.c", "a@b.c|", 0 },
		{ "two", "a@b.c, d@e.f", "a@b.c|d@e.f|", 0 },
		{ "angle", "John Doe <jd@x.org>", "jd@x.org|", 0 },
		{ "quoted name with comma", "\"Doe, John\" <jd@x.org>, z@y", "jd@x.org|z@y|", 0 },
		{ "comment", "a@b (Alice, (nested) here), c@d", "a@b|c@d|", 0 },
		{ "folded", "a@b,\n\tc@d", "a@b|c@d|", 0 },
		{ "group", "friends: a@b, c@d;, e@f", "a@b|c@d|e@f|", 0 },
		{ "empty group", "undisclosed-recipients:;", "", 0 },
		{ "source route", "<@relay.example:u@h.example>", "u@h.example|", 0 },
		{ "unqualified", "bob", "bob|", 0 },
		{ "quoted local", "\"john doe\"@x.org", "john doe@x.org|", 0 },
		{ "unbalanced angle", "<a@b", NULL, -1 },
		{ "stray >", "a@b>", NULL, -1 },
		{ "unbalanced comment", "a@b (oops", NULL, -1 },
		{ "unbalanced quote", "\"a@b", NULL, -1 },
	};
	struct buf out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_init(&out, 4096);
		int r = inject_addrlist(cases[i].in, strlen(cases[i].in), collect, &out);
		cr_expect_eq(r, cases[i].r, "%s: r=%d", cases[i].label, r);
		if (cases[i].want)
			cr_expect_str_eq(buf_str(&out), cases[i].want, "%s", cases[i].label);
		buf_free(&out);
	}
}

Test(inject_addr, qualify)
{
	struct inject_names n;
	struct buf out;

	buf_init(&n.defaulthost, 100);
	buf_init(&n.defaultdomain, 100);
	buf_cpys(&n.defaulthost, "host.example");
	buf_cpys(&n.defaultdomain, "example.org");
	buf_init(&out, INJECT_ADDR_MAX + 100);
	cr_assert_eq(inject_qualify(&out, "bob", &n), 0);
	cr_expect_str_eq(buf_str(&out), "bob@host.example");
	cr_assert_eq(inject_qualify(&out, "bob@mail", &n), 0);
	cr_expect_str_eq(buf_str(&out), "bob@mail.example.org");
	cr_assert_eq(inject_qualify(&out, "bob@a.b", &n), 0);
	cr_expect_str_eq(buf_str(&out), "bob@a.b");
	cr_assert_eq(inject_qualify(&out, "bob@[127.0.0.1]", &n), 0);
	cr_expect_str_eq(buf_str(&out), "bob@[127.0.0.1]");
}

/* ---- end to end ---- */

/* run prog (relative to the build dir) with stdin, QMAILHOME=home and extra env */
static int
run(const char *input, const char *const *env, const char *prog, ...)
{
	char *argv[16];
	int in[2], st, n = 0;
	pid_t pid;
	va_list ap;

	va_start(ap, prog);
	argv[n++] = (char *)prog;
	while (n < 15 && (argv[n] = va_arg(ap, char *)) != NULL)
		n++;
	argv[n] = NULL;
	va_end(ap);
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(in), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(in[0], 0);
		close(in[1]);
		int devnull = open("/dev/null", O_WRONLY);
		dup2(devnull, 2);
		setenv("QMAILHOME", home, 1);
		unsetenv("QMAILQUEUE");
		for (; env && *env; env++)
			putenv((char *)*env);
		execv(qt_prog(prog), argv);
		_exit(127);
	}
	close(in[0]);
	if (write(in[1], input, strlen(input)) < 0) {
		/* the child exited early: its status tells */
	}
	close(in[1]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static char qqenv[512], qqexit[512];

/* a QMAILQUEUE script that records message and envelope and exits as told */
static const char *const *
recorder(int code)
{
	static const char *env[4];
	char path[300];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/record-qq", home);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fprintf(fp, "#!/bin/sh\ncat > \"$QT_OUT/msg\"\ncat <&1 > \"$QT_OUT/env\"\nexit %d\n", code);
	fclose(fp);
	chmod(path, 0755);
	snprintf(qqenv, sizeof(qqenv), "QMAILQUEUE=%s", path);
	snprintf(qqexit, sizeof(qqexit), "QT_OUT=%s", home);
	env[0] = qqenv;
	env[1] = qqexit;
	env[2] = "QMAILUSER=carol";
	env[3] = NULL;
	return env;
}

static char *
recorded(const char *what, size_t *len)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/%s", home, what);
	return qt_slurp(path, len);
}

#define ENVELOPE(s) s, sizeof(s) - 1

static void
expect_envelope(const char *want, size_t wantlen)
{
	size_t len;
	char *env = recorded("env", &len);

	cr_assert_not_null(env, "QMAILQUEUE script did not run");
	cr_expect_eq(len, wantlen, "envelope length %zu, want %zu", len, wantlen);
	cr_expect(memcmp(env, want, len < wantlen ? len : wantlen) == 0, "envelope bytes");
	free(env);
}

Test(sendmail, dash_t_to_cc_bcc, .init = setup, .fini = teardown, .timeout = 20)
{
	const char *msg = "To: Alice <alice@sandbox.test>, bob\nCc: carl@x.example\n"
	    "Bcc: secret@y.example,\n  hidden@z.example\nSubject: test\n\nhello\n";
	char *m;

	cr_assert_eq(run(msg, recorder(0), "queue/inject/sendmail", "-t", "-i",
	    "-oi", "-f", "sender@s.example", NULL), 0);
	expect_envelope(ENVELOPE("Fsender@s.example\0Talice@sandbox.test\0Tbob@sandbox.test\0"
	    "Tcarl@x.example\0Tsecret@y.example\0Thidden@z.example\0\0"));
	m = recorded("msg", NULL);
	cr_assert_not_null(m);
	cr_expect_null(strstr(m, "Bcc"), "Bcc must be removed:\n%s", m);
	cr_expect_null(strstr(m, "hidden"), "Bcc continuation must be removed:\n%s", m);
	cr_expect_not_null(strstr(m, "To: Alice <alice@sandbox.test>, bob\n"), "%s", m);
	cr_expect_not_null(strstr(m, "\nDate: "), "Date added:\n%s", m);
	cr_expect_not_null(strstr(m, "\nMessage-ID: <"), "Message-ID added:\n%s", m);
	cr_expect_not_null(strstr(m, ".qmail@sandbox.test>\n"), "Message-ID form:\n%s", m);
	cr_expect_not_null(strstr(m, "\nFrom: sender@s.example\n"), "From from -f:\n%s", m);
	cr_expect_not_null(strstr(m, "\n\nhello\n"), "body:\n%s", m);
	free(m);
}

Test(sendmail, args_and_names, .init = setup, .fini = teardown, .timeout = 20)
{
	char *m;

	cr_assert_eq(run("Subject: x\nTo: ignored@x.example\n\nbody\r\nline2\r\n", recorder(0),
	    "queue/inject/sendmail", "-F", "Carol Q. Public", "-oem", "-N", "never",
	    "dave", "erin@mail", NULL), 0);
	/* sender from QMAILUSER and control/me; args qualified (defaulthost, defaultdomain) */
	expect_envelope(ENVELOPE("Fcarol@sandbox.test\0Tdave@sandbox.test\0"
	    "Terin@mail.sandbox.test\0\0"));
	m = recorded("msg", NULL);
	cr_assert_not_null(m);
	cr_expect_not_null(strstr(m, "From: \"Carol Q. Public\" <carol@sandbox.test>\n"), "%s", m);
	cr_expect_not_null(strstr(m, "\n\nbody\nline2\n"), "CRLF stored as LF:\n%s", m);
	cr_expect_null(strchr(m, '\r'));
	free(m);
}

Test(sendmail, sender_forms, .init = setup, .fini = teardown, .timeout = 20)
{
	char *m;

	cr_assert_eq(run("Subject: s\n\nb\n", recorder(0), "queue/inject/sendmail",
	    "-f", "<list-owner@l.example>", "x@y.example", NULL), 0);
	expect_envelope(ENVELOPE("Flist-owner@l.example\0Tx@y.example\0\0"));
	m = recorded("msg", NULL);
	cr_assert_not_null(m);
	cr_expect_not_null(strstr(m, "\nFrom: list-owner@l.example\n"), "%s", m);
	free(m);
	/* the null sender: the From: line falls back to the user */
	cr_assert_eq(run("Subject: s\n\nb\n", recorder(0), "queue/inject/sendmail",
	    "-f", "<>", "x@y.example", NULL), 0);
	expect_envelope(ENVELOPE("F\0Tx@y.example\0\0"));
	m = recorded("msg", NULL);
	cr_assert_not_null(m);
	cr_expect_not_null(strstr(m, "\nFrom: carol@sandbox.test\n"), "%s", m);
	free(m);
}

Test(qmail_inject, header_mode_default, .init = setup, .fini = teardown, .timeout = 20)
{
	const char *msg = "From: me@here.example\nDate: 1 Jan 2026 00:00:00 -0000\n"
	    "Message-ID: <x@y>\nTo: undisclosed-recipients:;\nCc: a@b.example\n\nbody\n";
	char *m;

	cr_assert_eq(run(msg, recorder(0), "queue/inject/qmail-inject", "-f", "<>", NULL), 0);
	expect_envelope(ENVELOPE("F\0Ta@b.example\0\0"));
	m = recorded("msg", NULL);
	cr_assert_not_null(m);
	cr_expect_str_eq(m, msg, "a complete message passes unchanged");
	free(m);
}

Test(qmail_inject, resent_and_args_mode, .init = setup, .fini = teardown, .timeout = 20)
{
	const char *msg = "To: old@x.example\nResent-To: new@x.example\n"
	    "Resent-Bcc: hush@x.example\n\nbody\n";

	cr_assert_eq(run(msg, recorder(0), "queue/inject/qmail-inject", "-h", NULL), 0);
	expect_envelope(ENVELOPE("Fcarol@sandbox.test\0Tnew@x.example\0Thush@x.example\0\0"));
	cr_assert_eq(run(msg, recorder(0), "queue/inject/qmail-inject", "-a",
	    "z@x.example", NULL), 0);
	expect_envelope(ENVELOPE("Fcarol@sandbox.test\0Tz@x.example\0\0"));
}

Test(qmail_inject, exit_codes, .init = setup, .fini = teardown, .timeout = 30)
{
	cr_expect_eq(run("Subject: none\n\nbody\n", recorder(0),
	    "queue/inject/qmail-inject", NULL), 100, "no recipients");
	cr_expect_eq(run("To: <broken@x\n\nbody\n", recorder(0),
	    "queue/inject/qmail-inject", NULL), 100, "bad address syntax");
	cr_expect_eq(run("To: a@b.example\n\nbody\n", recorder(53),
	    "queue/inject/qmail-inject", NULL), 111, "qmail-queue temporary failure");
	cr_expect_eq(run("To: a@b.example\n\nbody\n", recorder(31),
	    "queue/inject/qmail-inject", NULL), 100, "qmail-queue permanent failure");
	cr_expect_eq(run("x", recorder(0), "queue/inject/qmail-inject", "-Z", NULL), 100,
	    "usage");
	cr_expect_eq(run("x", recorder(0), "queue/inject/sendmail", "-bz", NULL), 100, "usage");
}

/* the real qmail-queue: the message lands in todo/ with its Received line */
Test(sendmail, into_real_queue, .init = setup, .fini = teardown, .timeout = 20)
{
	const char *env[] = { "QMAILUSER=alice", NULL };
	char name[64], path[4096];
	char *m;

	cr_assert_eq(run("To: bob\nSubject: real\n\nhi bob\n", env,
	    "queue/inject/sendmail", "-t", NULL), 0);
	cr_assert_eq(qt_count(home, "todo"), 1);
	cr_assert_eq(qt_first(home, "mess", name, sizeof(name)), 0);
	snprintf(path, sizeof(path), "%s/queue/mess/%s", home, name);
	m = qt_slurp(path, NULL);
	cr_assert_not_null(m);
	cr_expect_eq(strncmp(m, "Received: (qmail ", 17), 0, "%s", m);
	cr_expect_not_null(strstr(m, "\nTo: bob\n"));
	cr_expect_not_null(strstr(m, "\nFrom: alice@sandbox.test\n"), "%s", m);
	free(m);
	snprintf(path, sizeof(path), "%s/queue/todo/%s", home, name);
	m = qt_slurp(path, NULL);
	cr_assert_not_null(m);
	cr_expect(memmem(m, 200, "\0Falice@sandbox.test\0Tbob@sandbox.test\0", 39) != NULL);
	free(m);
}
