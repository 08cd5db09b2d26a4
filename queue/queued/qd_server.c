/* SPDX-License-Identifier: MIT
 * qd_server.c - qmail-queued's loop: accept clients, read their frames into
 * queue files, group-commit whatever is complete, exit when idle.
 *
 * Runs as:    qmail-queued, the queue owner (qmailq), one process.
 * Hostile:    every client (any local user may connect): frames, lengths,
 *             envelope, timing.  Their uid and pid come from SO_PEERCRED.
 * May touch:  the listening socket and clients; <home>/queue via qd_msg.c and
 *             qd_commit.c.
 * Must not:   block on one client; answer before the message is durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mail/exitcode.h"
#include "mail/qqueue.h"
#include "qd.h"

static const struct qd_conf *qd_conf;
static struct qd_client *qd_client;	/* qd_conf->clients slots */
static size_t qd_nclients;
static char qd_in[QD_HEADER_LEN + QD_FRAME_MAX];
static struct qd_client **qd_ready;	/* qd_round's batch */
static struct pollfd *qd_pfd;		/* listener, eventfd, clients */
static int qd_efd;			/* finished batches (qd_batch.c) */
static volatile sig_atomic_t qd_stop;

static void
qd_on_term(int sig)
{
	(void)sig;
	qd_stop = 1;
}

/* qd_close - answer code (unless < 0) without waiting, close, free the slot */
static void
qd_close(struct qd_client *c, int code)
{
	unsigned char b = (unsigned char)code;

	qd_msg_drop(&c->msg);
	if (code >= 0 && send(c->fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
		/* the client is gone: nothing was queued for it, nobody to tell */
	}
	close(c->fd);
	buf_free(&c->envbuf);
	c->fd = -1;
	qd_nclients--;
}

/* qd_who - qq_invoker for uid, remembering the last answer */
static const char *
qd_who(unsigned long uid)
{
	static unsigned long last = (unsigned long)-1;
	static const char *who;

	if (uid != last) {
		who = qq_invoker((uid_t)uid);
		last = uid;
	}
	return who;
}

/* qd_accept - a new client: its credentials, its pid/ and mess/ files */
static void
qd_accept(int listenfd, time_t now)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	struct qd_client *c = NULL;
	char received[256];
	size_t rlen;
	int fd, r;

	fd = accept4(listenfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (size_t i = 0; i < qd_conf->clients && c == NULL; i++)
		if (qd_client[i].fd < 0)
			c = &qd_client[i];
	if (c == NULL || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0) {
		unsigned char b = QQ_EXIT_TEMP_REFUSED;

		if (c == NULL)
			log_warning("qmail-queued: %lu clients at once, refusing one",
			    qd_conf->clients);
		if (send(fd, &b, 1, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			/* as in qd_close */
		}
		close(fd);
		return;
	}
	memset(c, 0, sizeof(*c));
	c->fd = fd;
	c->pid = (unsigned long)cred.pid;
	c->uid = (unsigned long)cred.uid;
	c->deadline = now + (time_t)qd_conf->timeout;
	buf_init(&c->envbuf, 2 * QD_FRAME_MAX + 64);
	qd_nclients++;
	rlen = qq_received(received, sizeof(received), c->pid, qd_who(c->uid), c->uid, now);
	if (rlen == 0 || buf_printf(&c->envbuf, "u%lu", c->uid) < 0 ||
	    buf_catc(&c->envbuf, '\0') < 0 || buf_printf(&c->envbuf, "p%lu", c->pid) < 0 ||
	    buf_catc(&c->envbuf, '\0') < 0) {
		qd_msg_init(&c->msg);
		qd_close(c, QQ_EXIT_BUG);
		return;
	}
	qq_env_init(&c->env, &c->envbuf);
	if ((r = qd_msg_open(&c->msg, received, rlen)) != 0)
		qd_close(c, r);
}

/* qd_header - a complete frame header: its type and length are checked */
static int
qd_header(struct qd_client *c)
{
	size_t len = (size_t)c->hdr[1] << 24 | (size_t)c->hdr[2] << 16 |
	    (size_t)c->hdr[3] << 8 | c->hdr[4];

	c->type = (char)c->hdr[0];
	if (len == 0 || len > QD_FRAME_MAX)
		return QQ_EXIT_READ;
	if (c->type == QD_FRAME_ENVELOPE)
		c->in_env = 1;
	else if (c->type != QD_FRAME_MESSAGE || c->in_env)
		return QQ_EXIT_READ;
	if (len > qd_conf->maxbytes - c->total) {
		log_notice("qmail-queued: uid %lu pid %lu: over %zu bytes, refused", c->uid,
		    c->pid, qd_conf->maxbytes);
		return QQ_EXIT_PERM_REFUSED;
	}
	c->total += len;
	c->left = len;
	c->hdrlen = 0;
	c->state = QC_PAYLOAD;
	return 0;
}

/* qd_envelope - envelope bytes through qmail-queue's parser into intd/ */
static int
qd_envelope(struct qd_client *c, const char *p, size_t n)
{
	size_t used;
	int r = qq_env_feed(&c->env, p, n, &used);

	if (r > 1 || r < 0)
		return r;
	if (r == 1 && (used != n || c->left != n))
		return QQ_EXIT_FORMAT;	/* bytes after the envelope's final \0 */
	if (r == 1 || buf_len(&c->envbuf) >= QD_FRAME_MAX) {
		int w = qd_msg_intd(&c->msg, buf_str(&c->envbuf), buf_len(&c->envbuf));

		buf_reset(&c->envbuf);
		if (w != 0)
			return w;
	}
	if (r == 1)
		c->state = QC_READY;
	return 0;
}

/* qd_feed - n bytes from the client: 0, or the exit code to close it with */
static int
qd_feed(struct qd_client *c, const char *p, size_t n)
{
	size_t take;
	int r;

	while (n > 0) {
		if (c->state == QC_READY)
			return QQ_EXIT_FORMAT;
		if (c->state == QC_HEADER) {
			take = QD_HEADER_LEN - c->hdrlen;
			take = take < n ? take : n;
			memcpy(c->hdr + c->hdrlen, p, take);
			c->hdrlen += take;
			if (c->hdrlen == QD_HEADER_LEN && (r = qd_header(c)) != 0)
				return r;
		} else {
			take = c->left < n ? c->left : n;
			if (c->type == QD_FRAME_MESSAGE)
				r = qd_msg_write(&c->msg, p, take);
			else
				r = qd_envelope(c, p, take);
			if (r != 0)
				return r;
			c->left -= take;
			if (c->left == 0 && c->state == QC_PAYLOAD)
				c->state = QC_HEADER;
		}
		p += take;
		n -= take;
	}
	return 0;
}

/* qd_read - what the client sent; EOF before the envelope ends is qmail-queue's 54 */
static void
qd_read(struct qd_client *c, time_t now)
{
	ssize_t n = read(c->fd, qd_in, sizeof(qd_in));
	int r;

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		qd_close(c, QQ_EXIT_READ);
		return;
	}
	c->deadline = now + (time_t)qd_conf->timeout;
	if ((r = qd_feed(c, qd_in, (size_t)n)) != 0)
		qd_close(c, r);
}

/* qd_state - a client's state as the main loop may read it (qd_batch.c) */
static int
qd_state(struct qd_client *c)
{
	return __atomic_load_n(&c->state, __ATOMIC_ACQUIRE);
}

/* qd_round - answer the clients of finished batches; then, unless
 * QD_BATCHES_MAX batches are syncing, start one with every complete message */
static void
qd_round(void)
{
	size_t n = 0;

	for (size_t i = 0; i < qd_conf->clients; i++)
		if (qd_client[i].fd >= 0 && qd_state(&qd_client[i]) == QC_DONE)
			qd_close(&qd_client[i], qd_client[i].answer);
	if (qd_batch_inflight() >= QD_BATCHES_MAX)
		return;
	for (size_t i = 0; i < qd_conf->clients; i++)
		if (qd_client[i].fd >= 0 && qd_state(&qd_client[i]) == QC_READY) {
			qd_client[i].state = QC_COMMIT;
			qd_ready[n++] = &qd_client[i];
		}
	if (n > 0)
		qd_batch_start(qd_ready, n, qd_conf->use_syncfs);
}

/* qd_expire - clients silent past their deadline get qmail-queue's 52 */
static time_t
qd_expire(time_t now)
{
	time_t next = 0;

	for (size_t i = 0; i < qd_conf->clients; i++) {
		struct qd_client *c = &qd_client[i];

		if (c->fd < 0 || qd_state(c) >= QC_READY)
			continue;
		if (c->deadline <= now) {
			log_notice("qmail-queued: uid %lu pid %lu: timeout", c->uid, c->pid);
			qd_close(c, QQ_EXIT_TIMEOUT);
		} else if (next == 0 || c->deadline < next) {
			next = c->deadline;
		}
	}
	return next;
}

/* qd_setup - slots, signals, the batches' eventfd */
static void
qd_setup(const struct qd_conf *conf)
{
	struct sigaction sa;

	qd_conf = conf;
	qd_client = calloc(conf->clients, sizeof(*qd_client));
	qd_ready = calloc(conf->clients, sizeof(*qd_ready));
	qd_pfd = calloc(conf->clients + 2, sizeof(*qd_pfd));
	if (qd_client == NULL || qd_ready == NULL || qd_pfd == NULL)
		log_fatal(EXIT_TEMP, "qmail-queued: out of memory");
	if ((qd_efd = qd_batch_init()) < 0)
		log_fatal(EXIT_TEMP, "qmail-queued: cannot run batches");
	for (size_t i = 0; i < conf->clients; i++)
		qd_client[i].fd = -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = qd_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* qd_wait - poll the listener (unless stopping), the batches' eventfd and the
 * clients that may still send; slot[] maps pfd index to client */
static int
qd_wait(int listenfd, time_t now, time_t idle_at, size_t *slot)
{
	time_t next = qd_expire(now);
	size_t n = 0;
	int ms;

	qd_pfd[n++] = (struct pollfd){ .fd = qd_stop ? -1 : listenfd, .events = POLLIN };
	qd_pfd[n++] = (struct pollfd){ .fd = qd_efd, .events = POLLIN };
	for (size_t i = 0; i < qd_conf->clients; i++)
		if (qd_client[i].fd >= 0 && qd_state(&qd_client[i]) < QC_READY) {
			slot[n] = i;
			qd_pfd[n++] = (struct pollfd){ .fd = qd_client[i].fd, .events = POLLIN };
		}
	if (qd_nclients == 0 && idle_at > 0)
		next = idle_at;
	ms = next == 0 ? -1 : next <= now ? 0 : (int)(next - now) * 1000;
	if (poll(qd_pfd, n, ms) < 0 && errno != EINTR)
		log_fatal(EXIT_TEMP, "qmail-queued: poll: %m");
	return (int)n;
}

/* qd_serve - the loop; returns 0 when idle for conf->idle seconds, or on
 * SIGTERM once the batches in flight are answered */
int
qd_serve(int listenfd, const struct qd_conf *conf)
{
	size_t *slot;
	time_t now = time(NULL), idle_at;
	int n;

	qd_setup(conf);
	slot = calloc(conf->clients + 2, sizeof(*slot));
	if (slot == NULL)
		log_fatal(EXIT_TEMP, "qmail-queued: out of memory");
	idle_at = conf->idle ? now + (time_t)conf->idle : 0;
	while (!qd_stop || qd_batch_inflight() > 0) {
		n = qd_wait(listenfd, now, idle_at, slot);
		now = time(NULL);
		if (qd_pfd[1].revents & POLLIN)
			qd_batch_drain();
		for (int i = 2; i < n; i++)
			if (qd_pfd[i].revents && qd_client[slot[i]].fd >= 0)
				qd_read(&qd_client[slot[i]], now);
		if (qd_pfd[0].revents & POLLIN)
			for (int k = 0; k < 16; k++)
				qd_accept(listenfd, now);
		qd_round();
		if (qd_nclients > 0 || !conf->idle)
			idle_at = conf->idle ? now + (time_t)conf->idle : 0;
		else if (now >= idle_at)
			break;
	}
	qd_round();	/* the last batches' answers */
	for (size_t i = 0; i < conf->clients; i++)
		if (qd_client[i].fd >= 0 && qd_state(&qd_client[i]) < QC_COMMIT)
			qd_close(&qd_client[i], QQ_EXIT_TEMP_REFUSED);
	return 0;
}
