/* SPDX-License-Identifier: MIT
 * inject_hdr.c - read the header block of a message being injected.
 *
 * Runs as:    qmail-inject / sendmail, as the local user who sends.
 * Hostile:    the message text: any bytes, any length (bounded here).
 * May touch:  fd 0 (read).
 */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "inject.h"

/* inject_fill - more input; 0 at EOF or error (in->eof / in->err say which) */
static int
inject_fill(struct inject_in *in)
{
	ssize_t n;

	if (in->eof || in->err)
		return 0;
	while ((n = read(in->fd, in->buf, sizeof(in->buf))) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		in->eof = n == 0;
		in->err = n < 0;
		return 0;
	}
	in->pos = 0;
	in->len = (size_t)n;
	return 1;
}

/* inject_getline - one line into line (reset first); CR before LF dropped */
int
inject_getline(struct inject_in *in, struct buf *line)
{
	buf_reset(line);
	for (;;) {
		if (in->pos == in->len && !inject_fill(in))
			return in->err ? -1 : buf_len(line) > 0;
		const char *p = in->buf + in->pos;
		const char *nl = memchr(p, '\n', in->len - in->pos);
		size_t n = nl ? (size_t)(nl - p) + 1 : in->len - in->pos;

		if (buf_cat(line, p, n) < 0)
			return -1;
		in->pos += n;
		if (nl) {
			if (line->len >= 2 && line->s[line->len - 2] == '\r') {
				line->s[line->len - 2] = '\n';
				buf_truncate(line, line->len - 1);
			}
			return 1;
		}
	}
}

/* hdr_name_is - is the field's name (before ':') name, case-insensitively? */
static int
hdr_name_is(const struct buf *f, size_t namelen, const char *name)
{
	return namelen == strlen(name) && strncasecmp(f->s, name, namelen) == 0;
}

static void
hdr_collect(void *arg, const char *addr)
{
	struct buf *list = arg;

	buf_cat(list, addr, strlen(addr) + 1);
}

/* hdr_field - classify one complete field; keep it in h->text unless it is dropped */
static int
hdr_field(struct inject_hdr *h, const struct buf *f)
{
	size_t nl = (size_t)((const char *)memchr(f->s, ':', f->len) - f->s);
	const char *val = f->s + nl + 1;
	size_t vlen = f->len - nl - 1;
	struct buf *list = NULL;
	int keep = 1;

	if (nl > 7 && strncasecmp(f->s, "resent-", 7) == 0)
		h->has_resent = 1;
	if (hdr_name_is(f, nl, "to") || hdr_name_is(f, nl, "cc") ||
	    hdr_name_is(f, nl, "apparently-to"))
		list = &h->to;
	else if (hdr_name_is(f, nl, "bcc"))
		list = &h->to, keep = 0;
	else if (hdr_name_is(f, nl, "resent-to") || hdr_name_is(f, nl, "resent-cc"))
		list = &h->resent_to;
	else if (hdr_name_is(f, nl, "resent-bcc"))
		list = &h->resent_to, keep = 0;
	else if (hdr_name_is(f, nl, "date"))
		h->has_date = 1;
	else if (hdr_name_is(f, nl, "message-id"))
		h->has_msgid = 1;
	else if (hdr_name_is(f, nl, "from"))
		h->has_from = 1;
	else if (hdr_name_is(f, nl, "return-path") || hdr_name_is(f, nl, "content-length"))
		keep = 0;	/* qmail-inject drops these: the delivery adds its own */
	if (list && inject_addrlist(val, vlen, hdr_collect, list) < 0)
		h->bad = 1;
	if (keep && buf_cat(&h->text, f->s, f->len) < 0)
		return -1;
	return 0;
}

/* hdr_is_field - "Name:" with a name of printable characters other than ':' */
static int
hdr_is_field(const struct buf *line)
{
	size_t i;

	for (i = 0; i < line->len; i++) {
		unsigned char c = (unsigned char)line->s[i];

		if (c == ':')
			return i > 0;
		if (c <= ' ' || c >= 127)
			return 0;
	}
	return 0;
}

/* inject_hdr_read - fields up to the blank line; a non-field line starts the body */
int
inject_hdr_read(struct inject_in *in, struct inject_hdr *h)
{
	struct buf line, field;
	int r;

	memset(h, 0, sizeof(*h));
	buf_init(&h->text, INJECT_HEADER_MAX);
	buf_init(&h->to, INJECT_HEADER_MAX);
	buf_init(&h->resent_to, INJECT_HEADER_MAX);
	buf_init(&h->pending, INJECT_HEADER_MAX);
	buf_init(&line, INJECT_HEADER_MAX);
	buf_init(&field, INJECT_HEADER_MAX);
	while ((r = inject_getline(in, &line)) > 0) {
		if (line.s[line.len - 1] != '\n' && (r = buf_catc(&line, '\n')) < 0)
			break;
		if ((line.s[0] == ' ' || line.s[0] == '\t') && field.len > 0) {
			if ((r = buf_cat(&field, line.s, line.len)) < 0)
				break;
			continue;
		}
		if (field.len > 0 && (r = hdr_field(h, &field)) < 0)
			break;
		buf_reset(&field);
		if (!hdr_is_field(&line)) {
			if (strcmp(line.s, "\n") != 0)
				r = buf_cpy(&h->pending, line.s, line.len);
			break;
		}
		if ((r = buf_cpy(&field, line.s, line.len)) < 0)
			break;
	}
	if (r >= 0 && field.len > 0)
		r = hdr_field(h, &field);
	buf_free(&line);
	buf_free(&field);
	return r < 0 ? -1 : 0;
}

/* inject_hdr_free - release what inject_hdr_read allocated */
void
inject_hdr_free(struct inject_hdr *h)
{
	buf_free(&h->text);
	buf_free(&h->to);
	buf_free(&h->resent_to);
	buf_free(&h->pending);
}
