/* SPDX-License-Identifier: MIT
 * mbox.c - append one message to an mbox file (dot-qmail(5) file lines).
 *
 * Runs as:    the recipient (qmail-local).
 * Trusted:    the file name (from the user's .qmail).
 * Hostile:    the message: lines starting with ">*From " get one more '>'.
 * May touch:  the mbox file: locked with flock(), appended, fsynced; on a
 *             write error it is truncated back to its old size.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "buf.h"
#include "local.h"

#define MBOX_LOCK_WAIT 30	/* seconds, as qmail */

static void
mbox_alarm(int sig)
{
	(void)sig;
}

static int
mbox_lock(int fd)
{
	struct sigaction sa = { .sa_handler = mbox_alarm };
	int r;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: flock returns EINTR */
	alarm(MBOX_LOCK_WAIT);
	r = flock(fd, LOCK_EX);
	alarm(0);
	return r;
}

/* mbox_is_from - does the line match ^>*From  ? */
static int
mbox_is_from(const char *p, size_t n)
{
	while (n > 0 && *p == '>') {
		p++;
		n--;
	}
	return n >= 5 && memcmp(p, "From ", 5) == 0;
}

static int
mbox_body(FILE *in, FILE *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int last_nl = 1;

	while ((n = getline(&line, &cap, in)) > 0) {
		if (mbox_is_from(line, (size_t)n) && fputc('>', out) == EOF)
			break;
		if (fwrite(line, 1, (size_t)n, out) != (size_t)n)
			break;
		last_nl = line[n - 1] == '\n';
	}
	free(line);
	if (ferror(in))
		return -2;
	if (n > 0 || (!last_nl && fputc('\n', out) == EOF) || fputc('\n', out) == EOF)
		return -1;
	return 0;
}

/* mbox_deliver - 0, or -1 with the reason in why */
int
mbox_deliver(const char *path, const struct buf *hdr, int msgfd, struct buf *why)
{
	FILE *in = NULL, *out = NULL;
	off_t pos;
	int fd, r = -1, wfd;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0) {
		buf_printf(why, "Unable to open %s: %s. (#4.2.1)", path, strerror(errno));
		return -1;
	}
	if (mbox_lock(fd) < 0) {
		if (errno == EINTR)
			buf_cats(why, "File has been locked for 30 seconds straight. (#4.3.0)");
		else
			buf_printf(why, "Unable to lock %s: %s. (#4.3.0)", path, strerror(errno));
		close(fd);
		return -1;
	}
	pos = lseek(fd, 0, SEEK_END);
	if ((wfd = dup(fd)) < 0 || (out = fdopen(wfd, "a")) == NULL ||
	    (in = fdopen(dup(msgfd), "r")) == NULL)
		goto done;
	if (fwrite(hdr->s, 1, hdr->len, out) != hdr->len)
		goto done;
	r = mbox_body(in, out);
	if (r == 0 && (fflush(out) == EOF || fsync(fd) < 0))
		r = -1;
done:
	if (r < 0) {
		int err = errno;

		if (r == -2)
			buf_printf(why, "Unable to read message: %s. (#4.3.0)", strerror(err));
		else
			buf_printf(why, "Unable to write %s: %s. (#4.3.0)", path, strerror(err));
		if (out != NULL)
			fflush(out);
		if (pos >= 0 && ftruncate(fd, pos) < 0) {
			/* nothing more we can do; the report says it failed */
		}
	}
	if (in != NULL)
		fclose(in);
	if (out != NULL)
		fclose(out);
	close(fd);
	return r < 0 ? -1 : 0;
}
