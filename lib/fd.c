/* SPDX-License-Identifier: MIT
 * fd.c - whole writes on plain file descriptors (queue files, Maildir, pipes).
 *
 * Runs as:    every program that writes files or pipes.
 * Hostile:    nothing here; the bytes are the caller's.
 * May touch:  the descriptor it is given.
 */
#include <errno.h>
#include <unistd.h>

#include "fd.h"

/* fd_write_all - write all n bytes of p to fd */
int
fd_write_all(int fd, const void *p, size_t n)
{
	const char *s = p;

	while (n > 0) {
		ssize_t w = write(fd, s, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}
