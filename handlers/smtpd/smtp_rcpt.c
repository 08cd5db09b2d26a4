/* SPDX-License-Identifier: MIT
 * smtp_rcpt.c - may this recipient be accepted? The policy chain of RCPT:
 * limits, badrcptto, RELAYCLIENT, routing tricks, rcpthosts, recipients.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the recipient address (unquoted, bounded by SMTP_ADDR_MAX).
 * Trusted:    control/recipients and the cdb files it names (root-owned).
 * May touch:  reads the recipients cdb files (opened per lookup, read only).
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "mail/addr.h"
#include "smtp_reply.h"
#include "smtpd.h"

/* smtp_cdb_has - 1 key in the cdb at path, 0 not (or no such file), -1 error */
static int
smtp_cdb_has(const char *path, const char *key)
{
	char full[4096];
	int fd, r;

	if (path[0] == '/')
		snprintf(full, sizeof(full), "%s", path);
	else if (home_path(full, sizeof(full), "%s", path) < 0)
		return -1;
	fd = open(full, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		log_err("open %s: %m", full);
		return -1;
	}
	r = cdb_seek(fd, key, (unsigned)strlen(key), NULL);
	if (r < 0)
		log_err("read %s: %m", full);
	close(fd);
	return r < 0 ? -1 : r > 0;
}

/* smtp_rcpt_keys - fastforward keys: ":addr" and the VERP/extension form
 * ":prefix-@domain" (up to the first '-' of the local part); lower case */
static int
smtp_rcpt_keys(const char *addr, char *key, char *vkey, size_t size)
{
	const char *dash;
	size_t local;

	if (size < 2 || addr_lower(addr, key + 1, size - 1) < 0)
		return -1;
	key[0] = ':';
	if (strchr(key, '@') == NULL) {		/* unqualified: s/qmail's @localhost */
		size_t n = strlen(key);

		if (n + sizeof("@localhost") > size)
			return -1;
		memcpy(key + n, "@localhost", sizeof("@localhost"));
	}
	vkey[0] = '\0';
	local = addr_local_len(key);
	dash = memchr(key, '-', local);
	if (dash) {
		size_t pre = (size_t)(dash - key) + 1, post = strlen(key + local);

		if (pre + post < size) {
			memcpy(vkey, key, pre);
			memcpy(vkey + pre, key + local, post + 1);
		}
	}
	return 0;
}

/* smtp_rcpt_ask - the cdb (sep ':') or the program (sep '|') of a line:
 * 1 knows the address (or its VERP form), 0 does not, -1 error */
static int
smtp_rcpt_ask(char sep, const char *what, const char *key, const char *vkey)
{
	int r;

	if (sep == '|') {
		r = smtp_rcpt_pam(what, key + 1);
		if (r == 0 && vkey[0])
			r = smtp_rcpt_pam(what, vkey + 1);
		return r;
	}
	r = smtp_cdb_has(what, key);
	if (r == 0 && vkey[0])
		r = smtp_cdb_has(what, vkey);
	return r;
}

/* smtp_rcpt_line - one control/recipients line for domain dom: 1 accept,
 * 0 unknown here (the line names dom), -1 error, 2 the line does not name
 * dom, 3 "!*", 4 a "*:" or bare cdb line that does not know the address */
static int
smtp_rcpt_line(const char *line, const char *dom, const char *key, const char *vkey)
{
	const char *sep = strpbrk(line, ":|");
	size_t n, d = strlen(dom);
	int r;

	if (strcmp(line, "!*") == 0)		/* the domains no line named: accept */
		return 3;
	if (line[0] == '!')			/* "!domain": accept all of it */
		return strcasecmp(line + 1, dom) == 0 ? 1 : 2;
	if (sep == NULL)			/* legacy: a bare cdb for every domain */
		return (r = smtp_cdb_has(line, key)) == 0 ? 4 : r;
	n = (size_t)(sep - line);
	if (n == 1 && line[0] == '*')
		return (r = smtp_rcpt_ask(*sep, sep + 1, key, vkey)) == 0 ? 4 : r;
	if (line[0] == '@') {			/* "@domain:": exactly this domain */
		if (n - 1 != d || strncasecmp(line + 1, dom, n - 1) != 0)
			return 2;
	} else if (n > d || strncasecmp(line, dom + d - n, n) != 0 ||
	    (n < d && dom[d - n - 1] != '.'))	/* "domain:": it and its subdomains */
		return 2;
	return smtp_rcpt_ask(*sep, sep + 1, key, vkey);
}

/* smtp_recipients - s/qmail's RECIPIENTS: the lines in order; the first
 * that accepts wins; "!*" accepts only when no line named the domain; else
 * the recipient is unknown. No file (or an empty one) accepts everything. */
int
smtp_recipients(const struct smtpd_conf *conf, const char *addr)
{
	char key[SMTP_ADDR_MAX + 16], vkey[SMTP_ADDR_MAX + 16];
	const char *dom;
	int r, named = 0;

	if (conf->recipients.n == 0)
		return 1;
	if (smtp_rcpt_keys(addr, key, vkey, sizeof(key)) < 0)
		return 0;
	dom = addr_domain(key);
	for (size_t i = 0; i < conf->recipients.n; i++) {
		r = smtp_rcpt_line(conf->recipients.item[i], dom, key, vkey);
		if (r == 1 || r < 0)
			return r;
		if (r == 0)
			named = 1;
		if (r == 3 && !named)
			return 1;
	}
	return 0;
}

/* smtp_tarpit - s/qmail: after TARPITCOUNT recipients, wait TARPITDELAY
 * seconds before each further RCPT reply */
void
smtp_tarpit(struct smtp_session *s)
{
	s->rcpts++;
	if (s->conf->tarpitcount && s->conf->tarpitdelay &&
	    s->rcpts > s->conf->tarpitcount) {
		io_flush(s->io);
		sleep((unsigned)s->conf->tarpitdelay);
	}
}

/* smtp_rcpt_policy - the reply refusing addr, or NULL to accept it */
const char *
smtp_rcpt_policy(struct smtp_session *s, struct buf *addr)
{
	const struct smtpd_conf *c = s->conf;
	int r;

	if (buf_len(addr) == 0)
		return SMTP_R_ADDR_SYNTAX;
	if (s->nrcpt >= c->maxrcpt)
		return SMTP_R_TOOMANYRCPT;
	if (smtp_check_badrcptto(c, buf_str(addr)))
		return SMTP_R_BADRCPTTO;
	if (c->relayclient || smtp_sec_is_relay(s)) {	/* AUTH, client cert */
		if (c->relayclient && buf_cats(addr, c->relayclient) < 0)
			return SMTP_R_ADDR_SYNTAX;
		return NULL;
	}
	if (addr_is_routed(buf_str(addr)))
		return SMTP_R_ROUTED;
	if (!smtp_rcpthosts(c, buf_str(addr)))
		return SMTP_R_NOGATEWAY;
	r = smtp_recipients(c, buf_str(addr));
	if (r < 0)
		return SMTP_R_RCPTS_TEMP;
	if (r == 0)
		return c->recipients450 ? SMTP_R_NOMAILBOX_TEMP : SMTP_R_NOMAILBOX;
	return NULL;
}
