/* SPDX-License-Identifier: MIT
 * inject_addr.c - addresses for injection: RFC 5322 address lists, qualification.
 *
 * Runs as:    qmail-inject / sendmail, as the local user who sends.
 * Hostile:    header and argument text (the user's own, but may be anything).
 * Trusted:    control files; QMAILDEFAULTHOST, QMAILDEFAULTDOMAIN, QMAILIDHOST.
 * May touch:  <home>/control (read).
 */
#include <string.h>
#include <unistd.h>

#include "cfg.h"
#include "inject.h"

/* inject_names_load - qmail's chain: idhost, defaulthost, defaultdomain default to me */
int
inject_names_load(struct inject_names *n)
{
	const struct cfg_item table[] = {
		{ "me", CFG_LINE, 0, 0, NULL, NULL, &n->me },
		{ "defaulthost", CFG_LINE, 0, 0, NULL, "QMAILDEFAULTHOST", &n->defaulthost },
		{ "defaultdomain", CFG_LINE, 0, 0, NULL, "QMAILDEFAULTDOMAIN", &n->defaultdomain },
		{ "idhost", CFG_LINE, 0, 0, NULL, "QMAILIDHOST", &n->idhost },
		{ NULL },
	};
	char host[256];

	buf_init(&n->me, 1024);
	buf_init(&n->defaulthost, 1024);
	buf_init(&n->defaultdomain, 1024);
	buf_init(&n->idhost, 1024);
	if (cfg_load(table) < 0)
		return -1;
	if (buf_len(&n->me) == 0) {
		if (gethostname(host, sizeof(host)) < 0)
			memcpy(host, "localhost", 10);
		host[sizeof(host) - 1] = '\0';
		buf_cpys(&n->me, host);
	}
	if (buf_len(&n->defaulthost) == 0)
		buf_cpys(&n->defaulthost, buf_str(&n->me));
	if (buf_len(&n->defaultdomain) == 0)
		buf_cpys(&n->defaultdomain, buf_str(&n->me));
	if (buf_len(&n->idhost) == 0)
		buf_cpys(&n->idhost, buf_str(&n->me));
	return 0;
}

/* inject_qualify - user -> user@defaulthost; user@host -> user@host.defaultdomain */
int
inject_qualify(struct buf *out, const char *addr, const struct inject_names *n)
{
	const char *at = strrchr(addr, '@');

	buf_reset(out);
	if (buf_cpys(out, addr) < 0)
		return -1;
	if (at == NULL) {
		if (buf_catc(out, '@') < 0 || buf_cats(out, buf_str(&n->defaulthost)) < 0)
			return -1;
	} else if (strchr(at + 1, '.') == NULL && at[1] != '[' && at[1] != '\0') {
		if (buf_catc(out, '.') < 0 || buf_cats(out, buf_str(&n->defaultdomain)) < 0)
			return -1;
	}
	return buf_len(out) > INJECT_ADDR_MAX ? -1 : 0;
}

/* Parser state for one mailbox: its text outside <>, and the text inside <>. */
struct addr_scan {
	struct buf bare, angle;
	int in_angle, had_angle;
	void (*fn)(void *, const char *);
	void *arg;
};

/* addr_emit - a mailbox ends: the <> part if any, else the bare text */
static void
addr_emit(struct addr_scan *a)
{
	const struct buf *b = a->had_angle ? &a->angle : &a->bare;
	const char *s = buf_str(b), *colon;

	/* an obsolete source route "<@a,@b:user@host>" keeps only user@host */
	if (a->had_angle && s[0] == '@' && (colon = strchr(s, ':')) != NULL)
		s = colon + 1;
	if (*s != '\0')
		a->fn(a->arg, s);
	buf_reset(&a->bare);
	buf_reset(&a->angle);
	a->had_angle = 0;
}

/* addr_skip_comment - s[*i] is '('; skip to the matching ')': -1 if unbalanced */
static int
addr_skip_comment(const char *s, size_t len, size_t *i)
{
	int depth = 0;

	for (; *i < len; (*i)++) {
		if (s[*i] == '\\')
			(*i)++;
		else if (s[*i] == '(')
			depth++;
		else if (s[*i] == ')' && --depth == 0)
			return 0;
	}
	return -1;
}

/* addr_quoted - s[*i] is '"'; copy the quoted text (without quotes) into b */
static int
addr_quoted(const char *s, size_t len, size_t *i, struct buf *b)
{
	for ((*i)++; *i < len; (*i)++) {
		if (s[*i] == '"')
			return 0;
		if (s[*i] == '\\' && *i + 1 < len)
			(*i)++;
		buf_catc(b, s[*i]);
	}
	return -1;
}

/* inject_addrlist - tokens: comments, quoted strings, <...>, ',', ':' and ';' of groups */
int
inject_addrlist(const char *s, size_t len, void (*fn)(void *, const char *), void *arg)
{
	struct addr_scan a = { .fn = fn, .arg = arg };
	int r = 0;

	buf_init(&a.bare, 4096);
	buf_init(&a.angle, 4096);
	for (size_t i = 0; i < len && r == 0; i++) {
		struct buf *cur = a.in_angle ? &a.angle : &a.bare;
		char c = s[i];

		if (c == '(')
			r = addr_skip_comment(s, len, &i);
		else if (c == '"')
			r = addr_quoted(s, len, &i, cur);
		else if (c == '<' && !a.in_angle) {
			a.in_angle = a.had_angle = 1;
			buf_reset(&a.angle);
		} else if (c == '>' && a.in_angle)
			a.in_angle = 0;
		else if (a.in_angle)
			r = (c == ' ' || c == '\t' || c == '\n' || c == '\r') ? 0 :
			    buf_catc(cur, c);
		else if (c == ',' || c == ';')
			addr_emit(&a);
		else if (c == ':') {
			/* "group:" - what came before was the group's name */
			buf_reset(&a.bare);
		} else if (c == '<' || c == '>')
			r = -1;
		else if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			r = buf_catc(cur, c);
	}
	if (r == 0 && a.in_angle)
		r = -1;
	if (r == 0)
		addr_emit(&a);
	buf_free(&a.bare);
	buf_free(&a.angle);
	return r;
}
