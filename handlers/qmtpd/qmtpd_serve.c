/* SPDX-License-Identifier: MIT
 * qmtpd_serve.c - one QMTP connection from start to end: rules, controls, session.
 *
 * Runs as:    qmaild, one process per connection (handlers/qmtpd).
 * Hostile:    every byte from rfd.
 * Trusted:    control files, the environment set by the unit or tcpserver rules.
 * May touch:  rfd/wfd (client), fd 2 (journal), qmail-queue through lib/mail/qqueue.
 */
#include <stddef.h>

#include "log.h"
#include "mail/exitcode.h"
#include "qmtpd.h"

/* qmtpd_serve - QMTP has no greeting: a denied client or a control error
 * just sees the connection close (the client retries later); QMTPS does the
 * TLS handshake before the first QMTP byte */
int
qmtpd_serve(int rfd, int wfd)
{
	struct qmtpd_conf conf;
	struct peer peer;
	struct io io;
	int code, r;

	if ((r = qmtpd_open(rfd, "control/rules.qmtpd.cdb", 0, "QMTP", &peer, &conf)) != 0)
		return r;
	if (qmtpd_tls_load(&conf) < 0) {
		log_err("qmtp: unable to read controls: closing");
		qmtpd_conf_free(&conf);
		return EXIT_TEMP;
	}
	io_init_fd(&io, rfd, wfd, (unsigned)conf.timeout);
	if (qmtpd_tls_start(&io, &conf, &peer) < 0)
		code = QMTPD_EXIT_DROP;
	else
		code = qmtpd_session(&io, &conf, &peer);
	qmtpd_tls_end(&io, &conf);
	qmtpd_conf_free(&conf);
	return code;
}

int
qmtpd_open(int rfd, const char *rules, int require, const char *proto,
    struct peer *peer, struct qmtpd_conf *conf)
{
	int r;

	peer_get(peer, rfd);
	r = qmtpd_rules(peer, rules, require);
	if (r == 1)
		return QMTPD_EXIT_DROP;
	smtpd_tcpenv(peer);	/* TCPREMOTEIP & co. for queue filters, as qmail-smtpd */
	if (r < 0 || qmtpd_conf_load(conf, proto) < 0) {
		log_err("%s: unable to read controls: closing", proto);
		return EXIT_TEMP;
	}
	return 0;
}
