/* SPDX-License-Identifier: MIT */
#ifndef SQ_NETSTRING_H
#define SQ_NETSTRING_H

#include <stddef.h>

#include "io.h"

/* Netstrings as QMTP and QMQP use them: "<len>:<len bytes>,". The length is
 * decimal, with no sign, no blank and no leading zero ("0" itself is fine);
 * anything else is a syntax error. Parsing is bounded: at most NS_DIGITS_MAX
 * digits, and a caller-given maximum length. */

#define NS_DIGITS_MAX	19	/* more digits: refused (beyond any sane size) */

enum ns_result {
	NS_MORE = 0,		/* feed more bytes */
	NS_DONE = 1,		/* the ':' was seen, len is final */
	NS_SYNTAX = -1,		/* not a netstring length */
	NS_TOOBIG = -2,		/* length beyond the caller's maximum */
	NS_IO = -3,		/* stream: EOF, timeout or read error */
};

/* The length parser, one byte at a time (shared by the stream and memory forms). */
struct ns_len {
	size_t len;
	size_t max;
	unsigned ndigits;
	int leadzero;
};

/* ns_len_init - start parsing a length that may not exceed max */
void ns_len_init(struct ns_len *st, size_t max);
/* ns_len_step - feed one byte: NS_MORE, NS_DONE, NS_SYNTAX or NS_TOOBIG */
int ns_len_step(struct ns_len *st, unsigned char c);

/* ns_parse - one netstring at p (n bytes): NS_DONE with *data, *len and *used
 * (bytes including the ','), else NS_SYNTAX/NS_TOOBIG (NS_MORE: incomplete) */
int ns_parse(const char *p, size_t n, size_t max, const char **data, size_t *len,
    size_t *used);

/* ns_read_len - a length from a stream, first byte already read (first < 0:
 * read it too): NS_DONE, NS_SYNTAX, NS_TOOBIG or NS_IO */
int ns_read_len(struct io *io, int first, size_t max, size_t *len);
/* ns_read - a whole netstring of at most max bytes into out (NUL-terminated,
 * out must hold max + 1 bytes): NS_DONE, NS_SYNTAX, NS_TOOBIG or NS_IO */
int ns_read(struct io *io, size_t max, char *out, size_t *len);
/* ns_read_comma - the closing ',': NS_DONE, NS_SYNTAX or NS_IO */
int ns_read_comma(struct io *io);
/* ns_put - write "len:data," to io */
int ns_put(struct io *io, const char *data, size_t len);

#endif
