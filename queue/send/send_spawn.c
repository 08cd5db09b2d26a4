/* SPDX-License-Identifier: MIT
 * send_spawn.c - qmail's spawn protocol (requests to qmail-lspawn/qmail-rspawn,
 * reports back) and qmail-clean's request/answer protocol.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    reports from the spawns are bounded (SEND_REPORT_MAX) and not trusted
 *             for anything but their slot number and text; rspawn runs remote code.
 * May touch:  fds 5 and 6 (qmail-clean).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "send.h"

int send_clean_alive = 1;

/* spawn_request - encode one delivery: slot byte, "split/id" NUL (relative to
 * queue/mess, where the spawns live), VERP-expanded sender NUL, recipient NUL */
void
spawn_request(struct buf *out, int slot, unsigned long id, const char *sender,
    const char *recip)
{
	char name[64];

	snprintf(name, sizeof(name), "%lu/%lu", id % 23, id);
	buf_catc(out, (char)(unsigned char)slot);
	buf_cat(out, name, strlen(name) + 1);
	rw_sender_verp(out, sender, recip);
	buf_catc(out, '\0');
	buf_cat(out, recip, strlen(recip) + 1);
}

/* spawn_report_feed - collect report bytes (slot, K/Z/D, text, NUL); 1 when
 * r->line holds a whole report, with *used bytes of p consumed */
int
spawn_report_feed(struct report *r, const char *p, size_t n, size_t *used)
{
	for (size_t i = 0; i < n; i++) {
		if (r->line.len < SEND_REPORT_MAX)
			buf_catc(&r->line, p[i]);
		else
			r->line.s[r->line.len - 1] = p[i];
		if (p[i] == '\0' && r->line.len > 1) {
			*used = i + 1;
			return 1;
		}
	}
	*used = n;
	return 0;
}

/* clean_dead - the pipe to qmail-clean broke: qmail-send winds down */
void
clean_dead(void)
{
	if (send_clean_alive)
		slog_alert("oh no! lost qmail-clean connection! dying...");
	send_clean_alive = 0;
	send_exiting = 1;
}

static int
clean_write(const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(FD_CLEAN_OUT, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* clean_request - ask qmail-clean "KIND/ID\0" (kind "todo" or "foop"): its
 * answer '+' (done), '!' (trouble) or 'x' (bad request); -1 if it is gone */
int
clean_request(const char *kind, unsigned long id)
{
	char req[64], ch;
	int n;
	ssize_t r;

	if (!send_clean_alive)
		return -1;
	n = snprintf(req, sizeof(req), "%s/%lu", kind, id);
	if (clean_write(req, (size_t)n + 1) < 0) {
		clean_dead();
		return -1;
	}
	do
		r = read(FD_CLEAN_IN, &ch, 1);
	while (r < 0 && errno == EINTR);
	if (r != 1) {
		clean_dead();
		return -1;
	}
	if (ch != '+')
		slog_warn("qmail-clean unable to clean up %s/%lu", kind, id);
	return (unsigned char)ch;
}

/* clean_batch - pipeline n requests of one kind, then collect the n answers
 * (qmail-clean answers in order; n requests fit in the pipe buffer) */
int
clean_batch(const char *kind, const unsigned long *ids, size_t n, char *answers)
{
	struct buf req;
	size_t got = 0;

	if (!send_clean_alive)
		return -1;
	buf_init(&req, 0);
	for (size_t i = 0; i < n; i++) {
		buf_printf(&req, "%s/%lu", kind, ids[i]);
		buf_catc(&req, '\0');
	}
	if (clean_write(req.s, req.len) < 0) {
		buf_free(&req);
		clean_dead();
		return -1;
	}
	buf_free(&req);
	while (got < n) {
		ssize_t r = read(FD_CLEAN_IN, answers + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			clean_dead();
			return -1;
		}
		got += (size_t)r;
	}
	for (size_t i = 0; i < n; i++)
		if (answers[i] != '+')
			slog_warn("qmail-clean unable to clean up %s/%lu", kind, ids[i]);
	return 0;
}
