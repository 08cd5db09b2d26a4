/* SPDX-License-Identifier: MIT
 * smtpd_serve.c - one SMTP connection from start to end: controls, peer, session.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    every byte from rfd.
 * Trusted:    control files, the environment set by the unit or tcpserver rules.
 * May touch:  rfd/wfd (client), fd 2 (journal), qmail-queue through lib/mail/qqueue.
 */
#include "io.h"
#include "mail/exitcode.h"
#include "peer.h"
#include "smtp_reply.h"
#include "smtpd.h"

#define SMTPD_CONTROLS_TIMEOUT 60

/* smtpd_serve - read the controls before any client byte, then run the session */
int
smtpd_serve(int rfd, int wfd)
{
	struct smtpd_conf conf;
	struct smtp_session s;
	struct peer peer;
	struct io io;
	int code, deny = 0, rules;

	peer_get(&peer, rfd);
	rules = smtpd_rules_apply(&peer, &deny);
	smtpd_tcpenv(&peer);
	if (rules == 0 && deny) {
		io_init_fd(&io, rfd, wfd, SMTPD_CONTROLS_TIMEOUT);
		io_puts(&io, SMTP_R_RULES_DENY);
		io_puts(&io, "\r\n");
		io_flush(&io);
		return SMTPD_EXIT_DROP;
	}
	if (rules < 0 || smtpd_conf_load(&conf) < 0 || smtp_sec_load() < 0) {
		/* qmail: "421 unable to read controls", exit 111; SMTPS just closes,
		 * a plaintext reply would only confuse the client's TLS stack */
		if (smtp_sec_is_implicit())
			return EXIT_TEMP;
		io_init_fd(&io, rfd, wfd, SMTPD_CONTROLS_TIMEOUT);
		io_puts(&io, SMTP_R_CONTROLS);
		io_puts(&io, "\r\n");
		io_flush(&io);
		return EXIT_TEMP;
	}
	smtp_signal_init(wfd, conf.timeoutsession);
	io_init_fd(&io, rfd, wfd, (unsigned)conf.timeout);
	if (smtp_sec_implicit(&io, (unsigned)conf.timeout) < 0) {
		smtpd_conf_free(&conf);
		return SMTPD_EXIT_DROP;
	}
	smtp_session_init(&s, &io, &conf, &peer);
	code = smtp_session_run(&s);
	smtp_sec_end(&io);
	smtp_session_free(&s);
	smtpd_conf_free(&conf);
	return code;
}
