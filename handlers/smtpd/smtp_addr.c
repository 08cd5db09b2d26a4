/* SPDX-License-Identifier: MIT
 * smtp_addr.c - parse "FROM:<addr> params" / "TO:<addr>", MAIL parameters, [ip] literals.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the whole argument; parsing is bounded by SMTP_ADDR_MAX.
 * Trusted:    control/localiphost.
 * May touch:  nothing but its arguments (getifaddrs for the [ip] check).
 * Meant to stay free of I/O so that a fuzzer can drive it (issue 4).
 */
#include <string.h>
#include <strings.h>

#include "num.h"
#include "peer.h"
#include "smtp_reply.h"
#include "smtpd.h"

/* smtp_addr_copy - qmail's rules: quotes and backslashes are removed, the
 * address ends at an unquoted '>' (or at a space without '<'); *end points
 * after it. Returns -1 on an unterminated '<'. */
static int
smtp_addr_copy(const char *p, int bracket, struct buf *addr, const char **end)
{
	int quoted = 0;

	for (; *p; p++) {
		if (*p == '\\' && p[1]) {
			p++;
		} else if (*p == '"') {
			quoted = !quoted;
			continue;
		} else if (!quoted && (bracket ? *p == '>' : *p == ' ')) {
			break;
		}
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
		if (buf_catc(addr, *p) < 0)
			return -1;
	}
	if (bracket && *p != '>')
		return -1;
	*end = *p ? p + 1 : p;
	return 0;
}

/* smtp_addr_parse - "<keyword>:<addr> params": the address (source route
 * dropped) into addr and *params at the first parameter; a reply on error */
const char *
smtp_addr_parse(const char *arg, const char *keyword, struct buf *addr,
    const char **params)
{
	size_t k = strlen(keyword);
	const char *p, *end;
	int bracket;

	buf_reset(addr);
	*params = "";
	if (strncasecmp(arg, keyword, k) != 0 || arg[k] != ':')
		return SMTP_R_ADDR_SYNTAX;
	for (p = arg + k + 1; *p == ' '; p++)
		;
	bracket = *p == '<';
	if (bracket)
		p++;
	/* source route: <@a,@b:user@c> is user@c (RFC 5321 section 4.1.2, C.2) */
	if (*p == '@') {
		while (*p && *p != ':' && *p != '>')
			p++;
		if (*p != ':')
			return SMTP_R_ADDR_SYNTAX;
		p++;
	}
	if (smtp_addr_copy(p, bracket, addr, &end) < 0 || buf_len(addr) > SMTP_ADDR_MAX)
		return SMTP_R_ADDR_SYNTAX;
	while (*end == ' ')
		end++;
	*params = end;
	return NULL;
}

static const char *
smtp_mail_param(const char *p, size_t n, size_t databytes, size_t *size)
{
	char val[32];
	size_t v;

	if (n > 5 && strncasecmp(p, "SIZE=", 5) == 0) {
		if (n - 5 >= sizeof(val))
			return SMTP_R_PARAM_SYNTAX;
		memcpy(val, p + 5, n - 5);
		val[n - 5] = '\0';
		if (num_parse_size(val, &v) < 0)
			return SMTP_R_PARAM_SYNTAX;
		if (databytes && v > databytes)
			return SMTP_R_TOOBIG;
		*size = v;
		return NULL;
	}
	if (n > 5 && strncasecmp(p, "BODY=", 5) == 0) {
		if ((n == 9 && strncasecmp(p + 5, "7BIT", 4) == 0) ||
		    (n == 13 && strncasecmp(p + 5, "8BITMIME", 8) == 0))
			return NULL;
		return SMTP_R_PARAM_SYNTAX;
	}
	/* RFC 6531: accepted; the message passes through unchanged (8-bit clean) */
	if (n == 8 && strncasecmp(p, "SMTPUTF8", 8) == 0)
		return NULL;
	/* RFC 4954 5: AUTH=<mailbox> from an unauthenticated client is ignored */
	if (n > 5 && strncasecmp(p, "AUTH=", 5) == 0)
		return NULL;
	return SMTP_R_PARAM;
}

/* smtp_mail_params - SIZE= (RFC 1870) checked against databytes, BODY=
 * (RFC 6152), SMTPUTF8 (RFC 6531) and AUTH= (RFC 4954) accepted, anything
 * else refused with 555 (RFC 5321 4.1.1.11) */
const char *
smtp_mail_params(const char *params, size_t databytes, size_t *size)
{
	const char *refuse;
	size_t n;

	*size = 0;
	while (*params) {
		n = strcspn(params, " ");
		if (n > 0 && (refuse = smtp_mail_param(params, n, databytes, size)) != NULL)
			return refuse;
		params += n;
		while (*params == ' ')
			params++;
	}
	return NULL;
}

/* smtp_addr_localip - user@[our address] becomes user@<localiphost>, as qmail */
void
smtp_addr_localip(struct buf *addr, const struct smtpd_conf *conf)
{
	const char *s = buf_str(addr), *at = strrchr(s, '@');
	char ip[PEER_IP_MAX];
	size_t n;

	if (at == NULL || at[1] != '[' || buf_len(&conf->localiphost) == 0)
		return;
	n = strlen(at + 2);
	if (n < 2 || at[2 + n - 1] != ']' || n - 1 >= sizeof(ip))
		return;
	memcpy(ip, at + 2, n - 1);
	ip[n - 1] = '\0';
	if (!peer_ip_is_mine(ip))
		return;
	buf_truncate(addr, (size_t)(at - s) + 1);
	buf_cat(addr, buf_str(&conf->localiphost), buf_len(&conf->localiphost));
}
