/* SPDX-License-Identifier: MIT */
#ifndef SQ_QD_H
#define SQ_QD_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "qdproto.h"
#include "qq.h"

/* What control/ sets (main.c's table). */
struct qd_conf {
	size_t maxbytes;	/* queuedbytes: message + envelope bytes per client */
	unsigned long timeout;	/* timeoutqueued: seconds a client may stay silent */
	unsigned long clients;	/* concurrencyqueued: clients at once */
	unsigned long idle;	/* idlequeued: seconds without clients before exit, 0 never */
	int use_syncfs;		/* queuesync is "syncfs" */
};

/* The queue files of one message, named as qmail-queue names them. */
struct qd_msg {
	unsigned long id;	/* inode of the pid/ file, then of mess/ */
	char pidfn[64], messfn[64], intdfn[64], todofn[64];
	int messfd, intdfd;
	int made_pid, made_mess, made_intd;
};

/* One client connection. */
struct qd_client {
	int fd;			/* -1: free slot */
	unsigned long pid, uid;	/* SO_PEERCRED */
	/* READY: complete, waiting for a batch; COMMIT: a commit thread owns it;
	 * DONE: that thread set answer, the main loop answers and frees it */
	enum { QC_HEADER, QC_PAYLOAD, QC_READY, QC_COMMIT, QC_DONE } state;
	unsigned char hdr[QD_HEADER_LEN];
	size_t hdrlen;		/* header bytes so far */
	char type;		/* of the current frame */
	size_t left;		/* payload bytes left in it */
	size_t total;		/* payload bytes so far, against maxbytes */
	int in_env;		/* an 'E' frame was seen */
	time_t deadline;
	struct qd_msg msg;
	struct qq_env env;
	struct buf envbuf;	/* intd bytes not yet written */
	int answer;		/* set by qd_commit */
};

/* qd_msg.c */
/* qd_msg_open - pid/ file, its mess/ link and the Received line: 0 or an exit code */
int qd_msg_open(struct qd_msg *m, const char *received, size_t rlen);
/* qd_msg_write - append message bytes to mess/: 0 or an exit code */
int qd_msg_write(struct qd_msg *m, const void *p, size_t n);
/* qd_msg_intd - create intd/ and write p[0..n) to it: 0 or an exit code */
int qd_msg_intd(struct qd_msg *m, const void *p, size_t n);
/* qd_msg_drop - remove whatever of the message exists (never after the todo/ link) */
void qd_msg_drop(struct qd_msg *m);
/* qd_msg_init - an empty qd_msg */
void qd_msg_init(struct qd_msg *m);
/* qd_fail_code - code, or QQ_EXIT_WRITE when errno says the disk is full */
int qd_fail_code(int code);

/* qd_commit.c */
/* qd_commit_open - open the mess/ and todo/ split directories: 0 or -1 (logged) */
int qd_commit_open(void);
/* qd_commit - make the n ready messages durable and queued with one round of
 * syncs; each client's answer gets its exit code.  Several may run at once, in
 * threads, each on its own clients. */
void qd_commit(struct qd_client **ready, size_t n, int use_syncfs);

/* qd_batch.c */
#define QD_BATCHES_MAX 64	/* group commits in flight at once */
/* qd_batch_init - the eventfd that signals finished batches, or -1 */
int qd_batch_init(void);
/* qd_batch_start - commit c[0..n), whose state is QC_COMMIT, in a thread;
 * each client becomes QC_DONE with its answer set */
void qd_batch_start(struct qd_client **c, size_t n, int use_syncfs);
/* qd_batch_inflight - batches still committing */
size_t qd_batch_inflight(void);
/* qd_batch_drain - consume the eventfd's count */
void qd_batch_drain(void);

/* qd_sync.c */
/* qd_fsync_all - fsync fd[0..n) at the same time; err[i] gets 0 or fd[i]'s errno */
void qd_fsync_all(const int *fd, int *err, size_t n);

/* qd_server.c */
/* qd_serve - accept and serve clients on listenfd until idle: the exit code */
int qd_serve(int listenfd, const struct qd_conf *conf);

#endif
