/* SPDX-License-Identifier: MIT
 * test_nullsender.c - a fresh instance whose first local delivery has the null
 * sender (a bounce): found by the crash test, where every restart makes a fresh
 * qmail-lspawn; the bounce must be delivered, not bounced again.
 *
 * Runs as:    the Criterion worker, any user; processes in its own session.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <unistd.h>

#include "rb.h"

#define MSG_ID		(RB_ID_TINY + 1)

static struct rb_home home;

static void
setup(void)
{
	cr_assert_eq(rb_world_init(), 0, "cannot get a session of our own");
	cr_assert_eq(rb_home_make(&home, "nullsender", NULL), 0, "mkhome.sh failed");
}

static void
teardown(void)
{
	rb_world_kill();
	rb_home_remove(&home);
}

Test(robust, null_sender_first, .init = setup, .fini = teardown, .timeout = 60)
{
	char maildir[RB_PATH_MAX + 32], *m;
	long long end = rb_now_ms() + 20000;
	struct rb_box box;
	size_t len;
	int done = 0;

	if (!rb_have(&home, "qmail-queue") || !rb_have(&home, "qmail-start")) {
		teardown();
		cr_skip_test("qmail-queue or qmail-start not built yet");
	}
	m = rb_msg(MSG_ID, rb_msg_size(MSG_ID), &len);
	cr_assert_eq(rb_qq(&home, m, len, "", "alice@sandbox.test"), 0);
	free(m);
	cr_assert_gt(rb_start(&home), 0, "cannot run qmail-start");
	rb_path(&home, maildir, sizeof(maildir), "home/alice/Maildir");
	while (!done && rb_now_ms() < end) {
		rb_sleep_ms(100);
		done = rb_queue_busy(&home) == 0;
	}
	cr_assert(done, "queue not empty after 20 s");
	cr_assert_eq(rb_box_scan(maildir, RB_ID_MAX, 0, &box), 0);
	cr_expect_eq(box.count[MSG_ID], 1, "the null-sender message was not delivered "
	    "(%u files in alice's Maildir, %u inside a bounce)", box.files, box.wrapped);
	cr_expect_eq(box.files, 1);
	rb_box_free(&box);
	rb_stop(&home, 5000);
}
