/* SPDX-License-Identifier: MIT
 * qd_msg.c - the queue files of one message the writer receives: pid/, mess/,
 * intd/, created and written in qmail-queue's order, removed if it fails.
 *
 * Runs as:    qmail-queued, the queue owner (qmailq).
 * Hostile:    the bytes written (copied, never interpreted here).
 * May touch:  <home>/queue pid/ mess/ intd/ (cwd is <home>/queue).
 * Must not:   remove anything once it is linked into todo/ (qd_commit.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fd.h"
#include "log.h"
#include "mail/qqueue.h"
#include "qfs.h"
#include "qd.h"

/* qd_msg_init - no files yet */
void
qd_msg_init(struct qd_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->messfd = m->intdfd = -1;
}

/* qd_fail_code - a full disk or quota is 53 wherever it strikes, as in qmail-queue */
int
qd_fail_code(int code)
{
	return errno == ENOSPC || errno == EDQUOT ? QQ_EXIT_WRITE : code;
}

/* qd_msg_drop - unlink intd, mess, pid (and close): the message was not queued */
void
qd_msg_drop(struct qd_msg *m)
{
	if (m->messfd >= 0)
		close(m->messfd);
	if (m->intdfd >= 0)
		close(m->intdfd);
	m->messfd = m->intdfd = -1;
	if (m->made_intd && unlink(m->intdfn) < 0)
		log_warning("qmail-queued: unlink %s: %m", m->intdfn);
	if (m->made_mess && unlink(m->messfn) < 0)
		log_warning("qmail-queued: unlink %s: %m", m->messfn);
	if (m->made_pid && unlink(m->pidfn) < 0)
		log_warning("qmail-queued: unlink %s: %m", m->pidfn);
	m->made_pid = m->made_mess = m->made_intd = 0;
}

/* qd_pidopen - pid/WRITERPID.TIME.SEQ, unique within this writer by SEQ */
static int
qd_pidopen(struct qd_msg *m)
{
	static unsigned long seq;
	struct stat st;

	for (int tries = 0; tries < 10; tries++) {
		snprintf(m->pidfn, sizeof(m->pidfn), "pid/%lu.%lld.%lu",
		    (unsigned long)getpid(), (long long)time(NULL), ++seq);
		m->messfd = open(m->pidfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (m->messfd >= 0 || errno != EEXIST)
			break;
	}
	if (m->messfd < 0) {
		log_err("qmail-queued: create pid file: %m");
		return qd_fail_code(QQ_EXIT_QUEUE_PID);
	}
	m->made_pid = 1;
	if (fstat(m->messfd, &st) < 0) {
		log_err("qmail-queued: stat %s: %m", m->pidfn);
		return QQ_EXIT_QUEUE_PID;
	}
	m->id = (unsigned long)st.st_ino;
	if (qfs_path(m->messfn, sizeof(m->messfn), QFS_MESS, m->id) < 0 ||
	    qfs_path(m->intdfn, sizeof(m->intdfn), QFS_INTD, m->id) < 0 ||
	    qfs_path(m->todofn, sizeof(m->todofn), QFS_TODO, m->id) < 0)
		return QQ_EXIT_BUG;
	return 0;
}

/* qd_msg_open - qmail's order: pid/ file, linked as mess/SPLIT/ID, Received first */
int
qd_msg_open(struct qd_msg *m, const char *received, size_t rlen)
{
	int r;

	qd_msg_init(m);
	if ((r = qd_pidopen(m)) != 0)
		return r;
	if (link(m->pidfn, m->messfn) < 0) {
		log_err("qmail-queued: link %s: %m", m->messfn);
		return qd_fail_code(QQ_EXIT_QUEUE_MESS);
	}
	m->made_mess = 1;
	return qd_msg_write(m, received, rlen);
}

/* qd_msg_write - message bytes go to the file as they arrive */
int
qd_msg_write(struct qd_msg *m, const void *p, size_t n)
{
	if (fd_write_all(m->messfd, p, n) < 0) {
		log_err("qmail-queued: write %s: %m", m->messfn);
		return qd_fail_code(QQ_EXIT_WRITE);
	}
	return 0;
}

/* qd_msg_intd - intd/SPLIT/ID on first use, then more of the envelope */
int
qd_msg_intd(struct qd_msg *m, const void *p, size_t n)
{
	if (!m->made_intd) {
		m->intdfd = open(m->intdfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (m->intdfd < 0) {
			log_err("qmail-queued: create %s: %m", m->intdfn);
			return qd_fail_code(QQ_EXIT_QUEUE_INTD);
		}
		m->made_intd = 1;
	}
	if (fd_write_all(m->intdfd, p, n) < 0) {
		log_err("qmail-queued: write %s: %m", m->intdfn);
		return qd_fail_code(QQ_EXIT_WRITE);
	}
	return 0;
}
