/* SPDX-License-Identifier: MIT
 * qd_commit.c - group commit: the messages that are complete at the same time
 * become durable and queued with one round of syncs, then each client hears.
 *
 * Runs as:    qmail-queued, the queue owner (qmailq).
 * Hostile:    nothing: only files this process wrote.
 * May touch:  <home>/queue mess/ intd/ todo/ pid/ and lock/trigger.
 * Must not:   answer 0 before mess, intd and the todo/ entry are on disk;
 *             remove a message once it is linked into todo/.
 *
 * The order per message is qmail-queue's (write mess and intd, fsync both,
 * fsync the mess/ directory, link intd into todo/, fsync the todo/ directory),
 * but each step is done for the whole batch before the next one, and the
 * fsyncs of a step run at the same time (qd_sync.c), so that the file system
 * commits its journal about once per step and batch, not once per file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "mail/qqueue.h"
#include "qfs.h"
#include "qd.h"

static int qd_messdir[QFS_SPLIT], qd_tododir[QFS_SPLIT];

/* qd_commit_open - the split directories stay open for their fsyncs */
int
qd_commit_open(void)
{
	char dir[32];

	for (int i = 0; i < QFS_SPLIT; i++) {
		snprintf(dir, sizeof(dir), "mess/%d", i);
		qd_messdir[i] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (qd_messdir[i] < 0) {
			log_err("qmail-queued: open %s: %m", dir);
			return -1;
		}
		snprintf(dir, sizeof(dir), "todo/%d", i);
		qd_tododir[i] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (qd_tododir[i] < 0) {
			log_err("qmail-queued: open %s: %m", dir);
			return -1;
		}
	}
	return 0;
}

/* qd_fail - message c is not queued: remove its files, answer code */
static void
qd_fail(struct qd_client *c, int code)
{
	c->answer = qd_fail_code(code);
	qd_msg_drop(&c->msg);
}

/* qd_fsync_batch - fsync the mess and intd files of the live messages (with
 * files) and the split directories of dirs[] that they use, all together
 * (qd_sync.c); a failure answers 53, dropping the message if drop */
static unsigned long
qd_fsync_batch(struct qd_client **c, size_t n, const int *dirs, int files, int drop)
{
	int *fd, *err, used[QFS_SPLIT] = { 0 };
	size_t k, m = 0;

	fd = calloc(2 * n + QFS_SPLIT, sizeof(*fd));
	err = calloc(2 * n + QFS_SPLIT, sizeof(*err));
	if (fd == NULL || err == NULL) {
		free(fd);
		free(err);
		for (k = 0; k < n; k++)
			if (c[k]->answer == 0) {
				if (drop)
					qd_fail(c[k], QQ_EXIT_NOMEM);
				else
					c[k]->answer = QQ_EXIT_NOMEM;
			}
		return 0;
	}

	for (k = 0; k < n; k++) {
		if (c[k]->answer != 0)
			continue;
		if (files) {
			fd[m++] = c[k]->msg.messfd;
			fd[m++] = c[k]->msg.intdfd;
		}
		used[c[k]->msg.id % QFS_SPLIT] = 1;
	}
	for (int i = 0; i < QFS_SPLIT; i++)
		if (used[i])
			fd[m++] = dirs[i];
	qd_fsync_all(fd, err, m);
	for (size_t i = 0; i < m; i++)
		if (err[i] != 0)
			log_err("qmail-queued: fsync: %s", strerror(err[i]));
	for (k = 0, m = 0; k < n; k++) {
		int bad;

		if (c[k]->answer != 0)
			continue;
		bad = files && (err[m] != 0 || err[m + 1] != 0);
		m += files ? 2 : 0;
		used[c[k]->msg.id % QFS_SPLIT] |= bad ? 2 : 0;
		if (bad)
			qd_fail(c[k], QQ_EXIT_WRITE);
	}
	for (int i = 0; i < QFS_SPLIT; i++)
		if (used[i] & 1 && err[m++] != 0)
			for (k = 0; k < n; k++)
				if (c[k]->answer == 0 && c[k]->msg.id % QFS_SPLIT == (unsigned long)i) {
					if (drop)
						qd_fail(c[k], QQ_EXIT_WRITE);
					else
						c[k]->answer = QQ_EXIT_WRITE;
				}
	free(fd);
	free(err);
	return (unsigned long)m;
}

/* qd_durable - mess and intd contents and the mess/ entries of the batch */
static unsigned long
qd_durable(struct qd_client **c, size_t n, int use_syncfs)
{
	unsigned long syncs = 1;
	size_t k;

	if (!use_syncfs) {
		syncs = qd_fsync_batch(c, n, qd_messdir, 1, 1);
	} else if (syncfs(c[0]->msg.messfd) < 0) {
		log_err("qmail-queued: syncfs: %m");
		for (k = 0; k < n; k++)
			qd_fail(c[k], QQ_EXIT_WRITE);
	}
	for (k = 0; k < n; k++) {
		struct qd_msg *m = &c[k]->msg;

		if (c[k]->answer != 0)
			continue;
		if (close(m->messfd) < 0 || close(m->intdfd) < 0) {
			m->messfd = m->intdfd = -1;
			log_err("qmail-queued: close %s: %m", m->messfn);
			qd_fail(c[k], QQ_EXIT_WRITE);
		}
		m->messfd = m->intdfd = -1;
	}
	return syncs;
}

/* qd_trigger - wake qmail-send once per batch; nobody listening is fine */
static void
qd_trigger(void)
{
	int fd = open("lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "", 1) < 0) {
		/* full fifo or no reader: qmail-send looks anyway */
	}
	close(fd);
}

/* qd_commit - durable, linked, durable again; then the answers */
void
qd_commit(struct qd_client **c, size_t n, int use_syncfs)
{
	unsigned long syncs;
	size_t k, queued = 0;

	for (k = 0; k < n; k++)
		c[k]->answer = 0;
	syncs = qd_durable(c, n, use_syncfs);
	for (k = 0; k < n; k++) {
		if (c[k]->answer != 0)
			continue;
		if (link(c[k]->msg.intdfn, c[k]->msg.todofn) < 0) {
			log_err("qmail-queued: link %s: %m", c[k]->msg.todofn);
			qd_fail(c[k], QQ_EXIT_QUEUE_TODO);
			continue;
		}
		/* from here on qmail-send may work on it: never remove it again */
		c[k]->msg.made_pid = c[k]->msg.made_mess = c[k]->msg.made_intd = 0;
		queued++;
	}
	if (queued > 0 && use_syncfs) {
		syncs++;
		if (syncfs(qd_tododir[0]) < 0) {
			log_err("qmail-queued: syncfs: %m");
			for (k = 0; k < n; k++)
				if (c[k]->answer == 0)
					c[k]->answer = QQ_EXIT_WRITE;
		}
	} else if (queued > 0) {
		syncs += qd_fsync_batch(c, n, qd_tododir, 0, 0);
	}
	for (k = 0; k < n; k++)
		if (c[k]->msg.id != 0 && c[k]->msg.made_pid == 0 && unlink(c[k]->msg.pidfn) < 0 &&
		    errno != ENOENT)
			log_warning("qmail-queued: unlink %s: %m", c[k]->msg.pidfn);
	if (queued > 0)
		qd_trigger();
	log_info("commit: %zu messages, %zu queued, %lu syncs", n, queued, syncs);
}
