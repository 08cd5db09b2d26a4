/* SPDX-License-Identifier: MIT */
#ifndef SQ_IO_H
#define SQ_IO_H

#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

/* Buffered I/O on a pair of descriptors (a socket on fd 0/1, or a socketpair
 * in tests), with a per-read and per-write timeout. The bytes move through a
 * transport: plain read/write by default; TLS later replaces it with
 * io_set_transport() without touching the protocol code above. */

#define IO_BUFSIZE 8192

/* io_getline and io_read results; the negative ones are sticky */
#define IO_CRLF		1	/* line ended in <CR><LF> */
#define IO_BARELF	2	/* line ended in a <LF> not preceded by <CR> */
#define IO_TOOLONG	3	/* line longer than max: consumed up to <LF>, truncated */
#define IO_EOF		(-1)	/* peer closed (partial last line discarded) */
#define IO_TIMEOUT	(-2)	/* no byte within the timeout */
#define IO_ERROR	(-3)	/* read or write error (errno) */

struct io;

/* A transport moves bytes; it waits at most timeout_ms (-1: forever) and
 * returns the byte count, 0 on EOF, -1 with errno (ETIMEDOUT on timeout). */
struct io_transport {
	ssize_t (*read)(struct io *io, void *p, size_t n, int timeout_ms);
	ssize_t (*write)(struct io *io, const void *p, size_t n, int timeout_ms);
};

struct io {
	int rfd, wfd;
	const struct io_transport *tr;
	void *ctx;			/* transport state (TLS session) */
	unsigned timeout;		/* seconds per read/write; 0: none */
	int err;			/* sticky read state: IO_EOF/IO_TIMEOUT/IO_ERROR, or 0 */
	int werr;			/* sticky write state: IO_TIMEOUT/IO_ERROR, or 0 */
	size_t inpos, inlen, outlen;
	unsigned long nflush;		/* writes to the transport (tests, stats) */
	char in[IO_BUFSIZE];
	char out[IO_BUFSIZE];
};

/* io_init_fd - plain transport on rfd/wfd with a timeout in seconds (0: none) */
void io_init_fd(struct io *io, int rfd, int wfd, unsigned timeout);
/* io_set_transport - replace the transport (TLS); buffered input is kept */
void io_set_transport(struct io *io, const struct io_transport *tr, void *ctx);
/* io_getline - read one line into buf (NUL-terminated, ending removed, *len bytes) */
int io_getline(struct io *io, char *buf, size_t max, size_t *len);
/* io_read - up to n bytes, at least 1 (waits): count, or IO_EOF/IO_TIMEOUT/IO_ERROR */
ssize_t io_read(struct io *io, void *p, size_t n);
/* io_fill - wait until input is buffered (flushing output first): 0 or IO_EOF/... */
int io_fill(struct io *io);
/* io_getc - next byte (0..255), or IO_EOF/IO_TIMEOUT/IO_ERROR */
static inline int
io_getc(struct io *io)
{
	if (io->inpos == io->inlen && io_fill(io) < 0)
		return io->err;
	return (unsigned char)io->in[io->inpos++];
}
/* io_pending - bytes already buffered for reading (pipelined input) */
size_t io_pending(const struct io *io);
/* io_write, io_puts, io_printf - buffered output; 0, or <0 once it failed */
int io_write(struct io *io, const void *p, size_t n);
int io_puts(struct io *io, const char *s);
int io_printf(struct io *io, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* io_flush - write out everything buffered: 0, or IO_TIMEOUT/IO_ERROR */
int io_flush(struct io *io);

#endif
