/* SPDX-License-Identifier: MIT */
#ifndef SQ_QMTPD_H
#define SQ_QMTPD_H

#include <stddef.h>

#include "buf.h"
#include "io.h"
#include "mail/qqueue.h"
#include "peer.h"
#include "smtpd.h"
#include "tls.h"

/* Layout:
 *   netstring.c     strict netstring parser (a fuzz target)
 *   qmtp_rcpt.c     the recipient list: parse, rcpthosts policy (no I/O; fuzzed)
 *   qmtp_conf.c     control files, client rules, the Received line, the log line
 *   qmtp_tls.c      QMTPS: implicit TLS, client certificates as relay clients
 *   qmtpd_session.c one connection: messages until the client closes */

#define QMTP_ADDR_MAX		1000		/* sender or recipient */
#define QMTP_RCPTLIST_MAX	(1024 * 1024)	/* bytes of the recipient list */
#define QMTP_RCPT_MAX		100000		/* recipients per message */
#define QMTP_MAXHOPS		100		/* Received + Delivered-To lines (qmail-smtpd's) */
#define QMTPD_HANDSHAKE_MAX	60		/* seconds for the TLS handshake, at most */

#define QMTPD_EXIT_OK		0	/* the client closed between messages */
#define QMTPD_EXIT_DROP		1	/* protocol violation, timeout, client gone */

/* QMTPS (port 6209): TLS from the first byte, as qmail-smtpd --tls=implicit. */
struct qmtpd_tls {
	struct tls_ctx *ctx;		/* credentials; NULL: plain QMTP */
	int active;			/* the handshake succeeded */
	int cert_relay;			/* a verified client certificate: a relay client */
	struct tls_info info;
};

struct qmtpd_conf {
	struct buf me;			/* control/me */
	unsigned long timeout;		/* control/timeoutqmtpd, seconds per read/write */
	size_t databytes;		/* control/databytes or $DATABYTES; 0 = none */
	struct smtpd_conf relay;	/* only rcpthosts, mrh, relayclient are used */
	const char *relayclient;	/* $RELAYCLIENT, or NULL */
	const char *proto;		/* "QMTP" or "QMQP" in the Received line */
	const char *progname;		/* "qmail-qmtpd" or "qmail-qmqpd" in the log */
	int relay_all;			/* QMQP: every recipient is accepted */
	struct qmtpd_tls tls;
};

/* One parsed recipient list: addresses NUL-separated, per-recipient verdict. */
struct qmtp_rcpts {
	struct buf addrs;		/* addr\0addr\0... (RELAYCLIENT suffix added) */
	struct buf ok;			/* one byte per recipient: 1 accepted, 0 refused */
	size_t n;
};

/* One message being received. */
struct qmtp_msg {
	struct qqueue qq;
	int qq_ok;			/* qmail-queue is running */
	int toobig;			/* more than databytes: discarded */
	size_t bytes;
	long qp;			/* qmail-queue's pid, for the answer and the log */
	int inheader;			/* loop detection: still in the header */
	unsigned hops;			/* Received: and Delivered-To: lines seen */
	size_t hpos;
	char hline[16];			/* start of the current header line */
	const char *result;		/* the log's Action::Type::Condition for the message */
	char sender[QMTP_ADDR_MAX + 1];
	struct qmtp_rcpts rcpts;
};

/* qmtp_rcpt.c */
void qmtp_rcpts_init(struct qmtp_rcpts *r);
void qmtp_rcpts_free(struct qmtp_rcpts *r);
/* qmtp_rcpts_parse - the contents of the recipient list netstring; conf NULL:
 * accept all. NS_DONE, or NS_SYNTAX (also for an empty list) / NS_TOOBIG */
int qmtp_rcpts_parse(struct qmtp_rcpts *r, const char *p, size_t n,
    const struct qmtpd_conf *conf);

/* qmtp_conf.c */
int qmtpd_conf_load(struct qmtpd_conf *c, const char *proto);
void qmtpd_conf_free(struct qmtpd_conf *c);
/* qmtpd_rules - control/<file> (tcprules cdb) for this client: 0, 1 deny, -1 error;
 * require: no file or no matching rule also denies */
int qmtpd_rules(const struct peer *peer, const char *file, int require);
/* qmtpd_open - the start both receivers share: the peer, its rule in
 * control/<rules> (require: no rule means deny), the TCP environment and
 * proto's controls; 0 go on, QMTPD_EXIT_DROP denied, EXIT_TEMP (logged) */
int qmtpd_open(int rfd, const char *rules, int require, const char *proto,
    struct peer *peer, struct qmtpd_conf *conf);
void qmtpd_received(struct qqueue *qq, const struct qmtpd_conf *c, const struct peer *p);
/* qmtpd_log - s/qmail's unified line: "qmail-qmtpd: pid P Action::Type::Condition
 * P:QMTP S:ip:host F:from T:rcpt 'info'" (from, rcpt, info may be NULL) */
void qmtpd_log(const struct qmtpd_conf *c, const struct peer *p, const char *action,
    const char *from, const char *rcpt, const char *info);

/* qmtp_tls.c */
/* qmtpd_tls_args - "--tls=implicit" (QMTPS) or "--tls=none": 0, or -1 (logged) */
int qmtpd_tls_args(int argc, char **argv);
/* qmtpd_tls_load - QMTPS (argv or $QMTPS=1): load the credentials: 0, or -1 (logged) */
int qmtpd_tls_load(struct qmtpd_conf *c);
/* qmtpd_tls_start - QMTPS: the handshake before any QMTP byte: 0, or -1 (logged) */
int qmtpd_tls_start(struct io *io, struct qmtpd_conf *c, const struct peer *p);
/* qmtpd_tls_with - the Received line's protocol and TLS comment */
void qmtpd_tls_with(struct qqueue *qq, const struct qmtpd_conf *c);
/* qmtpd_tls_end - close_notify and free the credentials */
void qmtpd_tls_end(struct io *io, struct qmtpd_conf *c);

/* qmtpd_session.c */
/* qmtp_body - stream len message bytes (CRLF -> LF if dos) to m->qq unless over
 * databytes, then the ',': NS_DONE, NS_SYNTAX or NS_IO */
int qmtp_body(struct io *io, struct qmtp_msg *m, size_t len, int dos,
    const struct qmtpd_conf *conf);
int qmtpd_session(struct io *io, const struct qmtpd_conf *conf, const struct peer *peer);
/* qmtpd_serve - rules, controls, then the session on rfd/wfd; the exit code */
int qmtpd_serve(int rfd, int wfd);

/* qmqpd.c: one QMQP message on rfd/wfd (rules.qmqpd.cdb must allow the client) */
int qmqpd_serve(int rfd, int wfd);
/* qmqpc.c: qmail-qmqpc: message on fd 0, envelope on fd 1: qmail-queue's exit code */
int qmqpc_run(void);

#endif
