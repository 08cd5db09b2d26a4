/* SPDX-License-Identifier: MIT
 * e2e.c - end-to-end test helpers: instances in temp dirs, shell commands,
 * waiting for Maildir files. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "e2e.h"

/* e2e_srcdir - the source tree */
const char *
e2e_srcdir(void)
{
	const char *d = getenv("SQ_SRCDIR");

	return d && *d ? d : ".";
}

/* e2e_builddir - the build tree */
const char *
e2e_builddir(void)
{
	const char *d = getenv("SQ_BUILDDIR");

	return d && *d ? d : ".";
}

/* e2e_sh - run a shell command line, capturing its output */
int
e2e_sh(struct buf *out, const char *fmt, ...)
{
	struct buf cmd;
	va_list ap;
	FILE *fp;
	char chunk[4096];
	size_t n;
	int status;

	buf_init(&cmd, 1 << 16);
	va_start(ap, fmt);
	cr_assert_eq(buf_vprintf(&cmd, fmt, ap), 0, "command too long");
	va_end(ap);
	cr_assert_eq(buf_cats(&cmd, " 2>&1"), 0);
	if (out)
		buf_reset(out);
	fflush(NULL);
	fp = popen(buf_str(&cmd), "r");
	cr_assert_not_null(fp, "popen %s: %m", buf_str(&cmd));
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (out)
			(void)buf_cat(out, chunk, n);
	status = pclose(fp);
	buf_free(&cmd);
	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* e2e_have - is a program on $PATH? */
int
e2e_have(const char *program)
{
	return e2e_sh(NULL, "command -v '%s' >/dev/null", program) == 0;
}

/* e2e_up - make a home and start an instance on a free port of our range */
void
e2e_up(struct e2e *e)
{
	e2e_up_wrapped(e, "");
}

/* e2e_up_wrapped - e2e_up with sandbox.sh run under the command prefix wrap */
void
e2e_up_wrapped(struct e2e *e, const char *wrap)
{
	struct buf out;
	int attempt, rc = -1;

	buf_init(&out, 1 << 20);
	memset(e, 0, sizeof(*e));
	cr_assert_lt((size_t)snprintf(e->dir, sizeof(e->dir), "%s",
	    "/tmp/sq-e2e-XXXXXX"), sizeof(e->dir));
	cr_assert_not_null(mkdtemp(e->dir), "mkdtemp: %m");
	/* Criterion runs tests in parallel: spread by pid, retry when taken. */
	e->port = E2E_PORT_FIRST + (int)(getpid() % 900);
	for (attempt = 0; attempt < 8; attempt++, e->port++) {
		rc = e2e_sh(&out, "%s env SMTP_PORT=%d sh '%s/sandbox-tools/sandbox.sh' "
		    "start '%s' '%s'", wrap, e->port, e2e_srcdir(), e->dir, e2e_builddir());
		if (rc == 0 || !strstr(buf_str(&out), "in use"))
			break;
	}
	e->up = 1;
	cr_assert_eq(rc, 0, "sandbox.sh start failed:\n%s", buf_str(&out));
	buf_free(&out);
}

/* e2e_down - stop everything the instance runs and remove its files */
void
e2e_down(struct e2e *e)
{
	struct buf out;
	const char *keep = getenv("SQ_E2E_KEEP");

	if (!e->up)
		return;
	buf_init(&out, 1 << 20);
	if (e2e_sh(&out, "sh '%s/sandbox-tools/sandbox.sh' stop '%s'",
	    e2e_srcdir(), e->dir) != 0)
		fprintf(stderr, "# sandbox.sh stop: %s\n", buf_str(&out));
	if (keep && *keep)
		fprintf(stderr, "# kept %s\n", e->dir);
	else
		(void)e2e_sh(NULL, "rm -rf '%s'", e->dir);
	e->up = 0;
	buf_free(&out);
}

/* read_file - whole file into out: 0 or -1 */
static int
read_file(const char *path, struct buf *out)
{
	char chunk[4096];
	ssize_t n;
	int fd;

	buf_reset(out);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (buf_cat(out, chunk, (size_t)n) < 0)
			break;
	close(fd);
	return n < 0 ? -1 : 0;
}

/* find_mail - one pass over a Maildir's new/ for a file holding token */
static int
find_mail(const char *dir, const char *token, struct buf *content, struct buf *path)
{
	struct dirent *d;
	DIR *dp;
	int found = -1;

	dp = opendir(dir);
	if (!dp)
		return -1;
	while (found < 0 && (d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		buf_reset(path);
		if (buf_printf(path, "%s/%s", dir, d->d_name) < 0)
			continue;
		if (read_file(buf_str(path), content) == 0 &&
		    strstr(buf_str(content), token))
			found = 0;
	}
	closedir(dp);
	return found;
}

/* e2e_wait_mail - wait for a delivered file holding token */
int
e2e_wait_mail(const struct e2e *e, const char *user, const char *token,
    int tenths, struct buf *content, struct buf *path)
{
	const struct timespec tenth = { 0, 100 * 1000 * 1000 };
	char dir[PATH_MAX];
	int i;

	cr_assert_lt((size_t)snprintf(dir, sizeof(dir), "%s/home/%s/Maildir/new",
	    e->dir, user), sizeof(dir));
	for (i = 0; i <= tenths; i++) {
		if (find_mail(dir, token, content, path) == 0)
			return 0;
		nanosleep(&tenth, NULL);
	}
	return -1;
}

/* e2e_token - a label made unique by pid and time */
void
e2e_token(char *out, size_t size, const char *label)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	cr_assert_lt((size_t)snprintf(out, size, "%s-%ld-%ld-%ld", label,
	    (long)getpid(), (long)now.tv_sec, now.tv_nsec), size);
}

/* e2e_header - the first header field called name (with continuation lines) */
int
e2e_header(const char *msg, const char *name, struct buf *out)
{
	const char *p = msg, *end;
	size_t n = strlen(name);

	buf_reset(out);
	while (*p && *p != '\n') {
		end = strchr(p, '\n');
		while (end && (end[1] == ' ' || end[1] == '\t'))
			end = strchr(end + 1, '\n');
		if (!end)
			end = p + strlen(p);
		if (strncasecmp(p, name, n) == 0 && p[n] == ':')
			return buf_cat(out, p, (size_t)(end - p));
		p = *end ? end + 1 : end;
	}
	return -1;
}
