/* SPDX-License-Identifier: MIT
 * harness.c - run the built qmail-send in a temp home made by mkhome.sh, with the
 * test on the spawn ends of its pipes and a fake qmail-clean that unlinks files.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *
fx_read(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "r");
	char *s = NULL;
	size_t cap = 0, n = 0, r;

	if (fp == NULL) {
		if (len)
			*len = 0;
		return calloc(1, 1);
	}
	do {
		if (n + 4096 + 1 > cap)
			s = realloc(s, cap = cap * 2 + 8192);
		r = fread(s + n, 1, 4096, fp);
		n += r;
	} while (r > 0);
	fclose(fp);
	s[n] = '\0';
	if (len)
		*len = n;
	return s;
}

static void
write_file(const char *path, const char *p, size_t n)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "create %s", path);
	cr_assert_eq(fwrite(p, 1, n, fp), n);
	cr_assert_eq(fclose(fp), 0);
}

void
fx_home(struct fx *f)
{
	const char *b = getenv("SQ_BUILDDIR"), *s = getenv("SQ_SRCDIR");
	char cmd[1024];

	cr_assert(b && s, "SQ_BUILDDIR/SQ_SRCDIR not set (run through make check)");
	memset(f, 0, sizeof(*f));
	snprintf(f->home, sizeof(f->home), "/tmp/sqsend.XXXXXX");
	cr_assert_not_null(mkdtemp(f->home));
	snprintf(cmd, sizeof(cmd), "sh %s/sandbox-tools/mkhome.sh %s %s example.test >/dev/null",
	    s, f->home, b);
	cr_assert_eq(system(cmd), 0, "mkhome.sh");
	snprintf(f->queue, sizeof(f->queue), "%s/queue", f->home);
	snprintf(f->logfn, sizeof(f->logfn), "%s/send.log", f->home);
	snprintf(f->cleanlog, sizeof(f->cleanlog), "%s/clean.log", f->home);
	snprintf(f->qqdir, sizeof(f->qqdir), "%s/qq", f->home);
	mkdir(f->qqdir, 0700);
	f->send = f->clean = -1;
	signal(SIGPIPE, SIG_IGN);
	setenv("QMAILHOME", f->home, 1);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
}

void
fx_control(struct fx *f, const char *file, const char *text)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/control/%s", f->home, file);
	write_file(path, text, strlen(text));
}

static void
unlink_q(const char *dir, unsigned long id, int split)
{
	char fn[128];

	if (split)
		snprintf(fn, sizeof(fn), "%s/%lu/%lu", dir, id % 23, id);
	else
		snprintf(fn, sizeof(fn), "%s/%lu", dir, id);
	unlink(fn);
}

/* fake_clean - qmail-clean's protocol: "foop/N" or "todo/N", NUL; answer '+' */
static void
fake_clean(const char *queue, const char *logfn, int in, int out)
{
	char line[200];
	size_t n = 0;
	FILE *log = fopen(logfn, "a");

	if (chdir(queue) < 0)
		_exit(1);
	for (;;) {
		char ch;
		if (read(in, &ch, 1) != 1)
			_exit(0);
		if (n + 1 < sizeof(line))
			line[n++] = ch;
		if (ch != '\0')
			continue;
		n = 0;
		unsigned long id = strtoul(line + 5, NULL, 10);
		if (strncmp(line, "foop/", 5) == 0) {
			unlink_q("intd", id, 1);
			unlink_q("mess", id, 1);
		} else if (strncmp(line, "todo/", 5) == 0) {
			unlink_q("intd", id, 1);
			unlink_q("todo", id, 1);
			unlink_q("intd", id, 0);
			unlink_q("todo", id, 0);
		}
		fprintf(log, "%s\n", line);
		fflush(log);
		if (write(out, "+", 1) != 1)
			_exit(0);
	}
}

void
fx_start(struct fx *f, int lslots, int rslots)
{
	int lq[2], lr[2], rq[2], rr[2], cq[2], cr[2], logfd;
	char prog[512];
	unsigned char ch;

	cr_assert(pipe(lq) == 0 && pipe(lr) == 0 && pipe(rq) == 0 && pipe(rr) == 0);
	cr_assert(pipe(cq) == 0 && pipe(cr) == 0);
	f->clean = fork();
	cr_assert_neq(f->clean, -1);
	if (f->clean == 0) {
		/* keep only our two pipe ends: the others must see EOF */
		int in = fcntl(cq[0], F_DUPFD, 100), out = fcntl(cr[1], F_DUPFD, 100);
		for (int fd = 3; fd < 100; fd++)
			close(fd);
		fake_clean(f->queue, f->cleanlog, in, out);
	}
	snprintf(prog, sizeof(prog), "%s/qmail-send", getenv("SQ_BUILDDIR"));
	logfd = open(f->logfn, O_WRONLY | O_APPEND | O_CREAT, 0600);
	cr_assert_geq(logfd, 0);
	f->send = fork();
	cr_assert_neq(f->send, -1);
	if (f->send == 0) {
		int map[7] = { logfd, lq[1], lr[0], rq[1], rr[0], cq[1], cr[0] };
		int hi[7];
		for (int i = 0; i < 7; i++)
			hi[i] = fcntl(map[i], F_DUPFD, 20);
		for (int i = 0; i < 7; i++)
			dup2(hi[i], i);
		for (int fd = 7; fd < 64; fd++)
			close(fd);
		execl(prog, "qmail-send", (char *)NULL);
		_exit(127);
	}
	close(logfd);
	close(lq[1]);
	close(lr[0]);
	close(rq[1]);
	close(rr[0]);
	close(cq[0]);
	close(cq[1]);
	close(cr[0]);
	close(cr[1]);
	f->req[0] = lq[0];
	f->rep[0] = lr[1];
	f->req[1] = rq[0];
	f->rep[1] = rr[1];
	ch = (unsigned char)lslots;
	cr_assert_eq(write(f->rep[0], &ch, 1), 1);
	ch = (unsigned char)rslots;
	cr_assert_eq(write(f->rep[1], &ch, 1), 1);
	cr_assert(fx_wait_log(f, "status: local 0/", 5000), "qmail-send did not start");
}

int
fx_wait_exit(struct fx *f, int ms)
{
	long long end = now_ms() + ms;
	int st;

	while (now_ms() < end) {
		pid_t r = waitpid(f->send, &st, WNOHANG);
		if (r == f->send) {
			f->send = -1;
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		usleep(10000);
	}
	return -1;
}

void
fx_stop(struct fx *f)
{
	char cmd[600];

	if (f->send > 0) {
		kill(f->send, SIGKILL);
		waitpid(f->send, NULL, 0);
	}
	if (f->clean > 0) {
		kill(f->clean, SIGKILL);
		waitpid(f->clean, NULL, 0);
	}
	for (int c = 0; c < 2; c++) {
		close(f->req[c]);
		close(f->rep[c]);
	}
	if (getenv("SQ_KEEP") == NULL && f->home[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->home);
		if (system(cmd) != 0)
			cr_log_warn("could not remove %s", f->home);
	}
}

/* fx_inject - write mess/ and todo/ as qmail-queue would (todo/ last) */
unsigned long
fx_inject(struct fx *f, unsigned long id, const char *sender,
    const char *const *rcpts, int flat)
{
	char path[512], env[8192];
	size_t n;
	static const char msg[] = "Subject: test\n\nhello\n";

	snprintf(path, sizeof(path), "%s/mess/%lu/%lu", f->queue, id % 23, id);
	write_file(path, msg, sizeof(msg) - 1);
	n = (size_t)snprintf(env, sizeof(env), "u%d", 1000) + 1;
	n += (size_t)snprintf(env + n, sizeof(env) - n, "p%d", 4242) + 1;
	n += (size_t)snprintf(env + n, sizeof(env) - n, "F%s", sender) + 1;
	for (; *rcpts; rcpts++)
		n += (size_t)snprintf(env + n, sizeof(env) - n, "T%s", *rcpts) + 1;
	if (flat)
		snprintf(path, sizeof(path), "%s/todo/%lu", f->queue, id);
	else
		snprintf(path, sizeof(path), "%s/todo/%lu/%lu", f->queue, id % 23, id);
	write_file(path, env, n);
	return id;
}

void
fx_trigger(struct fx *f)
{
	char path[512];
	int fd;

	snprintf(path, sizeof(path), "%s/lock/trigger", f->queue);
	fd = open(path, O_WRONLY | O_NONBLOCK);
	if (fd >= 0) {
		cr_expect_eq(write(fd, "", 1), 1);
		close(fd);
	}
}

int
fx_log_count(struct fx *f, const char *needle)
{
	char *s = fx_read(f->logfn, NULL), *p = s;
	int n = 0;

	while ((p = strstr(p, needle)) != NULL) {
		n++;
		p += strlen(needle);
	}
	free(s);
	return n;
}

int
fx_wait_log(struct fx *f, const char *needle, int ms)
{
	long long end = now_ms() + ms;

	do {
		if (fx_log_count(f, needle) > 0)
			return 1;
		usleep(10000);
	} while (now_ms() < end);
	return 0;
}

/* fx_request - read one request: slot byte, then three NUL-terminated strings */
int
fx_request(struct fx *f, int chan, struct sreq *r, int ms)
{
	char *field[3] = { r->mess, r->sender, r->recip };
	size_t cap[3] = { sizeof(r->mess), sizeof(r->sender), sizeof(r->recip) };
	int stage = -1;
	size_t n = 0;
	long long end = now_ms() + ms;

	while (stage < 3) {
		struct pollfd p = { .fd = f->req[chan], .events = POLLIN };
		char ch;
		int left = (int)(end - now_ms());
		if (left <= 0 || poll(&p, 1, left) != 1 || read(f->req[chan], &ch, 1) != 1)
			return 0;
		if (stage < 0) {
			r->slot = (unsigned char)ch;
			stage = 0;
			continue;
		}
		if (n + 1 < cap[stage])
			field[stage][n++] = ch;
		if (ch == '\0') {
			field[stage][n] = '\0';
			stage++;
			n = 0;
		}
	}
	return 1;
}

void
fx_report(struct fx *f, int chan, int slot, const char *text)
{
	char b[2048];
	size_t n = strlen(text);

	b[0] = (char)slot;
	memcpy(b + 1, text, n + 1);
	cr_assert_eq(write(f->rep[chan], b, n + 2), (ssize_t)(n + 2));
}

int
fx_exists(struct fx *f, const char *rel)
{
	char path[600];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", f->queue, rel);
	return stat(path, &st) == 0;
}

/* fx_recorder - QMAILQUEUE that keeps message and envelope as qq/N.msg, qq/N.env */
void
fx_recorder(struct fx *f)
{
	char path[600], script[1200];

	snprintf(path, sizeof(path), "%s/qq-recorder", f->home);
	snprintf(script, sizeof(script), "#!/bin/sh\nd=%s\ncat > $d/tmp.$$.msg\n"
	    "cat <&1 > $d/tmp.$$.env\nmv $d/tmp.$$.msg $d/$$.msg\nmv $d/tmp.$$.env $d/$$.env\n",
	    f->qqdir);
	write_file(path, script, strlen(script));
	chmod(path, 0755);
	setenv("QMAILQUEUE", path, 1);
}

/* fx_recorded - wait for the n-th recorded injection: its message (malloc'd) and envelope */
char *
fx_recorded(struct fx *f, int ms, char **env, size_t *envlen)
{
	long long end = now_ms() + ms;
	char cmd[700], name[600];
	FILE *p;

	do {
		snprintf(cmd, sizeof(cmd), "ls %s | grep '^[0-9]*\\.env$' | head -1", f->qqdir);
		p = popen(cmd, "r");
		name[0] = '\0';
		if (p && fgets(name, sizeof(name), p) == NULL)
			name[0] = '\0';
		if (p)
			pclose(p);
		if (name[0]) {
			char path[1300];
			name[strcspn(name, "\n")] = '\0';
			snprintf(path, sizeof(path), "%s/%s", f->qqdir, name);
			*env = fx_read(path, envlen);
			unlink(path);
			snprintf(path, sizeof(path), "%s/%.*s.msg", f->qqdir,
			    (int)(strlen(name) - 4), name);
			char *m = fx_read(path, NULL);
			unlink(path);
			return m;
		}
		usleep(20000);
	} while (now_ms() < end);
	return NULL;
}

/* fx_ctxt - voluntary + involuntary context switches of a process */
long
fx_ctxt(pid_t pid)
{
	char path[64], *s, *p;
	long n = 0;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	s = fx_read(path, NULL);
	for (p = s; (p = strstr(p, "ctxt_switches:")) != NULL; p += 14)
		n += strtol(p + 14, NULL, 10);
	free(s);
	return n;
}
