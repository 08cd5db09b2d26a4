/* SPDX-License-Identifier: MIT
 * smtp_client.c - one ESMTP session of qmail-remote: greeting, EHLO (HELO
 * fallback), STARTTLS or SMTPS, AUTH, MAIL/RCPT/DATA with PIPELINING, SIZE
 * and 8BITMIME, the message dot-stuffed with CRLF line ends.
 *
 * Runs as:    qmailr, inside qmail-remote.
 * Trusted:    the job (argv, control files), the queued message.
 * Hostile:    the server: replies are read byte by byte with a cap on their
 *             size and a deadline per reply, codes are checked, its text is
 *             made printable before it reaches the report.
 * May touch:  the connected socket.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "io.h"
#include "remote.h"
#include "tls.h"

#define SMTP_REPLY_MAX (1024 * 1024)	/* bytes of one reply before we give up */
#define SMTP_TEXT_MAX 5000		/* bytes of reply text kept for the report */

static struct tls_ctx *smtp_tls;	/* this session's TLS client context */

struct smtp_ext {
	int pipelining, eightbitmime, starttls;
	unsigned long size;		/* SIZE limit, 0: none announced */
	char auth[256];			/* AUTH mechanisms */
};

/* smtp_read_reply - qmail's smtpcode() with bounds: the code of the last line */
int
smtp_read_reply(struct io *io, struct smtp_reply *rp)
{
	time_t deadline = time(NULL) + (io->timeout ? (time_t)io->timeout : 1200);
	size_t total = 0, col = 0;
	char code[4] = "";
	int c, last = 0;

	buf_reset(&rp->text);
	rp->code = 0;
	for (;;) {
		c = io_getc(io);
		if (c < 0) {
			buf_cpys(&rp->text, c == IO_TIMEOUT ? "timed out waiting for a reply" :
			    "connection died");
			return 0;
		}
		/* a server dripping bytes passes every read timeout: bound the reply */
		if (++total > SMTP_REPLY_MAX || time(NULL) > deadline) {
			buf_cpys(&rp->text, "reply too long or too slow");
			return 0;
		}
		if (c == '\r')
			continue;
		if (buf_len(&rp->text) < SMTP_TEXT_MAX)
			buf_catc(&rp->text, c == '\n' || (c >= 32 && c < 127) ? (char)c : '?');
		if (col < 3) {
			if (c < '0' || c > '9')
				goto bad;
			code[col++] = (char)c;
			continue;
		}
		if (col == 3) {
			if (c != ' ' && c != '-' && c != '\n')
				goto bad;
			last = c != '-';
		}
		col++;
		if (c == '\n') {
			if (last) {
				code[3] = '\0';
				rp->code = (int)strtol(code, NULL, 10);
				if (rp->code < 200 || rp->code > 599)
					goto bad;
				return rp->code;
			}
			col = 0;
		}
	}
bad:
	buf_cpys(&rp->text, "invalid reply from the server");
	return 0;
}

static void
smtp_ehlo_parse(const char *text, struct smtp_ext *ext)
{
	memset(ext, 0, sizeof(*ext));
	for (const char *l = strchr(text, '\n'); l != NULL; l = strchr(l + 1, '\n')) {
		const char *kw = l + 1;
		size_t n;

		if (strlen(kw) < 4)
			break;
		kw += 4;
		n = strcspn(kw, "\n");
		if (strncasecmp(kw, "PIPELINING", 10) == 0)
			ext->pipelining = 1;
		else if (strncasecmp(kw, "8BITMIME", 8) == 0)
			ext->eightbitmime = 1;
		else if (strncasecmp(kw, "STARTTLS", 8) == 0)
			ext->starttls = 1;
		else if (strncasecmp(kw, "SIZE", 4) == 0 && (kw[4] == ' ' || kw[4] == '\n'))
			ext->size = strtoul(kw + 4, NULL, 10);
		else if (strncasecmp(kw, "AUTH", 4) == 0 && (kw[4] == ' ' || kw[4] == '=') &&
		    n - 4 < sizeof(ext->auth)) {
			memcpy(ext->auth, kw + 5, n - 5);
			ext->auth[n - 5] = '\0';
		}
	}
}

/* smtp_fail - the report text "<kind><prefix><peer><suffix>.\nRemote host said: ..." */
static int
smtp_fail(const struct remote_job *job, struct buf *why, char kind, const char *pre,
    const char *post, const struct smtp_reply *rp)
{
	buf_reset(why);
	buf_printf(why, "%c%s%s%s.\n", kind, pre, job->peer, post);
	if (rp != NULL && buf_len(&rp->text) > 0) {
		buf_cats(why, rp->code ? "Remote host said: " : "");
		buf_cats(why, buf_str(&rp->text));
	}
	return SMTP_NEXT;
}

static int
smtp_ehlo(struct io *io, const struct remote_job *job, struct smtp_reply *rp,
    struct smtp_ext *ext)
{
	io_printf(io, "EHLO %s\r\n", job->helo);
	if (smtp_read_reply(io, rp) == 250) {
		smtp_ehlo_parse(buf_str(&rp->text), ext);
		return 250;
	}
	memset(ext, 0, sizeof(*ext));
	if (rp->code == 0)
		return 0;
	io_printf(io, "HELO %s\r\n", job->helo);
	return smtp_read_reply(io, rp);
}

/* smtp_starttls - RFC 3207 by tlsdestinations; 0 go on, SMTP_NEXT stop */
static int
smtp_starttls(struct io *io, struct remote_job *job, struct smtp_reply *rp,
    struct smtp_ext *ext, struct buf *why)
{
	const struct tls_policy *p = &job->tls;
	char err[512];
	struct tls_client_opts o;

	tls_policy_client_opts(job, &o, err, sizeof(err));

	if (!job->smtps) {
		if (p->mode == TLSP_NEVER)
			return 0;
		if (!ext->starttls) {
			if (p->mode == TLSP_OPPORTUNISTIC)
				return 0;
			return smtp_fail(job, why, 'Z', "TLS is required for ",
			    " but it does not offer STARTTLS (#4.7.0)", NULL);
		}
		io_puts(io, "STARTTLS\r\n");
		if (smtp_read_reply(io, rp) != 220)
			return smtp_fail(job, why, 'Z', "Connected to ",
			    " but STARTTLS was rejected", rp);
	}
	if ((smtp_tls == NULL && tls_client_init(&smtp_tls, &o) < 0) ||
	    tls_start(smtp_tls, io, job->relayname, (unsigned)job->cfg->timeoutremote, err,
	    sizeof(err)) < 0) {
		job->tlsfailed = !job->smtps && p->mode == TLSP_OPPORTUNISTIC;
		buf_reset(why);
		buf_printf(why, "ZTLS connection to %s failed: %s (#4.7.5)\n", job->peer, err);
		return SMTP_NEXT;
	}
	if (job->smtps)
		return 0;
	if (smtp_ehlo(io, job, rp, ext) != 250)
		return smtp_fail(job, why, 'Z', "Connected to ", " but EHLO after STARTTLS failed", rp);
	return 0;
}

/* smtp_blast - the message: dot-stuffed, LF (or CRLF) ends sent as CRLF */
static void
smtp_blast(struct io *io, const char *m, size_t len)
{
	size_t i = 0;

	while (i < len) {
		const char *nl = memchr(m + i, '\n', len - i);
		size_t end = nl != NULL ? (size_t)(nl - m) : len, n = end - i;

		if (m[i] == '.')
			io_write(io, ".", 1);
		if (n > 0 && m[end - 1] == '\r' && nl != NULL)
			n--;
		io_write(io, m + i, n);
		io_write(io, "\r\n", 2);
		i = end + 1;
	}
	io_write(io, ".\r\n", 3);
}

/* smtp_rcpts - the RCPT replies as recipient reports: 1 one accepted, 0 none,
 * -1 connection lost (why set) */
static int
smtp_rcpts(struct io *io, struct remote_job *job, struct smtp_reply *rp,
    const struct smtp_ext *ext, struct buf *why)
{
	int code, any = 0;

	for (size_t i = 0; i < job->nrcpt; i++) {
		if (!ext->pipelining)
			io_printf(io, "RCPT TO:<%s>\r\n", job->rcpt[i]);
		code = smtp_read_reply(io, rp);
		if (code == 0) {
			smtp_fail(job, why, 'Z', "Connected to ", " but connection died", rp);
			return -1;
		}
		if (code >= 400) {
			buf_reset(why);
			buf_printf(why, "%s does not like recipient.\n", job->peer);
			report_rcpt(code >= 500 ? 'h' : 's', buf_str(why), buf_str(&rp->text));
		} else {
			report_rcpt('r', "", NULL);
			any = 1;
		}
	}
	return any;
}

/* smtp_envelope - MAIL, RCPT (pipelined when offered) and DATA: 354 to send
 * the message, else SMTP_NEXT (or it wrote the final report) */
static int
smtp_envelope(struct io *io, struct remote_job *job, struct smtp_reply *rp,
    const struct smtp_ext *ext, struct buf *why)
{
	int code, any = 0;

	io_printf(io, "MAIL FROM:<%s>", job->sender);
	if (ext->size)
		io_printf(io, " SIZE=%zu", job->smtpsize);
	if (ext->eightbitmime && job->eightbit)
		io_puts(io, " BODY=8BITMIME");
	io_puts(io, "\r\n");
	if (ext->pipelining) {	/* RFC 2920: MAIL, RCPTs and DATA in one write */
		for (size_t i = 0; i < job->nrcpt; i++)
			io_printf(io, "RCPT TO:<%s>\r\n", job->rcpt[i]);
		io_puts(io, "DATA\r\n");
	}
	code = smtp_read_reply(io, rp);
	if (code == 0)
		return smtp_fail(job, why, 'Z', "Connected to ", " but connection died", rp);
	if (code >= 400) {
		if (code >= 500) {
			smtp_fail(job, why, 'D', "Connected to ", " but sender was rejected", rp);
			io_puts(io, "QUIT\r\n");
			io_flush(io);
			report_final('D', buf_str(why) + 1, NULL);
		}
		return smtp_fail(job, why, 'Z', "Connected to ", " but sender was rejected", rp);
	}
	if ((any = smtp_rcpts(io, job, rp, ext, why)) < 0)
		return SMTP_NEXT;
	if (!ext->pipelining && any)
		io_puts(io, "DATA\r\n");
	code = any || ext->pipelining ? smtp_read_reply(io, rp) : 0;
	if (!any) {
		io_puts(io, "QUIT\r\n");
		io_flush(io);
		buf_reset(why);
		buf_printf(why, "Giving up on %s.\n", job->peer);
		report_final('D', buf_str(why), NULL);
	}
	if (code == 354)
		return 354;
	if (code == 0)
		return smtp_fail(job, why, 'Z', "Connected to ", " but connection died", rp);
	smtp_fail(job, why, code >= 500 ? 'D' : 'Z', "", " failed on DATA command", rp);
	io_puts(io, "QUIT\r\n");
	io_flush(io);
	report_final(buf_str(why)[0], buf_str(why) + 1, NULL);
}

/* smtp_tls_describe - "TLSv1.3 TLS_AES_256_GCM_SHA384 verified=yes" for the report */
static void
smtp_tls_describe(const struct io *io, char *out, size_t size)
{
	struct tls_info i;

	if (tls_get_info(io, &i) < 0)
		return;
	snprintf(out, size, "%s %s verified=%s", i.protocol, i.cipher,
	    i.server_verified ? "yes" : "no");
}

/* smtp_session - the session on io; returns only to try the next address */
static int
smtp_session(struct io *io, struct remote_job *job, struct buf *why)
{
	struct smtp_reply rp;
	struct smtp_ext ext;
	char tlsinfo[256] = "";
	int code;

	buf_init(&rp.text, SMTP_TEXT_MAX + 64);
	if (job->smtps && smtp_starttls(io, job, &rp, &ext, why) != 0)
		return SMTP_NEXT;
	if (smtp_read_reply(io, &rp) != 220)
		return smtp_fail(job, why, rp.code >= 500 ? 'D' : 'Z', "Connected to ",
		    " but greeting failed", &rp);
	if ((code = smtp_ehlo(io, job, &rp, &ext)) != 250)
		return smtp_fail(job, why, code >= 500 ? 'D' : 'Z', "Connected to ",
		    " but my name was rejected", &rp);
	if (!job->smtps && smtp_starttls(io, job, &rp, &ext, why) != 0)
		return SMTP_NEXT;
	smtp_tls_describe(io, tlsinfo, sizeof(tlsinfo));
	if (job->route.user[0] != '\0' && smtp_auth(io, job, ext.auth, &rp, why) < 0)
		return SMTP_NEXT;
	if (ext.size && job->smtpsize > ext.size) {
		io_puts(io, "QUIT\r\n");
		io_flush(io);
		buf_reset(why);
		buf_printf(why, "Message is %zu bytes, %s accepts at most %lu. (#5.3.4)\n",
		    job->smtpsize, job->peer, ext.size);
		report_final('D', buf_str(why), NULL);
	}
	if (smtp_envelope(io, job, &rp, &ext, why) != 354)
		return SMTP_NEXT;
	smtp_blast(io, job->msg, job->msglen);
	code = smtp_read_reply(io, &rp);
	if (code == 0) {
		buf_reset(why);
		buf_printf(why, "Connected to %s but connection died. Possible duplicate! (#4.4.2)\n",
		    job->peer);
		report_final('Z', buf_str(why), NULL);
	}
	io_puts(io, "QUIT\r\n");
	io_flush(io);
	tls_end(io);
	buf_reset(why);
	if (code >= 400)
		buf_printf(why, "%s failed after I sent the message.\n", job->peer);
	else
		buf_printf(why, "%s accepted message.\n", job->peer);
	if (tlsinfo[0] != '\0')
		buf_printf(why, "TLS: %s (%s).\n", tlsinfo, tls_policy_name(job->tls.mode));
	report_final(code >= 500 ? 'D' : code >= 400 ? 'Z' : 'K', buf_str(why),
	    buf_str(&rp.text));
}

/* smtp_client_run - talk to the server on fd; returns only to try the next address */
int
smtp_client_run(struct remote_job *job, int fd, struct buf *why)
{
	static struct io io;
	int r;

	io_init_fd(&io, fd, fd, (unsigned)job->cfg->timeoutremote);
	r = smtp_session(&io, job, why);
	tls_end(&io);		/* before fd is closed: the next address gets a new session */
	tls_ctx_free(smtp_tls);
	smtp_tls = NULL;
	return r;
}
