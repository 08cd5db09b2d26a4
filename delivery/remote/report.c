/* SPDX-License-Identifier: MIT
 * report.c - qmail-remote's output, read by qmail-rspawn: per recipient
 * "r" (accepted), "h" (permanent) or "s" (temporary) and a text, each ended
 * by a NUL, then one message report "K" (delivered), "Z" (try again) or
 * "D" (give up) with its text and a NUL; exit 0.  Recipient reports wait in
 * memory until the final one, so that a session abandoned for the next MX
 * leaves none behind.  Server text is made printable (qmail's outsafe).
 *
 * Runs as:    qmailr, inside qmail-remote.
 * Trusted:    the callers.
 * Hostile:    the server text passed in: bytes outside 32..126 become '?'.
 * May touch:  fd 1.
 */
#include <errno.h>
#include <unistd.h>

#include "remote.h"

static int report_fd = 1;
static struct buf report_rcpts;

/* report_setfd - write the report to fd instead of 1 (tests) */
void
report_setfd(int fd)
{
	report_fd = fd;
}

/* report_safe - printable copy; newlines kept (qmail-send shows them as '/') */
void
report_safe(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++)
		buf_catc(out, *s == '\n' || (*s >= 32 && *s < 127) ? *s : '?');
}

static void
report_text(struct buf *b, char kind, const char *text, const char *smtptext)
{
	buf_catc(b, kind);
	report_safe(b, text);
	if (smtptext != NULL && *smtptext != '\0') {
		buf_cats(b, "Remote host said: ");
		report_safe(b, smtptext);
	}
	buf_catc(b, '\0');
}

/* report_rcpt - one recipient's verdict, kept until report_final */
void
report_rcpt(char kind, const char *text, const char *smtptext)
{
	if (report_rcpts.max == 0)
		buf_init(&report_rcpts, 1 << 20);
	report_text(&report_rcpts, kind, text, smtptext);
}

/* report_reset - drop the recipient reports of an abandoned session */
void
report_reset(void)
{
	buf_reset(&report_rcpts);
}

/* report_final - write everything and exit 0, as qmail-remote does */
void
report_final(char kind, const char *text, const char *smtptext)
{
	struct buf out;
	size_t done = 0;

	buf_init(&out, 2 << 20);
	buf_cat(&out, buf_str(&report_rcpts), buf_len(&report_rcpts));
	report_text(&out, kind, text, smtptext);
	while (done < buf_len(&out)) {
		ssize_t w = write(report_fd, buf_str(&out) + done, buf_len(&out) - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		done += (size_t)w;
	}
	_exit(0);
}
