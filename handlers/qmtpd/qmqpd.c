/* SPDX-License-Identifier: MIT
 * qmqpd.c - qmail-qmqpd: one QMQP message per connection, from preauthorised clients.
 *
 * Runs as:    qmaild, one process per connection (handlers/qmtpd).
 * Hostile:    every byte from the client (authorised does not mean well-formed).
 * Trusted:    control/rules.qmqpd.cdb decides who may connect; control files.
 * May touch:  rfd/wfd (client), fd 2 (journal), qmail-queue through lib/mail/qqueue.
 *
 * The client sends netstring(netstring(message) netstring(sender)
 * netstring(rcpt)...) and gets one netstring back: K, Z or D and a text.
 * Every recipient is accepted (the client is a relay client by definition).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "mail/exitcode.h"
#include "netstring.h"
#include "qmtpd.h"

#define QMQP_ENV_MAX (QMTP_RCPTLIST_MAX + QMTP_ADDR_MAX + 16)
#define R_TOOBIG "Dsorry, that message size exceeds my databytes limit (#5.3.4)"
#define R_NOQUEUE "Zunable to start qmail-queue (#4.3.0)"
#define R_HOPS "Dtoo many hops, this message is looping (#5.4.6)"

/* qmqp_envelope - after the message: netstring(sender) then the recipients */
static int
qmqp_envelope(struct qmtp_msg *m, const char *p, size_t n)
{
	const char *d;
	size_t len, used;
	int r;

	r = ns_parse(p, n, QMTP_ADDR_MAX, &d, &len, &used);
	if (r != NS_DONE)
		return r == NS_MORE ? NS_SYNTAX : r;
	if (memchr(d, '\0', len) != NULL)
		return NS_SYNTAX;
	memcpy(m->sender, d, len);
	m->sender[len] = '\0';
	return qmtp_rcpts_parse(&m->rcpts, p + used, n - used, NULL);
}

/* qmqp_read - the whole request into m; NS_DONE or an error */
static int
qmqp_read(struct io *io, struct qmtp_msg *m, const struct qmtpd_conf *conf,
    const struct peer *peer)
{
	static char env[QMQP_ENV_MAX + 1];
	size_t total, len, digits, got = 0;
	ssize_t k;
	int r;

	if ((r = ns_read_len(io, -1, (size_t)-1 / 2, &total)) != NS_DONE)
		return r;
	if ((r = ns_read_len(io, -1, total, &len)) != NS_DONE)
		return r;
	for (digits = 1, k = (ssize_t)len; k >= 10; k /= 10)
		digits++;
	if (total < digits + 2 + len)
		return NS_SYNTAX;
	total -= digits + 2 + len;	/* what is left: the envelope */
	if (total > QMQP_ENV_MAX)
		return NS_TOOBIG;
	m->qq_ok = qqueue_start(&m->qq) == 0;
	if (m->qq_ok)
		qmtpd_received(&m->qq, conf, peer);
	if ((r = qmtp_body(io, m, len, 0, conf)) != NS_DONE)
		return r;
	while (got < total) {
		if ((k = io_read(io, env + got, total - got)) <= 0)
			return NS_IO;
		got += (size_t)k;
	}
	if ((r = ns_read_comma(io)) != NS_DONE)
		return r;
	return qmqp_envelope(m, env, total);
}

/* qmqp_queue - the answer for the whole message */
static const char *
qmqp_queue(struct qmtp_msg *m, char *ok, size_t oksize)
{
	const char *a = m->rcpts.addrs.s;
	long pid = (long)m->qq.pid;
	size_t i;
	int code;

	if (!m->qq_ok)
		return R_NOQUEUE;
	if (m->toobig || m->hops >= QMTP_MAXHOPS) {
		qqueue_abort(&m->qq);
		return m->toobig ? R_TOOBIG : R_HOPS;
	}
	qqueue_from(&m->qq, m->sender);
	for (i = 0; i < m->rcpts.n; a += strlen(a) + 1, i++)
		qqueue_to(&m->qq, a);
	code = qqueue_finish(&m->qq);
	if (code != 0)
		return qq_exit_text(code);
	snprintf(ok, oksize, "Kok %ld qp %ld", (long)time(NULL), pid);
	return ok;
}

static int
qmqpd_session(struct io *io, const struct qmtpd_conf *conf, const struct peer *peer)
{
	struct qmtp_msg *m;
	const char *t;
	char ok[128], info[256];
	int r, code = QMTPD_EXIT_OK;

	m = calloc(1, sizeof(*m));
	if (m == NULL)
		return QMTPD_EXIT_DROP;
	qmtp_rcpts_init(&m->rcpts);
	r = qmqp_read(io, m, conf, peer);
	if (r != NS_DONE) {
		if (m->qq_ok)
			qqueue_abort(&m->qq);
		qmtpd_log(conf, peer, r != NS_IO ? "Reject::DATA::Netstring_Syntax" :
		    io->err == IO_TIMEOUT ? "Info::CONN::Timeout" : "Info::CONN::Closed", NULL,
		    NULL, "nothing queued");
		code = QMTPD_EXIT_DROP;
	} else {
		t = qmqp_queue(m, ok, sizeof(ok));
		snprintf(info, sizeof(info), "rcpts %zu: %s", m->rcpts.n, t);
		qmtpd_log(conf, peer, t[0] == 'K' ? "Accept::DATA::Queued" : m->toobig ?
		    "Reject::DATA::Invalid_Size" : m->hops >= QMTP_MAXHOPS ?
		    "Reject::DATA::Toomany_Hops" : "Reject::DATA::Queue_Failed", m->sender, NULL,
		    info);
		if (ns_put(io, t, strlen(t)) < 0 || io_flush(io) < 0)
			code = QMTPD_EXIT_DROP;
	}
	qmtp_rcpts_free(&m->rcpts);
	free(m);
	return code;
}

/* qmqpd_serve - rules (a rule must allow the client), controls, one message */
int
qmqpd_serve(int rfd, int wfd)
{
	struct qmtpd_conf conf;
	struct peer peer;
	struct io io;
	int code, r;

	if ((r = qmtpd_open(rfd, "control/rules.qmqpd.cdb", 1, "QMQP", &peer, &conf)) != 0)
		return r;
	conf.relay_all = 1;
	io_init_fd(&io, rfd, wfd, (unsigned)conf.timeout);
	code = qmqpd_session(&io, &conf, &peer);
	qmtpd_conf_free(&conf);
	return code;
}
