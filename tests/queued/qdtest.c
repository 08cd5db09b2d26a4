/* SPDX-License-Identifier: MIT
 * qdtest.c - helpers for the queue writer tests: a home owned by another uid,
 * qmail-queued started as socket activation does, clients as other users. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qtest.h"
#include "qdtest.h"

void
qdt_control(const struct qdt *t, const char *name, const char *value)
{
	char path[400];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/control/%s", t->home, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp, "%s: %m", path);
	fprintf(fp, "%s\n", value);
	fclose(fp);
}

void
qdt_setup(struct qdt *t)
{
	memset(t, 0, sizeof(*t));
	t->writer = -1;
	t->root = geteuid() == 0;
	t->owner = t->root ? QDT_OWNER : geteuid();
	t->client = t->root ? QDT_NOBODY : geteuid();
	qt_mkhome(t->home, sizeof(t->home));
	snprintf(t->sock, sizeof(t->sock), "%s/run/queued.sock", t->home);
	snprintf(t->log, sizeof(t->log), "%s/run/queued.log", t->home);
	cr_assert_eq(qt_sh("mkdir -p '%s/run' && chmod 755 '%s' '%s/run'", t->home, t->home,
	    t->home), 0);
	if (t->root)
		cr_assert_eq(qt_sh("chown -R %lu '%s/queue'", (unsigned long)t->owner, t->home), 0);
	qdt_control(t, "queuewriter", t->sock);
}

void
qdt_teardown(struct qdt *t)
{
	if (t->writer > 0)
		qdt_stop(t, SIGKILL);
	qt_rmhome(t->home);
}

/* qdt_become - drop to uid (and its own group number) in a child */
static void
qdt_become(const struct qdt *t, uid_t uid)
{
	if (!t->root)
		return;
	if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
		_exit(126);
}

void
qdt_start(struct qdt *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char pid[32];
	int lfd, logfd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->sock);
	unlink(t->sock);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(lfd, 0);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sun, sizeof(sun)), 0, "bind: %m");
	cr_assert_eq(chmod(t->sock, 0666), 0);
	cr_assert_eq(listen(lfd, 128), 0);
	logfd = open(t->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	cr_assert_geq(logfd, 0);
	t->writer = fork();
	cr_assert_neq(t->writer, -1);
	if (t->writer == 0) {
		dup2(lfd, 3);
		dup2(logfd, 2);
		qdt_become(t, t->owner);
		snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		setenv("LISTEN_FDS", "1", 1);
		setenv("LISTEN_PID", pid, 1);
		setenv("QMAILHOME", t->home, 1);
		if (t->strace)
			execlp("strace", "strace", "-D", "-qq", "-f", "-o", t->strace, "-e",
			    "trace=fsync,syncfs,link,sendto", qt_prog("queue/queued/qmail-queued"),
			    (char *)NULL);
		execl(qt_prog("queue/queued/qmail-queued"), "qmail-queued", (char *)NULL);
		_exit(127);
	}
	close(lfd);
	close(logfd);
}

int
qdt_stop(struct qdt *t, int sig)
{
	int st = 0;

	if (t->writer <= 0)
		return -1;
	if (sig)
		kill(t->writer, sig);
	waitpid(t->writer, &st, 0);
	t->writer = -1;
	return st;
}

void
qdt_spawn(const struct qdt *t, uid_t uid, struct qdt_client *c)
{
	int mp[2], ep[2];

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe2(mp, O_CLOEXEC), 0);
	cr_assert_eq(pipe2(ep, O_CLOEXEC), 0);
	c->pid = fork();
	cr_assert_neq(c->pid, -1);
	if (c->pid == 0) {
		dup2(mp[0], 0);
		dup2(ep[0], 1);
		qdt_become(t, uid);
		setenv("QMAILHOME", t->home, 1);
		execl(qt_prog("queue/qmail-queue/qmail-queue"), "qmail-queue", (char *)NULL);
		_exit(127);
	}
	close(mp[0]);
	close(ep[0]);
	c->msgfd = mp[1];
	c->envfd = ep[1];
}

int
qdt_wait(struct qdt_client *c)
{
	int st;

	if (c->msgfd >= 0)
		close(c->msgfd);
	if (c->envfd >= 0)
		close(c->envfd);
	c->msgfd = c->envfd = -1;
	cr_assert_eq(waitpid(c->pid, &st, 0), c->pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void
qdt_write(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w <= 0)
			return;
		s += w;
		n -= (size_t)w;
	}
}

int
qdt_qq(const struct qdt *t, uid_t uid, const char *msg, const void *env, size_t envlen)
{
	struct qdt_client c;

	qdt_spawn(t, uid, &c);
	qdt_write(c.msgfd, msg, strlen(msg));
	close(c.msgfd);
	c.msgfd = -1;
	qdt_write(c.envfd, env, envlen);
	return qdt_wait(&c);
}

int
qdt_connect(const struct qdt *t)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", t->sock);
	cr_assert_geq(fd, 0);
	for (int i = 0; i < 100; i++) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		usleep(20000);
	}
	cr_assert_fail("connect %s: %m", t->sock);
	return -1;
}

void
qdt_frame(int fd, char type, const void *p, size_t n)
{
	unsigned char h[5] = { (unsigned char)type, (unsigned char)(n >> 24),
		(unsigned char)(n >> 16), (unsigned char)(n >> 8), (unsigned char)n };

	signal(SIGPIPE, SIG_IGN);
	qdt_write(fd, h, sizeof(h));
	qdt_write(fd, p, n);
}

int
qdt_answer(int fd, int secs)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	unsigned char b;

	if (poll(&p, 1, secs * 1000) <= 0)
		return -1;
	return read(fd, &b, 1) == 1 ? b : -1;
}

int
qdt_log_count(const struct qdt *t, const char *s)
{
	size_t len;
	char *log = qt_slurp(t->log, &len), *p;
	int n = 0;

	if (log == NULL)
		return 0;
	for (p = log; (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	free(log);
	return n;
}

int
qdt_queue_empty(const struct qdt *t)
{
	return qt_count(t->home, "pid") == 0 && qt_count(t->home, "mess") == 0 &&
	    qt_count(t->home, "intd") == 0 && qt_count(t->home, "todo") == 0;
}
