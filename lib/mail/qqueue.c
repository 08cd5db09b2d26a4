/* SPDX-License-Identifier: MIT
 * qqueue.c - hand one message to qmail-queue (or $QMAILQUEUE) through its fd 0/1 interface.
 *
 * Runs as:    every program that injects (qmail-smtpd, qmail-inject, qmail-local, qmail-send).
 * Trusted:    QMAILQUEUE from the environment the unit or the administrator set.
 * Hostile:    nothing here; callers pass message bytes through unchanged.
 * May touch:  two pipes and the child it spawns.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fd.h"
#include "home.h"
#include "mail/qqueue.h"

extern char **environ;

#define QQ_ENVELOPE_MAX (64 * 1024 * 1024)

/* qqueue_start - spawn qmail-queue with the message pipe on fd 0 and the envelope pipe on fd 1 */
int
qqueue_start(struct qqueue *q)
{
	posix_spawn_file_actions_t fa;
	char path[4096];
	const char *prog = getenv("QMAILQUEUE");
	int msg[2], env[2], r;
	char *argv[2];

	memset(q, 0, sizeof(*q));
	q->pid = -1;
	buf_init(&q->envelope, QQ_ENVELOPE_MAX);
	if (prog == NULL || *prog == '\0') {
		if (home_path(path, sizeof(path), "bin/qmail-queue") < 0)
			return -1;
		prog = path;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(msg, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(env, O_CLOEXEC) < 0) {
		close(msg[0]);
		close(msg[1]);
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, msg[0], 0);
	posix_spawn_file_actions_adddup2(&fa, env[0], 1);
	argv[0] = (char *)prog;
	argv[1] = NULL;
	r = posix_spawn(&q->pid, prog, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(msg[0]);
	close(env[0]);
	if (r != 0) {
		close(msg[1]);
		close(env[1]);
		q->pid = -1;
		errno = r;
		return -1;
	}
	q->msgfd = msg[1];
	q->envfd = env[1];
	return 0;
}


static void
qqueue_flush(struct qqueue *q)
{
	if (!q->failed && fd_write_all(q->msgfd, q->out, q->outlen) < 0)
		q->failed = 1;
	q->outlen = 0;
}

void
qqueue_put(struct qqueue *q, const void *p, size_t n)
{
	if (q->failed)
		return;
	if (q->outlen + n > sizeof(q->out))
		qqueue_flush(q);
	if (n >= sizeof(q->out)) {
		if (fd_write_all(q->msgfd, p, n) < 0)
			q->failed = 1;
		return;
	}
	memcpy(q->out + q->outlen, p, n);
	q->outlen += n;
}

void
qqueue_puts(struct qqueue *q, const char *s)
{
	qqueue_put(q, s, strlen(s));
}

/* qqueue_put_safe - qmail's rule for peer text in a Received line: letters,
 * digits and .@%+/=:-[] pass, every other byte becomes '?' */
void
qqueue_put_safe(struct qqueue *q, const char *s)
{
	for (; *s; s++) {
		char c = *s;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr(".@%+/=:-[]", c)))
			c = '?';
		qqueue_put(q, &c, 1);
	}
}

static void
qqueue_envelope_add(struct qqueue *q, char kind, const char *addr)
{
	if (buf_catc(&q->envelope, kind) < 0 ||
	    buf_cat(&q->envelope, addr, strlen(addr) + 1) < 0)
		q->failed = 1;
}

void
qqueue_from(struct qqueue *q, const char *sender)
{
	qqueue_envelope_add(q, 'F', sender);
}

void
qqueue_to(struct qqueue *q, const char *recipient)
{
	qqueue_envelope_add(q, 'T', recipient);
}

static int
qqueue_wait(struct qqueue *q)
{
	int status;

	while (waitpid(q->pid, &status, 0) < 0)
		if (errno != EINTR)
			return QQ_EXIT_BUG;
	q->pid = -1;
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return QQ_EXIT_BUG;
}

/* qqueue_finish - message EOF, envelope, then qmail-queue's verdict */
int
qqueue_finish(struct qqueue *q)
{
	int failed, code;

	qqueue_flush(q);
	close(q->msgfd);
	failed = q->failed;
	if (buf_catc(&q->envelope, '\0') < 0 ||
	    fd_write_all(q->envfd, q->envelope.s, q->envelope.len) < 0)
		failed = 1;
	close(q->envfd);
	buf_free(&q->envelope);
	code = qqueue_wait(q);
	if (code == 0 && failed)
		code = QQ_EXIT_READ;
	return code;
}

/* qqueue_abort - end without queueing, as qmail's callers do: close both pipes
 * with no envelope sent; qmail-queue sees the envelope cut short, removes its
 * files and exits 54. (A SIGTERM would leave pid/ and mess/ behind whenever it
 * lands while qmail-queue writes rather than reads.) */
void
qqueue_abort(struct qqueue *q)
{
	if (q->pid <= 0)
		return;
	close(q->msgfd);
	close(q->envfd);
	buf_free(&q->envelope);
	qqueue_wait(q);
}

int
qq_exit_is_perm(int code)
{
	return code >= 11 && code <= 40;
}

/* qq_exit_text - the texts qmail's callers show, with enhanced status codes */
const char *
qq_exit_text(int code)
{
	switch (code) {
	case QQ_EXIT_OK: return "Kok";
	case QQ_EXIT_ADDR_TOO_LONG: return "Denvelope address too long for qq (#5.1.3)";
	case QQ_EXIT_PERM_REFUSED: return "Dmail server permanently rejected message (#5.3.0)";
	case QQ_EXIT_NOMEM: return "Zqq out of memory (#4.3.0)";
	case QQ_EXIT_TIMEOUT: return "Zqq timeout (#4.3.0)";
	case QQ_EXIT_WRITE: return "Zqq write error or disk full (#4.3.0)";
	case QQ_EXIT_READ: return "Zqq read error (#4.3.0)";
	case QQ_EXIT_CONFIG: return "Zqq unable to read configuration (#4.3.0)";
	case QQ_EXIT_NETWORK: return "Zqq trouble making network connection (#4.3.0)";
	case QQ_EXIT_HOME: return "Zqq trouble in home directory (#4.3.0)";
	case QQ_EXIT_QUEUE_DIR: case QQ_EXIT_QUEUE_PID: case QQ_EXIT_QUEUE_MESS:
	case QQ_EXIT_QUEUE_INTD: case QQ_EXIT_QUEUE_TODO:
		return "Zqq trouble creating files in queue (#4.3.0)";
	case QQ_EXIT_TEMP_REFUSED: return "Zmail server temporarily rejected message (#4.3.0)";
	case QQ_EXIT_CONN_TIMEOUT: return "Zconnection to mail server timed out (#4.4.1)";
	case QQ_EXIT_CONN_REFUSED: return "Zconnection to mail server rejected (#4.4.1)";
	case QQ_EXIT_CONN_FAILED: return "Zcommunication with mail server failed (#4.4.2)";
	case QQ_EXIT_BUG: case QQ_EXIT_FORMAT: return "Zqq internal bug (#4.3.0)";
	case QQ_EXIT_EXEC: return "Zunable to exec qq (#4.3.0)";
	default:
		return qq_exit_is_perm(code) ? "Dqq permanent problem (#5.3.0)"
		    : "Zqq temporary problem (#4.3.0)";
	}
}
