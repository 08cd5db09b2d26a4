/* SPDX-License-Identifier: MIT
 * test_fullmaildir.c - bob's Maildir on a small tmpfs that is full: qmail-local
 * must fail temporarily (qmail-send logs a deferral), the message stays queued,
 * nothing is bounced and no half file reaches new/; once space returns it is
 * delivered whole.
 *
 * Runs as:    root (a tmpfs mount) in a private mount namespace of the worker;
 *             skipped otherwise.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rb.h"

#define MSG_ID		(RB_ID_TINY + 7)
#define FULL_MS		30000	/* bound on the wait for a first deferral */
#define RESUME_MS	60000

static struct rb_home home;
static char box[RB_PATH_MAX + 32];
static int mounted;

static void
setup(void)
{
	cr_assert_eq(rb_world_init(), 0, "cannot get a session of our own");
}

static void
teardown(void)
{
	rb_world_kill();
	if (mounted)
		umount2(box, MNT_DETACH);
	mounted = 0;
	if (home.dir[0] != '\0')
		rb_home_remove(&home);
}

#define skip(...) do {							\
		teardown();						\
		cr_skip_test(__VA_ARGS__);				\
	} while (0)

/* full_box - bob's Maildir becomes a 64 KB tmpfs, then a filler takes it all */
static void
full_box(void)
{
	static const char *const subs[] = { "tmp", "new", "cur" };
	char path[RB_PATH_MAX + 64];

	rb_path(&home, box, sizeof(box), "home/bob/Maildir");
	cr_assert_eq(mount("tmpfs", box, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=0700"),
	    0, "mount tmpfs on %s: %s", box, strerror(errno));
	mounted = 1;
	for (int i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), "%s/%s", box, subs[i]);
		cr_assert_eq(mkdir(path, 0700), 0);
	}
	snprintf(path, sizeof(path), "%s/filler", box);
	cr_assert_geq(rb_fill(path, (size_t)-1), 0);
}

/* log_has - does the daemons' log contain text? */
static int
log_has(const char *text)
{
	char buf[65536];
	int fd = open(home.log, O_RDONLY | O_CLOEXEC), found = 0;
	ssize_t n;

	if (fd < 0)
		return 0;
	/* the log is small here: read it in overlapping chunks */
	while (!found && (n = read(fd, buf, sizeof(buf) - 1)) > 0) {
		buf[n] = '\0';
		found = strstr(buf, text) != NULL;
		if (n > 256)
			lseek(fd, -256, SEEK_CUR);
		if (n < (ssize_t)sizeof(buf) - 1)
			break;
	}
	close(fd);
	return found;
}

/* scan - bob's and alice's Maildirs */
static void
scan(struct rb_box *bob, struct rb_box *alice)
{
	char path[RB_PATH_MAX + 32];

	cr_assert_eq(rb_box_scan(box, RB_ID_MAX, 0, bob), 0);
	rb_path(&home, path, sizeof(path), "home/alice/Maildir");
	cr_assert_eq(rb_box_scan(path, RB_ID_MAX, 1, alice), 0);
}

/* wait_delivered - poke until bob has the message and the queue is empty */
static int
wait_delivered(long ms)
{
	long long end = rb_now_ms() + ms;
	struct rb_box bob, alice;
	int done = 0;

	while (!done && rb_now_ms() < end) {
		rb_poke(&home);
		rb_sleep_ms(300);
		scan(&bob, &alice);
		done = bob.count[MSG_ID] > 0 && rb_queue_busy(&home) == 0;
		rb_box_free(&bob);
		rb_box_free(&alice);
	}
	return done;
}

Test(robust, fullmaildir, .init = setup, .fini = teardown, .timeout = 120)
{
	struct rb_box bob, alice;
	char path[RB_PATH_MAX + 64], *m;
	long long end;
	size_t len;

	if (geteuid() != 0)
		skip("needs root: mounts a small tmpfs over a Maildir");
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		skip("no private mount namespace here: %s", strerror(errno));
	cr_assert_eq(rb_home_make(&home, "fullmaildir", NULL), 0, "mkhome failed");
	if (!rb_have(&home, "qmail-queue") || !rb_have(&home, "qmail-start") ||
	    !rb_have(&home, "qmail-local"))
		skip("qmail-queue, qmail-start or qmail-local not built yet");
	full_box();

	cr_assert_gt(rb_start(&home), 0, "cannot run qmail-start");
	m = rb_msg(MSG_ID, rb_msg_size(MSG_ID), &len);
	cr_assert_eq(rb_qq(&home, m, len, "alice@sandbox.test", "bob@sandbox.test"), 0);
	free(m);
	/* until qmail-send has tried and deferred (bounded: a loaded machine is slow) */
	for (end = rb_now_ms() + FULL_MS; rb_now_ms() < end && !log_has("deferral");
	    rb_sleep_ms(300))
		rb_poke(&home);
	rb_sleep_ms(1000);
	rb_poke(&home);
	rb_sleep_ms(500);
	scan(&bob, &alice);
	rb_note("fullmaildir", "full Maildir: bob %u files (tmp/ %u), alice %u files, "
	    "queue: info %zu local %zu; deferral logged: %s", bob.files, bob.tmp,
	    alice.files, rb_count(&home, "info"), rb_count(&home, "local"),
	    log_has("deferral") ? "yes" : "no");
	cr_expect_eq(bob.files, 0, "something reached bob's full Maildir");
	cr_expect_eq(bob.tmp, 0, "qmail-local left a file in tmp/ of the full Maildir");
	cr_expect_eq(alice.files, 0, "the sender got a bounce for a full Maildir");
	cr_expect_eq(rb_count(&home, "local"), 1, "the message is not queued any more");
	cr_expect(log_has("deferral"), "qmail-send logged no deferral");
	if (bob.files + alice.files + bob.tmp != 0 || !log_has("deferral"))
		rb_note_log(&home, "fullmaildir", 20);
	rb_box_free(&bob);
	rb_box_free(&alice);

	snprintf(path, sizeof(path), "%s/filler", box);
	cr_assert_eq(unlink(path), 0);
	if (!wait_delivered(RESUME_MS)) {
		rb_note_log(&home, "fullmaildir", 20);
		cr_assert_fail("not delivered once the Maildir had space");
	}
	scan(&bob, &alice);
	cr_expect_eq(bob.count[MSG_ID], 1, "bob got %u copies", bob.count[MSG_ID]);
	cr_expect_eq(bob.bad, 0, "broken file in bob's Maildir: %s", bob.badlist);
	cr_expect_eq(alice.files, 0, "the sender got a bounce");
	rb_box_free(&bob);
	rb_box_free(&alice);
	rb_stop(&home, 5000);
}
