/* SPDX-License-Identifier: MIT
 * smtp_data.c - receive the DATA section and stream it to qmail-queue.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    every byte of the message; only CRLF "." CRLF ends it.
 * Trusted:    control files, argv/env set by the unit, qmail-queue's exit code.
 * May touch:  the session's io, fd 2 (journal), the two pipes to qmail-queue.
 * Must not:   open queue files, exec anything but qmail-queue, keep the message in memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"
#include "mail/qqueue.h"
#include "smtp_reply.h"
#include "smtpd.h"

#define SMTP_RCPTTO_ENV_MAX 65536	/* bytes of $RCPTTO for queue filters */

/* Where we are in the byte stream (RFC 5321 section 4.5.2). BOL: after CRLF. */
enum blast_state { ST_BOL, ST_MID, ST_CR, ST_DOT, ST_DOTCR };

enum blast_end { BLAST_DONE, BLAST_BARELF, BLAST_IO };

struct blast {
	struct qqueue *qq;
	enum blast_state st;
	size_t bytes, limit;		/* as sent (LF counted as CRLF); limit 0: none */
	int toobig;
	int inheader;
	unsigned hops;
	size_t hpos;
	char hline[16];			/* start of the current header line */
	size_t outlen;
	char out[4096];
};

static void
blast_flush(struct blast *b)
{
	if (b->outlen && !b->toobig)
		qqueue_put(b->qq, b->out, b->outlen);
	b->outlen = 0;
}

/* blast_hop - count Received: and Delivered-To: header lines (loop detection) */
static void
blast_hop(struct blast *b, char c)
{
	if (c != '\n') {
		if (b->hpos < sizeof(b->hline))
			b->hline[b->hpos] = c;
		b->hpos++;
		return;
	}
	if (b->hpos == 0)
		b->inheader = 0;
	else if ((b->hpos >= 9 && strncasecmp(b->hline, "received:", 9) == 0) ||
	    (b->hpos >= 13 && strncasecmp(b->hline, "delivered-to:", 13) == 0))
		b->hops++;
	b->hpos = 0;
}

/* blast_put - one byte of the stored message (LF line ends, as qmail stores) */
static void
blast_put(struct blast *b, char c)
{
	b->bytes += c == '\n' ? 2 : 1;
	if (b->limit && b->bytes > b->limit)
		b->toobig = 1;
	if (b->inheader)
		blast_hop(b, c);
	if (b->toobig)
		return;
	if (b->outlen == sizeof(b->out))
		blast_flush(b);
	b->out[b->outlen++] = c;
}

/* blast_byte - the strict-CRLF state machine: 1 at the final dot, -1 on a bare LF.
 * Only CR LF "." CR LF ends the data; a LF without CR is refused wherever it
 * is (so no <LF>.<CR><LF> or <CR>.<CR><LF> variant ends it); a CR without LF
 * is data. A leading "." of a line is removed (dot-unstuffing). */
static int
blast_byte(struct blast *b, char c)
{
	switch (b->st) {
	case ST_BOL:
		if (c == '.') {
			b->st = ST_DOT;
			return 0;
		}
		/* FALLTHROUGH */
	case ST_MID:
		if (c == '\n')
			return -1;
		if (c == '\r')
			b->st = ST_CR;
		else {
			blast_put(b, c);
			b->st = ST_MID;
		}
		return 0;
	case ST_DOT:
		if (c == '\n')
			return -1;
		if (c == '\r')
			b->st = ST_DOTCR;
		else {
			blast_put(b, c);
			b->st = ST_MID;
		}
		return 0;
	case ST_DOTCR:
		if (c == '\n')
			return 1;
		/* FALLTHROUGH */
	case ST_CR:
		if (c == '\n') {
			blast_put(b, '\n');
			b->st = ST_BOL;
		} else if (c == '\r') {
			blast_put(b, '\r');
			b->st = ST_CR;	/* from ST_DOTCR too: ".\r\r\n" does not end */
		} else {
			blast_put(b, '\r');
			blast_put(b, c);
			b->st = ST_MID;
		}
		return 0;
	}
	return 0;
}

static enum blast_end
blast(struct smtp_session *s, struct blast *b, int *ioerr)
{
	int c, r;

	for (;;) {
		c = io_getc(s->io);
		if (c < 0) {
			*ioerr = c;
			return BLAST_IO;
		}
		r = blast_byte(b, (char)c);
		if (r > 0)
			break;
		if (r < 0)
			return BLAST_BARELF;
	}
	blast_flush(b);
	return BLAST_DONE;
}

/* smtp_received - qmail's line: "Received: from HOST (HELO helo) (info@ip)\n
 *   by LOCAL with SMTP; 25 Nov 2026 12:00:00 -0000\n" */
static void
smtp_received(struct smtp_session *s, struct qqueue *qq)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const struct peer *p = s->peer;
	const char *host = p->remotehost ? p->remotehost : "unknown";
	const char *local = p->localhost ? p->localhost :
	    buf_len(&s->conf->me) ? buf_str(&s->conf->me) : p->localip;
	char date[64];
	struct buf with;
	time_t now = time(NULL);
	struct tm tm;

	qqueue_puts(qq, "Received: from ");
	qqueue_put_safe(qq, host);
	if (s->seenhelo && strcasecmp(host, buf_str(&s->helo)) != 0) {
		qqueue_puts(qq, " (HELO ");
		qqueue_put_safe(qq, buf_str(&s->helo));
		qqueue_puts(qq, ")");
	}
	qqueue_puts(qq, " (");
	if (smtp_sec_remoteinfo(s)) {
		qqueue_put_safe(qq, smtp_sec_remoteinfo(s));
		qqueue_puts(qq, "@");
	}
	qqueue_put_safe(qq, p->remoteip);
	qqueue_puts(qq, ")\n  by ");
	qqueue_put_safe(qq, local);
	qqueue_puts(qq, " with ");
	buf_init(&with, 512);
	smtp_sec_with(s, &with);
	qqueue_puts(qq, buf_str(&with));	/* our own text */
	buf_free(&with);
	qqueue_puts(qq, "; ");
	gmtime_r(&now, &tm);
	snprintf(date, sizeof(date), "%d %s %d %02d:%02d:%02d -0000\n", tm.tm_mday,
	    mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	qqueue_puts(qq, date);
}

/* smtp_data_env - what qmail-smtpd tells queue filters (s/qmail's names) */
static void
smtp_data_env(struct smtp_session *s)
{
	struct buf rcpts;
	const char *p, *end = buf_str(&s->rcptto) + buf_len(&s->rcptto);

	buf_init(&rcpts, buf_len(&s->rcptto) + 1);
	for (p = buf_str(&s->rcptto); p < end; p += strlen(p) + 1) {
		/* one environment string may not pass 128 KiB (execve E2BIG): the
		 * list stops at the last whole address below SMTP_RCPTTO_ENV_MAX */
		if (buf_len(&rcpts) + strlen(p) + 1 > SMTP_RCPTTO_ENV_MAX) {
			log_warning("RCPTTO for the queue filter cut after %zu bytes", buf_len(&rcpts));
			break;
		}
		if (buf_len(&rcpts))
			buf_catc(&rcpts, ' ');
		buf_cats(&rcpts, p + 1);
	}
	setenv("MAILFROM", buf_str(&s->mailfrom), 1);
	setenv("RCPTTO", buf_str(&rcpts), 1);
	setenv("HELOHOST", buf_str(&s->helo), 1);
	buf_free(&rcpts);
}

/* smtp_data_queue - envelope to qmail-queue and its verdict as our reply */
static void
smtp_data_queue(struct smtp_session *s, struct qqueue *qq, size_t bytes)
{
	const char *p, *end = buf_str(&s->rcptto) + buf_len(&s->rcptto), *t, *esc;
	char detail[256], code[16];
	long qp = (long)qq->pid;
	int r;

	qqueue_from(qq, buf_str(&s->mailfrom));
	for (p = buf_str(&s->rcptto); p < end; p += strlen(p) + 1)
		qqueue_to(qq, p + 1);
	r = qqueue_finish(qq);
	if (r == 0) {
		snprintf(detail, sizeof(detail), "qp %ld bytes %zu rcpts %zu", qp, bytes, s->nrcpt);
		smtp_log(s, "Accept::DATA::Queued", detail);
		smtp_outf(s, SMTP_R_QUEUED_FMT, (long long)time(NULL), qp);
		return;
	}
	/* qq_exit_text: "Z<text> (#4.x.y)" or "D<text> (#5.x.y)" */
	t = qq_exit_text(r);
	esc = strstr(t, "(#");
	snprintf(code, sizeof(code), "%s", qq_exit_is_perm(r) ? "5.3.0" : "4.3.0");
	if (esc && strlen(esc) < sizeof(code) + 3) {
		snprintf(code, sizeof(code), "%s", esc + 2);
		code[strcspn(code, ")")] = '\0';
	}
	snprintf(detail, sizeof(detail), "qmail-queue exit %d", r);
	smtp_log(s, "Reject::DATA::Queue_Failed", detail);
	smtp_outf(s, qq_exit_is_perm(r) ? SMTP_R_QQ_PERM_FMT : SMTP_R_QQ_TEMP_FMT, code, t + 1);
}

/* smtp_data - 354, the message through the state machine into qmail-queue,
 * then the reply; 250 only once qmail-queue exited 0 (the message is durable) */
void
smtp_data(struct smtp_session *s, const char *arg)
{
	struct qqueue qq;
	struct blast b;
	int ioerr = 0;
	enum blast_end end;

	(void)arg;
	smtp_data_env(s);
	if (qqueue_start(&qq) < 0) {
		log_err("start qmail-queue: %m");
		smtp_out(s, SMTP_R_QQ_START);
		smtp_tx_reset(s);
		return;
	}
	smtp_out(s, SMTP_R_DATA_GO);
	memset(&b, 0, sizeof(b));
	b.qq = &qq;
	b.st = ST_BOL;
	b.limit = s->conf->databytes;
	b.inheader = 1;
	smtp_received(s, &qq);
	end = blast(s, &b, &ioerr);
	if (end != BLAST_DONE) {
		qqueue_abort(&qq);
		if (end == BLAST_BARELF) {
			smtp_log(s, "Reject::DATA::Bare_LF", NULL);
			smtp_drop(s, SMTP_R_BARELF);
		} else if (ioerr == IO_TIMEOUT) {
			smtp_log(s, "Info::DATA::Timeout", NULL);
			smtp_drop(s, SMTP_R_TIMEOUT);
		} else {
			smtp_log(s, "Info::DATA::Closed", NULL);
			s->done = 1;
			s->exitcode = SMTPD_EXIT_DROP;
		}
	} else if (b.toobig || b.hops >= SMTP_MAXHOPS) {
		qqueue_abort(&qq);
		smtp_log(s, b.toobig ? "Reject::DATA::Invalid_Size" : "Reject::DATA::Toomany_Hops", NULL);
		smtp_out(s, b.toobig ? SMTP_R_TOOBIG : SMTP_R_HOPS);
	} else
		smtp_data_queue(s, &qq, b.bytes);
	smtp_tx_reset(s);
}
