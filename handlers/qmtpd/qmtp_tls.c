/* SPDX-License-Identifier: MIT
 * qmtp_tls.c - QMTPS in qmail-qmtpd: implicit TLS, client certificates as relay clients.
 *
 * Runs as:    qmaild, one process per connection (handlers/qmtpd).
 * Hostile:    every client byte, the client's certificate and its names.
 * Trusted:    argv and environment from the unit or tcpserver rules; the
 *             credentials and the client CA (read by lib/tls before the first byte).
 * May touch:  the connection's io (switches it to TLS), the environment (SSL_*).
 *
 * s/qmail runs qmail-qmtpd under sslserver on port 6209 and takes a client
 * certificate that verifies against the CA as a licence to relay. Here the
 * same binary does the TLS itself: "--tls=implicit" (or QMTPS=1) makes the
 * handshake come first; a certificate that verifies (chain to clientca.pem,
 * time, TLS client purpose) makes the client a relay client, as RELAYCLIENT=""
 * would. Without a configured CA no certificate is asked for.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "qmtpd.h"

static int qmtpd_implicit;

/* qmtpd_tls_args - the mode switch of the unit's ExecStart= */
int
qmtpd_tls_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--tls=implicit") == 0)
			qmtpd_implicit = 1;
		else if (strcmp(argv[i], "--tls=none") == 0)
			qmtpd_implicit = 0;
		else {
			log_err("unknown argument %s (usage: qmail-qmtpd [--tls=implicit])", argv[i]);
			return -1;
		}
	}
	return 0;
}

/* qmtpd_tls_load - QMTPS needs a certificate; the CA is optional (no relaying by cert) */
int
qmtpd_tls_load(struct qmtpd_conf *c)
{
	const char *e = getenv("QMTPS");
	int r;

	memset(&c->tls, 0, sizeof(c->tls));
	if (!qmtpd_implicit && !(e && strcmp(e, "1") == 0))
		return 0;
	if ((r = tls_server_init(&c->tls.ctx, "qmtpd", TLS_CC_REQUEST)) < 0)
		return -1;
	if (r == 0) {
		log_err("QMTPS without a certificate ($CREDENTIALS_DIRECTORY/qmtpd.pem or "
		    "control/servercert.pem)");
		return -1;
	}
	return 0;
}

/* qmtpd_tls_start - QMTP has no greeting: the handshake is the first thing */
int
qmtpd_tls_start(struct io *io, struct qmtpd_conf *c, const struct peer *p)
{
	struct tls_info *i = &c->tls.info;
	unsigned hs = c->timeout < QMTPD_HANDSHAKE_MAX ? (unsigned)c->timeout :
	    QMTPD_HANDSHAKE_MAX;
	char why[128], d[1024];

	if (c->tls.ctx == NULL)
		return 0;
	if (tls_start(c->tls.ctx, io, NULL, hs, why, sizeof(why)) < 0) {
		qmtpd_log(c, p, "Reject::TLS::Handshake_Failed", NULL, NULL, why);
		return -1;
	}
	c->tls.active = 1;
	tls_get_info(io, i);
	tls_info_setenv(i);
	for (size_t n = strlen(i->verify_why); n > 0 && i->verify_why[n - 1] == ' '; n--)
		i->verify_why[n - 1] = '\0';
	if (i->client_verified && c->relayclient == NULL) {
		c->tls.cert_relay = 1;
		c->relayclient = c->relay.relayclient = "";
	}
	snprintf(d, sizeof(d), "%s %s resumed=%d cert=%s%s%s%s%s", i->protocol, i->cipher,
	    i->resumed, !i->has_client_cert ? "none" : i->client_verified ? "verified" :
	    "unverified", i->has_client_cert ? " dn=" : "", i->client_dn,
	    i->has_client_cert && !i->client_verified ? " why=" : "",
	    i->has_client_cert && !i->client_verified ? i->verify_why : "");
	qmtpd_log(c, p, "Info::TLS::Established", NULL, NULL, d);
	return 0;
}

static void
qmtpd_tls_put(struct qqueue *qq, const char *s)
{
	for (; *s; s++) {
		char ch = *s;

		if ((unsigned char)ch < 0x20 || (unsigned char)ch >= 0x7f || ch == '(' ||
		    ch == ')' || ch == '\\')
			ch = '?';
		qqueue_put(qq, &ch, 1);
	}
}

/* qmtpd_tls_with - "QMTP", or "QMTPS (TLSv1.3 TLS_AES_256_GCM_SHA384 encrypted,
 * verified client DN=CN=...)"; bytes that could break the comment become '?' */
void
qmtpd_tls_with(struct qqueue *qq, const struct qmtpd_conf *c)
{
	const struct tls_info *i = &c->tls.info;

	qqueue_puts(qq, c->proto);
	if (!c->tls.active)
		return;
	qqueue_puts(qq, "S (");
	qmtpd_tls_put(qq, i->protocol);
	qqueue_puts(qq, " ");
	qmtpd_tls_put(qq, i->cipher);
	qqueue_puts(qq, " encrypted");
	if (i->has_client_cert) {
		qqueue_puts(qq, i->client_verified ? ", verified client DN=" :
		    ", unverified client DN=");
		qmtpd_tls_put(qq, i->client_dn);
	}
	qqueue_puts(qq, ")");
}

/* qmtpd_tls_end - close_notify (best effort) and free the credentials */
void
qmtpd_tls_end(struct io *io, struct qmtpd_conf *c)
{
	if (c->tls.active)
		tls_end(io);
	tls_ctx_free(c->tls.ctx);
	c->tls.ctx = NULL;
	c->tls.active = 0;
}
