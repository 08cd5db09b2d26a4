/* SPDX-License-Identifier: MIT
 * rb_msg.c - test messages and the two ways to inject them: qmail-queue's fd 0/1
 * interface and SMTP to qmail-smtpd under systemd-socket-activate.
 *
 * Runs as:    the Criterion worker of a robustness test and its injector children.
 * Trusted:    the built programs in HOME/bin.
 * May touch:  pipes, a loopback socket, the processes it spawns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rb.h"

static unsigned
mix(unsigned x)
{
	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/* rb_msg_size - the size used for id in the tests (mostly small, some large) */
size_t
rb_msg_size(unsigned id)
{
	unsigned r = mix(id * 2654435761U + 1);

	if (id >= RB_ID_TINY)
		return 300;
	if (id >= RB_ID_BIG)
		return 60000 + r % 8000;
	if (r % 25 == 0)
		return 70000 + r % 150000;	/* bigger than a pipe buffer */
	return 300 + r % 3500;
}

/* rb_msg - the text of message id: headers, numbered random lines, an END line */
char *
rb_msg(unsigned id, size_t size, size_t *len)
{
	size_t cap = size + 512, n;
	char *m = malloc(cap);
	unsigned x = mix(id), line = 0;

	if (m == NULL)
		abort();
	n = (size_t)snprintf(m, cap, "X-Robust-Id: %u\nFrom: bob@sandbox.test\n"
	    "To: alice@sandbox.test\nSubject: robust %u\n"
	    "Message-ID: <robust.%u@sandbox.test>\n\n", id, id, id);
	while (n + 100 < size) {
		unsigned a = mix(x + 1), b = mix(x + 2), c = mix(x + 3);

		x = mix(x ^ c);
		n += (size_t)snprintf(m + n, cap - n, "%u:%u %08x%08x%08x%08x\n",
		    id, ++line, a, b, c, x);
	}
	n += (size_t)snprintf(m + n, cap - n, "END %u\n", id);
	*len = n;
	return m;
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* rb_qq_raw - run HOME/bin/qmail-queue with msg on fd 0 and env (raw bytes) on
 * fd 1; exit code, 128+sig if killed, -1 */
int
rb_qq_raw(const struct rb_home *h, const char *msg, size_t len, const char *env,
    size_t envlen)
{
	char prog[RB_PATH_MAX + 32];
	int mp[2], ep[2], st;
	pid_t pid;

	rb_path(h, prog, sizeof(prog), "bin/qmail-queue");
	if (pipe2(mp, O_CLOEXEC) < 0)
		return -1;
	if (pipe2(ep, O_CLOEXEC) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		if (dup2(mp[0], 0) < 0 || dup2(ep[0], 1) < 0)
			_exit(127);
		execl(prog, "qmail-queue", (char *)NULL);
		_exit(127);
	}
	close(mp[0]);
	close(ep[0]);
	/* a killed qmail-queue makes these fail with EPIPE: the exit status tells */
	if (write_all(mp[1], msg, len) == 0) {
		close(mp[1]);
		mp[1] = -1;
		write_all(ep[1], env, envlen);
	}
	if (mp[1] >= 0)
		close(mp[1]);
	close(ep[1]);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}

/* rb_qq - inject through HOME/bin/qmail-queue; exit code, 128+sig if killed, -1 */
int
rb_qq(const struct rb_home *h, const char *msg, size_t len, const char *from,
    const char *to)
{
	char env[2048];
	int n = snprintf(env, sizeof(env), "F%s%cT%s%c%c", from, 0, to, 0, 0);

	if (n < 0 || (size_t)n >= sizeof(env))
		return -1;
	return rb_qq_raw(h, msg, len, env, (size_t)n);
}

/* free_port - an unused loopback port (the kernel's choice) */
static int
free_port(void)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int
smtp_connect(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct timeval tv = { 30, 0 };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

/* rb_smtp_start - systemd-socket-activate --inetd on a free loopback port */
int
rb_smtp_start(struct rb_home *h)
{
	char prog[RB_PATH_MAX + 32], listen[64];
	int tries, fd, logfd;
	pid_t pid;

	rb_path(h, prog, sizeof(prog), "bin/qmail-smtpd");
	if ((h->smtp_port = free_port()) < 0)
		return -1;
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", h->smtp_port);
	if ((logfd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR);

		signal(SIGPIPE, SIG_DFL);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(logfd, 2) < 0)
			_exit(127);
		execlp("systemd-socket-activate", "systemd-socket-activate", "--inetd",
		    "-a", "-l", listen, "-E", "QMAILHOME", "-E", "PATH",
		    "-E", "TCPREMOTEIP=127.0.0.1", "-E", "TCPLOCALIP=127.0.0.1",
		    prog, (char *)NULL);
		_exit(127);
	}
	close(logfd);
	h->smtp_pid = pid;
	for (tries = 0; tries < 100; tries++) {
		if ((fd = smtp_connect(h->smtp_port)) >= 0) {
			shutdown(fd, SHUT_WR);
			close(fd);
			return 0;
		}
		rb_sleep_ms(30);
	}
	return -1;
}

/* smtp_reply - read one (multi-line) reply; its code, -1 on error */
static int
smtp_reply(int fd, char *reply, size_t rsize)
{
	char line[1024];
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(fd, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		if (n < sizeof(line) - 1)
			line[n++] = c;
		if (c != '\n')
			continue;
		line[n] = '\0';
		if (n >= 4 && line[3] == '-') {
			n = 0;
			continue;
		}
		if (reply != NULL)
			snprintf(reply, rsize, "%.*s", (int)strcspn(line, "\r\n"), line);
		return n >= 3 ? (int)strtol(line, NULL, 10) : -1;
	}
}

static int
smtp_cmd(int fd, const char *cmd, char *reply, size_t rsize)
{
	if (write_all(fd, cmd, strlen(cmd)) < 0)
		return -1;
	return smtp_reply(fd, reply, rsize);
}

/* smtp_data - the message with CRLF line ends, dot-stuffed, and the final dot */
static char *
smtp_data(const char *msg, size_t len, size_t *out)
{
	char *d = malloc(2 * len + 8);
	size_t i, n = 0;
	int bol = 1;

	if (d == NULL)
		abort();
	for (i = 0; i < len; i++) {
		if (bol && msg[i] == '.')
			d[n++] = '.';
		if (msg[i] == '\n')
			d[n++] = '\r';
		d[n++] = msg[i];
		bol = msg[i] == '\n';
	}
	memcpy(d + n, ".\r\n", 3);
	*out = n + 3;
	return d;
}

/* smtp_txn - one transaction; with cut < the data size, send only cut bytes of
 * DATA and hang up (a client that vanishes mid-message) */
static int
smtp_txn(const struct rb_home *h, const char *msg, size_t len, const char *from,
    const char *to, size_t cut, char *reply, size_t rsize)
{
	char cmd[1100];
	size_t dlen;
	char *data;
	int fd, code;

	if (reply != NULL && rsize > 0)
		reply[0] = '\0';
	if ((fd = smtp_connect(h->smtp_port)) < 0)
		return -1;
	if ((code = smtp_reply(fd, reply, rsize)) != 220)
		goto out;
	if ((code = smtp_cmd(fd, "HELO robust.test\r\n", reply, rsize)) != 250)
		goto out;
	snprintf(cmd, sizeof(cmd), "MAIL FROM:<%s>\r\n", from);
	if ((code = smtp_cmd(fd, cmd, reply, rsize)) != 250)
		goto out;
	snprintf(cmd, sizeof(cmd), "RCPT TO:<%s>\r\n", to);
	if ((code = smtp_cmd(fd, cmd, reply, rsize)) != 250)
		goto out;
	if ((code = smtp_cmd(fd, "DATA\r\n", reply, rsize)) != 354)
		goto out;
	data = smtp_data(msg, len, &dlen);
	if (cut < dlen)
		code = write_all(fd, data, cut) < 0 ? -1 : 354;
	else
		code = write_all(fd, data, dlen) < 0 ? -1 : smtp_reply(fd, reply, rsize);
	free(data);
	if (code > 0 && cut >= dlen)
		smtp_cmd(fd, "QUIT\r\n", NULL, 0);
out:
	close(fd);
	return code;
}

/* rb_smtp_send - one message; the code of the reply to the final dot (or to the
 * command that failed before), -1 if the connection broke */
int
rb_smtp_send(const struct rb_home *h, const char *msg, size_t len, const char *from,
    const char *to, char *reply, size_t rsize)
{
	return smtp_txn(h, msg, len, from, to, (size_t)-1, reply, rsize);
}

/* rb_smtp_cut - send cut bytes of DATA, then hang up; 354 if DATA was reached */
int
rb_smtp_cut(const struct rb_home *h, const char *msg, size_t len, const char *from,
    const char *to, size_t cut)
{
	return smtp_txn(h, msg, len, from, to, cut, NULL, 0);
}
