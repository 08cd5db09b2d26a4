/* SPDX-License-Identifier: MIT
 * test_mail.c - whole instances: mail over SMTP (swaks, smtplib, msmtp) and
 * sendmail lands in Maildirs with qmail's headers; bounces, aliases,
 * extensions, relay refusal; make run's demo; make stop stops everything. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"

static struct e2e inst;
static struct buf out, mail, path, field;

static void
buffers(void)
{
	buf_init(&out, 1 << 20);
	buf_init(&mail, 1 << 20);
	buf_init(&path, 1 << 12);
	buf_init(&field, 1 << 12);
}

/* up - start an instance for this test */
static void
up(void)
{
	buffers();
	e2e_up(&inst);
}

static void
down(void)
{
	e2e_down(&inst);
}

/* expect_mail - wait for token in USER's Maildir (10 s: CI is slow) and return its text */
static const char *
expect_mail(const char *user, const char *token)
{
	cr_assert_eq(e2e_wait_mail(&inst, user, token, 100, &mail, &path), 0,
	    "no mail with %s in %s's Maildir/new after 10 s\nsend.log:\n%s", token, user,
	    (e2e_sh(&out, "tail -n 30 '%s/log/send.log' '%s/log/smtpd.log'", inst.dir,
	    inst.dir), buf_str(&out)));
	return buf_str(&mail);
}

/* expect_field - the header field name of the mail starts with want */
static void
expect_field(const char *msg, const char *name, const char *want)
{
	cr_expect_eq(e2e_header(msg, name, &field), 0, "no %s: in\n%s", name, msg);
	cr_expect(strncmp(buf_str(&field), want, strlen(want)) == 0,
	    "%s is \"%s\", want \"%s...\"", name, buf_str(&field), want);
}

/* swaks - one mail with swaks; 0 if swaks says it was accepted */
static int
swaks(const char *from, const char *to, const char *token)
{
	return e2e_sh(&out, "swaks --silent 2 --server 127.0.0.1 --port %d "
	    "--helo client.test --from '%s' --to '%s' --header 'Subject: %s' "
	    "--body 'sent by swaks: %s'", inst.port, from, to, token, token);
}

/* smtplib - one mail with Python's smtplib over ADDR */
static int
smtplib(const char *addr, const char *from, const char *to, const char *token)
{
	return e2e_sh(&out, "python3 '%s/tests/e2e/smtp.py' send '%s' %d '%s' '%s' '%s'",
	    e2e_srcdir(), addr, inst.port, from, to, token);
}

Test(mail, swaks_to_alice, .init = up, .fini = down, .timeout = 60)
{
	char token[128];
	const char *msg;

	e2e_token(token, sizeof(token), "swaks");
	cr_assert_eq(swaks("bob@sandbox.test", "alice@sandbox.test", token), 0,
	    "swaks: %s", buf_str(&out));
	msg = expect_mail("alice", token);
	/* qmail-local's first lines, then qmail-queue's and qmail-smtpd's Received */
	cr_expect(strncmp(msg, "Return-Path: <bob@sandbox.test>\n", 32) == 0,
	    "mail does not start with Return-Path:\n%s", msg);
	expect_field(msg, "Delivered-To", "Delivered-To: alice@sandbox.test");
	cr_expect(strstr(msg, "\nReceived: (qmail "), "no qmail-queue Received line:\n%s", msg);
	cr_expect(strstr(msg, "\nReceived: from "), "no qmail-smtpd Received line:\n%s", msg);
	cr_expect(strstr(msg, "(HELO client.test) (127.0.0.1)\n  by sandbox.test with SMTP; "),
	    "qmail-smtpd's Received line is not qmail's:\n%s", msg);
	cr_expect(strstr(msg, "\n\nsent by swaks: "), "body lost:\n%s", msg);
	cr_expect_null(strchr(msg, '\r'), "CR left in a Maildir file");
}

Test(mail, smtplib_two_recipients, .init = up, .fini = down, .timeout = 60)
{
	char token[128];
	const char *addr;

	e2e_token(token, sizeof(token), "smtplib");
	/* [::1] when the instance listens there, as DESIGN.md's sandbox does */
	addr = e2e_sh(&out, "grep -q 'Listening on \\[::1\\]' '%s/log/smtpd.log'",
	    inst.dir) == 0 ? "::1" : "127.0.0.1";
	cr_assert_eq(smtplib(addr, "carol@example.org", "alice@sandbox.test,bob@sandbox.test",
	    token), 0, "smtplib over %s: %s", addr, buf_str(&out));
	expect_field(expect_mail("alice", token), "Return-Path", "Return-Path: <carol@example.org>");
	expect_field(expect_mail("bob", token), "Delivered-To", "Delivered-To: bob@sandbox.test");
}

Test(mail, msmtp_to_bob, .init = up, .fini = down, .timeout = 60)
{
	char token[128];

	if (!e2e_have("msmtp"))
		cr_skip_test("msmtp not installed");
	e2e_token(token, sizeof(token), "msmtp");
	cr_assert_eq(e2e_sh(&out, "printf 'Subject: %s\\n\\nsent by msmtp\\n' | "
	    "msmtp --host=127.0.0.1 --port=%d --domain=client.test --auth=off --tls=off "
	    "--from=alice@sandbox.test bob@sandbox.test", token, inst.port), 0,
	    "msmtp: %s", buf_str(&out));
	expect_field(expect_mail("bob", token), "Return-Path", "Return-Path: <alice@sandbox.test>");
}

Test(mail, unknown_user_bounces_to_sender, .init = up, .fini = down, .timeout = 60)
{
	char token[128];
	const char *msg;

	e2e_token(token, sizeof(token), "bounce");
	cr_assert_eq(swaks("bob@sandbox.test", "nobody@sandbox.test", token), 0,
	    "swaks: %s", buf_str(&out));
	/* the bounce quotes the original message, token included */
	msg = expect_mail("bob", token);
	expect_field(msg, "Return-Path", "Return-Path: <>");
	cr_expect(strstr(msg, "nobody@sandbox.test"), "bounce does not name the recipient:\n%s", msg);
	cr_expect_neq(e2e_wait_mail(&inst, "alice", token, 0, &out, &path), 0,
	    "the failed mail reached alice");
}

Test(mail, postmaster_reaches_alice, .init = up, .fini = down, .timeout = 60)
{
	char token[128];

	e2e_token(token, sizeof(token), "postmaster");
	cr_assert_eq(swaks("carol@example.org", "postmaster@sandbox.test", token), 0,
	    "swaks: %s", buf_str(&out));
	cr_expect(strstr(expect_mail("alice", token), "postmaster@sandbox.test"),
	    "no trace of postmaster@ in the delivered mail");
}

Test(mail, extension_reaches_alice, .init = up, .fini = down, .timeout = 60)
{
	char token[128];

	e2e_token(token, sizeof(token), "ext");
	cr_assert_eq(swaks("bob@sandbox.test", "alice-foo@sandbox.test", token), 0,
	    "swaks: %s", buf_str(&out));
	expect_field(expect_mail("alice", token), "Delivered-To",
	    "Delivered-To: alice-foo@sandbox.test");
}

Test(mail, sendmail_t, .init = up, .fini = down, .timeout = 60)
{
	char token[128];
	const char *msg;

	e2e_token(token, sizeof(token), "sendmail");
	/* env -i: the wrapper in <home>/bin must bind the home by itself */
	cr_assert_eq(e2e_sh(&out, "printf 'To: alice@sandbox.test\\nSubject: %s\\n\\n"
	    "sent by sendmail -t\\n' | env -i PATH=/usr/bin:/bin '%s/bin/sendmail' -t",
	    token, inst.dir), 0, "sendmail -t: %s", buf_str(&out));
	msg = expect_mail("alice", token);
	expect_field(msg, "Delivered-To", "Delivered-To: alice@sandbox.test");
	cr_expect(strstr(msg, "\n\nsent by sendmail -t\n"), "body lost:\n%s", msg);
}

Test(mail, relay_refused, .init = up, .fini = down, .timeout = 60)
{
	cr_assert_eq(e2e_sh(&out, "python3 '%s/tests/e2e/smtp.py' rcpt 127.0.0.1 %d "
	    "bob@sandbox.test victim@example.com", e2e_srcdir(), inst.port), 0,
	    "smtp.py: %s", buf_str(&out));
	cr_expect(strncmp(buf_str(&out), "553 ", 4) == 0, "relay not refused with 553: %s",
	    buf_str(&out));
	/* and swaks, whole transaction: nothing may be queued */
	cr_expect_neq(swaks("bob@sandbox.test", "victim@example.com", "relay"), 0,
	    "swaks relayed: %s", buf_str(&out));
	cr_expect_eq(e2e_sh(&out, "find '%s/queue/mess' -type f | grep -q .", inst.dir), 1,
	    "something was queued: %s", buf_str(&out));
}

Test(mail, make_run_demo, .init = up, .fini = down, .timeout = 60)
{
	/* what make run does after start: send to alice, wait, show the file */
	cr_assert_eq(e2e_sh(&out, "sh '%s/sandbox-tools/sandbox.sh' demo '%s' && "
	    "sh '%s/sandbox-tools/sandbox.sh' info '%s'", e2e_srcdir(), inst.dir,
	    e2e_srcdir(), inst.dir), 0, "demo: %s", buf_str(&out));
	cr_expect(strstr(buf_str(&out), "/home/alice/Maildir/new/"), "%s", buf_str(&out));
	cr_expect(strstr(buf_str(&out), "Subject: sqmail sandbox demo"), "%s", buf_str(&out));
	cr_expect(strstr(buf_str(&out), "127.0.0.1:"), "no endpoint printed: %s", buf_str(&out));
}

/* processes_in - how many processes run with their cwd inside dir; those
 * not running as uid (if uid != -1) go to *strangers; "pid name cwd" lines
 * of them all to who */
static int
processes_in(const char *dir, long uid, int *strangers, struct buf *who)
{
	char link[300], cwd[PATH_MAX], name[64];
	FILE *fp;
	struct dirent *d;
	struct stat st;
	DIR *proc;
	ssize_t n;
	int count = 0;

	proc = opendir("/proc");
	cr_assert_not_null(proc);
	while ((d = readdir(proc)) != NULL) {
		if (d->d_name[0] < '1' || d->d_name[0] > '9')
			continue;
		snprintf(link, sizeof(link), "/proc/%s/cwd", d->d_name);
		n = readlink(link, cwd, sizeof(cwd) - 1);
		if (n <= 0)
			continue;
		cwd[n] = '\0';
		if (strncmp(cwd, dir, strlen(dir)) != 0)
			continue;
		count++;
		snprintf(link, sizeof(link), "/proc/%s/comm", d->d_name);
		name[0] = '\0';
		if ((fp = fopen(link, "r")) != NULL) {
			if (!fgets(name, sizeof(name), fp))
				name[0] = '\0';
			fclose(fp);
		}
		name[strcspn(name, "\n")] = '\0';
		(void)buf_printf(who, "%s %s %s\n", d->d_name, name, cwd);
		snprintf(link, sizeof(link), "/proc/%s", d->d_name);
		if (uid != -1 && stat(link, &st) == 0 && (long)st.st_uid != uid)
			(*strangers)++;
	}
	closedir(proc);
	return count;
}

Test(mail, runs_as_invoker, .init = up, .fini = down, .timeout = 60)
{
	char token[128];
	int strangers = 0;

	/* no privilege use, even as root: every process of the instance, a
	 * delivery included, keeps the invoking uid */
	e2e_token(token, sizeof(token), "uid");
	cr_assert_eq(swaks("bob@sandbox.test", "alice@sandbox.test", token), 0,
	    "swaks: %s", buf_str(&out));
	expect_mail("alice", token);
	buf_reset(&field);
	cr_assert_geq(processes_in(inst.dir, (long)geteuid(), &strangers, &field), 4,
	    "qmail-send, lspawn, rspawn and clean should run in %s:\n%s", inst.dir,
	    buf_str(&field));
	cr_expect_eq(strangers, 0, "%d processes changed uid:\n%s", strangers, buf_str(&field));
	cr_assert_eq(e2e_sh(&out, "stat -c %%u '%s/home/alice/Maildir/new/'* | sort -u",
	    inst.dir), 0);
	cr_expect_eq(strtol(buf_str(&out), NULL, 10), (long)geteuid(),
	    "mail owned by uid %s", buf_str(&out));
}

/* up_with_qmail_users - an instance started by root on a host where qmail's
 * users exist (a private mount namespace with them in /etc/passwd) */
static void
up_with_qmail_users(void)
{
	char wrap[PATH_MAX * 2];

	buffers();
	if (geteuid() != 0)
		return;
	snprintf(wrap, sizeof(wrap), "sh '%s/tests/e2e/with-qmail-users.sh'", e2e_srcdir());
	e2e_up_wrapped(&inst, wrap);
}

Test(mail, runs_as_invoker_beside_qmail_users, .init = up_with_qmail_users, .fini = down,
    .timeout = 60)
{
	char token[128];
	int strangers = 0;

	if (geteuid() != 0)
		cr_skip_test("needs root (a mount namespace with qmail's users)");
	/* qmail's users own /var/qmail, not this QMAILHOME home: nothing may
	 * switch to them, or the sandbox's queue becomes unwritable */
	e2e_token(token, sizeof(token), "users");
	cr_assert_eq(swaks("bob@sandbox.test", "alice@sandbox.test", token), 0,
	    "swaks: %s", buf_str(&out));
	expect_mail("alice", token);
	buf_reset(&field);
	cr_assert_geq(processes_in(inst.dir, 0, &strangers, &field), 4,
	    "qmail-send, lspawn, rspawn and clean should run in %s:\n%s", inst.dir,
	    buf_str(&field));
	cr_expect_eq(strangers, 0, "%d processes changed uid:\n%s", strangers, buf_str(&field));
}

/* a queue taken over from qmail 1.03: a message with a flat todo/ID is
 * delivered, and qmail-clean removes the flat file (nothing held) */
Test(mail, qmail_103_flat_todo_is_delivered, .init = up, .fini = down, .timeout = 60)
{
	char token[128];
	unsigned long id = 7000000UL + (unsigned long)getpid();

	e2e_token(token, sizeof(token), "flat");
	cr_assert_eq(e2e_sh(&out, "cd '%s/queue' && "
	    "printf 'Subject: %s\n\nleft by qmail 1.03\n' > mess/%lu/%lu && "
	    "printf 'u0\\000p1\\000Fbob@sandbox.test\\000Talice@sandbox.test\\000' "
	    "> todo/%lu && printf x > lock/trigger", inst.dir, token, id % 23, id, id), 0,
	    "%s", buf_str(&out));
	expect_mail("alice", token);
	for (int i = 0; i < 50 && e2e_sh(NULL, "test -e '%s/queue/todo/%lu'", inst.dir, id) == 0; i++)
		usleep(100000);
	cr_expect_neq(e2e_sh(NULL, "test -e '%s/queue/todo/%lu'", inst.dir, id), 0,
	    "flat todo/%lu still there", id);
	cr_expect_neq(e2e_sh(&out, "grep -c 'is held' '%s/log/send.log'", inst.dir), 0,
	    "qmail-send held the message: %s", buf_str(&out));
}

Test(mail, stop_stops_everything, .init = up, .fini = down, .timeout = 60)
{
	int unused = 0;

	cr_assert_gt(processes_in(inst.dir, -1, &unused, &field), 0, "nothing runs in %s",
	    inst.dir);
	/* start again on top of a running instance: it must restart, not break */
	cr_assert_eq(e2e_sh(&out, "SMTP_PORT=%d sh '%s/sandbox-tools/sandbox.sh' start '%s' '%s'",
	    inst.port, e2e_srcdir(), inst.dir, e2e_builddir()), 0,
	    "second start: %s", buf_str(&out));
	cr_assert_eq(e2e_sh(&out, "sh '%s/sandbox-tools/sandbox.sh' stop '%s'",
	    e2e_srcdir(), inst.dir), 0, "stop: %s", buf_str(&out));
	buf_reset(&field);
	cr_expect_eq(processes_in(inst.dir, -1, &unused, &field), 0,
	    "processes left after stop:\n%s\nstop said: %s", buf_str(&field), buf_str(&out));
	cr_expect_neq(e2e_sh(&out, "python3 -c 'import socket; "
	    "socket.create_connection((\"127.0.0.1\", %d), 2)'", inst.port), 0,
	    "port %d still open after stop", inst.port);
	cr_expect_eq(e2e_sh(&out, "ls '%s/run/' | grep -c pid", inst.dir), 1,
	    "pid files left: %s", buf_str(&out));
}
