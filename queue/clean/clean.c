/* SPDX-License-Identifier: MIT
 * clean.c - qmail-clean: remove queue files when qmail-send asks.
 *
 * Runs as:    qmailq (production), the caller (sandbox); started by qmail-start.
 * Trusted:    qmail-send on the other end of fd 0/1; still every request is checked.
 * Hostile:    nothing beyond a confused peer: a malformed request gets 'x'.
 * May touch:  <home>/queue intd/ mess/ todo/ (unlink by id, split and qmail 1.03's
 *             flat intd/ID, todo/ID) and pid/ (stale files).
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mail/exitcode.h"
#include "num.h"
#include "qfs.h"
#include "clean.h"

/* clean_unlink_path - remove one file; an already missing file counts as done */
static int
clean_unlink_path(const char *fn)
{
	if (unlink(fn) < 0 && errno != ENOENT) {
		log_warning("qmail-clean: unlink %s: %m", fn);
		return -1;
	}
	return 0;
}

/* clean_has_flat - does intd/ or todo/ hold a flat file of qmail 1.03 (a
 * name that is not one of the split directories)? Only qmail 1.03's
 * qmail-queue made them, so one look at the first request is enough and
 * a queue without them costs no extra unlink per message. */
static int
clean_has_flat(void)
{
	static const char *const dirs[] = { "intd", "todo" };
	static int flat = -1;
	struct dirent *d;
	DIR *dir;

	if (flat >= 0)
		return flat;
	flat = 0;
	for (size_t i = 0; i < 2 && !flat; i++) {
		if ((dir = opendir(dirs[i])) == NULL)
			continue;
		while (!flat && (d = readdir(dir)) != NULL) {
			unsigned long id;

			flat = num_parse_uint(d->d_name, 0, (unsigned long)-1, &id) == 0 &&
			    id >= QFS_SPLIT;
		}
		closedir(dir);
	}
	return flat;
}

/* clean_unlink - remove queue file DIR/SPLIT/ID and, for intd/ and todo/ of
 * a queue taken over from qmail 1.03, its flat DIR/ID too (ids below
 * QFS_SPLIT would name a split directory, and no message file has one) */
static int
clean_unlink(enum qfs_dir dir, unsigned long id)
{
	char fn[64];

	if (qfs_path(fn, sizeof(fn), dir, id) < 0 || clean_unlink_path(fn) < 0)
		return -1;
	if (dir == QFS_MESS || id < QFS_SPLIT || !clean_has_flat())
		return 0;
	snprintf(fn, sizeof(fn), "%s/%lu", dir == QFS_INTD ? "intd" : "todo", id);
	return clean_unlink_path(fn);
}

/* clean_request - the request whitelist: foop/DIGITS or todo/DIGITS */
char
clean_request(const char *req, size_t len)
{
	char digits[CLEAN_REQ_MAX];
	enum qfs_dir other;
	unsigned long id;

	if (len < 6 || len >= CLEAN_REQ_MAX)
		return CLEAN_MALFORMED;
	if (memcmp(req, "foop/", 5) == 0)
		other = QFS_MESS;
	else if (memcmp(req, "todo/", 5) == 0)
		other = QFS_TODO;
	else
		return CLEAN_MALFORMED;
	for (size_t i = 5; i < len; i++)
		if (req[i] < '0' || req[i] > '9')
			return CLEAN_MALFORMED;
	memcpy(digits, req + 5, len - 5);
	digits[len - 5] = '\0';
	if (num_parse_uint(digits, 0, (unsigned long)-1, &id) < 0)
		return CLEAN_MALFORMED;
	/* intd first, as qmail: the mess or todo file is the one that still counts */
	if (clean_unlink(QFS_INTD, id) < 0 || clean_unlink(other, id) < 0)
		return CLEAN_FAILED;
	return CLEAN_DONE;
}

/* clean_pid - pid/ files belong to qmail-queue runs that died (DEATH is 24 h) */
int
clean_pid(time_t now)
{
	char fn[300];
	struct dirent *d;
	struct stat st;
	DIR *dir = opendir("pid");
	int n = 0;

	if (dir == NULL)
		return 0;
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (snprintf(fn, sizeof(fn), "pid/%s", d->d_name) >= (int)sizeof(fn))
			continue;
		if (stat(fn, &st) < 0 || now < st.st_mtime + CLEAN_OSSIFIED)
			continue;
		if (unlink(fn) == 0)
			n++;
	}
	closedir(dir);
	return n;
}

/* Requests come in pipelined; answers go out together before the next read. */
struct clean_io {
	int in, out;
	size_t pos, have, nans;
	char inbuf[4096], ans[4096];
};

/* clean_flush - the answers so far; if qmail-send is gone there is nobody to serve */
static void
clean_flush(struct clean_io *io)
{
	size_t off = 0;
	ssize_t w;

	while (off < io->nans) {
		w = write(io->out, io->ans + off, io->nans - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			log_fatal(EXIT_PERM, "qmail-clean: write answer: %m");
		off += (size_t)w;
	}
	io->nans = 0;
}

/* clean_getc - next request byte: 1, 0 at EOF, -1 on error; flushes before blocking */
static int
clean_getc(struct clean_io *io, char *c)
{
	ssize_t n;

	if (io->pos == io->have) {
		clean_flush(io);
		while ((n = read(io->in, io->inbuf, sizeof(io->inbuf))) < 0 && errno == EINTR)
			;
		if (n <= 0)
			return n < 0 ? -1 : 0;
		io->pos = 0;
		io->have = (size_t)n;
	}
	*c = io->inbuf[io->pos++];
	return 1;
}

/* clean_run - read NUL-terminated requests; over-long ones are skipped to their NUL */
int
clean_run(const char *home, int in, int out)
{
	static struct clean_io io;
	char req[CLEAN_REQ_MAX], c;
	size_t len = 0;
	int toolong = 0, sweep = 0, r;

	if (chdir(home) < 0 || chdir("queue") < 0) {
		log_err("qmail-clean: chdir %s/queue: %m", home);
		return EXIT_TEMP;
	}
	io.in = in;
	io.out = out;
	for (;;) {
		if (sweep-- == 0) {
			clean_pid(time(NULL));
			sweep = CLEAN_PID_EVERY;
		}
		while ((r = clean_getc(&io, &c)) > 0 && c != '\0') {
			if (len < sizeof(req))
				req[len++] = c;
			else
				toolong = 1;
		}
		if (r <= 0)
			return r < 0 ? EXIT_TEMP : 0;
		/* every answer was for at least one input byte: ans cannot overflow */
		io.ans[io.nans++] = toolong ? CLEAN_MALFORMED : clean_request(req, len);
		len = 0;
		toolong = 0;
	}
}
