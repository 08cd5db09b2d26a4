/* SPDX-License-Identifier: MIT
 * rb_home.c - a temporary qmail home for a robustness test, and queue counts.
 *
 * Runs as:    the Criterion worker of a robustness test.
 * Trusted:    $SQ_SRCDIR, $SQ_BUILDDIR, $TMPDIR (set by make check).
 * May touch:  a fresh mkdtemp directory and nothing outside it.
 */
#include <dirent.h>
#include <limits.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rb.h"

/* rb_path - "HOME/fmt..." into out */
void
rb_path(const struct rb_home *h, char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(out, size, "%s/", h->dir);
	if (n < 0 || (size_t)n >= size)
		abort();
	va_start(ap, fmt);
	if ((size_t)vsnprintf(out + n, size - n, fmt, ap) >= size - n)
		abort();
	va_end(ap);
}

/* run - fork/exec argv and wait; the exit status or -1 */
static int
run(char *const argv[])
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* rb_home_make - mkdtemp under TMPDIR, run mkhome.sh, export QMAILHOME */
int
rb_home_make(struct rb_home *h, const char *tag, int before_mkhome(struct rb_home *))
{
	const char *src = getenv("SQ_SRCDIR"), *build = getenv("SQ_BUILDDIR");
	const char *tmp = getenv("TMPDIR");
	char script[RB_PATH_MAX + 64], real[PATH_MAX];

	memset(h, 0, sizeof(*h));
	if (src == NULL || build == NULL || realpath(build, real) == NULL ||
	    strlen(real) >= sizeof(h->build))
		return -1;
	memcpy(h->build, real, strlen(real) + 1);
	if (tmp == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(h->dir, sizeof(h->dir), "%s/sq-robust-%s-XXXXXX", tmp, tag);
	if (mkdtemp(h->dir) == NULL)
		return -1;
	/* mkhome.sh and qmail-local want an absolute, symlink-free path */
	if (realpath(h->dir, real) == NULL || strlen(real) >= sizeof(h->dir))
		return -1;
	memcpy(h->dir, real, strlen(real) + 1);
	rb_path(h, h->log, sizeof(h->log), "daemons.log");
	if (before_mkhome != NULL && before_mkhome(h) < 0)
		return -1;
	snprintf(script, sizeof(script), "%s/sandbox-tools/mkhome.sh", src);
	char *argv[] = { "sh", script, h->dir, h->build, NULL };
	if (run(argv) != 0)
		return -1;
	setenv("QMAILHOME", h->dir, 1);
	return 0;
}

/* rb_home_remove - rm -rf the home (after rb_world_kill) */
void
rb_home_remove(struct rb_home *h)
{
	if (h->dir[0] == '/' && strstr(h->dir, "/sq-robust-") != NULL) {
		if (getenv("SQ_ROBUST_KEEP") != NULL) {
			fprintf(stderr, "# robust: kept %s\n", h->dir);
			return;
		}
		char *argv[] = { "rm", "-rf", h->dir, NULL };
		run(argv);
	}
}

/* rb_have - does HOME/bin/NAME exist (is the program built)? */
int
rb_have(const struct rb_home *h, const char *name)
{
	char path[RB_PATH_MAX + 64];

	rb_path(h, path, sizeof(path), "bin/%s", name);
	return access(path, X_OK) == 0;
}

/* walk - count regular files below dir; append "rel\n" to list when given */
static size_t
walk(const char *dir, const char *rel, char **list, size_t *llen)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dp;

	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL) {
		char path[RB_PATH_MAX * 2], sub[RB_PATH_MAX];
		struct stat st;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		snprintf(sub, sizeof(sub), "%s/%s", rel, d->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			n += walk(path, sub, list, llen);
			continue;
		}
		n++;
		if (list != NULL) {
			size_t l = strlen(sub);
			char *p = realloc(*list, *llen + l + 2);

			if (p == NULL)
				abort();
			memcpy(p + *llen, sub, l);
			p[*llen + l] = '\n';
			p[*llen + l + 1] = '\0';
			*list = p;
			*llen += l + 1;
		}
	}
	closedir(dp);
	return n;
}

/* rb_count - regular files below HOME/queue/SUB (recursive) */
size_t
rb_count(const struct rb_home *h, const char *sub)
{
	char path[RB_PATH_MAX + 64];

	rb_path(h, path, sizeof(path), "queue/%s", sub);
	return walk(path, sub, NULL, NULL);
}

/* rb_queue_busy - files in todo/ + info/ + local/ */
size_t
rb_queue_busy(const struct rb_home *h)
{
	return rb_count(h, "todo") + rb_count(h, "info") + rb_count(h, "local");
}

static int
cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* rb_snapshot - sorted list of the files in pid/ mess/ intd/ todo/, one per line */
char *
rb_snapshot(const struct rb_home *h)
{
	static const char *const dirs[] = { "pid", "mess", "intd", "todo" };
	char *list = calloc(1, 1), *out, **lines, *p;
	size_t llen = 0, n = 0, i;

	for (i = 0; i < 4; i++) {
		char path[RB_PATH_MAX + 64];

		rb_path(h, path, sizeof(path), "queue/%s", dirs[i]);
		n += walk(path, dirs[i], &list, &llen);
	}
	lines = calloc(n + 1, sizeof(*lines));
	out = calloc(1, llen + 1);
	if (list == NULL || lines == NULL || out == NULL)
		abort();
	for (i = 0, p = strtok(list, "\n"); p != NULL && i < n; p = strtok(NULL, "\n"))
		lines[i++] = p;
	qsort(lines, i, sizeof(*lines), cmp_line);
	for (n = i, i = 0, p = out; i < n; i++) {
		size_t l = strlen(lines[i]);

		memcpy(p, lines[i], l);
		p[l] = '\n';
		p += l + 1;
	}
	*p = '\0';
	free(lines);
	free(list);
	return out;
}

/* keep_stdout - Criterion runs each test in a worker whose stdout and stderr
 * are /dev/null under TAP; the runner's stdout (the TAP stream, where "#" lines
 * are comments) stays reachable through /proc as SQ_ROBUST_TAP for rb_note */
__attribute__((constructor)) static void
keep_stdout(void)
{
	char v[64];
	int fd;

	if (getenv("SQ_ROBUST_TAP") != NULL || (fd = fcntl(1, F_DUPFD_CLOEXEC, 100)) < 0)
		return;
	snprintf(v, sizeof(v), "/proc/%d/fd/%d", (int)getpid(), fd);
	setenv("SQ_ROBUST_TAP", v, 1);
}

/* rb_note - one "# TAG: ..." line into the TAP stream (see keep_stdout), on
 * stderr, and into BUILDDIR/tests/robust/TAG.report */
void
rb_note(const char *tag, const char *fmt, ...)
{
	const char *build = getenv("SQ_BUILDDIR");
	char line[2048], path[RB_PATH_MAX];
	static char opened[8][32];
	va_list ap;
	int n, fd, i;

	n = snprintf(line, sizeof(line), "# %s: ", tag);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (getenv("SQ_ROBUST_TAP") != NULL &&
	    (fd = open(getenv("SQ_ROBUST_TAP"), O_WRONLY | O_APPEND | O_CLOEXEC)) >= 0) {
		if (write(fd, line, (size_t)n) < 0) {
			/* best effort */
		}
		close(fd);
	}
	if (write(2, line, (size_t)n) < 0) {
		/* best effort */
	}
	/* the report file starts afresh with the first note of each tag */
	for (i = 0; i < 8 && opened[i][0] != '\0' && strcmp(opened[i], tag) != 0; i++)
		;
	snprintf(path, sizeof(path), "%s/tests/robust/%s.report", build ? build : ".", tag);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC |
	    (i < 8 && opened[i][0] == '\0' ? O_TRUNC : O_APPEND), 0644);
	if (i < 8 && opened[i][0] == '\0')
		snprintf(opened[i], sizeof(opened[i]), "%s", tag);
	if (fd >= 0) {
		if (write(fd, line, (size_t)n) < 0) {
			/* best effort */
		}
		close(fd);
	}
}

/* rb_fill - create path and write max bytes into it, or until the file system
 * is full (ENOSPC); the bytes written, or -1 if path cannot be created */
long
rb_fill(const char *path, size_t max)
{
	char block[4096];
	size_t chunk, done = 0;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	memset(block, 'x', sizeof(block));
	for (chunk = sizeof(block); chunk > 0; chunk /= 2)
		while (done + chunk <= max && write(fd, block, chunk) == (ssize_t)chunk)
			done += chunk;
	close(fd);
	return (long)done;
}

/* rb_note_log - the last lines of the daemons' log as notes (for failures) */
void
rb_note_log(const struct rb_home *h, const char *tag, int lines)
{
	char buf[8192], *p, *line;
	ssize_t n;
	off_t size;
	int fd, seen = 0;

	if ((fd = open(h->log, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	size = lseek(fd, 0, SEEK_END);
	lseek(fd, size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (p = buf + n; p > buf && seen <= lines; p--)
		if (p[-1] == '\n')
			seen++;
	rb_note(tag, "last lines of %s:", h->log);
	for (line = strtok(p, "\n"); line != NULL; line = strtok(NULL, "\n"))
		rb_note(tag, "  %s", line);
}
