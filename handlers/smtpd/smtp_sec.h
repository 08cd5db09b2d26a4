/* SPDX-License-Identifier: MIT */
#ifndef SQ_SMTP_SEC_H
#define SQ_SMTP_SEC_H

#include <stddef.h>

#include "buf.h"
#include "io.h"
#include "tls.h"

/* TLS (STARTTLS, SMTPS), SMTP AUTH, submission, client certificates and the
 * LOCALMFCHECK sender check: smtp_tls.c, smtp_auth.c, smtp_mav.c. The
 * settings are read once, before the first client byte, into smtp_sec_conf. */

enum smtp_tls_mode {
	SMTP_TLS_OFF,		/* UCSPITLS=- (or no certificate) */
	SMTP_TLS_OFFER,		/* unset or '' */
	SMTP_TLS_REQUIRE,	/* '!': STARTTLS before MAIL */
	SMTP_TLS_CERT		/* '?': STARTTLS and a verified client certificate */
};

enum smtp_certrelay { SMTP_CR_OFF, SMTP_CR_ON, SMTP_CR_HOST };

#define SMTP_AUTH_M_LOGIN	1
#define SMTP_AUTH_M_PLAIN	2
#define SMTP_AUTH_M_CRAM	4

struct smtp_sec_conf {
	int implicit;			/* --tls=implicit or SMTPS=1: TLS from the first byte */
	int submission;			/* --submission or SUBMISSION=1 */
	char *const *checkpw;		/* checkprogram subprogram..., or NULL */
	enum smtp_tls_mode tls_mode;
	int auth_mechs;			/* SMTP_AUTH_M_*, 0: AUTH off */
	int auth_required;		/* SMTPAUTH '!...' or submission */
	int auth_clear;			/* AUTHCLEARTEXT=1: AUTH allowed without TLS */
	unsigned authsleep;		/* AUTHSLEEP seconds after a failure (default 5) */
	enum smtp_certrelay certrelay;	/* TLSCLIENTRELAY */
	const char *localmfcheck;	/* LOCALMFCHECK, or NULL */
	int mfrules_fd;			/* control/mailfromrules.cdb for '!', or -1 */
	struct tls_ctx *tls;		/* NULL: no certificate, no TLS */
	int tls_broken;			/* credentials unusable: STARTTLS gets 454 */
};

extern struct smtp_sec_conf smtp_sec_conf;

/* Per connection */
struct smtp_sec {
	int has_tls;
	struct tls_info info;
	char authuser[256];		/* "" until AUTH succeeded */
	const char *authproto;		/* "PLAIN", "LOGIN", "CRAM-MD5" */
	unsigned authfail;
};

struct smtp_session;
struct smtpd_conf;

/* smtp_tls.c */
/* smtp_sec_args - qmail-smtpd [--tls=implicit] [--submission] [checkprogram sub...]: 0 or -1 */
int smtp_sec_args(int argc, char **argv);
/* smtp_sec_load - environment and TLS credentials, before any client byte: 0 or -1 */
int smtp_sec_load(void);
/* smtp_sec_is_implicit - SMTPS by argv or environment (before smtp_sec_load too) */
int smtp_sec_is_implicit(void);
/* smtp_sec_implicit - SMTPS: handshake before the greeting; 0, or -1 (dropped) */
int smtp_sec_implicit(struct io *io, unsigned timeout);
void smtp_sec_session(struct smtp_session *s);
void smtp_sec_end(struct io *io);
void smtp_starttls(struct smtp_session *s, const char *arg);
void smtp_sec_ehlo(struct smtp_session *s);
const char *smtp_sec_need_mail(const struct smtp_session *s);
/* smtp_sec_with - Received's "with" clause: "ESMTPSA (TLSv1.3 cipher)" ... */
void smtp_sec_with(const struct smtp_session *s, struct buf *out);
/* smtp_sec_remoteinfo - the authenticated user, else TCPREMOTEINFO, else NULL */
const char *smtp_sec_remoteinfo(const struct smtp_session *s);

/* smtp_auth.c */
void smtp_auth(struct smtp_session *s, const char *arg);
int smtp_auth_offered(const struct smtp_session *s);
void smtp_auth_ehlo(struct smtp_session *s);

/* smtp_mav.c */
/* smtp_sec_is_relay - authenticated, or a verified client certificate that relays */
int smtp_sec_is_relay(const struct smtp_session *s);
/* smtp_sec_mail_check - LOCALMFCHECK for such clients: the refusal, or NULL */
const char *smtp_sec_mail_check(const struct smtp_session *s, const char *sender);

/* smtp_mfrules.c */
/* smtp_mfrules_open - control/mailfromrules.cdb: fd, -1 none, -2 error (logged) */
int smtp_mfrules_open(void);
/* smtp_mfrules_check - may the client (ip, host, info may be NULL) use sender?
 * 1 yes, 0 no, -1 unreadable (logged) */
int smtp_mfrules_check(int fd, const char *ip, const char *host, const char *info,
    const char *sender);

/* smtp_b64.c */
/* smtp_b64_decode - strict base64: byte count, or -1 */
long smtp_b64_decode(const char *in, unsigned char *out, size_t max);
/* smtp_b64_encode - NUL-terminated; -1 if out is too small */
int smtp_b64_encode(const unsigned char *in, size_t n, char *out, size_t max);

#endif
