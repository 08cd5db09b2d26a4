/* SPDX-License-Identifier: MIT
 * smtp_session.c - the SMTP connection: greeting, command loop, command table.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    every byte read from the client; it is bounded by SMTP_LINE_MAX.
 * Trusted:    the configuration (read before the first client byte), the peer.
 * May touch:  the session's struct io, fd 2 (journal). Never fd 0/1 directly.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "log.h"
#include "smtp_reply.h"
#include "smtpd.h"

/* check - refuse a verb out of sequence (returns the reply), or NULL */
typedef const char *(*smtp_check_fn)(const struct smtp_session *);
typedef void (*smtp_action_fn)(struct smtp_session *, const char *);

static const char *
smtp_need_mail(const struct smtp_session *s)
{
	return s->seenmail ? NULL : SMTP_R_WANTMAIL;
}

static const char *
smtp_need_rcpt(const struct smtp_session *s)
{
	if (!s->seenmail)
		return SMTP_R_WANTMAIL;
	return s->nrcpt ? NULL : SMTP_R_WANTRCPT;
}

/* One row per verb. flush: send the reply at once when no further command is
 * buffered (the replies a client waits for before it goes on); with pipelined
 * input every reply waits until the buffer is empty (issue 4, RFC 2920). */
static const struct smtp_verb {
	const char *name;
	smtp_check_fn check;
	smtp_action_fn action;
	int flush;
} smtp_verbs[] = {
	{ "rcpt", smtp_need_mail, smtp_rcpt, 0 },
	{ "mail", smtp_sec_need_mail, smtp_mail, 0 },
	{ "data", smtp_need_rcpt, smtp_data, 1 },
	{ "quit", NULL, smtp_quit, 1 },
	{ "helo", NULL, smtp_helo, 1 },
	{ "ehlo", NULL, smtp_ehlo, 1 },
	{ "rset", NULL, smtp_rset, 0 },
	{ "help", NULL, smtp_help, 1 },
	{ "noop", NULL, smtp_noop, 1 },
	{ "vrfy", NULL, smtp_vrfy, 1 },
	{ "starttls", NULL, smtp_starttls, 1 },
	{ "auth", NULL, smtp_auth, 1 },
	{ NULL, NULL, NULL, 0 }
};

static struct io *smtp_fatal_io;

/* smtp_fatal_cleanup - log_fatal (e.g. out of memory) tells the client first */
static void
smtp_fatal_cleanup(void)
{
	if (smtp_fatal_io) {
		io_puts(smtp_fatal_io, SMTP_R_LOCAL_ERROR);
		io_puts(smtp_fatal_io, "\r\n");
		io_flush(smtp_fatal_io);
	}
}

/* smtp_session_init - a new connection over io */
void
smtp_session_init(struct smtp_session *s, struct io *io,
    const struct smtpd_conf *conf, const struct peer *peer)
{
	memset(s, 0, sizeof(*s));
	s->io = io;
	s->conf = conf;
	s->peer = peer;
	buf_init(&s->helo, SMTP_LINE_MAX);
	buf_init(&s->mailfrom, SMTP_ADDR_MAX + 1);
	buf_init(&s->rcptto, (size_t)SMTP_RCPT_MAX * (SMTP_ADDR_MAX + 2));
	s->exitcode = SMTPD_EXIT_OK;
	smtp_sec_session(s);
}

/* smtp_session_free - release the session's buffers */
void
smtp_session_free(struct smtp_session *s)
{
	buf_free(&s->helo);
	buf_free(&s->mailfrom);
	buf_free(&s->rcptto);
}

/* smtp_out - one reply line (CRLF added), buffered until the client waits */
void
smtp_out(struct smtp_session *s, const char *reply)
{
	io_puts(s->io, reply);
	io_puts(s->io, "\r\n");
}

/* smtp_outf - formatted reply line */
void
smtp_outf(struct smtp_session *s, const char *fmt, ...)
{
	char line[SMTP_LINE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	smtp_out(s, line);
}

/* smtp_drop - last reply, then close the connection */
void
smtp_drop(struct smtp_session *s, const char *reply)
{
	smtp_out(s, reply);
	io_flush(s->io);
	s->done = 1;
	s->exitcode = SMTPD_EXIT_DROP;
}

/* smtp_logx - one line per decision in s/qmail's unified format:
 * "qmail-smtpd: pid P Action::Type::Condition P:proto S:ip:host H:helo
 * F:from T:rcpt 'info'"; log_* escapes what the client sent */
void
smtp_logx(const struct smtp_session *s, const char *action, const char *from,
    const char *rcpt, const char *info)
{
	log_info("qmail-smtpd: pid %ld %s P:%s S:%s:%s H:%s F:%s T:%s%s%s%s",
	    (long)getpid(), action, s->proto ? s->proto : "SMTP", s->peer->remoteip,
	    s->peer->remotehost ? s->peer->remotehost : "unknown", buf_str(&s->helo),
	    from, rcpt, info ? " '" : "", info ? info : "", info ? "'" : "");
}

/* smtp_log - a decision about the session or the transaction (no recipient) */
void
smtp_log(const struct smtp_session *s, const char *action, const char *info)
{
	smtp_logx(s, action, buf_str(&s->mailfrom), "", info);
}

static void
smtp_bad(struct smtp_session *s, const char *reply, const char *why)
{
	if (++s->badcmds >= SMTP_BADCMD_MAX) {
		smtp_log(s, "Reject::CONN::Toomany_Badcmds", NULL);
		smtp_drop(s, SMTP_R_TOOMANYBAD);
		return;
	}
	smtp_log(s, "Reject::CMD::Invalid_Command", why);
	smtp_out(s, reply);
}

static void
smtp_dispatch(struct smtp_session *s, char *line)
{
	const struct smtp_verb *v;
	const char *arg, *refuse;
	size_t n = strcspn(line, " ");

	arg = line[n] ? line + n + 1 : line + n;
	for (v = smtp_verbs; v->name; v++)
		if (strlen(v->name) == n && strncasecmp(v->name, line, n) == 0)
			break;
	if (v->name == NULL) {
		smtp_bad(s, SMTP_R_UNIMPL, "unimplemented");
		return;
	}
	if (v->check && (refuse = v->check(s)) != NULL) {
		smtp_out(s, refuse);
		return;
	}
	v->action(s, arg);
	/* RFC 2920: while pipelined commands are buffered, their replies wait
	 * (io_fill flushes anyway before it blocks for input) */
	if (v->flush && io_pending(s->io) == 0)
		io_flush(s->io);
}

static void
smtp_read_failed(struct smtp_session *s, int r)
{
	if (r == IO_TIMEOUT) {
		smtp_log(s, "Info::CONN::Timeout", NULL);
		smtp_drop(s, SMTP_R_TIMEOUT);
		return;
	}
	smtp_log(s, r == IO_EOF ? "Info::CONN::Closed" : "Info::CONN::Read_Error", NULL);
	s->done = 1;
	s->exitcode = SMTPD_EXIT_DROP;
}

/* smtp_session_run - greet, then one command per line until QUIT or an error */
int
smtp_session_run(struct smtp_session *s)
{
	size_t len;
	int r;

	smtp_fatal_io = s->io;
	log_set_cleanup(smtp_fatal_cleanup);
	smtp_log(s, "Info::CONN::Connect", NULL);
	smtp_outf(s, SMTP_R_GREETING_FMT, buf_str(&s->conf->greeting));
	io_flush(s->io);
	while (!s->done) {
		r = io_getline(s->io, s->line, sizeof(s->line), &len);
		if (r < 0)
			smtp_read_failed(s, r);
		else if (r == IO_TOOLONG)
			smtp_bad(s, SMTP_R_TOOLONG, "line too long");
		else if (r == IO_BARELF) {
			/* qmail's answer to a bare LF; see TRANSPARENCY in qmail-smtpd(8) */
			smtp_log(s, "Reject::CONN::Bare_LF", NULL);
			smtp_drop(s, SMTP_R_BARELF);
		} else if (memchr(s->line, '\0', len))
			smtp_bad(s, SMTP_R_NUL, "NUL byte");
		else
			smtp_dispatch(s, s->line);
	}
	io_flush(s->io);
	log_set_cleanup(NULL);
	smtp_fatal_io = NULL;
	return s->exitcode;
}
