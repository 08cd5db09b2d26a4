/* SPDX-License-Identifier: MIT
 * qtest.c - helpers for queue tests: temp homes, running qmail-queue, counting files. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qtest.h"

const char *
qt_prog(const char *rel)
{
	static char path[4][4096];
	static int i;
	const char *b = getenv("SQ_BUILDDIR");

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", b ? b : ".", rel);
	return path[i];
}

int
qt_sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

void
qt_mkhome(char *home, size_t size)
{
	const char *src = getenv("SQ_SRCDIR");
	const char *bld = getenv("SQ_BUILDDIR");

	snprintf(home, size, "/tmp/sq-queue-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	cr_assert_eq(qt_sh("sh '%s/sandbox-tools/mkhome.sh' '%s' '%s' >/dev/null",
	    src ? src : ".", home, bld ? bld : "."), 0, "mkhome.sh failed");
}

void
qt_rmhome(const char *home)
{
	if (home[0] == '/' && strncmp(home, "/tmp/", 5) == 0)
		qt_sh("rm -rf '%s'", home);
}

static void
qt_write(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w <= 0)
			return;	/* the child stopped reading: its exit code tells */
		s += w;
		n -= (size_t)w;
	}
}

static void
qt_child(const char *home, int msgfd, int envfd, const struct qt_opts *o)
{
	if (o && o->fsize) {
		struct rlimit rl = { o->fsize, o->fsize };
		setrlimit(RLIMIT_FSIZE, &rl);
	}
	dup2(msgfd, 0);
	dup2(envfd, 1);
	setenv("QMAILHOME", home, 1);
	if (o && o->strace)
		execlp("strace", "strace", "-qq", "-f", "-y", "-o", o->strace, "-e",
		    "trace=openat,link,unlink,fsync,fdatasync,syncfs,write,rename",
		    qt_prog("queue/qmail-queue/qmail-queue"), (char *)NULL);
	execl(qt_prog("queue/qmail-queue/qmail-queue"), "qmail-queue", (char *)NULL);
	_exit(127);
}

/* qt_wait_pidfile - wait until qmail-queue has created its pid/ file */
static void
qt_wait_pidfile(const char *home)
{
	for (int i = 0; i < 500 && qt_count(home, "pid") == 0; i++)
		usleep(10000);
}

int
qt_qq(const char *home, const void *msg, size_t msglen, const void *env,
    size_t envlen, const struct qt_opts *o)
{
	int mp[2], ep[2], st;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(mp), 0);
	cr_assert_eq(pipe(ep), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(mp[1]);
		close(ep[1]);
		qt_child(home, o && o->msgfd >= 0 ? o->msgfd : mp[0], ep[0], o);
	}
	close(mp[0]);
	close(ep[0]);
	qt_write(mp[1], msg, msglen);
	if (o && o->hang) {
		qt_wait_pidfile(home);
		usleep(50000);
		kill(pid, o->hang);
	}
	close(mp[1]);
	qt_write(ep[1], env, envlen);
	close(ep[1]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int
qt_count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char sub[4096];
	struct stat st;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (lstat(sub, &st) < 0)
			continue;
		n += S_ISDIR(st.st_mode) ? qt_count_dir(sub) : 1;
	}
	closedir(d);
	return n;
}

int
qt_count(const char *home, const char *sub)
{
	char dir[4096];

	snprintf(dir, sizeof(dir), "%s/queue/%s", home, sub);
	return qt_count_dir(dir);
}

int
qt_first(const char *home, const char *sub, char *out, size_t size)
{
	char dir[4096];

	for (int s = 0; s < 23; s++) {
		DIR *d;
		struct dirent *e;

		snprintf(dir, sizeof(dir), "%s/queue/%s/%d", home, sub, s);
		if ((d = opendir(dir)) == NULL)
			continue;
		while ((e = readdir(d)) != NULL) {
			if (e->d_name[0] == '.')
				continue;
			snprintf(out, size, "%d/%s", s, e->d_name);
			closedir(d);
			return 0;
		}
		closedir(d);
	}
	return -1;
}

char *
qt_slurp(const char *path, size_t *len)
{
	struct stat st;
	char *p;
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return NULL;
	fstat(fd, &st);
	p = malloc((size_t)st.st_size + 1);
	n = read(fd, p, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(p);
		return NULL;
	}
	p[n] = '\0';
	if (len)
		*len = (size_t)n;
	return p;
}
