/* SPDX-License-Identifier: MIT
 * test_badinput.c - bad input (issue 3, "Bad input"): a malformed envelope gets
 * qmail-queue's exit code (the same as qmail's), a client that hangs up inside
 * DATA gets nothing queued, and in every case nothing is left in pid/ mess/
 * intd/ todo/ and nothing half-written is ever delivered.
 *
 * Runs as:    the Criterion worker, any user; processes in its own session.
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rb.h"

#define E(lit)		lit, sizeof(lit) - 1
#define BARRIER		1	/* the one good message, delivered last */
#define ADDR_LONG	1100	/* longer than qmail's 1000-character limit */
#define HALF		LONG_MIN

static struct rb_home home;

static void
setup(void)
{
	cr_assert_eq(rb_world_init(), 0, "cannot get a session of our own");
	cr_assert_eq(rb_home_make(&home, "badinput", NULL), 0, "mkhome.sh failed");
}

static void
teardown(void)
{
	rb_world_kill();
	rb_home_remove(&home);
}

#define skip(...) do {							\
		teardown();						\
		cr_skip_test(__VA_ARGS__);				\
	} while (0)

/* qmail-queue.c reads the envelope byte by byte: EOF anywhere is 54 (read
 * error), a record that is not F first or T later is 91, an address of 1000
 * characters or more is 11. */
static const struct env_case {
	const char *label;
	const char *env;
	size_t len;
	int want;
} env_cases[] = {
	{ "no envelope at all", E(""), 54 },
	{ "first record is not F", E("Talice@sandbox.test\0\0"), 91 },
	{ "sender without its NUL", E("Fbob@sandbox.test"), 54 },
	{ "recipient without its NUL", E("Fbob@sandbox.test\0Talice@sandbox.test"), 54 },
	{ "no final NUL", E("Fbob@sandbox.test\0Talice@sandbox.test\0"), 54 },
	{ "unknown record type", E("Fbob@sandbox.test\0Xalice@sandbox.test\0\0"), 91 },
	{ NULL, NULL, 0, 0 },
};

/* bad_qq - run one injection attempt; the queue's files must not change */
static void
bad_qq(const char *label, unsigned id, const char *env, size_t envlen, int want)
{
	char *before = rb_snapshot(&home), *after, *m;
	size_t len;
	int rc;

	m = rb_msg(id, rb_msg_size(id), &len);
	rc = rb_qq_raw(&home, m, len, env, envlen);
	after = rb_snapshot(&home);
	cr_expect_eq(rc, want, "%s: qmail-queue exit %d, want %d", label, rc, want);
	cr_expect_str_eq(after, before, "%s: qmail-queue left files behind", label);
	free(m);
	free(before);
	free(after);
}

/* long_address - an envelope whose sender (or recipient) is too long */
static void
long_address(unsigned id, int in_sender)
{
	char env[2 * ADDR_LONG + 64], addr[ADDR_LONG + 1];
	int n;

	memset(addr, 'a', ADDR_LONG);
	memcpy(addr + ADDR_LONG - 12, "@sandbox.tst", 12);
	addr[ADDR_LONG] = '\0';
	n = snprintf(env, sizeof(env), "F%s%cT%s%c%c", in_sender ? addr : "bob@sandbox.test",
	    0, in_sender ? "alice@sandbox.test" : addr, 0, 0);
	bad_qq(in_sender ? "sender too long" : "recipient too long", id, env, (size_t)n, 11);
}

/* quiet - wait until no qmail-queue or qmail-smtpd of ours runs (bounded) */
static int
quiet(long ms)
{
	long long end = rb_now_ms() + ms;
	pid_t pids[16];
	int sts[16];

	while (rb_now_ms() < end) {
		rb_reap(&home, pids, sts, 16);
		if (rb_find(&home, "qmail-queue") == 0 && rb_find(&home, "qmail-smtpd") == 0)
			return 1;
		rb_sleep_ms(20);
	}
	return 0;
}

/* hang_up - an SMTP client that vanishes after cut bytes of DATA (counted from
 * the end of the data with its final dot when negative, HALF for half of it) */
static void
hang_up(const char *label, unsigned id, long cut)
{
	char *before = rb_snapshot(&home), *after, *m;
	size_t len, dlen, i;
	int code;

	m = rb_msg(id, rb_msg_size(id), &len);
	/* our messages have no line starting with ".": CRLF adds one byte a line */
	for (dlen = len + 3, i = 0; i < len; i++)
		dlen += m[i] == '\n';
	code = rb_smtp_cut(&home, m, len, "bob@sandbox.test", "alice@sandbox.test",
	    cut == HALF ? dlen / 2 : cut < 0 ? dlen - (size_t)-cut : (size_t)cut);
	cr_expect_eq(code, 354, "%s: DATA not reached (%d)", label, code);
	cr_expect(quiet(5000), "%s: qmail-smtpd or qmail-queue still running", label);
	after = rb_snapshot(&home);
	cr_expect_str_eq(after, before, "%s: files left in the queue", label);
	free(m);
	free(before);
	free(after);
}

/* barrier - one good message; once it is delivered and the queue is empty,
 * alice's Maildir must hold exactly that message */
static void
barrier(void)
{
	char maildir[RB_PATH_MAX + 32], *m;
	long long end = rb_now_ms() + 30000;
	struct rb_box box;
	size_t len;
	int done = 0;

	m = rb_msg(BARRIER, rb_msg_size(BARRIER), &len);
	cr_assert_eq(rb_qq(&home, m, len, "bob@sandbox.test", "alice@sandbox.test"), 0,
	    "a good message is refused");
	free(m);
	rb_path(&home, maildir, sizeof(maildir), "home/alice/Maildir");
	while (!done && rb_now_ms() < end) {
		rb_sleep_ms(200);
		cr_assert_eq(rb_box_scan(maildir, RB_ID_MAX, 0, &box), 0);
		done = box.count[BARRIER] > 0 && rb_queue_busy(&home) == 0;
		rb_box_free(&box);
		rb_poke(&home);
	}
	cr_assert(done, "the good message was not delivered in 30 s");
	cr_assert_eq(rb_box_scan(maildir, RB_ID_MAX, 0, &box), 0);
	rb_note("badinput", "after bad input: %u files in alice's Maildir (want 1), "
	    "%u broken, %u foreign", box.files, box.bad, box.foreign);
	cr_expect_eq(box.files, 1, "something from the bad input was delivered");
	cr_expect_eq(box.bad, 0, "broken files delivered: %s", box.badlist);
	rb_box_free(&box);
}

Test(robust, badinput, .init = setup, .fini = teardown, .timeout = 120)
{
	const struct env_case *c;
	unsigned id = 100;

	if (!rb_have(&home, "qmail-queue"))
		skip("qmail-queue not built yet");
	for (c = env_cases; c->label != NULL; c++)
		bad_qq(c->label, id++, c->env, c->len, c->want);
	long_address(id++, 1);
	long_address(id++, 0);
	if (rb_have(&home, "qmail-smtpd")) {
		cr_assert_eq(rb_smtp_start(&home), 0, "cannot start qmail-smtpd");
		hang_up("hang up right after DATA", id++, 0);
		hang_up("hang up in the middle of DATA", id++, HALF);
		hang_up("hang up before the final dot", id++, -3);
		hang_up("hang up before the last CRLF and dot", id++, -5);
		hang_up("hang up before the final CRLF", id++, -2);
	}
	if (!rb_have(&home, "qmail-start"))
		skip("qmail-start not built yet: checked only the refusals");
	cr_assert_gt(rb_start(&home), 0, "cannot run qmail-start");
	barrier();
	rb_stop(&home, 5000);
}
