/* SPDX-License-Identifier: MIT
 * qmtpd_session.c - one QMTP connection: messages until the client closes.
 *
 * Runs as:    qmaild, one process per connection (handlers/qmtpd).
 * Hostile:    every byte from the client.
 * Trusted:    the configuration loaded before the first byte.
 * May touch:  the connection, qmail-queue through lib/mail/qqueue.
 *
 * A message is netstring(message) netstring(sender) netstring(netstring(rcpt)...).
 * The message's first byte tells the line ending: LF, or CR (CRLF, turned into
 * LF here). The message is streamed to qmail-queue as it arrives; the envelope
 * follows. Every recipient gets one answer netstring: K, Z or D and a text.
 * Any syntax error ends the connection with nothing queued and nothing answered.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netstring.h"
#include "qmtpd.h"

#define R_RCPTHOSTS "Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
#define R_TOOBIG "Dsorry, that message size exceeds my databytes limit (#5.3.4)"
#define R_NOQUEUE "Zunable to start qmail-queue (#4.3.0)"


/* qmtp_body - stream len bytes of message text (after the line-ending byte) */
int
qmtp_body(struct io *io, struct qmtp_msg *m, size_t len, int dos,
    const struct qmtpd_conf *conf)
{
	char in[4096], out[4096];
	int cr = 0;		/* a CR is held back (CRLF mode) */
	ssize_t n;
	size_t i, o;

	while (len > 0) {
		n = io_read(io, in, len < sizeof(in) ? len : sizeof(in));
		if (n <= 0)
			return NS_IO;
		len -= (size_t)n;
		for (i = o = 0; i < (size_t)n; i++) {
			if (cr && in[i] != '\n')
				out[o++] = '\r';
			cr = dos && in[i] == '\r';
			if (!cr)
				out[o++] = in[i];
		}
		if (cr && len == 0)
			out[o++] = '\r';
		m->bytes += o;
		if (conf->databytes && m->bytes > conf->databytes)
			m->toobig = 1;
		if (m->qq_ok && !m->toobig)
			qqueue_put(&m->qq, out, o);
	}
	return ns_read_comma(io);
}

/* qmtp_message - read one message after its first length byte; NS_DONE or error */
static int
qmtp_message(struct io *io, int first, struct qmtp_msg *m,
    const struct qmtpd_conf *conf, const struct peer *peer)
{
	static char list[QMTP_RCPTLIST_MAX + 1];
	size_t len, slen;
	int r, c;

	r = ns_read_len(io, first, (size_t)-1 / 2, &len);
	if (r != NS_DONE)
		return r;
	if (len == 0)
		return NS_SYNTAX;	/* no line-ending byte */
	if ((c = io_getc(io)) < 0)
		return NS_IO;
	if (c != '\n' && c != '\r')
		return NS_SYNTAX;
	m->qq_ok = qqueue_start(&m->qq) == 0;
	if (m->qq_ok)
		qmtpd_received(&m->qq, conf, peer);
	if ((r = qmtp_body(io, m, len - 1, c == '\r', conf)) != NS_DONE)
		return r;
	if ((r = ns_read(io, QMTP_ADDR_MAX, m->sender, &slen)) != NS_DONE)
		return r;
	if (memchr(m->sender, '\0', slen) != NULL)
		return NS_SYNTAX;
	if ((r = ns_read(io, QMTP_RCPTLIST_MAX, list, &len)) != NS_DONE)
		return r;
	return qmtp_rcpts_parse(&m->rcpts, list, len, conf);
}

/* qmtp_queue - hand the accepted recipients to qmail-queue: the answer text */
static const char *
qmtp_queue(struct qmtp_msg *m, char *ok, size_t oksize)
{
	const char *a = m->rcpts.addrs.s;
	size_t i, naccepted = 0;
	long pid = (long)m->qq.pid;
	int code;

	if (!m->qq_ok)
		return R_NOQUEUE;
	if (m->toobig) {
		qqueue_abort(&m->qq);
		return R_TOOBIG;
	}
	qqueue_from(&m->qq, m->sender);
	for (i = 0; i < m->rcpts.n; a += strlen(a) + 1, i++)
		if (m->rcpts.ok.s[i]) {
			qqueue_to(&m->qq, a);
			naccepted++;
		}
	if (naccepted == 0) {
		qqueue_abort(&m->qq);
		return NULL;
	}
	code = qqueue_finish(&m->qq);
	if (code != 0)
		return qq_exit_text(code);
	snprintf(ok, oksize, "Kok %ld qp %ld", (long)time(NULL), pid);
	return ok;
}

/* qmtp_answer - one netstring per recipient, in order */
static int
qmtp_answer(struct io *io, struct qmtp_msg *m, const char *text,
    const struct qmtpd_conf *conf)
{
	const char *a = m->rcpts.addrs.s, *t;
	size_t i;

	for (i = 0; i < m->rcpts.n; a += strlen(a) + 1, i++) {
		t = m->rcpts.ok.s[i] ? text : R_RCPTHOSTS;
		log_info("%s:%s: from <%s> to <%s>: %s", conf->proto,
		    t[0] == 'K' ? "Accept" : "Reject", m->sender, a, t);
		if (ns_put(io, t, strlen(t)) < 0)
			return -1;
	}
	return io_flush(io) < 0 ? -1 : 0;
}

static const char *
qmtp_why(int r)
{
	return r == NS_IO ? "client gone or timeout" :
	    r == NS_TOOBIG ? "netstring too long" : "netstring syntax error";
}

/* qmtpd_session - messages until the client closes: the exit code */
int
qmtpd_session(struct io *io, const struct qmtpd_conf *conf, const struct peer *peer)
{
	struct qmtp_msg *m;
	char ok[128];
	int c, r, code = QMTPD_EXIT_OK;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return QMTPD_EXIT_DROP;
	qmtp_rcpts_init(&m->rcpts);
	while ((c = io_getc(io)) >= 0) {
		m->bytes = 0;
		m->toobig = 0;
		r = qmtp_message(io, c, m, conf, peer);
		if (r != NS_DONE) {
			if (m->qq_ok)
				qqueue_abort(&m->qq);
			log_info("qmtp: %s: S:%s: nothing queued", qmtp_why(r), peer->remoteip);
			code = QMTPD_EXIT_DROP;
			break;
		}
		if (qmtp_answer(io, m, qmtp_queue(m, ok, sizeof(ok)), conf) < 0) {
			code = QMTPD_EXIT_DROP;
			break;
		}
	}
	if (c == IO_TIMEOUT || c == IO_ERROR)
		code = QMTPD_EXIT_DROP;
	qmtp_rcpts_free(&m->rcpts);
	free(m);
	return code;
}
