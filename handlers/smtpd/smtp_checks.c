/* SPDX-License-Identifier: MIT
 * smtp_checks.c - s/qmail's sender-side checks: badmailfrom, badhelo with
 * HELOCHECK, MFDNSCHECK; and the badrcptto list used by smtp_rcpt.c.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the HELO name and the addresses (bounded, NUL-free).
 * Trusted:    control/badmailfrom, badrcptto, badhelo; HELOCHECK, MFDNSCHECK.
 * May touch:  DNS (res_query) only when HELOCHECK is A/M or MFDNSCHECK is set.
 */
#include <arpa/nameser.h>
#include <fnmatch.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"
#include "smtp_reply.h"
#include "smtpd.h"

/* smtp_pattern - one list entry against a value: wildmat when it has '*' or
 * '?', "@host" against the domain, else the whole value; all case-insensitive */
static int
smtp_pattern(const char *pat, const char *value)
{
	const char *dom;

	if (strpbrk(pat, "*?"))
		return fnmatch(pat, value, FNM_CASEFOLD | FNM_NOESCAPE) == 0;
	if (pat[0] == '@' && (dom = addr_domain(value)) != NULL && strchr(value, '@'))
		return strcasecmp(pat + 1, dom) == 0;
	return strcasecmp(pat, value) == 0;
}

/* smtp_list_match - does value match the list? A matching "!entry" (an
 * exception) wins over every positive entry, wherever it stands. */
int
smtp_list_match(const struct cfg_list *l, const char *value)
{
	int hit = 0;

	for (size_t i = 0; i < l->n; i++) {
		const char *p = l->item[i];

		if (p[0] == '!') {
			if (p[1] && smtp_pattern(p + 1, value))
				return 0;
		} else if (!hit && smtp_pattern(p, value))
			hit = 1;
	}
	return hit;
}

/* smtp_check_badrcptto - is the recipient listed in badrcptto? */
int
smtp_check_badrcptto(const struct smtpd_conf *conf, const char *addr)
{
	return smtp_list_match(&conf->badrcptto, addr);
}

/* smtp_dns_has - 1 the name has a record of type, 0 it has none, -1 temporary */
static int
smtp_dns_has(const char *name, int type)
{
	unsigned char answer[NS_PACKETSZ];
	int n;

	if (name[0] == '\0' || addr_is_literal(name))
		return name[0] != '\0';
	n = res_query(name, ns_c_in, type, answer, sizeof(answer));
	if (n >= 0)
		return 1;
	return h_errno == HOST_NOT_FOUND || h_errno == NO_DATA ? 0 : -1;
}

/* smtp_dns_mx_or_a - RFC 5321 5.1: an MX, or else an address record */
static int
smtp_dns_mx_or_a(const char *name)
{
	int r = smtp_dns_has(name, ns_t_mx);

	if (r == 0)
		r = smtp_dns_has(name, ns_t_a);
	if (r == 0)
		r = smtp_dns_has(name, ns_t_aaaa);
	return r;
}

/* smtp_check_helo - HELOCHECK: "" badhelo; "!" HELO required; "." it must
 * look like a domain (a dot, not a bare IP); "=" it must equal the client's
 * DNS name from tcpserver; "A"/"M" it must resolve (A or MX). All modes
 * include the badhelo list. */
static const char *
smtp_check_helo(struct smtp_session *s)
{
	const char *mode = s->conf->helocheck, *helo = buf_str(&s->helo);
	int r;

	if (mode == NULL)
		return NULL;
	if (strchr(mode, '!') && !s->seenhelo)
		return SMTP_R_NOHELO;
	if (smtp_list_match(&s->conf->badhelo, helo))
		return SMTP_R_BADHELO;
	if (strchr(mode, '.') && (strchr(helo, '.') == NULL ||
	    strspn(helo, "0123456789.") == strlen(helo)))
		return SMTP_R_BADHELO;
	if (strchr(mode, '=') && (s->peer->remotehost == NULL ||
	    strcasecmp(s->peer->remotehost, helo) != 0))
		return SMTP_R_BADHELO;
	if (strchr(mode, 'A') || strchr(mode, 'M')) {
		r = strchr(mode, 'M') ? smtp_dns_mx_or_a(helo) : smtp_dns_has(helo, ns_t_a);
		if (r < 0)
			return SMTP_R_DNS_TEMP;
		if (r == 0)
			return SMTP_R_BADHELO;
	}
	return NULL;
}

/* smtp_check_mail - every check on MAIL FROM; the refusal or NULL */
const char *
smtp_check_mail(struct smtp_session *s, const char *addr)
{
	const char *refuse, *dom;
	int r;

	if (s->conf->relayclient == NULL && (refuse = smtp_check_helo(s)) != NULL)
		return refuse;
	if (addr[0] && smtp_list_match(&s->conf->badmailfrom, addr))
		return SMTP_R_BADMAILFROM;
	if (s->conf->mfdnscheck && addr[0]) {
		dom = addr_domain(addr);
		if (dom == NULL)
			return SMTP_R_MFDNS;
		r = smtp_dns_mx_or_a(dom);
		if (r < 0)
			return SMTP_R_DNS_TEMP;
		if (r == 0)
			return SMTP_R_MFDNS;
	}
	return NULL;
}
