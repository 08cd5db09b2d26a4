/* SPDX-License-Identifier: MIT
 * qq_envelope.c - parse the envelope qmail-queue reads on fd 1.
 *
 * Runs as:    qmail-queue (the caller's uid, or the queue owner).
 * Hostile:    every envelope byte: the caller may be a network handler relaying
 *             client addresses.
 * May touch:  the envelope fd (read only) and memory.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mail/qqueue.h"
#include "qq.h"

/* qq_env_init - start a parse that appends records to out */
void
qq_env_init(struct qq_env *e, struct buf *out)
{
	e->out = out;
	e->addrlen = 0;
	e->have_from = 0;
	e->nrcpt = 0;
	e->state = QQ_ENV_TYPE;
}

/* qq_env_type - a record type byte: F first, then T records, then the final NUL */
static int
qq_env_type(struct qq_env *e, char c)
{
	if (!e->have_from) {
		if (c != 'F')
			return QQ_EXIT_FORMAT;
		e->have_from = 1;
	} else if (c == '\0') {
		/* qmail accepts an empty recipient list; a message nobody gets is a bug */
		if (e->nrcpt == 0)
			return QQ_EXIT_FORMAT;
		e->state = QQ_ENV_DONE;
		return 1;
	} else if (c == 'T') {
		e->nrcpt++;
	} else {
		return QQ_EXIT_FORMAT;
	}
	e->state = QQ_ENV_ADDR;
	e->addrlen = 0;
	return buf_catc(e->out, c) < 0 ? QQ_EXIT_FORMAT : 0;
}

/* qq_env_feed - consume bytes until the envelope is complete or wrong */
int
qq_env_feed(struct qq_env *e, const char *p, size_t n, size_t *used)
{
	size_t i = 0;
	int r = 0;

	while (i < n && e->state != QQ_ENV_DONE) {
		if (e->state == QQ_ENV_TYPE) {
			r = qq_env_type(e, p[i++]);
			if (r != 0)
				break;
			continue;
		}
		/* inside an address: copy up to and including its NUL */
		const char *nul = memchr(p + i, '\0', n - i);
		size_t take = nul ? (size_t)(nul - (p + i)) : n - i;

		if (e->addrlen + take > QQ_ADDR_MAX) {
			r = QQ_EXIT_ADDR_TOO_LONG;
			break;
		}
		if (buf_cat(e->out, p + i, take + (nul != NULL)) < 0) {
			r = QQ_EXIT_FORMAT;
			break;
		}
		e->addrlen += take;
		i += take + (nul != NULL);
		if (nul)
			e->state = QQ_ENV_TYPE;
	}
	*used = i;
	if (r == 0 && e->state == QQ_ENV_DONE)
		r = 1;
	return r;
}

/* qq_env_eof - qmail-queue treats an envelope cut short as a read error */
int
qq_env_eof(const struct qq_env *e)
{
	return e->state == QQ_ENV_DONE ? 1 : QQ_EXIT_READ;
}

/* qq_env_read - read fd until the envelope's final NUL; bytes after it are ignored */
int
qq_env_read(int fd, struct buf *out)
{
	struct qq_env e;
	char in[8192];
	size_t used;
	ssize_t n;
	int r;

	qq_env_init(&e, out);
	for (;;) {
		n = read(fd, in, sizeof(in));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return QQ_EXIT_READ;
		if (n == 0)
			r = qq_env_eof(&e);
		else
			r = qq_env_feed(&e, in, (size_t)n, &used);
		if (r == 1)
			return QQ_EXIT_OK;
		if (r != 0)
			return r;
	}
}
