/* SPDX-License-Identifier: MIT
 * qmtp_conf.c - qmail-qmtpd's and qmail-qmqpd's controls, client rules, Received line.
 *
 * Runs as:    qmaild, before the first client byte is read.
 * Trusted:    control files, RELAYCLIENT/DATABYTES from the unit or the rules cdb.
 * Hostile:    nothing yet (the peer's address comes from the kernel).
 * May touch:  reads <home>/control/; keeps morercpthosts.cdb open read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "qmtpd.h"
#include "rules.h"

#define QMTPD_TIMEOUT_MAX 86400UL

static int
qmtpd_mrh_open(struct smtpd_conf *r)
{
	char path[4096];
	int fd;

	if (home_path(path, sizeof(path), "control/morercpthosts.cdb") < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (cdb_init(&r->mrh, fd) < 0) {
		close(fd);
		return -1;
	}
	r->mrh_ok = 1;
	return 0;
}

/* qmtpd_conf_load - me, timeoutqmtpd, databytes, rcpthosts, morercpthosts.cdb */
int
qmtpd_conf_load(struct qmtpd_conf *c, const char *proto)
{
	const struct cfg_item table[] = {
		{ "timeoutqmtpd", CFG_UINT, 1, QMTPD_TIMEOUT_MAX, "1200", NULL, &c->timeout },
		{ "databytes", CFG_SIZE, 0, SIZE_MAX, "0", "DATABYTES", &c->databytes },
		{ "rcpthosts", CFG_LIST, 0, 0, NULL, NULL, &c->relay.rcpthosts },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};

	memset(c, 0, sizeof(*c));
	c->proto = proto;
	c->progname = strcmp(proto, "QMQP") == 0 ? "qmail-qmqpd" : "qmail-qmtpd";
	buf_init(&c->me, 1024);
	cfg_list_init(&c->relay.rcpthosts);
	if (cfg_load(table) < 0)
		return -1;
	if (cfg_read_line("me", &c->me) < 0) {
		log_err("read control/me: %m");
		return -1;
	}
	if (qmtpd_mrh_open(&c->relay) < 0) {
		log_err("read control/morercpthosts.cdb: %m");
		return -1;
	}
	c->relayclient = getenv("RELAYCLIENT");
	c->relay.relayclient = c->relayclient;
	return 0;
}

/* qmtpd_conf_free - release what qmtpd_conf_load took */
void
qmtpd_conf_free(struct qmtpd_conf *c)
{
	if (c->relay.mrh_ok) {
		close(cdb_fileno(&c->relay.mrh));
		cdb_free(&c->relay.mrh);
		c->relay.mrh_ok = 0;
	}
	cfg_list_free(&c->relay.rcpthosts);
	buf_free(&c->me);
}

/* qmtpd_rules - tcpserver -x for a socket-activated receiver (PROTO unset):
 * 0 (environment set from the rule), 1 deny, -1 (logged) unreadable file;
 * require: a missing file or no matching rule denies too */
int
qmtpd_rules(const struct peer *peer, const char *file, int require)
{
	struct rules_match *m;
	char path[4096];
	int r = 0;

	if (getenv("PROTO") != NULL)
		return 0;
	if (home_path(path, sizeof(path), "%s", file) < 0)
		return -1;
	m = malloc(sizeof(*m));
	if (m == NULL)
		return -1;
	if (rules_lookup(path, peer->remoteip, peer->remotehost, peer->remoteinfo, m) < 0) {
		log_err("read %s: %m", file);
		r = -1;
	} else if (require && !m->found) {
		log_info("Reject::RULES::NoRule: S:%s: %s allows no such client", peer->remoteip,
		    file);
		r = 1;
	} else if (m->found && m->deny) {
		log_info("Reject::RULES::Deny: S:%s key=%s", peer->remoteip, m->key);
		r = 1;
	} else if (m->found && rules_setenv(m) < 0) {
		log_err("read %s: malformed rule for \"%s\"", file, m->key);
		r = -1;
	}
	free(m);
	return r;
}

/* qmtpd_received - qmail's form without HELO: "Received: from HOST (info@IP)\n
 *   by LOCAL with QMTP; 25 Nov 2026 12:00:00 -0000\n" */
void
qmtpd_received(struct qqueue *qq, const struct qmtpd_conf *c, const struct peer *p)
{
	static const char mon[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
	    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	const char *local = p->localhost ? p->localhost :
	    buf_len(&c->me) ? buf_str(&c->me) : p->localip;
	time_t now = time(NULL);
	char date[64];
	struct tm tm;

	qqueue_puts(qq, "Received: from ");
	qqueue_put_safe(qq, p->remotehost ? p->remotehost : "unknown");
	qqueue_puts(qq, " (");
	if (p->remoteinfo) {
		qqueue_put_safe(qq, p->remoteinfo);
		qqueue_puts(qq, "@");
	}
	qqueue_put_safe(qq, p->remoteip);
	qqueue_puts(qq, ")\n  by ");
	qqueue_put_safe(qq, local);
	qqueue_puts(qq, " with ");
	qmtpd_tls_with(qq, c);
	gmtime_r(&now, &tm);
	snprintf(date, sizeof(date), "; %d %s %d %02d:%02d:%02d -0000\n", tm.tm_mday,
	    mon[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	qqueue_puts(qq, date);
}

/* qmtpd_log - one decision in s/qmail's unified shape (as qmail-smtpd logs it;
 * QMTP has no HELO); the logger escapes what the client chose */
void
qmtpd_log(const struct qmtpd_conf *c, const struct peer *p, const char *action,
    const char *from, const char *rcpt, const char *info)
{
	log_info("%s: pid %ld %s P:%s%s S:%s:%s F:%s T:%s%s%s%s", c->progname, (long)getpid(),
	    action, c->proto, c->tls.ctx ? "S" : "", p->remoteip,
	    p->remotehost ? p->remotehost : "unknown", from ? from : "", rcpt ? rcpt : "",
	    info ? " '" : "", info ? info : "", info ? "'" : "");
}
