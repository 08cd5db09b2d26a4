/* SPDX-License-Identifier: MIT
 * netstring.c - strict netstring parsing and writing for QMTP and QMQP.
 *
 * Runs as:    inside qmail-qmtpd / qmail-qmqpd / qmail-qmqpc, any user.
 * Hostile:    every byte parsed here comes from the peer.
 * May touch:  nothing but the io it is given.
 */
#include <string.h>

#include "netstring.h"

/* ns_len_init - start parsing a length that may not exceed max */
void
ns_len_init(struct ns_len *st, size_t max)
{
	memset(st, 0, sizeof(*st));
	st->max = max;
}

/* ns_len_step - feed one byte: NS_MORE, NS_DONE, NS_SYNTAX or NS_TOOBIG */
int
ns_len_step(struct ns_len *st, unsigned char c)
{
	if (c == ':')
		return st->ndigits > 0 ? NS_DONE : NS_SYNTAX;
	if (c < '0' || c > '9' || st->leadzero)
		return NS_SYNTAX;	/* also a digit after a leading 0 */
	if (st->ndigits == 0 && c == '0')
		st->leadzero = 1;
	if (++st->ndigits > NS_DIGITS_MAX)
		return NS_TOOBIG;
	st->len = st->len * 10 + (size_t)(c - '0');
	if (st->len > st->max)
		return NS_TOOBIG;
	return NS_MORE;
}

/* ns_parse - one netstring at p (n bytes) */
int
ns_parse(const char *p, size_t n, size_t max, const char **data, size_t *len,
    size_t *used)
{
	struct ns_len st;
	size_t i;
	int r = NS_MORE;

	ns_len_init(&st, max);
	for (i = 0; i < n && r == NS_MORE; i++)
		r = ns_len_step(&st, (unsigned char)p[i]);
	if (r != NS_DONE)
		return r;
	if (n - i < st.len + 1)
		return NS_MORE;
	if (p[i + st.len] != ',')
		return NS_SYNTAX;
	*data = p + i;
	*len = st.len;
	*used = i + st.len + 1;
	return NS_DONE;
}

/* ns_read_len - a length from a stream */
int
ns_read_len(struct io *io, int first, size_t max, size_t *len)
{
	struct ns_len st;
	int c = first, r;

	ns_len_init(&st, max);
	for (;;) {
		if (c < 0)
			c = io_getc(io);
		if (c < 0)
			return NS_IO;
		r = ns_len_step(&st, (unsigned char)c);
		if (r != NS_MORE)
			break;
		c = -1;
	}
	*len = st.len;
	return r;
}

/* ns_read_comma - the closing ',' */
int
ns_read_comma(struct io *io)
{
	int c = io_getc(io);

	if (c < 0)
		return NS_IO;
	return c == ',' ? NS_DONE : NS_SYNTAX;
}

/* ns_read - a whole netstring of at most max bytes into out */
int
ns_read(struct io *io, size_t max, char *out, size_t *len)
{
	size_t got = 0;
	ssize_t n;
	int r;

	r = ns_read_len(io, -1, max, len);
	if (r != NS_DONE)
		return r;
	while (got < *len) {
		n = io_read(io, out + got, *len - got);
		if (n <= 0)
			return NS_IO;
		got += (size_t)n;
	}
	out[got] = '\0';
	return ns_read_comma(io);
}

/* ns_put - write "len:data," to io */
int
ns_put(struct io *io, const char *data, size_t len)
{
	if (io_printf(io, "%zu:", len) < 0 || io_write(io, data, len) < 0)
		return -1;
	return io_write(io, ",", 1);
}
