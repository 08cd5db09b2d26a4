/* SPDX-License-Identifier: MIT
 * send_bounce.c - QSBMF bounces: failure paragraphs collected in bounce/ID, and
 * the bounce (or double bounce) injected through qmail-queue when a message ends.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    report texts from the spawns and the original message, copied as data.
 * Trusted:    control/bouncefrom, bouncehost, doublebounceto/host, bouncemaxbytes.
 * May touch:  queue/bounce/, queue/info/ and mess/ (read), qmail-queue via lib/mail/qqueue.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mail/qqueue.h"
#include "qfs.h"
#include "send.h"

/* info_read - the sender (F record) of info/ID and the message's birth (mtime) */
int
info_read(unsigned long id, struct buf *sender, time_t *birth)
{
	char fn[64], *b = NULL;
	struct stat st;
	size_t n = 0;
	int fd, ok;

	qfs_path(fn, sizeof(fn), QFS_INFO, id);
	if ((fd = open(fn, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	ok = fstat(fd, &st) == 0 && send_slurp(fd, &b, &n) == 0;
	close(fd);
	ok = ok && n > 1 && b[0] == 'F' && memchr(b, '\0', n) != NULL;
	if (ok) {
		*birth = st.st_mtime;
		buf_cpys(sender, b + 1);
	}
	free(b);
	return ok;
}

/* bounce_paragraph - qmail's failure paragraph: "<addr>:" line, the report,
 * blank lines inside the report turned into "/" so the paragraph stays one */
void
bounce_paragraph(struct buf *out, const char *recip, const char *report)
{
	size_t start = out->len, rlen = strlen(report);

	buf_catc(out, '<');
	for (const char *p = rw_strip_vdom(&send_conf.rw, recip); *p; p++)
		buf_catc(out, *p == '\n' ? '_' : *p);
	buf_cats(out, ">:\n");
	buf_cats(out, report);
	if (rlen > 0 && report[rlen - 1] != '\n')
		buf_catc(out, '\n');
	for (size_t pos = out->len - 2; pos > start; pos--)
		if (out->s[pos] == '\n' && out->s[pos - 1] == '\n')
			out->s[pos] = '/';
	buf_catc(out, '\n');
}

/* bounce_add - append a failure paragraph to bounce/ID (not crash-proof, as in
 * qmail); -1 when it cannot: the caller then keeps the recipient for a retry
 * instead of qmail's sleep-and-loop, which would stall every delivery */
int
bounce_add(unsigned long id, const char *recip, const char *report)
{
	struct buf text;
	char fn[64];
	int fd, r = -1;

	buf_init(&text, 0);
	bounce_paragraph(&text, recip, report);
	qfs_path(fn, sizeof(fn), QFS_BOUNCE, id);
	fd = open(fn, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		struct stat st;
		if (fstat(fd, &st) == 0) {
			if (write(fd, text.s, text.len) == (ssize_t)text.len)
				r = 0;
			else if (ftruncate(fd, st.st_size) < 0)
				slog_warn("unable to truncate %s", fn);
		}
		close(fd);
	}
	if (r < 0)
		slog_alert("unable to append to %s; will try again later", fn);
	buf_free(&text);
	return r;
}

static int
quote_needed(const char *s, size_t n)
{
	if (n == 0 || s[0] == '.' || s[n - 1] == '.')
		return 1;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 32 || c >= 127 || strchr("()<>@,;:\\\"[]", c) ||
		    (c == '.' && i + 1 < n && s[i + 1] == '.'))
			return 1;
	}
	return 0;
}

static void
quote_local(struct buf *out, const char *s, size_t n)
{
	if (!quote_needed(s, n)) {
		buf_cat(out, s, n);
		return;
	}
	buf_catc(out, '"');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '"' || s[i] == '\\' || s[i] == '\r' || s[i] == '\n')
			buf_catc(out, '\\');
		buf_catc(out, s[i]);
	}
	buf_catc(out, '"');
}

/* bounce_quote2 - addr in RFC 822 form: the local part quoted when it must be */
void
bounce_quote2(struct buf *out, const char *addr)
{
	const char *at = strrchr(addr, '@');

	if (*addr == '\0')
		return;		/* the null sender stays <> */
	if (at == NULL) {
		quote_local(out, addr, strlen(addr));
		return;
	}
	quote_local(out, addr, (size_t)(at - addr));
	buf_cats(out, at);
}

/* bounce_head - header and QSBMF preamble up to the failure paragraphs */
void
bounce_head(struct buf *out, const char *recip, int dbl, time_t now)
{
	static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const struct send_conf *c = &send_conf;
	struct tm tm;

	gmtime_r(&now, &tm);
	buf_printf(out, "Date: %d %s %d %02d:%02d:%02d -0000\n", tm.tm_mday,
	    mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	buf_cats(out, "From: ");
	quote_local(out, buf_str(&c->bouncefrom), buf_len(&c->bouncefrom));
	buf_catc(out, '@');
	buf_cats(out, buf_str(&c->bouncehost));
	buf_cats(out, "\nTo: ");
	bounce_quote2(out, recip);
	buf_cats(out, "\nSubject: failure notice\n\nHi. This is the qmail-send program at ");
	buf_cats(out, buf_str(&c->bouncehost));
	buf_cats(out, dbl ? ".\nI tried to deliver a bounce message to this address, "
	    "but the bounce bounced!\n\n" :
	    ".\nI'm afraid I wasn't able to deliver your message to the following addresses.\n"
	    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n");
}

static int
copy_file(struct qqueue *q, const char *fn, size_t max)
{
	char b[8192];
	size_t total = 0;
	ssize_t n;
	int fd;

	if ((fd = open(fn, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	while ((n = read(fd, b, sizeof(b))) > 0) {
		size_t take = (size_t)n;
		if (max && total + take > max)
			take = max - total;
		qqueue_put(q, b, take);
		total += take;
		if (max && total >= max)
			break;
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

static int
bounce_send(unsigned long id, const char *sender, const char *bfn)
{
	const struct send_conf *c = &send_conf;
	int dbl = sender[0] == '\0';
	const char *to = dbl ? buf_str(&c->doublebounceto) : sender;
	char mfn[64];
	struct qqueue q;
	struct buf head;
	pid_t qp;
	int code, fail = 0;

	if (qqueue_start(&q) < 0) {
		slog_warn("unable to start qmail-queue, will try later");
		return -1;
	}
	qp = q.pid;
	buf_init(&head, 0);
	bounce_head(&head, to, dbl, time(NULL));
	qqueue_put(&q, head.s, head.len);
	if (copy_file(&q, bfn, 0) < 0)
		fail = 1;
	buf_reset(&head);
	buf_cats(&head, dbl ? "--- Below this line is the original bounce.\n\n" :
	    "--- Below this line is a copy of the message.\n\n");
	buf_cats(&head, "Return-Path: <");
	bounce_quote2(&head, sender);
	buf_cats(&head, ">\n");
	qqueue_put(&q, head.s, head.len);
	buf_free(&head);
	qfs_path(mfn, sizeof(mfn), QFS_MESS, id);
	if (copy_file(&q, mfn, c->bouncemaxbytes) < 0)
		fail = 1;
	qqueue_from(&q, dbl ? "#@[]" : "");
	qqueue_to(&q, to);
	if (fail) {
		qqueue_abort(&q);
		slog_warn("trouble injecting bounce message, will try later");
		return -1;
	}
	if ((code = qqueue_finish(&q)) != 0) {
		slog_warn("trouble injecting bounce message, will try later");
		return -1;
	}
	slog("bounce msg %lu qp %ld", id, (long)qp);
	return 0;
}

/* bounce_inject - turn bounce/ID into a bounce to the sender (double bounce to
 * doublebounceto when the sender was empty; a triple bounce is discarded);
 * 0 when bounce/ID is gone, -1 to try again later */
int
bounce_inject(unsigned long id)
{
	struct buf sender;
	struct stat st;
	char bfn[64];
	time_t birth;
	size_t n;

	qfs_path(bfn, sizeof(bfn), QFS_BOUNCE, id);
	if (stat(bfn, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		slog_warn("unable to stat %s", bfn);
		return -1;
	}
	buf_init(&sender, 0);
	if (!info_read(id, &sender, &birth)) {
		slog_warn("unable to read info/%lu/%lu", id % 23, id);
		buf_free(&sender);
		return -1;
	}
	/* owner-@host-@[] -> owner-@host */
	n = buf_len(&sender);
	if (n >= 4 && strcmp(sender.s + n - 4, "-@[]") == 0)
		buf_truncate(&sender, n - 4);
	if (strcmp(buf_str(&sender), "#@[]") == 0)
		slog("triple bounce: discarding %s", bfn);
	else if (buf_len(&sender) == 0 && send_conf.doublebounce_discard)
		slog("double bounce: discarding %s", bfn);
	else if (bounce_send(id, buf_str(&sender), bfn) < 0) {
		buf_free(&sender);
		return -1;
	}
	buf_free(&sender);
	if (unlink(bfn) < 0) {
		slog_warn("unable to unlink %s", bfn);
		return -1;
	}
	return 0;
}
