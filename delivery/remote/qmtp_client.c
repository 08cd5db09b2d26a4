/* SPDX-License-Identifier: MIT
 * qmtp_client.c - qmail-remote's QMTP and QMTPS client (control/qmtproutes, issue 7).
 *
 * Runs as:    qmailr, one process per delivery (qmail-rspawn).
 * Hostile:    every byte from the server, its certificate.
 * Trusted:    the job (message as queued, envelope, control files), the
 *             domaincerts client certificate.
 * May touch:  the connection on fd, the report on fd 1 (report.c).
 *
 * One netstring for the message (LF form: first byte '\n'), one for the
 * sender, one holding a netstring per recipient; then one answer netstring
 * per recipient, K / Z / D and a text, reported as r / s / h.
 *
 * QMTPS (a route to port 6209, s/qmail's rule): the same inside TLS from the
 * first byte. The server is checked by tlsdestinations exactly as for SMTPS
 * (no rule: encrypted, not verified; "!" cannot turn TLS off on this port);
 * the client presents the domaincerts certificate of the sender's domain,
 * which is what lets a QMTPS server take it as a relay client.
 */
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "netstring.h"
#include "remote.h"
#include "tls.h"

#define QMTP_ANSWER_MAX 4096

static size_t
qmtp_nslen(size_t n)
{
	size_t d = 1;

	for (size_t k = n; k >= 10; k /= 10)
		d++;
	return d + 1 + n + 1;
}

/* qmtp_send - the whole request; 0, or -1 when the connection failed */
static int
qmtp_send(struct io *io, const struct remote_job *job)
{
	size_t list = 0, i;

	for (i = 0; i < job->nrcpt; i++)
		list += qmtp_nslen(strlen(job->rcpt[i]));
	if (io_printf(io, "%zu:\n", job->msglen + 1) < 0 ||
	    io_write(io, job->msg, job->msglen) < 0 || io_write(io, ",", 1) < 0 ||
	    ns_put(io, job->sender, strlen(job->sender)) < 0 ||
	    io_printf(io, "%zu:", list) < 0)
		return -1;
	for (i = 0; i < job->nrcpt; i++)
		if (ns_put(io, job->rcpt[i], strlen(job->rcpt[i])) < 0)
			return -1;
	if (io_write(io, ",", 1) < 0 || io_flush(io) < 0)
		return -1;
	return 0;
}

static struct tls_ctx *qmtp_tls;	/* this attempt's TLS client context */

/* qmtp_tls_start - QMTPS: handshake by tlsdestinations with the domaincerts
 * certificate; 0, or SMTP_NEXT with the reason in why. info: the report's TLS line */
static int
qmtp_tls_start(struct io *io, struct remote_job *job, struct buf *why, char *info,
    size_t infosize)
{
	const struct tls_policy *p = &job->tls;
	struct tls_client_opts o;
	struct tls_info i;
	char err[512];

	tls_policy_client_opts(job, &o, err, sizeof(err));
	if ((qmtp_tls == NULL && tls_client_init(&qmtp_tls, &o) < 0) ||
	    tls_start(qmtp_tls, io, job->relayname, (unsigned)job->cfg->timeoutremote, err,
	    sizeof(err)) < 0) {
		buf_reset(why);
		buf_printf(why, "ZTLS connection to %s failed: %s (#4.7.5)\n", job->peer, err);
		return SMTP_NEXT;
	}
	if (tls_get_info(io, &i) == 0)
		snprintf(info, infosize, "TLS: %s %s verified=%s clientcert=%s (%s).\n",
		    i.protocol, i.cipher, i.server_verified ? "yes" : "no",
		    o.certfile ? "yes" : "no", tls_policy_name(p->mode));
	return 0;
}

/* qmtp_client_end - close_notify and forget the TLS context (a new one per address) */
static void
qmtp_client_end(struct io *io)
{
	tls_end(io);
	tls_ctx_free(qmtp_tls);
	qmtp_tls = NULL;
}

/* qmtp_client_run - send the message, report every recipient; returns only
 * (SMTP_NEXT) when the request could not be sent, to try the next address */
int
qmtp_client_run(struct remote_job *job, int fd, struct buf *why)
{
	static struct io io;
	char ans[QMTP_ANSWER_MAX + 1], text[QMTP_ANSWER_MAX + 128], tlsinfo[256] = "";
	unsigned port = job->route.port ? job->route.port : job->defport;
	size_t i, len;
	int any = 0;

	io_init_fd(&io, fd, fd, (unsigned)job->cfg->timeoutremote);
	if (port == REMOTE_PORT_QMTPS &&
	    qmtp_tls_start(&io, job, why, tlsinfo, sizeof(tlsinfo)) != 0) {
		qmtp_client_end(&io);
		return SMTP_NEXT;
	}
	if (qmtp_send(&io, job) < 0) {
		qmtp_client_end(&io);
		buf_reset(why);
		buf_printf(why, "ZConnected to %s but connection died. (#4.4.2)\n", job->peer);
		return SMTP_NEXT;
	}
	for (i = 0; i < job->nrcpt; i++) {
		if (ns_read(&io, QMTP_ANSWER_MAX, ans, &len) != NS_DONE || len == 0 ||
		    strchr("KZD", ans[0]) == NULL || memchr(ans, '\0', len) != NULL)
			break;
		if (ans[0] == 'K') {
			report_rcpt('r', "", NULL);
			any = 1;
			continue;
		}
		snprintf(text, sizeof(text), "%s does not like recipient.\n", job->peer);
		report_rcpt(ans[0] == 'D' ? 'h' : 's', text, ans + 1);
	}
	qmtp_client_end(&io);
	buf_reset(why);
	if (i < job->nrcpt) {
		if (i == 0) {
			buf_printf(why, "Connected to %s but connection died. "
			    "Possible duplicate! (#4.4.2)\n", job->peer);
			report_final('Z', buf_str(why), NULL);
		}
		snprintf(text, sizeof(text), "Connected to %s but connection died. "
		    "Possible duplicate! (#4.4.2)\n", job->peer);
		for (; i < job->nrcpt; i++)
			report_rcpt('s', text, NULL);
	}
	if (!any) {
		buf_printf(why, "Giving up on %s.\n%s", job->peer, tlsinfo);
		report_final('D', buf_str(why), NULL);
	}
	buf_printf(why, "%s accepted message.\n%s", job->peer, tlsinfo);
	report_final('K', buf_str(why), NULL);
}
