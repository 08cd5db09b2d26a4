/* SPDX-License-Identifier: MIT
 * forward.c - the forward lines of a .qmail file: one new message to all of
 * them through qmail-queue, with our Delivered-To line on top.
 *
 * Runs as:    the recipient (qmail-local).
 * Trusted:    the addresses (the user wrote them), QMAILQUEUE.
 * Hostile:    the message: copied unchanged.
 * May touch:  the pipes to qmail-queue.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "mail/exitcode.h"
#include "mail/qqueue.h"
#include "local.h"

/* forward_deliver - the envelope sender is NEWSENDER (the original sender
 * unless the user has a .qmail-owner file) */
void
forward_deliver(struct local_ctx *c, char **recips, size_t n)
{
	static struct qqueue q;
	char tmp[65536];
	const char *text;
	ssize_t r;
	int code;

	local_rewind();
	if (qqueue_start(&q) < 0)
		spawn_report_exit(EXIT_TEMP, "Unable to fork: %s. (#4.3.0)", strerror(errno));
	c->forward_qp = (unsigned long)q.pid;
	qqueue_put(&q, c->dtline.s, c->dtline.len);
	while ((r = read(0, tmp, sizeof(tmp))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			qqueue_abort(&q);
			spawn_report_exit(EXIT_TEMP, "Unable to read message: %s. (#4.3.0)",
			    strerror(errno));
		}
		qqueue_put(&q, tmp, (size_t)r);
	}
	qqueue_from(&q, c->newsender.s);
	for (size_t i = 0; i < n; i++)
		qqueue_to(&q, recips[i]);
	code = qqueue_finish(&q);
	if (code == 0)
		return;
	text = qq_exit_text(code);
	spawn_report_exit(text[0] == 'D' ? EXIT_PERM : EXIT_TEMP, "Unable to forward message: %s.",
	    text + 1);
}
