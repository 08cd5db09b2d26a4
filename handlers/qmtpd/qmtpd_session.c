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
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "netstring.h"
#include "qmtpd.h"

#define R_RCPTHOSTS "Dsorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)"
#define R_TOOBIG "Dsorry, that message size exceeds my databytes limit (#5.3.4)"
#define R_NOQUEUE "Zunable to start qmail-queue (#4.3.0)"
#define R_HOPS "Dtoo many hops, this message is looping (#5.4.6)"

/* qmtp_hops - count Received: and Delivered-To: lines of the header, as
 * qmail-smtpd does (QMTP_MAXHOPS or more: refused as a loop) */
static void
qmtp_hops(struct qmtp_msg *m, const char *p, size_t n)
{
	for (; n > 0 && m->inheader; p++, n--) {
		if (*p != '\n') {
			if (m->hpos < sizeof(m->hline))
				m->hline[m->hpos] = *p;
			m->hpos++;
			continue;
		}
		if (m->hpos == 0)
			m->inheader = 0;
		else if ((m->hpos >= 9 && strncasecmp(m->hline, "received:", 9) == 0) ||
		    (m->hpos >= 13 && strncasecmp(m->hline, "delivered-to:", 13) == 0))
			m->hops++;
		m->hpos = 0;
	}
}

/* qmtp_body - stream len bytes of message text (after the line-ending byte) */
int
qmtp_body(struct io *io, struct qmtp_msg *m, size_t len, int dos,
    const struct qmtpd_conf *conf)
{
	char in[4096], out[4096];
	int cr = 0;		/* a CR is held back (CRLF mode) */
	ssize_t n;
	size_t i, o;

	m->inheader = 1;
	m->hops = 0;
	m->hpos = 0;
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
		qmtp_hops(m, out, o);
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

/* qmtp_queue - hand the accepted recipients to qmail-queue: the answer text
 * (NULL: no recipient was accepted); m->result names the outcome for the log */
static const char *
qmtp_queue(struct qmtp_msg *m, char *ok, size_t oksize)
{
	const char *a = m->rcpts.addrs.s;
	size_t i, naccepted = 0;
	int code;

	m->result = "Reject::DATA::Queue_Failed";
	m->qp = (long)m->qq.pid;
	if (!m->qq_ok)
		return R_NOQUEUE;
	if (m->toobig || m->hops >= QMTP_MAXHOPS) {
		qqueue_abort(&m->qq);
		m->result = m->toobig ? "Reject::DATA::Invalid_Size" : "Reject::DATA::Toomany_Hops";
		return m->toobig ? R_TOOBIG : R_HOPS;
	}
	qqueue_from(&m->qq, m->sender);
	for (i = 0; i < m->rcpts.n; a += strlen(a) + 1, i++)
		if (m->rcpts.ok.s[i]) {
			qqueue_to(&m->qq, a);
			naccepted++;
		}
	if (naccepted == 0) {
		qqueue_abort(&m->qq);
		m->result = NULL;
		return NULL;
	}
	code = qqueue_finish(&m->qq);
	if (code != 0)
		return qq_exit_text(code);
	m->result = "Accept::DATA::Queued";
	snprintf(ok, oksize, "Kok %ld qp %ld", (long)time(NULL), m->qp);
	return ok;
}

static const char *
qmtp_rcpt_action(const struct qmtpd_conf *conf, int ok)
{
	if (!ok)
		return "Reject::SNDR::Invalid_Relay";
	if (conf->tls.cert_relay)
		return "Accept::RCPT::Client_Cert";
	return conf->relayclient ? "Accept::RCPT::Relayclient" : "Accept::RCPT::Rcpthosts_Rcptto";
}

/* qmtp_answer - one netstring per recipient, in order; a log line for each
 * recipient and one for the message */
static int
qmtp_answer(struct io *io, struct qmtp_msg *m, const char *text,
    const struct qmtpd_conf *conf, const struct peer *peer)
{
	const char *a = m->rcpts.addrs.s, *t;
	char info[128];
	size_t i, naccepted = 0;

	for (i = 0; i < m->rcpts.n; a += strlen(a) + 1, i++) {
		naccepted += m->rcpts.ok.s[i] != 0;
		t = m->rcpts.ok.s[i] ? text : R_RCPTHOSTS;
		qmtpd_log(conf, peer, qmtp_rcpt_action(conf, m->rcpts.ok.s[i]), m->sender, a,
		    NULL);
		if (ns_put(io, t, strlen(t)) < 0)
			return -1;
	}
	if (m->result && text[0] == 'K')
		snprintf(info, sizeof(info), "qp %ld bytes %zu rcpts %zu", m->qp,
		    m->bytes, naccepted);
	if (m->result)
		qmtpd_log(conf, peer, m->result, m->sender, NULL, text[0] == 'K' ? info : text);
	return io_flush(io) < 0 ? -1 : 0;
}

static const char *
qmtp_why(const struct io *io, int r)
{
	if (r == NS_IO)
		return io->err == IO_TIMEOUT ? "Info::CONN::Timeout" : io->err == IO_EOF ?
		    "Info::CONN::Closed" : "Info::CONN::Read_Error";
	return r == NS_TOOBIG ? "Reject::DATA::Netstring_Too_Long" :
	    "Reject::DATA::Netstring_Syntax";
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
			qmtpd_log(conf, peer, qmtp_why(io, r), NULL, NULL, "nothing queued");
			code = QMTPD_EXIT_DROP;
			break;
		}
		if (qmtp_answer(io, m, qmtp_queue(m, ok, sizeof(ok)), conf, peer) < 0) {
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
