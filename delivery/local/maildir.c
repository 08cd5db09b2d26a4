/* SPDX-License-Identifier: MIT
 * maildir.c - deliver one message into a Maildir, crash-safe.
 *
 * Runs as:    the recipient (qmail-local).
 * Trusted:    the Maildir path from the user's .qmail or the default delivery.
 * Hostile:    the message bytes: copied, never interpreted.
 * May touch:  DIR/tmp/NAME (created, then unlinked) and DIR/new/NAME.
 *
 * Order: write tmp/NAME (O_EXCL), fsync it, link it to new/NAME, fsync new/,
 * unlink tmp/NAME.  Success is reported only after new/ is durable, so a crash
 * leaves at worst a stale tmp/ file, never a half message in new/.
 * NAME is "SEC.M<usec>P<pid>Q<n>.HOST" (the Maildir spec's modern form; Q<n>
 * counts deliveries of this process, so two Maildir lines never collide);
 * '/' and ':' in HOST are written as \057 and \072.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "buf.h"
#include "fd.h"
#include "local.h"

#define MAILDIR_HOST_MAX 256

static unsigned long maildir_seq;
static char maildir_why[512];

static const char *
maildir_err(const char *what)
{
	snprintf(maildir_why, sizeof(maildir_why), "%s: %s. (#4.3.0)", what,
	    strerror(errno));
	return maildir_why;
}

/* maildir_host - gethostname() with '/' and ':' escaped as the spec asks */
static void
maildir_host(char *out, size_t size)
{
	char host[MAILDIR_HOST_MAX];
	size_t o = 0;

	if (gethostname(host, sizeof(host)) < 0)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	for (const char *p = host; *p && o + 5 < size; p++) {
		if (*p == '/' || *p == ':') {
			o += (size_t)snprintf(out + o, size - o, "\\%03o", (unsigned char)*p);
			continue;
		}
		out[o++] = *p;
	}
	out[o] = '\0';
	if (o == 0)
		snprintf(out, size, "localhost");
}

static int
maildir_name(char *name, size_t size)
{
	static char host[4 * MAILDIR_HOST_MAX];
	struct timeval tv;
	int n;

	if (host[0] == '\0')
		maildir_host(host, sizeof(host));
	gettimeofday(&tv, NULL);
	n = snprintf(name, size, "%lld.M%06ldP%ldQ%lu.%s", (long long)tv.tv_sec,
	    (long)tv.tv_usec, (long)getpid(), ++maildir_seq, host);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}


/* maildir_copy - rest of msgfd to fd: copy_file_range, else read/write;
 * -1 write error, -2 read error */
static int
maildir_copy(int msgfd, int fd)
{
	char tmp[65536];
	ssize_t r;

	for (;;) {
		r = copy_file_range(msgfd, NULL, fd, NULL, 1 << 30, 0);
		if (r == 0)
			return 0;
		if (r < 0)
			break;
	}
	if (errno != EXDEV && errno != EINVAL && errno != ENOSYS &&
	    errno != EOPNOTSUPP && errno != EBADF)
		return errno == EIO ? -2 : -1;
	while ((r = read(msgfd, tmp, sizeof(tmp))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -2;
		}
		if (fd_write_all(fd, tmp, (size_t)r) < 0)
			return -1;
	}
	return 0;
}

/* maildir_create - a new tmp/NAME, retrying a few names on EEXIST */
static int
maildir_create(int dirfd, char *name, size_t namesize, char *tmppath, size_t tsize)
{
	for (int tries = 0; tries < 5; tries++) {
		int fd;

		if (maildir_name(name, namesize) < 0 ||
		    snprintf(tmppath, tsize, "tmp/%s", name) >= (int)tsize) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = openat(dirfd, tmppath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	return -1;
}

static int
maildir_write(int fd, const struct buf *hdr, int msgfd, const char **why)
{
	int r;

	if (fd_write_all(fd, hdr->s, hdr->len) < 0) {
		*why = maildir_err("Unable to write maildir file");
		return -1;
	}
	if ((r = maildir_copy(msgfd, fd)) < 0) {
		*why = r == -2 ? "Unable to read message. (#4.3.0)"
		    : maildir_err("Unable to write maildir file");
		return -1;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		*why = maildir_err("Unable to sync maildir file");
		return -1;
	}
	return 0;
}

/* maildir_deliver - one message (hdr lines, then msgfd from its offset) */
int
maildir_deliver(const char *dir, const struct buf *hdr, int msgfd,
    char *name, size_t namesize, const char **why)
{
	char tmppath[1024], newpath[1024];
	int dirfd, newfd, fd;

	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		*why = maildir_err("Unable to open maildir");
		return -1;
	}
	newfd = openat(dirfd, "new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (newfd < 0) {
		*why = maildir_err("Unable to open maildir new/");
		close(dirfd);
		return -1;
	}
	fd = maildir_create(dirfd, name, namesize, tmppath, sizeof(tmppath));
	if (fd < 0) {
		*why = maildir_err("Unable to create maildir file in tmp/");
		goto fail;
	}
	if (maildir_write(fd, hdr, msgfd, why) < 0) {
		close(fd);
		goto fail_unlink;
	}
	snprintf(newpath, sizeof(newpath), "new/%s", name);
	if (linkat(dirfd, tmppath, dirfd, newpath, 0) < 0) {
		*why = maildir_err("Unable to link maildir file into new/");
		goto fail_unlink;
	}
	if (fsync(newfd) < 0) {
		/* the link may not survive a crash: report failure, keep no copy */
		*why = maildir_err("Unable to sync maildir new/");
		unlinkat(dirfd, newpath, 0);
		goto fail_unlink;
	}
	unlinkat(dirfd, tmppath, 0);
	close(newfd);
	close(dirfd);
	return 0;
fail_unlink:
	unlinkat(dirfd, tmppath, 0);
fail:
	close(newfd);
	close(dirfd);
	return -1;
}
