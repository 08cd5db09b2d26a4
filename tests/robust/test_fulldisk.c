/* SPDX-License-Identifier: MIT
 * test_fulldisk.c - the queue on a 1 MB tmpfs that fills up: qmail-queue exits
 * 53 and leaves nothing in pid/ mess/ intd/ todo/, qmail-smtpd answers 4xx to
 * the final dot, qmail-send started on the full queue loses nothing, nothing
 * half-written is delivered, and once space returns everything queued before
 * is delivered and new mail is accepted again. The Maildirs stay on the normal
 * filesystem.
 *
 * Runs as:    root (a tmpfs mount) in a private mount namespace of the worker, so
 *             the mount vanishes with the test's processes; skipped otherwise.
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

#define PREFILL		5	/* messages queued before the disk fills */
#define RESERVE		(400 * 1024)	/* of the 1 MB queue, freed when space returns */
#define SETTLE_MS	3000	/* qmail-send runs on the full queue this long */
#define RESUME_MS	60000	/* bound on delivery once space returns */

static struct rb_home home;
static int mounted;
static unsigned char acked[RB_ID_MAX], failed[RB_ID_MAX];

static void
setup(void)
{
	cr_assert_eq(rb_world_init(), 0, "cannot get a session of our own");
}

static void
teardown(void)
{
	char q[RB_PATH_MAX + 16];

	rb_world_kill();
	if (mounted) {
		rb_path(&home, q, sizeof(q), "queue");
		umount2(q, MNT_DETACH);
	}
	if (home.dir[0] != '\0')
		rb_home_remove(&home);
}

/* skip - Criterion runs no .fini after cr_skip_test: clean up first */
#define skip(...) do {							\
		teardown();						\
		cr_skip_test(__VA_ARGS__);				\
	} while (0)

/* mount_queue - HOME/queue becomes a 1 MB tmpfs before mkhome.sh fills it in */
static int
mount_queue(struct rb_home *h)
{
	char q[RB_PATH_MAX + 16];

	rb_path(h, q, sizeof(q), "queue");
	if (mkdir(q, 0750) < 0)
		return -1;
	if (mount("tmpfs", q, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0750") < 0)
		return -1;
	mounted = 1;
	return 0;
}

/* qq - inject message id; remember whether it was acknowledged */
static int
qq(unsigned id)
{
	size_t len;
	char *m = rb_msg(id, rb_msg_size(id), &len);
	int rc = rb_qq(&home, m, len, "bob@sandbox.test", "alice@sandbox.test");

	free(m);
	if (rc == 0)
		acked[id] = 1;
	else
		failed[id] = 1;
	return rc;
}

/* fill - inject ids from *id on until qmail-queue fails; check it left nothing */
static int
fill(unsigned *id, unsigned last)
{
	int rc = 0;

	while (*id < last) {
		char *before = rb_snapshot(&home), *after;

		rc = qq((*id)++);
		if (rc == 0) {
			free(before);
			continue;
		}
		after = rb_snapshot(&home);
		cr_assert_str_eq(after, before, "qmail-queue exit %d left files behind", rc);
		free(before);
		free(after);
		break;
	}
	return rc;
}

/* eat_space - file name in the queue takes max bytes or whatever is left */
static void
eat_space(const char *name, size_t max)
{
	char path[RB_PATH_MAX + 32];

	rb_path(&home, path, sizeof(path), "queue/%s", name);
	cr_assert_geq(rb_fill(path, max), 0, "create %s: %s", path, strerror(errno));
}

/* missing - scan alice's Maildir: how many acknowledged ids are missing */
static unsigned
missing(struct rb_box *box)
{
	char maildir[RB_PATH_MAX + 32];
	unsigned id, n = 0;

	rb_path(&home, maildir, sizeof(maildir), "home/alice/Maildir");
	cr_assert_eq(rb_box_scan(maildir, RB_ID_MAX, 0, box), 0);
	for (id = 0; id < RB_ID_MAX; id++)
		if (acked[id] && box->count[id] == 0)
			n++;
	return n;
}

/* wait_all - poke qmail-send until every acknowledged id is delivered */
static unsigned
wait_all(long ms)
{
	long long end = rb_now_ms() + ms;
	struct rb_box box;
	unsigned left;

	for (;;) {
		left = missing(&box);
		rb_box_free(&box);
		if ((left == 0 && rb_queue_busy(&home) == 0) || rb_now_ms() > end)
			return left;
		rb_poke(&home);
		rb_sleep_ms(300);
	}
}

/* check_box - nothing broken, nothing refused ever delivered */
static void
check_box(const char *when)
{
	struct rb_box box;
	unsigned id, dups = 0;

	missing(&box);
	cr_expect_eq(box.bad, 0, "%s: %u delivered files differ from what was sent: %s",
	    when, box.bad, box.badlist);
	for (id = 0; id < RB_ID_MAX; id++) {
		cr_expect(!(failed[id] && box.count[id] > 0),
		    "%s: message %u was refused but delivered", when, id);
		if (box.count[id] > 1)
			dups += box.count[id] - 1;
	}
	rb_note("fulldisk", "%s: %u files, %u duplicates, %u foreign, tmp/ %u",
	    when, box.files, dups, box.foreign, box.tmp);
	rb_box_free(&box);
}

/* full_queue - fill the queue; every refusal is 53 and leaves nothing behind */
static void
full_queue(unsigned *big, unsigned *tiny)
{
	int rc, i;

	rc = fill(big, RB_ID_BIG + 100);
	cr_assert_eq(rc, 53, "qmail-queue on a full queue: exit %d, want 53", rc);
	rc = fill(tiny, RB_ID_TINY + 2000);
	cr_assert_eq(rc, 53, "qmail-queue, small message, full queue: exit %d, want 53", rc);
	eat_space("filler", (size_t)-1);
	for (i = 0; i < 3; i++) {
		char *before = rb_snapshot(&home), *after;

		rc = qq((*tiny)++);
		after = rb_snapshot(&home);
		cr_assert_eq(rc, 53, "qmail-queue, no space at all: exit %d, want 53", rc);
		cr_assert_str_eq(after, before, "qmail-queue exit %d left files behind", rc);
		free(before);
		free(after);
	}
}

/* smtp_full - qmail-smtpd must answer 4xx to the final dot and queue nothing */
static void
smtp_full(unsigned id)
{
	char reply[256], *before = rb_snapshot(&home), *after, *m;
	size_t len;
	int code;

	m = rb_msg(id, rb_msg_size(id), &len);
	code = rb_smtp_send(&home, m, len, "bob@sandbox.test", "alice@sandbox.test",
	    reply, sizeof(reply));
	failed[id] = 1;
	after = rb_snapshot(&home);
	rb_note("fulldisk", "smtp on a full queue: %s", reply);
	cr_expect(code >= 400 && code < 500, "SMTP on a full queue: \"%s\", want 4xx", reply);
	cr_expect_str_eq(after, before, "qmail-smtpd's qmail-queue left files behind");
	free(m);
	free(before);
	free(after);
}

/* resume - new mail is accepted and delivered again */
static void
resume(unsigned id, int smtp)
{
	char reply[256], *m;
	size_t len;
	unsigned left;
	int rc;

	cr_assert_eq(qq(id), 0, "qmail-queue refuses mail after space returned");
	if (smtp) {
		m = rb_msg(id + 1, rb_msg_size(id + 1), &len);
		rc = rb_smtp_send(&home, m, len, "bob@sandbox.test", "alice@sandbox.test",
		    reply, sizeof(reply));
		free(m);
		cr_assert_eq(rc, 250, "SMTP after space returned: \"%s\"", reply);
		acked[id + 1] = 1;
	}
	left = wait_all(RESUME_MS);
	cr_assert_eq(left, 0, "%u messages not delivered after space returned", left);
}

Test(robust, fulldisk, .init = setup, .fini = teardown, .timeout = 200)
{
	unsigned id, big = RB_ID_BIG, tiny = RB_ID_TINY, left;
	char filler[RB_PATH_MAX + 32];
	int smtp;

	if (geteuid() != 0)
		skip("needs root: mounts a small tmpfs over the queue");
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		skip("no private mount namespace here: %s", strerror(errno));
	cr_assert_eq(rb_home_make(&home, "fulldisk", mount_queue), 0, "mkhome failed");
	if (!rb_have(&home, "qmail-queue"))
		skip("qmail-queue not built yet");
	smtp = rb_have(&home, "qmail-smtpd");

	/* freed at the end: qmail-send needs room for info/ and local/ (a page
	 * each on tmpfs) before it can deliver anything and free more */
	eat_space("reserve", RESERVE);
	/* queued while qmail-send is down: must survive the full disk */
	for (id = 0; id < PREFILL; id++)
		cr_assert_eq(qq(id), 0, "qmail-queue on an empty queue: exit %d", qq(id));
	full_queue(&big, &tiny);
	if (smtp) {
		cr_assert_eq(rb_smtp_start(&home), 0, "cannot start qmail-smtpd");
		smtp_full(tiny++);
	}

	if (!rb_have(&home, "qmail-start"))
		skip("qmail-start not built yet: checked only the refusals");
	/* qmail-send on a queue with no space: may fail, must not lose or bounce */
	cr_assert_gt(rb_start(&home), 0, "cannot run qmail-start");
	rb_sleep_ms(SETTLE_MS);
	rb_poke(&home);
	rb_sleep_ms(500);
	check_box("disk full");

	rb_path(&home, filler, sizeof(filler), "queue/filler");
	cr_assert_eq(unlink(filler), 0);
	rb_path(&home, filler, sizeof(filler), "queue/reserve");
	cr_assert_eq(unlink(filler), 0);
	left = wait_all(RESUME_MS);
	rb_note("fulldisk", "queued before the disk filled: %u prefill + %u big + "
	    "%u small; refused %u; not delivered after space returned: %u", PREFILL,
	    big - RB_ID_BIG - 1, tiny - RB_ID_TINY - 4 - smtp, 4 + 1 + smtp, left);
	if (left != 0)
		rb_note_log(&home, "fulldisk", 30);
	cr_assert_eq(left, 0, "%u messages queued before the disk filled were not delivered",
	    left);
	resume(tiny, smtp);
	check_box("end");
	rb_stop(&home, 5000);
}
