/* SPDX-License-Identifier: MIT
 * buf.c - growable bounded byte strings.
 *
 * Runs as:    every program.
 * Hostile:    contents may be client bytes; the max bound keeps them finite.
 * May touch:  heap memory only.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "log.h"
#include "mail/exitcode.h"

static int buf_nomem_exit = EXIT_TEMP;

void
buf_set_nomem_exit(int code)
{
	buf_nomem_exit = code;
}

/* buf_init - empty string that may grow to max bytes (0: no bound) */
void
buf_init(struct buf *b, size_t max)
{
	b->s = NULL;
	b->len = b->cap = 0;
	b->max = max;
}

void
buf_free(struct buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

void
buf_reset(struct buf *b)
{
	buf_truncate(b, 0);
}

void
buf_truncate(struct buf *b, size_t n)
{
	if (n < b->len)
		b->len = n;
	if (b->s)
		b->s[b->len] = '\0';
}

static int
buf_reserve(struct buf *b, size_t extra)
{
	size_t need, cap;
	char *s;

	if (extra > SIZE_MAX - b->len - 1 || (b->max && b->len + extra > b->max)) {
		errno = EMSGSIZE;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if ((s = realloc(b->s, cap)) == NULL)
		log_fatal(buf_nomem_exit, "out of memory");
	b->s = s;
	b->cap = cap;
	return 0;
}

/* buf_cat - append n bytes, enforcing max */
int
buf_cat(struct buf *b, const void *p, size_t n)
{
	if (buf_reserve(b, n) < 0)
		return -1;
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int
buf_cats(struct buf *b, const char *s)
{
	return buf_cat(b, s, strlen(s));
}

int
buf_catc(struct buf *b, char c)
{
	return buf_cat(b, &c, 1);
}

int
buf_cpy(struct buf *b, const void *p, size_t n)
{
	buf_reset(b);
	return buf_cat(b, p, n);
}

int
buf_cpys(struct buf *b, const char *s)
{
	return buf_cpy(b, s, strlen(s));
}

int
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0 || buf_reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

/* buf_printf - append formatted text, enforcing max */
int
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int r;

	va_start(ap, fmt);
	r = buf_vprintf(b, fmt, ap);
	va_end(ap);
	return r;
}

/* buf_has_nul - does the string hold an embedded NUL byte? */
int
buf_has_nul(const struct buf *b)
{
	return b->len && memchr(b->s, '\0', b->len) != NULL;
}

/* buf_chomp_crlf - drop one trailing LF or CRLF */
void
buf_chomp_crlf(struct buf *b)
{
	if (b->len && b->s[b->len - 1] == '\n')
		b->len--;
	if (b->len && b->s[b->len - 1] == '\r')
		b->len--;
	if (b->s)
		b->s[b->len] = '\0';
}

int
buf_starts_ci(const struct buf *b, const char *prefix)
{
	size_t n = strlen(prefix);

	return b->len >= n && strncasecmp(b->s, prefix, n) == 0;
}
