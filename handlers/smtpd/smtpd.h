/* SPDX-License-Identifier: MIT */
#ifndef SQ_SMTPD_H
#define SQ_SMTPD_H

#include <stddef.h>
#include <cdb.h>

#include "buf.h"
#include "cfg.h"
#include "io.h"
#include "peer.h"
#include "smtp_sec.h"

/* Layout, meant to grow into issue 4 without rewrites:
 *   smtp_session.c  connection, command loop, the verb table (STARTTLS, AUTH: new rows)
 *   smtp_cmd.c      the verbs; smtp_rcpt_check() is where recipient policy is chained
 *   smtp_relay.c    rcpthosts/morercpthosts (recipients, badrcptto go beside it)
 *   smtp_addr.c     address and parameter parsing, no I/O (a fuzz target)
 *   smtp_data.c     DATA state machine, Received line, qmail-queue
 *   smtp_reply.c    every reply text; smtp_conf.c every control file
 * TLS replaces the io transport (io_set_transport); tcprules would fill
 * smtpd_conf (relayclient, databytes) before the session starts. */

/* Limits (RFC 5321 section 4.5.3.1 gives 512 for a command line; extensions
 * make it longer, so we allow 1000 plus slack and refuse beyond). */
#define SMTP_LINE_MAX		1024	/* command line incl. CRLF */
#define SMTP_ADDR_MAX		900	/* as qmail: longer is a syntax error */
#define SMTP_RCPT_MAX		1000	/* recipients per message */
#define SMTP_BADCMD_MAX		10	/* unknown/bad commands before 421 */
#define SMTP_MAXHOPS		100	/* Received + Delivered-To lines */

/* Exit codes of qmail-smtpd (qmail-smtpd(8) EXIT STATUS) */
#define SMTPD_EXIT_OK		0	/* QUIT */
#define SMTPD_EXIT_DROP		1	/* client gone, timeout, protocol violation */

/* Configuration, read once before the first client byte; read-only after. */
struct smtpd_conf {
	struct buf me;			/* control/me */
	struct buf greeting;		/* control/smtpgreeting, default me */
	struct buf localiphost;		/* control/localiphost, default me */
	unsigned long timeout;		/* control/timeoutsmtpd, seconds per read */
	size_t databytes;		/* control/databytes or $DATABYTES; 0 = none */
	struct cfg_list rcpthosts;	/* control/rcpthosts */
	struct cdb mrh;			/* control/morercpthosts.cdb, if mrh_ok */
	int mrh_ok;
	const char *relayclient;	/* $RELAYCLIENT, or NULL */
	/* issue 4: anti-abuse (smtp_checks.c) and recipient checks (smtp_rcpt.c) */
	struct cfg_list badmailfrom;	/* control/badmailfrom */
	struct cfg_list badrcptto;	/* control/badrcptto */
	struct cfg_list badhelo;	/* control/badhelo */
	struct cfg_list recipients;	/* control/recipients */
	const char *helocheck;		/* $HELOCHECK, or NULL */
	const char *mfdnscheck;		/* $MFDNSCHECK, or NULL */
	int recipients450;		/* $RECIPIENTS450 set */
	unsigned long maxrcpt;		/* $MAXRECIPIENTS, capped by SMTP_RCPT_MAX */
	unsigned long tarpitcount;	/* $TARPITCOUNT: 0 = off */
	unsigned long tarpitdelay;	/* $TARPITDELAY seconds */
	unsigned long timeoutsession;	/* control/timeoutsession: whole connection */
};

/* One SMTP connection. */
struct smtp_session {
	struct io *io;
	const struct smtpd_conf *conf;
	const struct peer *peer;
	struct buf helo;		/* HELO/EHLO argument */
	int seenhelo;
	int seenmail;			/* a MAIL transaction is open */
	struct buf mailfrom;
	struct buf rcptto;		/* T<addr>\0 for every accepted recipient */
	size_t nrcpt;
	size_t msgsize;			/* MAIL ... SIZE=, 0 when not given */
	int smtputf8;			/* MAIL ... SMTPUTF8 */
	const char *proto;		/* SMTP, ESMTP (TLS/AUTH may change it) */
	unsigned long badrcpts;		/* refused RCPTs this session (tarpit) */
	unsigned long rcpts;		/* RCPTs this session (tarpit) */
	unsigned badcmds;
	struct smtp_sec sec;		/* TLS and AUTH state (smtp_sec.h) */
	int done;			/* leave the command loop */
	int exitcode;
	char line[SMTP_LINE_MAX];
};

/* smtp_session.c */
void smtp_session_init(struct smtp_session *s, struct io *io,
    const struct smtpd_conf *conf, const struct peer *peer);
void smtp_session_free(struct smtp_session *s);
int smtp_session_run(struct smtp_session *s);
void smtp_out(struct smtp_session *s, const char *reply);
void smtp_outf(struct smtp_session *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void smtp_drop(struct smtp_session *s, const char *reply);
void smtp_log(const struct smtp_session *s, const char *action, const char *info);
void smtp_logx(const struct smtp_session *s, const char *action, const char *from,
    const char *rcpt, const char *info);

/* smtp_cmd.c: the verbs; each takes the argument after the verb */
void smtp_helo(struct smtp_session *s, const char *arg);
void smtp_ehlo(struct smtp_session *s, const char *arg);
void smtp_mail(struct smtp_session *s, const char *arg);
void smtp_rcpt(struct smtp_session *s, const char *arg);
void smtp_rset(struct smtp_session *s, const char *arg);
void smtp_noop(struct smtp_session *s, const char *arg);
void smtp_quit(struct smtp_session *s, const char *arg);
void smtp_help(struct smtp_session *s, const char *arg);
void smtp_vrfy(struct smtp_session *s, const char *arg);
void smtp_tx_reset(struct smtp_session *s);

/* smtp_data.c */
void smtp_data(struct smtp_session *s, const char *arg);

/* smtp_addr.c: "FROM:<addr> params" parsing; returns a reply on error, else NULL */
const char *smtp_addr_parse(const char *arg, const char *keyword, struct buf *addr,
    const char **params);
const char *smtp_mail_params(const char *params, size_t databytes, size_t *size);
void smtp_addr_localip(struct buf *addr, const struct smtpd_conf *conf);

/* smtp_relay.c: may this recipient be accepted without RELAYCLIENT? */
int smtp_rcpthosts(const struct smtpd_conf *conf, const char *addr);

/* smtp_checks.c: badmailfrom, badrcptto, badhelo/HELOCHECK, MFDNSCHECK */
const char *smtp_check_mail(struct smtp_session *s, const char *addr);
int smtp_check_badrcptto(const struct smtpd_conf *conf, const char *addr);
int smtp_list_match(const struct cfg_list *l, const char *addr);

/* smtp_rcpt.c: the recipient policy chain; the suffix of RELAYCLIENT is added */
const char *smtp_rcpt_policy(struct smtp_session *s, struct buf *addr);
void smtp_tarpit(struct smtp_session *s);
/* recipients extension: 1 accepted, 0 unknown, -1 error (logged) */
int smtp_recipients(const struct smtpd_conf *conf, const char *addr);
/* smtp_rcpt_pam.c: "domain|program": 1 known, 0 unknown, -1 trouble */
int smtp_rcpt_pam(const char *cmdline, const char *addr);

/* smtp_rules.c: control/rules.smtpd.cdb when not started by tcpserver */
int smtpd_rules_apply(const struct peer *peer, int *deny);
void smtpd_tcpenv(const struct peer *peer);

/* smtp_signal.c: 421 on SIGTERM and at the end of the session bound */
void smtp_signal_init(int wfd, unsigned long seconds);
void smtp_signal_plain(int wfd);

/* smtpd_serve.c: controls, peer and session on rfd/wfd; the exit code */
int smtpd_serve(int rfd, int wfd);

/* smtp_conf.c */
int smtpd_conf_load(struct smtpd_conf *conf);
void smtpd_conf_free(struct smtpd_conf *conf);

#endif
