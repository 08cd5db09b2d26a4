/* SPDX-License-Identifier: MIT
 * test_local.c - the real qmail-local binary in a temp home: header lines,
 * loop refusal, the .qmail cascade, forwards through QMAILQUEUE, programs, mbox. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "support.h"

static char home[] = "/tmp/sq-local-XXXXXX";
static char out[65536];

static const char *
at(const char *name)
{
	static char path[4][1024];
	static int k;

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", home, name);
	return path[k];
}

static void
maildir(const char *name)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/%s", home, name);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/tmp", home, name);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/new", home, name);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/%s/cur", home, name);
	mkdir(p, 0700);
}

static void
setup(void)
{
	t_tmpdir(home);
	maildir("Maildir");
	t_write(at("msg"), "Subject: test\nFrom: bob@x.org\n\nbody line\nFrom me\n", 0600);
}

/* deliver - qmail-local user home local dash ext domain sender ./Maildir/ */
static int
deliver(const char *dash, const char *ext, const char *sender, const char *msg)
{
	char local[256];
	const char *argv[] = { t_prog("qmail-local"), "--", "alice", home, local,
		dash, ext, "example.org", sender, "./Maildir/", NULL };

	/* qmail-lspawn passes the whole local part: user, dash, extension */
	snprintf(local, sizeof(local), "alice%s%s", dash, ext);

	return t_run(argv, at(msg), NULL, out, sizeof(out));
}

Test(local, default_delivery_adds_return_path_and_delivered_to, .init = setup, .fini = t_cleanup)
{
	cr_assert_eq(deliver("", "", "bob@x.org", "msg"), 0, "%s", out);
	cr_expect_str_eq(out, "did 1+0+0\n");
	cr_assert_eq(t_count(at("Maildir/new")), 1);
	cr_expect_eq(t_count(at("Maildir/tmp")), 0);
	cr_expect_str_eq(t_read(t_first(at("Maildir/new"))),
	    "Return-Path: <bob@x.org>\nDelivered-To: alice@example.org\n"
	    "Subject: test\nFrom: bob@x.org\n\nbody line\nFrom me\n");
}

Test(local, null_sender_and_quoted_sender, .init = setup, .fini = t_cleanup)
{
	cr_assert_eq(deliver("", "", "", "msg"), 0, "%s", out);
	cr_expect(strncmp(t_read(t_first(at("Maildir/new"))), "Return-Path: <>\n", 16) == 0);
	unlink(t_first(at("Maildir/new")));
	cr_assert_eq(deliver("", "", "a b@x.org", "msg"), 0, "%s", out);
	cr_expect(strncmp(t_read(t_first(at("Maildir/new"))),
	    "Return-Path: <\"a b\"@x.org>\n", 27) == 0);
}

Test(local, loop_is_refused, .init = setup, .fini = t_cleanup)
{
	t_write(at("loop"), "Received: x\nDelivered-To: alice@example.org\n\nbody\n", 0600);
	cr_expect_eq(deliver("", "", "bob@x.org", "loop"), 100);
	cr_expect(strstr(out, "looping") && strstr(out, "#5.4.6"), "%s", out);
	cr_expect_eq(t_count(at("Maildir/new")), 0);
	/* the same line in the body, or for another address, is no loop */
	t_write(at("body"), "Delivered-To: other@example.org\n\nDelivered-To: alice@example.org\n", 0600);
	cr_expect_eq(deliver("", "", "bob@x.org", "body"), 0, "%s", out);
}

Test(local, extension_without_dot_qmail_bounces, .init = setup, .fini = t_cleanup)
{
	cr_expect_eq(deliver("-", "nosuch", "bob@x.org", "msg"), 100);
	cr_expect_str_eq(out, "Sorry, no mailbox here by that name. (#5.1.1)\n");
}

Test(local, cascade_exact_then_default, .init = setup, .fini = t_cleanup)
{
	maildir("Exact");
	maildir("Dflt");
	maildir("Top");
	t_write(at(".qmail-foo-bar"), "./Exact/\n", 0600);
	t_write(at(".qmail-foo-default"), "# comment\n|echo \"$DEFAULT\" > default.out\n./Dflt/\n", 0600);
	t_write(at(".qmail-default"), "./Top/\n", 0600);
	cr_assert_eq(deliver("-", "foo-bar", "bob@x.org", "msg"), 0, "%s", out);
	cr_expect_eq(t_count(at("Exact/new")), 1);
	cr_assert_eq(deliver("-", "Foo-Baz.Q", "bob@x.org", "msg"), 0, "%s", out);
	cr_expect_eq(t_count(at("Dflt/new")), 1);
	cr_expect_str_eq(t_read(at("default.out")), "Baz.Q\n");
	cr_expect_str_eq(out, "did 1+0+1\n");
	cr_assert_eq(deliver("-", "other", "bob@x.org", "msg"), 0, "%s", out);
	cr_expect_eq(t_count(at("Top/new")), 1);
	cr_expect_eq(t_count(at("Maildir/new")), 0);
}

Test(local, several_lines_and_blank_first_line, .init = setup, .fini = t_cleanup)
{
	maildir("Other");
	t_write(at(".qmail"), "# two copies\n./Maildir/\n\n./Other/   \n", 0600);
	cr_assert_eq(deliver("", "", "bob@x.org", "msg"), 0, "%s", out);
	cr_expect_str_eq(out, "did 2+0+0\n");
	cr_expect_eq(t_count(at("Maildir/new")), 1);
	cr_expect_eq(t_count(at("Other/new")), 1);
	t_write(at(".qmail"), "\n./Maildir/\n", 0600);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 111);
	cr_expect(strstr(out, "first line") != NULL, "%s", out);
}

static void
recorder(int code)
{
	char script[2048];

	snprintf(script, sizeof(script), "#!/bin/sh\ncat > %s/fwd.msg\ncat <&1 > %s/fwd.env\n"
	    "exit %d\n", home, home, code);
	t_write(at("qq"), script, 0700);
	setenv("QMAILQUEUE", at("qq"), 1);
}

Test(local, forward_through_qmailqueue, .init = setup, .fini = t_cleanup)
{
	recorder(0);
	t_write(at(".qmail-list"), "&carol@example.net\ndave@example.net\n", 0600);
	cr_assert_eq(deliver("-", "list", "bob@x.org", "msg"), 0, "%s", out);
	cr_expect(strncmp(out, "did 0+2+0\nqp ", 13) == 0, "%s", out);
	cr_expect_str_eq(t_read(at("fwd.msg")), "Delivered-To: alice-list@example.org\n"
	    "Subject: test\nFrom: bob@x.org\n\nbody line\nFrom me\n");
	cr_expect_eq(memcmp(t_read(at("fwd.env")),
	    "Fbob@x.org\0Tcarol@example.net\0Tdave@example.net\0\0", 48), 0);
	cr_expect_eq(t_count(at("Maildir/new")), 0);
}

Test(local, forward_failure_codes, .init = setup, .fini = t_cleanup)
{
	t_write(at(".qmail"), "&carol@example.net\n", 0600);
	recorder(53);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 111);
	cr_expect(strstr(out, "Unable to forward message: qq write error") != NULL, "%s", out);
	recorder(31);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 100);
}

Test(local, owner_file_changes_forward_sender, .init = setup, .fini = t_cleanup)
{
	recorder(0);
	t_write(at(".qmail-list"), "&carol@example.net\n", 0600);
	t_write(at(".qmail-list-owner"), "./Maildir/\n", 0600);
	cr_assert_eq(deliver("-", "list", "bob@x.org", "msg"), 0, "%s", out);
	cr_expect_str_eq(t_read(at("fwd.env")), "Falice-list-owner@example.org");
}

Test(local, program_exit_codes, .init = setup, .fini = t_cleanup)
{
	maildir("After");
	t_write(at(".qmail"), "|exit 99\n./After/\n", 0600);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 0, "%s", out);
	cr_expect_eq(t_count(at("After/new")), 0, "99 stops before the next line");
	t_write(at(".qmail"), "|echo nope; exit 100\n", 0600);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 100);
	cr_expect_str_eq(out, "nope\n");
	t_write(at(".qmail"), "|exit 77\n", 0600);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 100);
	t_write(at(".qmail"), "|exit 1\n", 0600);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 111);
	t_write(at(".qmail"), "|grep -q '^Subject: test' && test \"$SENDER\" = bob@x.org\n", 0600);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 0, "%s", out);
}

Test(local, mbox_line, .init = setup, .fini = t_cleanup)
{
	const char *box;

	t_write(at(".qmail"), "./mbox\n", 0600);
	cr_assert_eq(deliver("", "", "bob@x.org", "msg"), 0, "%s", out);
	cr_assert_eq(deliver("", "", "", "msg"), 0, "%s", out);
	box = t_read(at("mbox"));
	cr_expect(strncmp(box, "From bob@x.org ", 15) == 0, "%s", box);
	cr_expect(strstr(box, "\nReturn-Path: <bob@x.org>\nDelivered-To: alice@example.org\n"
	    "Subject: test\n") != NULL, "%s", box);
	cr_expect(strstr(box, "\n>From me\n\nFrom MAILER-DAEMON ") != NULL, "%s", box);
}

Test(local, unsafe_permissions_defer, .init = setup, .fini = t_cleanup)
{
	t_write(at(".qmail"), "./Maildir/\n", 0602);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 111);
	cr_expect(strstr(out, "writable") != NULL, "%s", out);
	t_write(at(".qmail"), "./Maildir/\n", 0700);
	cr_expect_eq(deliver("", "", "bob@x.org", "msg"), 111, "x bit = forward only");
}

Test(local, dry_run_prints_actions, .init = setup, .fini = t_cleanup)
{
	const char *argv[] = { t_prog("qmail-local"), "-n", "alice", home, "alice", "", "",
		"example.org", "bob@x.org", "./Maildir/", NULL };

	t_write(at(".qmail"), "./Maildir/\n&carol@example.net\n|true\n", 0600);
	cr_assert_eq(t_run(argv, at("msg"), NULL, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "maildir ./Maildir/\nforward carol@example.net\nprogram true\n"
	    "did 1+1+1\n");
	cr_expect_eq(t_count(at("Maildir/new")), 0);
}

Test(local, usage_is_permanent, .fini = t_cleanup)
{
	const char *argv[] = { t_prog("qmail-local"), "alice", NULL };

	cr_expect_eq(t_run(argv, NULL, NULL, out, sizeof(out)), 100);
}
