/* SPDX-License-Identifier: MIT */
#ifndef SQ_QQUEUE_H
#define SQ_QQUEUE_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* qmail-queue's exit codes (qmail-queue(8)); 11..40 are permanent, others temporary. */
enum qq_exit {
	QQ_EXIT_OK = 0,
	QQ_EXIT_ADDR_TOO_LONG = 11,
	QQ_EXIT_PERM_REFUSED = 31,
	QQ_EXIT_NOMEM = 51,
	QQ_EXIT_TIMEOUT = 52,
	QQ_EXIT_WRITE = 53,		/* write error, e.g. disk full */
	QQ_EXIT_READ = 54,		/* cannot read message or envelope */
	QQ_EXIT_CONFIG = 55,
	QQ_EXIT_NETWORK = 56,
	QQ_EXIT_HOME = 61,
	QQ_EXIT_QUEUE_DIR = 62,
	QQ_EXIT_QUEUE_PID = 63,
	QQ_EXIT_QUEUE_MESS = 64,
	QQ_EXIT_QUEUE_INTD = 65,
	QQ_EXIT_QUEUE_TODO = 66,
	QQ_EXIT_TEMP_REFUSED = 71,
	QQ_EXIT_CONN_TIMEOUT = 72,
	QQ_EXIT_CONN_REFUSED = 73,
	QQ_EXIT_CONN_FAILED = 74,
	QQ_EXIT_BUG = 81,
	QQ_EXIT_FORMAT = 91,		/* envelope format error */
	QQ_EXIT_EXEC = 120,		/* caller side: could not run qmail-queue */
};

/* One running qmail-queue (or $QMAILQUEUE): the message goes to its fd 0,
 * the envelope F<sender>\0T<rcpt>\0...\0 to its fd 1. */
struct qqueue {
	pid_t pid;
	int msgfd, envfd;
	int failed;		/* a write to the message pipe failed */
	size_t outlen;
	char out[16384];
	struct buf envelope;
};

/* qqueue_start - spawn $QMAILQUEUE or <home>/bin/qmail-queue; -1 on error (errno) */
int qqueue_start(struct qqueue *q);
/* qqueue_put - append message bytes (buffered); errors are remembered, not returned */
void qqueue_put(struct qqueue *q, const void *p, size_t n);
void qqueue_puts(struct qqueue *q, const char *s);
/* qqueue_put_safe - peer text for a Received line: bytes outside letters,
 * digits and .@%+/=:-[] become '?' (qmail's safeput) */
void qqueue_put_safe(struct qqueue *q, const char *s);
/* qqueue_from / qqueue_to - envelope sender (once) and recipients */
void qqueue_from(struct qqueue *q, const char *sender);
void qqueue_to(struct qqueue *q, const char *recipient);
/* qqueue_finish - close the message, send the envelope, wait: the exit code (0 = queued) */
int qqueue_finish(struct qqueue *q);
/* qqueue_abort - close both pipes with no envelope (qmail-queue exits 54 and
 * removes its files), reap it: nothing is queued */
void qqueue_abort(struct qqueue *q);

/* qq_exit_text - qmail's wording for an exit code: "Z...(#4.x.x)" or "D...(#5.x.x)" */
const char *qq_exit_text(int code);
/* qq_exit_is_perm - is the code a permanent failure (11..40)? */
int qq_exit_is_perm(int code);

#endif
