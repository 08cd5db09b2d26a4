/* SPDX-License-Identifier: MIT
 * rb_proc.c - the test's own process world: session, subreaper, daemons.
 *
 * Runs as:    the Criterion worker of a robustness test (often root in CI).
 * Trusted:    $SQ_BUILDDIR; /proc.
 * May touch:  only processes of our own session whose executable lies in the
 *             build tree (killer, rb_stop), or of our own session at all
 *             (rb_world_kill at the end of a test). Nothing else is signalled.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rb.h"

/* rb_now_ms - monotonic milliseconds */
long long
rb_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* rb_sleep_ms - sleep, restarting after signals */
void
rb_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* rb_world_init - own session + child subreaper; -1 if setsid failed */
int
rb_world_init(void)
{
	signal(SIGPIPE, SIG_IGN);
	if (setsid() < 0 && getsid(0) != getpid())
		return -1;
	/* orphans (lspawn after qmail-send died...) come back to us to be reaped */
	prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	return 0;
}

/* proc_session - session id of pid from /proc/PID/stat, -1 if gone */
static pid_t
proc_session(pid_t pid)
{
	char path[64], buf[1024];
	const char *p;
	int fd, ppid, pgrp, sid;
	ssize_t n;
	char state;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp session ...": comm may hold anything */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 1, " %c %d %d %d", &state, &ppid, &pgrp, &sid) != 4)
		return -1;
	if (state == 'Z' || state == 'X')
		return -1;
	return sid;
}

/* proc_build_name - basename of pid's executable if it lies in build/, else -1 */
static int
proc_build_name(pid_t pid, const char *build, char *name, size_t size)
{
	char path[64], exe[RB_PATH_MAX];
	size_t bl = strlen(build);
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	if (strncmp(exe, build, bl) != 0 || exe[bl] != '/')
		return -1;
	base = strrchr(exe, '/') + 1;
	if (strncmp(base, "qmail-", 6) != 0 && strcmp(base, "sendmail") != 0)
		return -1;
	snprintf(name, size, "%s", base);
	return 0;
}

/* rb_procs - our processes (same session, executable in the build tree) */
size_t
rb_procs(const struct rb_home *h, struct rb_proc *out, size_t max)
{
	pid_t me = getpid(), sid = getsid(0);
	struct dirent *d;
	size_t n = 0;
	DIR *dir;

	if ((dir = opendir("/proc")) == NULL)
		return 0;
	while (n < max && (d = readdir(dir)) != NULL) {
		pid_t pid = (pid_t)strtol(d->d_name, NULL, 10);

		if (pid <= 0 || pid == me || proc_session(pid) != sid)
			continue;
		if (proc_build_name(pid, h->build, out[n].name, sizeof(out[n].name)) < 0)
			continue;
		out[n++].pid = pid;
	}
	closedir(dir);
	return n;
}

/* rb_find - first of our processes called name, 0 if none */
pid_t
rb_find(const struct rb_home *h, const char *name)
{
	struct rb_proc p[256];
	size_t i, n = rb_procs(h, p, 256);

	for (i = 0; i < n; i++)
		if (strcmp(p[i].name, name) == 0)
			return p[i].pid;
	return 0;
}

/* rb_world_kill - SIGKILL every other process of our session, reap them */
void
rb_world_kill(void)
{
	pid_t me = getpid(), sid = getsid(0);
	int round, found;

	if (sid != me)
		return;		/* not our own session: touch nothing */
	for (round = 0; round < 50; round++) {
		struct dirent *d;
		DIR *dir = opendir("/proc");

		found = 0;
		while (dir != NULL && (d = readdir(dir)) != NULL) {
			pid_t pid = (pid_t)strtol(d->d_name, NULL, 10);

			if (pid > 0 && pid != me && proc_session(pid) == sid) {
				kill(pid, SIGKILL);
				found++;
			}
		}
		if (dir != NULL)
			closedir(dir);
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (!found)
			break;
		rb_sleep_ms(20);
	}
}

/* rb_start - run "qmail-start ./Maildir/" in HOME, stderr to h->log */
pid_t
rb_start(struct rb_home *h)
{
	char prog[RB_PATH_MAX + 32];
	pid_t pid;
	int fd;

	rb_path(h, prog, sizeof(prog), "bin/qmail-start");
	if ((fd = open(h->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644)) < 0)
		return -1;
	if ((pid = fork()) < 0) {
		close(fd);
		return -1;
	}
	if (pid == 0) {
		int nul = open("/dev/null", O_RDONLY);

		signal(SIGPIPE, SIG_DFL);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		if (chdir(h->dir) < 0)
			_exit(127);
		execl(prog, "qmail-start", "./Maildir/", (char *)NULL);
		_exit(127);
	}
	close(fd);
	h->start_pid = pid;
	h->starts++;
	return pid;
}

/* rb_reap - reap exited children; clears start_pid/smtp_pid when they die */
size_t
rb_reap(struct rb_home *h, pid_t *pids, int *sts, size_t max)
{
	size_t n = 0;
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		if (pid == h->start_pid)
			h->start_pid = 0;
		else if (pid == h->smtp_pid)
			h->smtp_pid = 0;
		else if (n < max) {
			pids[n] = pid;
			sts[n++] = st;
		}
	}
	return n;
}

/* kill_daemons - SIGKILL our daemons (not qmail-queue/smtpd of other jobs) */
static int
kill_daemons(struct rb_home *h)
{
	static const char *const daemons[] = {
		"qmail-start", "qmail-send", "qmail-lspawn", "qmail-rspawn",
		"qmail-clean", "qmail-local", "qmail-remote", NULL,
	};
	struct rb_proc p[256];
	size_t i, n = rb_procs(h, p, 256);
	int j, found = 0;

	for (i = 0; i < n; i++)
		for (j = 0; daemons[j] != NULL; j++)
			if (strcmp(p[i].name, daemons[j]) == 0) {
				kill(p[i].pid, SIGKILL);
				found++;
			}
	return found;
}

/* rb_stop - SIGTERM qmail-send, wait up to ms, then SIGKILL all daemons */
void
rb_stop(struct rb_home *h, int ms)
{
	long long end = rb_now_ms() + ms;
	pid_t send = rb_find(h, "qmail-send");
	pid_t dummy[64];
	int sts[64];

	if (send > 0)
		kill(send, SIGTERM);
	else if (h->start_pid > 0)
		kill(h->start_pid, SIGTERM);
	while (rb_now_ms() < end) {
		rb_reap(h, dummy, sts, 64);
		if (h->start_pid == 0 && rb_find(h, "qmail-send") == 0)
			break;
		rb_sleep_ms(20);
	}
	for (int round = 0; round < 100 && kill_daemons(h) > 0; round++) {
		rb_sleep_ms(20);
		rb_reap(h, dummy, sts, 64);
	}
	rb_reap(h, dummy, sts, 64);
}

/* rb_poke - write the trigger and SIGALRM qmail-send: "retry everything now" */
void
rb_poke(struct rb_home *h)
{
	char path[RB_PATH_MAX + 32];
	pid_t send = rb_find(h, "qmail-send");
	int fd;

	rb_path(h, path, sizeof(path), "queue/lock/trigger");
	if ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) >= 0) {
		if (write(fd, "", 1) < 0) {
			/* nobody reading: qmail-send scans todo/ when it starts */
		}
		close(fd);
	}
	if (send > 0)
		kill(send, SIGALRM);
}

/* rb_children - the children of pid (/proc/PID/task/PID/children) that are
 * our programs called name; how many were stored */
size_t
rb_children(const struct rb_home *h, pid_t pid, const char *name, pid_t *out, size_t max)
{
	char path[96], buf[4096], exe[64];
	size_t n = 0;
	ssize_t len;
	char *p, *end;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	for (p = buf; n < max; p = end) {
		long c = strtol(p, &end, 10);

		if (end == p || c <= 0)
			break;
		if (proc_session((pid_t)c) == getsid(0) &&
		    proc_build_name((pid_t)c, h->build, exe, sizeof(exe)) == 0 &&
		    strcmp(exe, name) == 0)
			out[n++] = (pid_t)c;
	}
	return n;
}
