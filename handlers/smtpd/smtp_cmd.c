/* SPDX-License-Identifier: MIT
 * smtp_cmd.c - the SMTP verbs other than DATA: HELO EHLO MAIL RCPT RSET NOOP QUIT HELP VRFY.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the argument of every command (a bounded, NUL-free line).
 * Trusted:    the configuration; RELAYCLIENT from the unit or tcpserver rules.
 * May touch:  the session (replies are buffered in its io), fd 2 (journal).
 */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "smtp_reply.h"
#include "smtpd.h"

/* smtp_tx_reset - forget the sender and the recipients (RSET, HELO, after DATA) */
void
smtp_tx_reset(struct smtp_session *s)
{
	s->seenmail = 0;
	s->nrcpt = 0;
	s->msgsize = 0;
	buf_reset(&s->mailfrom);
	buf_reset(&s->rcptto);
}

static void
smtp_sethelo(struct smtp_session *s, const char *arg)
{
	if (buf_cpys(&s->helo, arg) < 0)
		buf_reset(&s->helo);
	s->seenhelo = 1;
	smtp_tx_reset(s);
}

/* smtp_helo - HELO: remember the name, reset the transaction */
void
smtp_helo(struct smtp_session *s, const char *arg)
{
	smtp_sethelo(s, arg);
	s->proto = "SMTP";
	smtp_outf(s, SMTP_R_HELO_FMT, buf_str(&s->conf->greeting));
}

/* smtp_ehlo - the greeting plus our extensions (RFC 5321 section 4.1.1.1) */
void
smtp_ehlo(struct smtp_session *s, const char *arg)
{
	const char *const *k;
	char size[64];

	smtp_sethelo(s, arg);
	s->proto = "ESMTP";
	smtp_outf(s, SMTP_R_EHLO_FIRST_FMT, buf_str(&s->conf->greeting));
	if (s->conf->databytes)
		snprintf(size, sizeof(size), SMTP_R_EHLO_SIZE_FMT, s->conf->databytes);
	else
		snprintf(size, sizeof(size), "%s", SMTP_R_EHLO_SIZE);
	smtp_outf(s, "250-%s", size);
	smtp_sec_ehlo(s);
	for (k = SMTP_R_EHLO_KEYWORDS; *k; k++)
		if (k[1])
			smtp_outf(s, "250-%s", *k);
		else
			smtp_outf(s, "250 %s", *k);
}

/* smtp_mail - MAIL FROM: open a transaction (RFC 5321 section 4.1.1.2) */
void
smtp_mail(struct smtp_session *s, const char *arg)
{
	const char *params, *refuse;
	struct buf addr;

	if (s->seenmail) {
		smtp_out(s, SMTP_R_NESTED_MAIL);
		return;
	}
	buf_init(&addr, SMTP_ADDR_MAX + 1);
	refuse = smtp_addr_parse(arg, "from", &addr, &params);
	if (refuse == NULL)
		refuse = smtp_mail_params(params, s->conf->databytes, &s->msgsize);
	if (refuse == NULL)
		refuse = smtp_check_mail(s, buf_str(&addr));
	if (refuse == NULL)
		refuse = smtp_sec_mail_check(s, buf_str(&addr));
	if (refuse) {
		char action[64];

		smtp_logx(s, smtp_reply_action(refuse, "ORIG", action, sizeof(action)),
		    buf_str(&addr), "", NULL);
		smtp_out(s, refuse);
	} else {
		smtp_tx_reset(s);
		buf_cpy(&s->mailfrom, buf_str(&addr), buf_len(&addr));
		s->seenmail = 1;
		smtp_log(s, "Accept::ORIG::Sender", NULL);
		smtp_out(s, SMTP_R_MAIL_OK);
	}
	buf_free(&addr);
}

/* smtp_rcpt - RCPT TO: relay control, then add to the envelope */
void
smtp_rcpt(struct smtp_session *s, const char *arg)
{
	const char *params, *refuse;
	char action[64];
	struct buf addr;

	buf_init(&addr, 2 * SMTP_ADDR_MAX);
	refuse = smtp_addr_parse(arg, "to", &addr, &params);
	if (refuse == NULL && *params)
		refuse = SMTP_R_PARAM;
	if (refuse == NULL) {
		smtp_addr_localip(&addr, s->conf);
		refuse = smtp_rcpt_policy(s, &addr);
	}
	if (refuse == NULL && (buf_catc(&s->rcptto, 'T') < 0 ||
	    buf_cat(&s->rcptto, buf_str(&addr), buf_len(&addr) + 1) < 0))
		refuse = SMTP_R_TOOMANYRCPT;
	smtp_logx(s, refuse ? smtp_reply_action(refuse, "RCPT", action, sizeof(action)) :
	    s->conf->relayclient ? "Accept::RCPT::Relayclient" : s->conf->recipients.n ?
	    "Accept::RCPT::Recipients_Rcptto" : "Accept::RCPT::Rcpthosts_Rcptto",
	    buf_str(&s->mailfrom), buf_str(&addr), NULL);
	smtp_tarpit(s);
	if (refuse)
		smtp_out(s, refuse);
	else {
		s->nrcpt++;
		smtp_out(s, SMTP_R_RCPT_OK);
	}
	buf_free(&addr);
}

/* smtp_rset - RSET: forget the transaction */
void
smtp_rset(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_tx_reset(s);
	smtp_out(s, SMTP_R_RSET);
}

/* smtp_noop - NOOP */
void
smtp_noop(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_out(s, SMTP_R_NOOP);
}

/* smtp_quit - QUIT: 221, then the loop ends */
void
smtp_quit(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_outf(s, SMTP_R_QUIT_FMT, buf_str(&s->conf->greeting));
	s->done = 1;
}

/* smtp_help - HELP: a pointer to the man page */
void
smtp_help(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_out(s, SMTP_R_HELP);
}

/* smtp_vrfy - as qmail: no address harvesting, but no refusal either (RFC 5321 3.5.3) */
void
smtp_vrfy(struct smtp_session *s, const char *arg)
{
	(void)arg;
	smtp_out(s, SMTP_R_VRFY);
}
