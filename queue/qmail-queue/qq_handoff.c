/* SPDX-License-Identifier: MIT
 * qq_handoff.c - qmail-queue's other way into the queue: hand the message to the
 * queue writer qmail-queued over its AF_UNIX socket and exit with its answer.
 *
 * Runs as:    qmail-queue, as a caller that does not own the queue (qmaild,
 *             qmails, alias, local users) or one told to by control/queuewriter.
 * Hostile:    fd 0 and fd 1 contents (relayed, the envelope checked first).
 * Trusted:    the writer's one-byte answer; control/queuewriter.
 * May touch:  stat of <home>/queue/mess; one socket; no queue file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cfg.h"
#include "fd.h"
#include "home.h"
#include "log.h"
#include "mail/qqueue.h"
#include "qdproto.h"
#include "qq.h"

static char qh_buf[QD_HEADER_LEN + QD_FRAME_MAX];

/* qq_route - who writes: QQ_ROUTE_DIRECT when we own the queue (or it is not
 * there: qq_run reports that with qmail's codes), QQ_ROUTE_WRITER when we do not
 * own it or cannot look (EACCES), QQ_ROUTE_PREFER when we own it but
 * control/queuewriter names a writer.  path gets the writer's socket. */
int
qq_route(const char *home, char *path, size_t size)
{
	char mess[4096];
	struct buf v;
	struct stat st;
	int owner, r;

	snprintf(mess, sizeof(mess), "%s/queue/mess", home);
	if (stat(mess, &st) == 0)
		owner = st.st_uid == geteuid();
	else
		owner = !(errno == EACCES || errno == EPERM);
	buf_init(&v, 4096);
	r = cfg_read_line("queuewriter", &v);
	snprintf(path, size, "%s", r > 0 && buf_len(&v) > 0 ? buf_str(&v) : QD_SOCKET_DEFAULT);
	buf_free(&v);
	if (!owner)
		return QQ_ROUTE_WRITER;
	return r > 0 ? QQ_ROUTE_PREFER : QQ_ROUTE_DIRECT;
}

/* qq_handoff_connect - a connection to the writer at path, or -1 (errno) */
int
qq_handoff_connect(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* qh_frame - send one frame of n payload bytes already at qh_buf + QD_HEADER_LEN */
static int
qh_frame(int sock, char type, size_t n)
{
	qh_buf[0] = type;
	qh_buf[1] = (char)(n >> 24);
	qh_buf[2] = (char)(n >> 16);
	qh_buf[3] = (char)(n >> 8);
	qh_buf[4] = (char)n;
	return fd_write_all(sock, qh_buf, QD_HEADER_LEN + n);
}

/* qh_message - fd 0 to EOF as 'M' frames: 0, -1 (socket), or QQ_EXIT_READ */
static int
qh_message(int sock, int msgfd)
{
	ssize_t n;

	for (;;) {
		n = read(msgfd, qh_buf + QD_HEADER_LEN, QD_FRAME_MAX);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return QQ_EXIT_READ;
		if (n == 0)
			return 0;
		if (qh_frame(sock, QD_FRAME_MESSAGE, (size_t)n) < 0)
			return -1;
	}
}

/* qh_envelope - the checked envelope, its final \0 appended, as 'E' frames */
static int
qh_envelope(int sock, const struct buf *env)
{
	size_t off = 0, n;

	while (off < buf_len(env)) {
		n = buf_len(env) - off;
		if (n > QD_FRAME_MAX)
			n = QD_FRAME_MAX;
		memcpy(qh_buf + QD_HEADER_LEN, env->s + off, n);
		if (qh_frame(sock, QD_FRAME_ENVELOPE, n) < 0)
			return -1;
		off += n;
	}
	return 0;
}

/* qh_death - DEATH: the caller or the writer stalled for 24 hours */
static void
qh_death(int sig)
{
	(void)sig;
	_exit(QQ_EXIT_TIMEOUT);
}

/* qh_answer - the writer's one byte; QQ_EXIT_CONN_FAILED if it died first */
static int
qh_answer(int sock)
{
	unsigned char code;
	ssize_t n;

	do
		n = read(sock, &code, 1);
	while (n < 0 && errno == EINTR);
	if (n == 1)
		return code;
	log_err("qmail-queue: no answer from the queue writer: %s", n == 0 ? "connection closed" :
	    strerror(errno));
	return QQ_EXIT_CONN_FAILED;
}

/* qq_handoff - send the message on msgfd and the envelope on envfd to the writer
 * on sock; its exit code.  The envelope is checked here first, so that a bad one
 * gets qmail-queue's own codes; closing sock without it makes the writer drop
 * what it has. */
int
qq_handoff(int sock, int msgfd, int envfd)
{
	struct buf env;
	int r;

	signal(SIGPIPE, SIG_IGN);
	signal(SIGALRM, qh_death);
	alarm(QQ_DEATH);
	r = qh_message(sock, msgfd);
	if (r > 0) {
		log_err("qmail-queue: read message: %m");
		close(sock);
		return r;
	}
	if (r < 0)
		return qh_answer(sock);	/* the writer refused early, or died */
	buf_init(&env, QQ_ENVELOPE_MAX);
	r = qq_env_read(envfd, &env);
	if (r == QQ_EXIT_OK && buf_catc(&env, '\0') < 0)
		r = QQ_EXIT_FORMAT;
	if (r != QQ_EXIT_OK) {
		buf_free(&env);
		close(sock);
		log_err("qmail-queue: envelope: %s", r == QQ_EXIT_READ ? "read error or cut short" :
		    r == QQ_EXIT_ADDR_TOO_LONG ? "address too long" : "format error");
		return r;
	}
	qh_envelope(sock, &env);
	buf_free(&env);
	r = qh_answer(sock);
	close(sock);
	return r;
}
