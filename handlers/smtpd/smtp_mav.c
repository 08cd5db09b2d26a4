/* SPDX-License-Identifier: MIT
 * smtp_mav.c - who may relay by AUTH or client certificate, and LOCALMFCHECK on the
 * senders of relaying clients.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the sender address; the client certificate's names.
 * Trusted:    LOCALMFCHECK, TLSCLIENTRELAY, RELAYCLIENT; control/rcpthosts and
 *             mailfromrules.cdb; the TLS verification.
 * May touch:  nothing outside the session.
 */
#include <string.h>
#include <strings.h>

#include "smtp_reply.h"
#include "smtpd.h"

static int
mav_cert_relay(const struct smtp_session *s)
{
	const struct tls_info *i = &s->sec.info;

	if (!s->sec.has_tls || !i->client_verified || smtp_sec_conf.certrelay == SMTP_CR_OFF)
		return 0;
	if (smtp_sec_conf.certrelay == SMTP_CR_HOST)
		return s->seenhelo && tls_client_cert_names(s->io, buf_str(&s->helo));
	return 1;
}

/* smtp_sec_is_relay - AUTH succeeded, or a verified certificate (TLSCLIENTRELAY) */
int
smtp_sec_is_relay(const struct smtp_session *s)
{
	return s->sec.authuser[0] != '\0' || mav_cert_relay(s);
}

static int
mav_domain_is(const char *addr, const char *dom)
{
	const char *at = strrchr(addr, '@');

	return at && strcasecmp(at + 1, dom) == 0;
}

static int
mav_is_user(const char *sender, const char *user)
{
	const char *at = strrchr(sender, '@');

	if (strcasecmp(sender, user) == 0)
		return 1;
	/* a user name without domain: the local part, in one of our domains */
	return strchr(user, '@') == NULL && at && (size_t)(at - sender) == strlen(user) &&
	    strncasecmp(sender, user, strlen(user)) == 0;
}

/* smtp_sec_mail_check - s/qmail's LOCALMFCHECK for relaying clients (RELAYCLIENT,
 * AUTH or certificate): the refusal, or NULL */
const char *
smtp_sec_mail_check(const struct smtp_session *s, const char *sender)
{
	const char *m = smtp_sec_conf.localmfcheck;
	int ok;

	if (m == NULL || *sender == '\0' ||
	    (s->conf->relayclient == NULL && !smtp_sec_is_relay(s)))
		return NULL;
	if (strcmp(m, "=") == 0)
		ok = s->sec.authuser[0] && mav_is_user(sender, s->sec.authuser) &&
		    (strchr(s->sec.authuser, '@') || smtp_rcpthosts(s->conf, sender));
	else if (strcmp(m, "?") == 0 || strcmp(m, "@") == 0)
		ok = s->sec.info.client_email[0] &&
		    strcasecmp(sender, s->sec.info.client_email) == 0;
	else if (strcmp(m, "!") == 0 && smtp_sec_conf.mfrules_fd >= 0)
		ok = smtp_mfrules_check(smtp_sec_conf.mfrules_fd, s->peer->remoteip,
		    s->peer->remotehost, smtp_sec_remoteinfo(s), sender);
	else	/* '', a domain, or '!' without the cdb: as s/qmail, rcpthosts too */
		ok = (strlen(m) > 1 && mav_domain_is(sender, m)) ||
		    (strchr(sender, '@') && smtp_rcpthosts(s->conf, sender));
	if (ok < 0)
		return SMTP_R_MAV_TEMP;
	return ok ? NULL : SMTP_R_MAV;
}
