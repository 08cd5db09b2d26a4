/* SPDX-License-Identifier: MIT
 * route.c - where qmail-remote sends a message and as whom: smtproutes
 * (qmail's domain:relay:port and s/qmail's domain:relay;port|user|password),
 * authsenders and domainips.
 *
 * Runs as:    qmailr, inside qmail-remote.
 * Trusted:    control files (written by the administrator).
 * Hostile:    nothing; lines are still parsed with bounds (a bad line is an error).
 * May touch:  nothing (works on lists already read).
 */
#include <arpa/inet.h>
#include <net/if.h>
#include <string.h>
#include <strings.h>

#include "num.h"
#include "remote.h"

static int
copy_part(char *out, size_t size, const char *p, size_t n)
{
	if (n >= size)
		return -1;
	memcpy(out, p, n);
	out[n] = '\0';
	return 0;
}

/* route_parse_value - "relay[:port|;port][|user|password]"; the relay may be
 * empty (MX lookup) or "[address]", which may hold colons (IPv6) */
int
route_parse_value(const char *v, struct route *r)
{
	const char *bar = strchr(v, '|'), *end, *sep;
	size_t rlen = bar != NULL ? (size_t)(bar - v) : strlen(v);
	unsigned long port;

	memset(r, 0, sizeof(*r));
	if (bar != NULL) {
		const char *bar2 = strchr(bar + 1, '|');

		if (bar2 == NULL)
			return -1;
		if (copy_part(r->user, sizeof(r->user), bar + 1, (size_t)(bar2 - bar - 1)) < 0 ||
		    copy_part(r->pass, sizeof(r->pass), bar2 + 1, strlen(bar2 + 1)) < 0)
			return -1;
	}
	end = v + rlen;
	sep = v;
	if (*v == '[') {
		sep = memchr(v, ']', rlen);
		if (sep == NULL)
			return -1;
	}
	while (sep < end && *sep != ':' && *sep != ';')
		sep++;
	if (copy_part(r->relay, sizeof(r->relay), v, (size_t)(sep - v)) < 0)
		return -1;
	if (sep < end) {
		char num[16];

		if (copy_part(num, sizeof(num), sep + 1, (size_t)(end - sep - 1)) < 0)
			return -1;
		if (num[0] != '\0') {
			if (num_parse_uint(num, 1, 65535, &port) < 0)
				return -1;
			r->port = (unsigned)port;
		}
	}
	return 0;
}

/* route_split - key and value of "key:value"; a key "[...]" may hold colons */
static const char *
route_split(const char *line, size_t *keylen)
{
	const char *c = line;

	if (*c == '[') {
		c = strchr(c, ']');
		if (c == NULL)
			return NULL;
	}
	c = strchr(c, ':');
	if (c == NULL)
		return NULL;
	*keylen = (size_t)(c - line);
	return c + 1;
}

/* route_find - value of the entry whose key is key (case-insensitive) */
static const char *
route_find(const struct cfg_list *l, const char *key, size_t n, int *bad)
{
	for (size_t i = 0; i < l->n; i++) {
		size_t kl;
		const char *v = route_split(l->item[i], &kl);

		if (v == NULL) {
			*bad = 1;
			continue;
		}
		if (kl == n && strncasecmp(l->item[i], key, n) == 0)
			return v;
	}
	return NULL;
}

/* route_smtp - qmail's lookup: "!@" for the null sender (s/qmail), the host,
 * each ".suffix" of it, then the empty key (":relay" = default route) */
int
route_smtp(const struct cfg_list *routes, const char *host, const char *sender,
    struct route *r)
{
	const char *v = NULL;
	size_t hl = strlen(host);
	int bad = 0;

	if (sender[0] == '\0')
		v = route_find(routes, "!@", 2, &bad);
	for (size_t i = 0; v == NULL && i <= hl; i++)
		if (i == 0 || i == hl || host[i] == '.')
			v = route_find(routes, host + i, hl - i, &bad);
	if (v == NULL)
		return 0;
	if (route_parse_value(v, r) < 0)
		return -1;
	return 1;
}

/* route_authsender - authsenders: the full address, "@domain", "domain",
 * then the empty key */
int
route_authsender(const struct cfg_list *list, const char *sender, struct route *r)
{
	const char *at = strrchr(sender, '@'), *v = NULL;
	int bad = 0;

	if (list->n == 0)
		return 0;
	v = route_find(list, sender, strlen(sender), &bad);
	if (v == NULL && at != NULL)
		v = route_find(list, at, strlen(at), &bad);
	if (v == NULL && at != NULL)
		v = route_find(list, at + 1, strlen(at + 1), &bad);
	if (v == NULL)
		v = route_find(list, "", 0, &bad);
	if (v == NULL)
		return 0;
	return route_parse_value(v, r) < 0 ? -1 : 1;
}

/* route_domainip - "domain:address|helohost", "*" for every other domain */
int
route_domainip(const struct cfg_list *list, const char *sender,
    struct remote_addr *src, int *hassrc, char *helo, size_t helosize)
{
	const char *at = strrchr(sender, '@'), *v = NULL, *bar;
	char ip[64], *pct;
	unsigned scope = 0;
	int bad = 0;

	*hassrc = 0;
	if (list->n == 0)
		return 0;
	if (at != NULL)
		v = route_find(list, at + 1, strlen(at + 1), &bad);
	if (v == NULL)
		v = route_find(list, "*", 1, &bad);
	if (v == NULL)
		return 0;
	bar = strchr(v, '|');
	if (copy_part(ip, sizeof(ip), v, bar ? (size_t)(bar - v) : strlen(v)) < 0)
		return -1;
	if ((pct = strchr(ip, '%')) != NULL) {
		/* s/qmail: an IPv6 link-local address names its link */
		*pct++ = '\0';
		if ((scope = if_nametoindex(pct)) == 0)
			return -2;
	}
	if (bar != NULL && bar[1] != '\0' &&
	    copy_part(helo, helosize, bar + 1, strlen(bar + 1)) < 0)
		return -1;
	if (ip[0] == '\0')
		return 1;
	memset(src, 0, sizeof(*src));
	if (inet_pton(AF_INET, ip, src->ip) == 1)
		src->family = AF_INET;
	else if (inet_pton(AF_INET6, ip, src->ip) == 1) {
		src->family = AF_INET6;
		src->scope = scope;
	} else
		return -1;
	*hassrc = 1;
	return 1;
}
