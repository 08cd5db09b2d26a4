/* SPDX-License-Identifier: MIT
 * qmqpc.c - qmail-qmqpc: qmail-queue's replacement on a null client (mini-qmail).
 *
 * Runs as:    whoever injects mail (qmail-inject, sendmail, qmail-smtpd), no privilege.
 * Hostile:    the QMQP server's answer.
 * Trusted:    the message on fd 0 and envelope on fd 1 (as qmail-queue gets them),
 *             control/qmqpservers, timeoutconnect, timeoutremote.
 * May touch:  fd 0/1, TCP connections to the listed servers; writes no file.
 *
 * The message is read whole (QMQP sends its length first), then offered to each
 * server of control/qmqpservers in turn until one answers. Exit codes are
 * qmail-queue's: 0 K, 31 D, 71 Z, 72/73/74 when no server could be reached.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cfg.h"
#include "log.h"
#include "mail/qqueue.h"
#include "netstring.h"
#include "qmtpd.h"

#define QMQP_PORT "628"
#define QMQPC_MSG_MAX ((size_t)1 << 34)
#define QMQPC_ENV_MAX (QMTP_RCPTLIST_MAX * 4)

static int
qmqpc_slurp(int fd, struct buf *b)
{
	char tmp[65536];
	ssize_t n;

	for (;;) {
		n = read(fd, tmp, sizeof(tmp));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (buf_cat(b, tmp, (size_t)n) < 0)
			return -1;
	}
}

/* qmqpc_request - netstring(ns(message) ns(sender) ns(rcpt)...) from the
 * envelope F<sender>\0T<rcpt>\0...\0: 0, or QQ_EXIT_FORMAT */
static int
qmqpc_request(const struct buf *msg, const struct buf *env, struct buf *out)
{
	struct buf in;
	const char *p = env->s, *end = env->s + env->len, *z;
	int nrcpt = 0;

	buf_init(&in, QMQPC_MSG_MAX + QMQPC_ENV_MAX);
	buf_printf(&in, "%zu:", msg->len);
	buf_cat(&in, msg->s, msg->len);
	buf_catc(&in, ',');
	if (p == end || *p != 'F')
		return QQ_EXIT_FORMAT;
	for (;;) {
		z = memchr(p, '\0', (size_t)(end - p));
		if (z == NULL)
			return QQ_EXIT_FORMAT;
		if (p[0] == '\0')
			break;			/* the final \0 */
		if ((p[0] != 'F' || p != env->s) && p[0] != 'T')
			return QQ_EXIT_FORMAT;
		nrcpt += p[0] == 'T';
		buf_printf(&in, "%zu:", (size_t)(z - p - 1));
		buf_cat(&in, p + 1, (size_t)(z - p - 1));
		buf_catc(&in, ',');
		p = z + 1;
	}
	if (nrcpt == 0)
		return QQ_EXIT_FORMAT;
	buf_printf(out, "%zu:", in.len);
	buf_cat(out, in.s, in.len);
	buf_catc(out, ',');
	buf_free(&in);
	return 0;
}

/* qmqpc_split - "ip", "ip:port" (IPv4) or "[ip]:port" into host and port */
static void
qmqpc_split(char *s, const char **host, const char **port)
{
	char *c;

	*host = s;
	*port = QMQP_PORT;
	if (s[0] == '[' && (c = strchr(s, ']')) != NULL) {
		*c = '\0';
		*host = s + 1;
		if (c[1] == ':')
			*port = c + 2;
	} else if ((c = strchr(s, ':')) != NULL && strchr(c + 1, ':') == NULL) {
		*c = '\0';
		*port = c + 1;
	}
}

static int
qmqpc_connect(const char *server, unsigned long timeout, int *why)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICHOST };
	struct addrinfo *ai;
	struct pollfd pfd;
	const char *host, *port;
	char s[256];
	int fd, err = 0;
	socklen_t el = sizeof(err);

	snprintf(s, sizeof(s), "%s", server);
	qmqpc_split(s, &host, &port);
	if (getaddrinfo(host, port, &hints, &ai) != 0) {
		log_warning("qmqpservers: %s is not a numeric address", server);
		*why = QQ_EXIT_CONN_FAILED;
		return -1;
	}
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		*why = QQ_EXIT_CONN_FAILED;
	} else if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		*why = QQ_EXIT_CONN_REFUSED;
		close(fd);
		fd = -1;
	} else {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, (int)timeout * 1000) <= 0) {
			*why = QQ_EXIT_CONN_TIMEOUT;
			close(fd);
			fd = -1;
		} else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0 || err) {
			*why = QQ_EXIT_CONN_REFUSED;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(ai);
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* qmqpc_try - one server: 0, 31, 71, or a 72..74 "try the next one" */
static int
qmqpc_try(const char *server, const struct buf *req, unsigned long tconn,
    unsigned long tremote)
{
	char ans[1024];
	struct io io;
	size_t len;
	int fd, why = QQ_EXIT_CONN_REFUSED, r;

	fd = qmqpc_connect(server, tconn, &why);
	if (fd < 0)
		return why;
	io_init_fd(&io, fd, fd, (unsigned)tremote);
	if (io_write(&io, req->s, req->len) < 0 || io_flush(&io) < 0) {
		close(fd);
		return QQ_EXIT_CONN_FAILED;
	}
	r = ns_read(&io, sizeof(ans) - 1, ans, &len);
	close(fd);
	if (r != NS_DONE || len == 0)
		return QQ_EXIT_CONN_FAILED;
	log_info("qmqp: %s: %s", server, ans);
	return ans[0] == 'K' ? 0 : ans[0] == 'D' ? QQ_EXIT_PERM_REFUSED :
	    ans[0] == 'Z' ? QQ_EXIT_TEMP_REFUSED : QQ_EXIT_CONN_FAILED;
}

/* qmqpc_run - qmail-queue's job over QMQP: the exit code */
int
qmqpc_run(void)
{
	struct buf msg, env, req;
	struct cfg_list servers;
	unsigned long tconn = 60, tremote = 1200;
	size_t i;
	int code = QQ_EXIT_CONN_REFUSED, r;

	buf_init(&msg, QMQPC_MSG_MAX);
	buf_init(&env, QMQPC_ENV_MAX);
	buf_init(&req, QMQPC_MSG_MAX + QMQPC_ENV_MAX + 64);
	cfg_list_init(&servers);
	if (qmqpc_slurp(0, &msg) < 0 || qmqpc_slurp(1, &env) < 0)
		return QQ_EXIT_READ;
	if ((r = qmqpc_request(&msg, &env, &req)) != 0)
		return r;
	if (cfg_read_list("qmqpservers", &servers) < 0 ||
	    cfg_read_uint("timeoutconnect", 1, 86400, &tconn) < 0 ||
	    cfg_read_uint("timeoutremote", 1, 86400, &tremote) < 0)
		return QQ_EXIT_CONFIG;
	if (servers.n == 0) {
		log_err("control/qmqpservers lists no server");
		return QQ_EXIT_CONFIG;
	}
	for (i = 0; i < servers.n; i++) {
		code = qmqpc_try(servers.item[i], &req, tconn, tremote);
		if (code == 0 || code == QQ_EXIT_PERM_REFUSED || code == QQ_EXIT_TEMP_REFUSED)
			break;
		log_warning("qmqp: %s: %s", servers.item[i], qq_exit_text(code));
	}
	return code;
}
