/* SPDX-License-Identifier: MIT
 * io.c - buffered descriptor I/O with per-read timeouts and bounded line reads.
 *
 * Runs as:    every network handler, one process per connection.
 * Hostile:    every byte read; line lengths are bounded by the caller's max.
 * Trusted:    nothing read; the descriptors the caller hands over.
 * May touch:  the two descriptors given to io_init_fd (through the transport).
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "io.h"

static int
io_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = events };
	int r;

	do
		r = poll(&pfd, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r > 0 ? 0 : -1;
}

static ssize_t
io_fd_read(struct io *io, void *p, size_t n, int timeout_ms)
{
	ssize_t r;

	for (;;) {
		if (io_wait(io->rfd, POLLIN, timeout_ms) < 0)
			return -1;
		r = read(io->rfd, p, n);
		if (r >= 0 || (errno != EINTR && errno != EAGAIN))
			return r;
	}
}

static ssize_t
io_fd_write(struct io *io, const void *p, size_t n, int timeout_ms)
{
	ssize_t r;

	for (;;) {
		if (io_wait(io->wfd, POLLOUT, timeout_ms) < 0)
			return -1;
		r = write(io->wfd, p, n);
		if (r >= 0 || (errno != EINTR && errno != EAGAIN))
			return r;
	}
}

static const struct io_transport io_fd_transport = { io_fd_read, io_fd_write };

/* io_init_fd - plain read/write on rfd and wfd, timeout seconds per operation */
void
io_init_fd(struct io *io, int rfd, int wfd, unsigned timeout)
{
	io->rfd = rfd;
	io->wfd = wfd;
	io->tr = &io_fd_transport;
	io->ctx = NULL;
	io->timeout = timeout;
	io->err = io->werr = 0;
	io->inpos = io->inlen = io->outlen = 0;
	io->nflush = 0;
}

/* io_set_transport - switch the byte mover, e.g. to TLS after STARTTLS */
void
io_set_transport(struct io *io, const struct io_transport *tr, void *ctx)
{
	io->tr = tr;
	io->ctx = ctx;
}

static int
io_timeout_ms(const struct io *io)
{
	return io->timeout ? (int)(io->timeout > 2000000 ? 2000000000 : io->timeout * 1000) : -1;
}

static int
io_fail(struct io *io)
{
	io->err = errno == ETIMEDOUT ? IO_TIMEOUT : IO_ERROR;
	return io->err;
}

/* io_flush - write out the output buffer completely */
int
io_flush(struct io *io)
{
	size_t done = 0;
	ssize_t w;

	if (io->werr)
		return io->werr;
	while (done < io->outlen) {
		w = io->tr->write(io, io->out + done, io->outlen - done, io_timeout_ms(io));
		if (w <= 0) {
			if (w == 0)
				errno = EPIPE;
			io->werr = errno == ETIMEDOUT ? IO_TIMEOUT : IO_ERROR;
			return io->werr;
		}
		done += (size_t)w;
	}
	if (io->outlen > 0)
		io->nflush++;
	io->outlen = 0;
	return 0;
}

/* io_fill - make at least one input byte available. Replies still buffered go
 * out first: a client that pipelines gets them in one write once we would wait
 * (RFC 2920 section 3.2). */
int
io_fill(struct io *io)
{
	ssize_t r;

	if (io->inpos < io->inlen)
		return 0;
	if (io->err)
		return io->err;
	if (io_flush(io) < 0)
		return io->err = io->werr;
	r = io->tr->read(io, io->in, sizeof(io->in), io_timeout_ms(io));
	if (r < 0)
		return io_fail(io);
	if (r == 0)
		return io->err = IO_EOF;
	io->inpos = 0;
	io->inlen = (size_t)r;
	return 0;
}

/* io_getline - one line up to <LF>; at most max-1 bytes of it (the ending not
 * counted) are kept in buf, the rest is consumed and reported as IO_TOOLONG */
int
io_getline(struct io *io, char *buf, size_t max, size_t *len)
{
	size_t n = 0, chunk;
	int toolong = 0, cr = 0;
	char *lf;

	for (;;) {
		if (io_fill(io) < 0) {
			*len = 0;
			buf[0] = '\0';
			return io->err;
		}
		chunk = io->inlen - io->inpos;
		lf = memchr(io->in + io->inpos, '\n', chunk);
		if (lf)
			chunk = (size_t)(lf - (io->in + io->inpos));
		for (size_t i = 0; i < chunk; i++) {
			char c = io->in[io->inpos + i];

			/* a CR is held back until we know whether LF follows */
			if (cr) {
				if (n + 1 < max)
					buf[n++] = '\r';
				else
					toolong = 1;
			}
			cr = c == '\r';
			if (cr)
				continue;
			if (n + 1 < max)
				buf[n++] = c;
			else
				toolong = 1;
		}
		io->inpos += chunk;
		if (lf) {
			io->inpos++;
			break;
		}
	}
	buf[n] = '\0';
	*len = n;
	if (toolong)
		return IO_TOOLONG;
	return cr ? IO_CRLF : IO_BARELF;
}

/* io_read - whatever is buffered (refilling with the timeout if nothing is) */
ssize_t
io_read(struct io *io, void *p, size_t n)
{
	size_t avail;

	if (n == 0)
		return 0;
	if (io_fill(io) < 0)
		return io->err;
	avail = io->inlen - io->inpos;
	if (avail > n)
		avail = n;
	memcpy(p, io->in + io->inpos, avail);
	io->inpos += avail;
	return (ssize_t)avail;
}

/* io_pending - bytes read from the peer and not yet consumed */
size_t
io_pending(const struct io *io)
{
	return io->inlen - io->inpos;
}

/* io_write - append to the output buffer, flushing when it is full */
int
io_write(struct io *io, const void *p, size_t n)
{
	const char *s = p;
	size_t room;

	while (n > 0) {
		if (io->outlen == sizeof(io->out) && io_flush(io) < 0)
			return io->werr;
		room = sizeof(io->out) - io->outlen;
		if (room > n)
			room = n;
		memcpy(io->out + io->outlen, s, room);
		io->outlen += room;
		s += room;
		n -= room;
	}
	return 0;
}

/* io_puts - io_write of a string */
int
io_puts(struct io *io, const char *s)
{
	return io_write(io, s, strlen(s));
}

/* io_printf - formatted output; a reply longer than the buffer is an error */
int
io_printf(struct io *io, const char *fmt, ...)
{
	char tmp[IO_BUFSIZE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		errno = EMSGSIZE;
		return IO_ERROR;
	}
	return io_write(io, tmp, (size_t)n);
}
