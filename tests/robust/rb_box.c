/* SPDX-License-Identifier: MIT
 * rb_box.c - what reached a Maildir, and whether each file is whole.
 *
 * Runs as:    the Criterion worker of a robustness test.
 * Trusted:    nothing in the Maildir: every file is checked against the text
 *             rb_msg() gives for the id it claims.
 * May touch:  reads HOME/home/USER/Maildir only.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rb.h"

static const char marker[] = "X-Robust-Id: ";

/* slurp - the whole file, NUL-terminated; NULL on error */
static char *
slurp(const char *path, size_t *len)
{
	struct stat st;
	char *p = NULL;
	size_t n = 0;
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || (p = malloc((size_t)st.st_size + 1)) == NULL) {
		close(fd);
		return NULL;
	}
	while (n < (size_t)st.st_size && (r = read(fd, p + n, (size_t)st.st_size - n)) > 0)
		n += (size_t)r;
	close(fd);
	p[n] = '\0';
	*len = n;
	return p;
}

/* find_marker - offset of the "X-Robust-Id: " line start, -1 if none */
static long
find_marker(const char *p, size_t len)
{
	size_t ml = sizeof(marker) - 1;
	const char *q;

	if (len >= ml && memcmp(p, marker, ml) == 0)
		return 0;
	q = memmem(p, len, "\nX-Robust-Id: ", ml + 1);
	return q == NULL ? -1 : q + 1 - p;
}

/* trace_only - p[0..off) holds only the trace lines a delivery adds (qmail-local's
 * Return-Path and Delivered-To, Received lines, folded or not): else the message
 * sits inside another one, such as a bounce */
static int
trace_only(const char *p, size_t off)
{
	static const char *const ok[] = { "Return-Path: ", "Delivered-To: ", "Received: " };
	size_t i = 0;

	while (i < off) {
		const char *nl = memchr(p + i, '\n', off - i);
		int good = p[i] == ' ' || p[i] == '\t';

		for (size_t k = 0; k < 3 && !good; k++)
			good = strncmp(p + i, ok[k], strlen(ok[k])) == 0;
		if (!good || nl == NULL)
			return 0;
		i = (size_t)(nl - p) + 1;
	}
	return 1;
}

static void
note_bad(struct rb_box *box, const char *name, long id)
{
	size_t l = strlen(box->badlist);

	box->bad++;
	if (l + 80 < sizeof(box->badlist))
		snprintf(box->badlist + l, sizeof(box->badlist) - l, "%s:%ld ", name, id);
}

/* check_file - count one delivered file under its id, or as foreign/bad */
static void
check_file(struct rb_box *box, const char *path, const char *name)
{
	size_t len, want_len;
	char *p = slurp(path, &len), *want, *end;
	unsigned long id;
	long off;

	box->files++;
	if (p == NULL || (off = find_marker(p, len)) < 0) {
		box->foreign++;
		free(p);
		return;
	}
	id = strtoul(p + off + sizeof(marker) - 1, &end, 10);
	if (*end != '\n' || id >= box->n) {
		note_bad(box, name, -1);
		free(p);
		return;
	}
	if (!box->prefix_ok && !trace_only(p, (size_t)off)) {
		box->wrapped++;
		free(p);
		return;
	}
	/* what follows the marker must be exactly what was sent: no half message
	 * (a bounce may hold a shortened copy: bouncemaxbytes) */
	want = rb_msg((unsigned)id, rb_msg_size((unsigned)id), &want_len);
	if (box->prefix_ok && len - (size_t)off < want_len)
		want_len = len - (size_t)off;
	if (len - (size_t)off != want_len || memcmp(p + off, want, want_len) != 0)
		note_bad(box, name, (long)id);
	else
		box->count[id]++;
	free(want);
	free(p);
}

static unsigned
scan_dir(struct rb_box *box, const char *maildir, const char *sub, int check)
{
	char dir[RB_PATH_MAX + 16], path[RB_PATH_MAX + 300];
	struct dirent *d;
	unsigned n = 0;
	DIR *dp;

	snprintf(dir, sizeof(dir), "%s/%s", maildir, sub);
	if ((dp = opendir(dir)) == NULL)
		return 0;
	while ((d = readdir(dp)) != NULL) {
		if (d->d_name[0] == '.')
			continue;
		n++;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		if (check)
			check_file(box, path, d->d_name);
	}
	closedir(dp);
	return n;
}

/* rb_box_scan - count deliveries per id in new/ and cur/, files left in tmp/ */
int
rb_box_scan(const char *maildir, unsigned n, int prefix_ok, struct rb_box *box)
{
	memset(box, 0, sizeof(*box));
	box->n = n;
	box->prefix_ok = prefix_ok;
	if ((box->count = calloc(n, sizeof(*box->count))) == NULL)
		return -1;
	scan_dir(box, maildir, "new", 1);
	scan_dir(box, maildir, "cur", 1);
	box->tmp = scan_dir(box, maildir, "tmp", 0);
	return 0;
}

/* rb_box_free - release the counts */
void
rb_box_free(struct rb_box *box)
{
	free(box->count);
	box->count = NULL;
}
