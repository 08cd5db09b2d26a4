/* SPDX-License-Identifier: MIT */
#ifndef SQ_QDTEST_H
#define SQ_QDTEST_H

#include <stddef.h>
#include <sys/types.h>

/* A qmail home with a queue writer.  As root the queue belongs to QDT_OWNER
 * (not a passwd user: queue ownership is only a uid) and clients run as
 * nobody; otherwise everything runs as the invoking user, and
 * control/queuewriter makes qmail-queue use the writer anyway. */
#define QDT_OWNER 31001
#define QDT_NOBODY 65534

struct qdt {
	char home[64];
	char sock[100];		/* home/run/queued.sock (fits sun_path) */
	char log[128];		/* the writer's stderr */
	pid_t writer;
	int root;		/* uids are switched */
	uid_t owner, client;	/* queue owner, client uid */
	const char *strace;	/* run the writer under strace -f, its log here */
};

struct qdt_client {
	pid_t pid;
	int msgfd, envfd;
};

/* qdt_setup - a home made by mkhome.sh, owned by t->owner, control/queuewriter set */
void qdt_setup(struct qdt *t);
/* qdt_teardown - stop the writer, remove the home */
void qdt_teardown(struct qdt *t);
/* qdt_control - write control/NAME */
void qdt_control(const struct qdt *t, const char *name, const char *value);
/* qdt_start - start qmail-queued as the owner on a socket we listen on (LISTEN_FDS) */
void qdt_start(struct qdt *t);
/* qdt_stop - send sig to the writer, reap it: its wait status */
int qdt_stop(struct qdt *t, int sig);
/* qdt_spawn - qmail-queue as uid with pipes on fd 0 and 1 */
void qdt_spawn(const struct qdt *t, uid_t uid, struct qdt_client *c);
/* qdt_wait - the exit code of a spawned qmail-queue (128+signal if killed) */
int qdt_wait(struct qdt_client *c);
/* qdt_qq - run qmail-queue as uid with msg and env: its exit code */
int qdt_qq(const struct qdt *t, uid_t uid, const char *msg, const void *env, size_t envlen);
/* qdt_connect - a raw connection to the writer */
int qdt_connect(const struct qdt *t);
/* qdt_frame - send one frame of the writer's protocol */
void qdt_frame(int fd, char type, const void *p, size_t n);
/* qdt_answer - the writer's answer byte within secs, -1 if none (closed or timeout) */
int qdt_answer(int fd, int secs);
/* qdt_log_count - lines of the writer's log containing s */
int qdt_log_count(const struct qdt *t, const char *s);
/* qdt_queue_empty - nothing in pid/ mess/ intd/ todo/ */
int qdt_queue_empty(const struct qdt *t);
/* qdt_write - the whole buffer to fd, ignoring errors (a refusing peer) */
void qdt_write(int fd, const void *p, size_t n);

#endif
