/* SPDX-License-Identifier: MIT
 * smtp_tls.c - STARTTLS and SMTPS in qmail-smtpd; the TLS/AUTH settings (UCSPITLS, SMTPAUTH).
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    every client byte; bytes pipelined behind STARTTLS are thrown away.
 * Trusted:    argv and environment from the unit or tcpserver rules; the
 *             credentials (read by lib/tls before the first client byte).
 * May touch:  the session's io (switches it to TLS), the environment (SSL_*).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "num.h"
#include "smtp_reply.h"
#include "smtpd.h"

struct smtp_sec_conf smtp_sec_conf;

static int
smtp_env_is(const char *name, const char *val)
{
	const char *v = getenv(name);

	return v && strcmp(v, val) == 0;
}

/* smtp_sec_args - mode switches first, then the checkpassword command line */
int
smtp_sec_args(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
		if (strcmp(argv[i], "--tls=implicit") == 0)
			smtp_sec_conf.implicit = 1;
		else if (strcmp(argv[i], "--tls=starttls") == 0)
			smtp_sec_conf.implicit = 0;
		else if (strcmp(argv[i], "--submission") == 0)
			smtp_sec_conf.submission = 1;
		else if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		} else {
			log_err("unknown option %s", argv[i]);
			return -1;
		}
	}
	smtp_sec_conf.checkpw = i < argc ? argv + i : NULL;
	return 0;
}

static void
smtp_sec_authenv(struct smtp_sec_conf *c)
{
	const char *a = getenv("SMTPAUTH");
	unsigned long n;

	c->auth_mechs = SMTP_AUTH_M_LOGIN | SMTP_AUTH_M_PLAIN;
	if (a && *a == '!') {
		c->auth_required = 1;
		a++;
	}
	if (a && strcmp(a, "-") == 0)
		c->auth_mechs = 0;
	else if (a && strcasecmp(a, "+cram") == 0)
		c->auth_mechs |= SMTP_AUTH_M_CRAM;
	else if (a && strcasecmp(a, "cram") == 0)
		c->auth_mechs = SMTP_AUTH_M_CRAM;
	else if (a && *a)
		log_warning("SMTPAUTH=%s: unknown, taken as ''", a);
	if (c->checkpw == NULL)
		c->auth_mechs = 0;
	if (c->submission)
		c->auth_required = 1;
	c->auth_clear = smtp_env_is("AUTHCLEARTEXT", "1");
	c->authsleep = 5;
	if ((a = getenv("AUTHSLEEP")) != NULL && num_parse_uint(a, 0, 60, &n) == 0)
		c->authsleep = (unsigned)n;
}

static void
smtp_sec_tlsenv(struct smtp_sec_conf *c)
{
	const char *u = getenv("UCSPITLS"), *r = getenv("TLSCLIENTRELAY");

	c->tls_mode = SMTP_TLS_OFFER;
	if (u == NULL && c->submission)
		c->tls_mode = SMTP_TLS_REQUIRE;
	else if (u && *u == '-')
		c->tls_mode = SMTP_TLS_OFF;
	else if (u && *u == '!')
		c->tls_mode = SMTP_TLS_REQUIRE;
	else if (u && *u == '?')
		c->tls_mode = SMTP_TLS_CERT;
	c->certrelay = r == NULL ? SMTP_CR_OFF : strcmp(r, "=") == 0 ? SMTP_CR_HOST : SMTP_CR_ON;
	c->localmfcheck = getenv("LOCALMFCHECK");
	if (smtp_env_is("SMTPS", "1"))
		c->implicit = 1;
	if (smtp_env_is("SUBMISSION", "1"))
		c->submission = 1;
}

static int
smtp_sec_auth_check(const struct smtp_sec_conf *c)
{
	if (c->auth_required && c->auth_mechs == 0) {
		log_err("AUTH is required but no checkpassword program is given (or SMTPAUTH=-)");
		return -1;
	}
	return 0;
}

/* smtp_sec_load - read the settings and the TLS credentials (before any client byte) */
int
smtp_sec_load(void)
{
	struct smtp_sec_conf *c = &smtp_sec_conf;
	enum tls_clientcert cc = TLS_CC_NONE;
	int r;

	smtp_sec_tlsenv(c);
	smtp_sec_authenv(c);
	c->mfrules_fd = -1;
	if (c->localmfcheck && strcmp(c->localmfcheck, "!") == 0 &&
	    (c->mfrules_fd = smtp_mfrules_open()) == -2)
		return -1;
	if (c->localmfcheck && strcmp(c->localmfcheck, "!") == 0 && c->mfrules_fd < 0)
		log_warning("LOCALMFCHECK=!: no control/mailfromrules.cdb, rcpthosts decides");
	if (c->tls_mode == SMTP_TLS_CERT)
		cc = TLS_CC_REQUIRE;
	else if (c->certrelay != SMTP_CR_OFF ||
	    (c->localmfcheck && (strcmp(c->localmfcheck, "?") == 0 ||
	    strcmp(c->localmfcheck, "@") == 0)))
		cc = TLS_CC_REQUEST;
	c->tls = NULL;
	if (c->tls_mode != SMTP_TLS_OFF || c->implicit) {
		if ((r = tls_server_init(&c->tls, "smtpd", cc)) < 0 &&
		    (c->implicit || c->tls_mode >= SMTP_TLS_REQUIRE))
			return -1;
		if (r < 0) {
			/* opportunistic STARTTLS: mail still flows, STARTTLS gets 454 */
			log_err("TLS credentials unusable: STARTTLS not offered, answered 454");
			c->tls_broken = 1;
			return smtp_sec_auth_check(c);
		}
		if (r == 0 && (c->implicit || c->tls_mode >= SMTP_TLS_REQUIRE)) {
			log_err("TLS is required but no certificate is configured "
			    "($CREDENTIALS_DIRECTORY/smtpd.pem or control/servercert.pem)");
			return -1;
		}
		if (r == 0)
			c->tls_mode = SMTP_TLS_OFF;
	}
	return smtp_sec_auth_check(c);
}

/* smtp_sec_is_implicit - SMTPS (argv or SMTPS=1): no plaintext reply ever */
int
smtp_sec_is_implicit(void)
{
	return smtp_sec_conf.implicit || smtp_env_is("SMTPS", "1");
}

/* smtp_sec_implicit - SMTPS: the handshake comes before the greeting */
int
smtp_sec_implicit(struct io *io, unsigned timeout)
{
	char why[128];

	if (!smtp_sec_conf.implicit)
		return 0;
	if (tls_start(smtp_sec_conf.tls, io, NULL, timeout, why, sizeof(why)) < 0) {
		log_info("qmail-smtpd: pid %ld Reject::TLS::Handshake_Failed '%s'", (long)getpid(),
		    why);
		return -1;
	}
	smtp_signal_plain(-1);		/* no plaintext 421 into the TLS stream */
	return 0;
}

static void
smtp_sec_started(struct smtp_session *s)
{
	struct tls_info *i = &s->sec.info;
	char d[1024];

	s->sec.has_tls = 1;
	tls_get_info(s->io, i);
	tls_info_setenv(i);
	snprintf(d, sizeof(d), "%s %s resumed=%d cert=%s%s%s", i->protocol, i->cipher,
	    i->resumed, !i->has_client_cert ? "none" : i->client_verified ? "verified" :
	    "unverified", i->has_client_cert ? " dn=" : "", i->client_dn);
	smtp_log(s, "Info::TLS::Established", d);
	if (smtp_sec_conf.tls_mode == SMTP_TLS_CERT && !i->client_verified) {
		smtp_log(s, "Reject::TLS::Client_Certificate", i->verify_why);
		smtp_drop(s, SMTP_R_TLS_NEEDCERT);
	}
}

/* smtp_sec_session - a new session: SMTPS sessions start in TLS */
void
smtp_sec_session(struct smtp_session *s)
{
	memset(&s->sec, 0, sizeof(s->sec));
	if (smtp_sec_conf.implicit && s->io->ctx)
		smtp_sec_started(s);
}

/* smtp_sec_end - close_notify at the end of a TLS session */
void
smtp_sec_end(struct io *io)
{
	tls_end(io);
	tls_ctx_free(smtp_sec_conf.tls);
	smtp_sec_conf.tls = NULL;
}

/* smtp_starttls - RFC 3207; nothing the client sent before the handshake survives it */
void
smtp_starttls(struct smtp_session *s, const char *arg)
{
	char why[128], d[200];

	if (s->sec.has_tls || smtp_sec_conf.tls == NULL || smtp_sec_conf.tls_mode == SMTP_TLS_OFF) {
		smtp_out(s, s->sec.has_tls ? SMTP_R_TLS_ALREADY : smtp_sec_conf.tls_broken ?
		    SMTP_R_TLS_TEMP : SMTP_R_UNIMPL);
		return;
	}
	if (*arg) {
		smtp_out(s, SMTP_R_TLS_SYNTAX);
		return;
	}
	if (io_pending(s->io) > 0) {
		/* CVE-2011-0411: plaintext pipelined behind STARTTLS is never executed */
		snprintf(d, sizeof(d), "%zu bytes discarded", io_pending(s->io));
		s->io->inpos = s->io->inlen;
		smtp_log(s, "Reject::TLS::Pipelined_Data", d);
		smtp_drop(s, SMTP_R_TLS_PIPELINED);
		return;
	}
	smtp_out(s, SMTP_R_TLS_GO);
	if (io_flush(s->io) < 0) {
		s->done = 1;
		s->exitcode = SMTPD_EXIT_DROP;
		return;
	}
	if (tls_start(smtp_sec_conf.tls, s->io, NULL, (unsigned)s->conf->timeout, why,
	    sizeof(why)) < 0) {
		snprintf(d, sizeof(d), "%s", why);
		smtp_log(s, "Reject::TLS::Handshake_Failed", d);
		s->done = 1;
		s->exitcode = SMTPD_EXIT_DROP;
		return;
	}
	/* RFC 3207 section 4.2: forget everything learnt before, HELO included */
	smtp_signal_plain(-1);		/* no plaintext 421 into the TLS stream */
	smtp_tx_reset(s);
	buf_reset(&s->helo);
	s->seenhelo = 0;
	smtp_sec_started(s);
}

/* smtp_sec_ehlo - STARTTLS and AUTH keywords, as the session state allows */
void
smtp_sec_ehlo(struct smtp_session *s)
{
	if (!s->sec.has_tls && smtp_sec_conf.tls && smtp_sec_conf.tls_mode != SMTP_TLS_OFF)
		smtp_out(s, "250-STARTTLS");
	smtp_auth_ehlo(s);
}

/* smtp_sec_need_mail - TLS and AUTH that must come before MAIL */
const char *
smtp_sec_need_mail(const struct smtp_session *s)
{
	if (!s->sec.has_tls && smtp_sec_conf.tls_mode >= SMTP_TLS_REQUIRE)
		return SMTP_R_TLS_FIRST;
	if (smtp_sec_conf.auth_required && s->sec.authuser[0] == '\0')
		return SMTP_R_AUTH_FIRST;
	return NULL;
}

/* smtp_sec_with - RFC 3848 protocol names, then the TLS details */
void
smtp_sec_with(const struct smtp_session *s, struct buf *out)
{
	const char *auth = s->sec.authuser[0] ? "A" : "";

	if (!s->sec.has_tls && !*auth) {
		buf_cpys(out, "SMTP");
		return;
	}
	buf_printf(out, "ESMTP%s%s", s->sec.has_tls ? "S" : "", auth);
	if (s->sec.has_tls)
		buf_printf(out, " (%s %s encrypted)", s->sec.info.protocol, s->sec.info.cipher);
}

/* smtp_sec_remoteinfo - who the client is: AUTH user, else TCPREMOTEINFO */
const char *
smtp_sec_remoteinfo(const struct smtp_session *s)
{
	return s->sec.authuser[0] ? s->sec.authuser : s->peer->remoteinfo;
}
