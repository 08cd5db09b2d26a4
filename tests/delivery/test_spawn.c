/* SPDX-License-Identifier: MIT
 * test_spawn.c - the spawn protocol end to end: real qmail-lspawn and
 * qmail-rspawn on pipes in a mkhome.sh home; plus the report conversions. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "lspawn.h"
#include "rspawn.h"
#include "support.h"

struct sp {
	pid_t pid;
	int to, from;
};

static const char *home;

static void
sp_start(struct sp *s, const char *prog, const char *arg)
{
	int in[2], out[2];
	unsigned char first;

	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(out), 0);
	s->pid = fork();
	cr_assert_geq(s->pid, 0);
	if (s->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[1]);
		close(out[0]);
		setenv("QMAILHOME", home, 1);
		execl(t_prog(prog), prog, arg, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	s->to = in[1];
	s->from = out[0];
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(read(s->from, &first, 1), 1);
	cr_expect_eq(first, 120, "the spawn announces its concurrency");
}

static void
sp_send(struct sp *s, int slot, const char *mess, const char *sender, const char *rcpt)
{
	char req[2048];
	int n = snprintf(req, sizeof(req), "%c%s%c%s%c%s%c", slot, mess, 0, sender, 0, rcpt, 0);

	/* slot 0 is a NUL byte, which snprintf writes fine */
	cr_assert_eq(write(s->to, req, (size_t)n), n);
}

/* sp_answer - one "slot report \0"; returns the slot */
static int
sp_answer(struct sp *s, char *text, size_t size)
{
	unsigned char slot;
	size_t n = 0;
	char ch;

	cr_assert_eq(read(s->from, &slot, 1), 1, "answer expected");
	while (read(s->from, &ch, 1) == 1 && ch != '\0')
		if (n + 1 < size)
			text[n++] = ch;
	text[n] = '\0';
	return slot;
}

static void
sp_close(struct sp *s)
{
	int status;
	char rest;

	close(s->to);
	cr_expect_eq(read(s->from, &rest, 1), 0, "no stray output");
	waitpid(s->pid, &status, 0);
	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(s->from);
}

static char mdir[1024];

static void
setup(void)
{
	char path[1024];

	home = t_mkhome();
	snprintf(path, sizeof(path), "%s/queue/mess/5/123", home);
	t_write(path, "Subject: spawn\n\nhello\n", 0600);
	snprintf(mdir, sizeof(mdir), "%s/home/alice/Maildir/new", home);
}

Test(lspawn, reports_k_z_d, .init = setup, .timeout = 30, .fini = t_cleanup)
{
	struct sp s;
	char text[4096];
	int seen = 0;

	sp_start(&s, "qmail-lspawn", "./Maildir/");
	sp_send(&s, 0, "5/123", "bob@x.org", "alice@sandbox.test");
	cr_expect_eq(sp_answer(&s, text, sizeof(text)), 0);
	cr_expect_str_eq(text, "Kdid 1+0+0\n");
	cr_expect_eq(t_count(mdir), 1);
	cr_expect(strstr(t_read(t_first(mdir)), "Delivered-To: alice@sandbox.test\n") != NULL);

	sp_send(&s, 7, "5/123", "bob@x.org", "bob-nosuch@sandbox.test");
	sp_send(&s, 8, "5/123", "bob@x.org", "nosuchuser@sandbox.test");
	sp_send(&s, 9, "5/999", "bob@x.org", "alice@sandbox.test");
	sp_send(&s, 10, "5/../123", "bob@x.org", "alice@sandbox.test");
	sp_send(&s, 11, "5/123", "bob@x.org", "no-at-sign");
	for (int i = 0; i < 5; i++) {
		int slot = sp_answer(&s, text, sizeof(text));

		seen |= 1 << (slot - 7);
		switch (slot) {
		case 7: case 8:
			cr_expect_str_eq(text, "DSorry, no mailbox here by that name. (#5.1.1)\n",
			    "slot %d", slot);
			break;
		case 9:
			cr_expect_eq(text[0], 'Z', "missing message defers: %s", text);
			break;
		case 10: case 11:
			cr_expect_eq(text[0], 'D', "slot %d: %s", slot, text);
			break;
		default:
			cr_assert_fail("unexpected slot %d", slot);
		}
	}
	cr_expect_eq(seen, 0x1f);
	sp_close(&s);
}

Test(lspawn, many_concurrent_deliveries, .init = setup, .timeout = 30, .fini = t_cleanup)
{
	struct sp s;
	char text[4096];
	int seen[40] = { 0 };

	sp_start(&s, "qmail-lspawn", "./Maildir/");
	for (int i = 0; i < 40; i++)
		sp_send(&s, i, "5/123", "bob@x.org", i % 2 ? "alice@sandbox.test" : "bob@sandbox.test");
	for (int i = 0; i < 40; i++) {
		int slot = sp_answer(&s, text, sizeof(text));

		cr_assert_lt(slot, 40);
		cr_expect_str_eq(text, "Kdid 1+0+0\n", "slot %d", slot);
		seen[slot]++;
	}
	for (int i = 0; i < 40; i++)
		cr_expect_eq(seen[i], 1, "slot %d answered once", i);
	cr_expect_eq(t_count(mdir), 20);
	sp_close(&s);
}

Test(lspawn, slot_in_use_and_empty_local, .init = setup, .timeout = 30, .fini = t_cleanup)
{
	struct sp s;
	char text[4096];

	sp_start(&s, "qmail-lspawn", "./Maildir/");
	sp_send(&s, 200, "5/123", "", "alice@sandbox.test");
	cr_expect_eq(sp_answer(&s, text, sizeof(text)), 200);
	cr_expect_eq(text[0], 'Z', "slot beyond the announced maximum: %s", text);
	sp_send(&s, 3, "5/123", "", "@sandbox.test");
	cr_expect_eq(sp_answer(&s, text, sizeof(text)), 3);
	cr_expect_str_eq(text, "K", "empty local part is thrown away, as qmail");
	sp_close(&s);
}

Test(rspawn, no_qmail_remote_defers, .init = setup, .timeout = 30, .fini = t_cleanup)
{
	struct sp s;
	char text[4096];

	unsetenv("QMAILREMOTE");
	snprintf(text, sizeof(text), "%s/bin/qmail-remote", home);
	unlink(text);	/* mkhome.sh links the built one; this test wants none */
	sp_start(&s, "qmail-rspawn", NULL);
	sp_send(&s, 4, "5/123", "bob@sandbox.test", "carol@example.net");
	cr_expect_eq(sp_answer(&s, text, sizeof(text)), 4);
	cr_expect_str_eq(text, "Zqmail-remote is not installed. (#4.3.0)\n");
	sp_close(&s);
}

Test(rspawn, runs_qmail_remote_with_its_argv, .init = setup, .timeout = 30, .fini = t_cleanup)
{
	struct sp s;
	char text[4096], script[2048], path[1024];

	snprintf(path, sizeof(path), "%s/bin/qmail-remote", home);
	snprintf(script, sizeof(script), "#!/bin/sh\necho \"$1|$2|$3\" > %s/remote.args\n"
	    "cat > %s/remote.msg\nprintf 'r\\0Kok from %%s\\n\\0' \"$1\"\n", home, home);
	unlink(path);	/* a symlink to the built qmail-remote: do not write through it */
	t_write(path, script, 0755);
	sp_start(&s, "qmail-rspawn", NULL);
	sp_send(&s, 1, "5/123", "bob@sandbox.test", "carol@example.net");
	cr_expect_eq(sp_answer(&s, text, sizeof(text)), 1);
	cr_expect_str_eq(text, "Kok from example.net\n");
	snprintf(path, sizeof(path), "%s/remote.args", home);
	cr_expect_str_eq(t_read(path), "example.net|bob@sandbox.test|carol@example.net\n");
	snprintf(path, sizeof(path), "%s/remote.msg", home);
	cr_expect_str_eq(t_read(path), "Subject: spawn\n\nhello\n");
	sp_close(&s);
}

static void
report_case(void (*fn)(struct buf *, int, const char *, size_t, int), int wstat,
    const char *out, size_t len, const char *want, const char *label)
{
	struct buf b;

	buf_init(&b, 70000);
	fn(&b, wstat, out, len, 0);
	cr_expect_eq(b.len, strlen(want), "%s: got \"%s\"", label, buf_str(&b));
	cr_expect_str_eq(buf_str(&b), want, "%s", label);
	buf_free(&b);
}

#define EXITED(c) ((c) << 8)
#define S(lit) lit, sizeof(lit) - 1

Test(report, rspawn_conversion, .fini = t_cleanup)
{
	report_case(rspawn_report, EXITED(0), S("r\0Kaccepted\n\0"), "Kaccepted\n", "accepted");
	report_case(rspawn_report, EXITED(0), S("h550 no user\n\0DGiving up.\n\0"),
	    "D550 no user\nGiving up.\n", "hard");
	report_case(rspawn_report, EXITED(0), S("s451 later\n\0Kok\n\0"), "Z451 later\n", "soft rcpt");
	report_case(rspawn_report, EXITED(0), S("r\0Zconnection lost\n\0"),
	    "Zconnection lost\n", "deferred message");
	report_case(rspawn_report, EXITED(0), S("Zno host\n\0"), "Zno host\n", "message only");
	report_case(rspawn_report, EXITED(0), S(""), "Zqmail-remote produced no output.\n", "empty");
	report_case(rspawn_report, EXITED(111), S("x"), "ZUnable to run qmail-remote.\n", "111");
	report_case(rspawn_report, EXITED(100), S("x"), "DUnable to run qmail-remote.\n", "100");
	report_case(rspawn_report, SIGSEGV, S("r\0K\0"), "Zqmail-remote crashed.\n", "crash");
}

Test(report, lspawn_exit_codes, .fini = t_cleanup)
{
	report_case(lspawn_report, EXITED(0), S("did 1+0+0\n"), "Kdid 1+0+0\n", "0");
	report_case(lspawn_report, EXITED(99), S("did 0+0+1\n"), "Kdid 0+0+1\n", "99");
	report_case(lspawn_report, EXITED(100), S("no\n"), "Dno\n", "100");
	report_case(lspawn_report, EXITED(112), S("x"), "Dx", "112");
	report_case(lspawn_report, EXITED(111), S("later\n\0junk"), "Zlater\n", "111 cut at NUL");
	report_case(lspawn_report, EXITED(75), S(""), "Z", "75");
	report_case(lspawn_report, EXITED(3), S(""), "Z", "unknown code defers");
	report_case(lspawn_report, SIGKILL, S("x"), "Zqmail-local crashed.\n", "crash");
}

Test(report, lspawn_truncates, .fini = t_cleanup)
{
	static char big[LSPAWN_REPORT_MAX];
	struct buf b;

	memset(big, 'x', sizeof(big));
	buf_init(&b, 70000);
	lspawn_report(&b, EXITED(100), big, sizeof(big), 1);
	cr_expect_leq(b.len, LSPAWN_REPORT_MAX);
	cr_expect(strstr(buf_str(&b), "Error report too long, sorry.\n") != NULL);
}

static int
count_tree(const char *dir)
{
	char cmd[1200], buf[64] = "";
	FILE *fp;

	snprintf(cmd, sizeof(cmd), "find %s -type f | wc -l", dir);
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	if (fgets(buf, sizeof(buf), fp) == NULL)
		buf[0] = '\0';
	pclose(fp);
	return atoi(buf);
}

Test(lspawn, postmaster_forwards_through_qmail_queue, .init = setup, .timeout = 30, .fini = t_cleanup)
{
	struct sp s;
	char text[4096], path[1024];

	snprintf(path, sizeof(path), "%s/bin/qmail-queue", home);
	if (access(path, X_OK) < 0)
		cr_skip_test("qmail-queue not built");
	unsetenv("QMAILQUEUE");
	sp_start(&s, "qmail-lspawn", "./Maildir/");
	sp_send(&s, 2, "5/123", "bob@x.org", "Postmaster@sandbox.test");
	cr_expect_eq(sp_answer(&s, text, sizeof(text)), 2);
	cr_expect(strncmp(text, "Kdid 0+1+0\nqp ", 14) == 0, "%s", text);
	snprintf(path, sizeof(path), "%s/queue/todo", home);
	cr_expect_eq(count_tree(path), 1, "the forward is queued");
	sp_close(&s);
}

Test(lspawn, slow_delivery_does_not_hold_others, .init = setup, .fini = t_cleanup, .timeout = 30)
{
	struct sp s;
	char text[4096], path[1024];

	snprintf(path, sizeof(path), "%s/home/bob/.qmail", home);
	t_write(path, "|sleep 2\n", 0600);
	sp_start(&s, "qmail-lspawn", "./Maildir/");
	sp_send(&s, 0, "5/123", "x@y.org", "bob@sandbox.test");
	sp_send(&s, 1, "5/123", "x@y.org", "alice@sandbox.test");
	cr_expect_eq(sp_answer(&s, text, sizeof(text)), 1, "alice's report comes first");
	cr_expect_str_eq(text, "Kdid 1+0+0\n");
	cr_expect_eq(sp_answer(&s, text, sizeof(text)), 0);
	cr_expect_str_eq(text, "Kdid 0+0+1\n");
	sp_close(&s);
}
