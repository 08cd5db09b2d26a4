/* SPDX-License-Identifier: MIT
 * mx.c - DNS for qmail-remote: MX (RFC 5321 §5), null MX (RFC 7505),
 * implicit MX (A, AAAA), CNAME chains, address literals.
 *
 * Runs as:    qmailr, inside qmail-remote.
 * Trusted:    nothing from the network.
 * Hostile:    DNS answers: parsed with bounds checks on every field, names
 *             expanded by dn_expand; truncated, looping or malformed answers
 *             are temporary failures.
 * May touch:  the resolver (res_nquery, /etc/resolv.conf).
 */
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "remote.h"

#define MX_ANSWER_MAX 65536
#define MX_MAXMX 32
#define MX_CNAME_DEPTH 8	/* CNAMEs followed per lookup */
#define MX_CANON_DEPTH 10	/* qmail's dns_cname: hops for a recipient domain */

static const char *mx_why = "no answer";	/* what the last MX_SOFT was */

/* mx_error - why the last lookup failed temporarily, for the report */
const char *
mx_error(void)
{
	return mx_why;
}

static int
mx_soft(const char *why)
{
	mx_why = why;
	return MX_SOFT;
}

static unsigned short
get16(const unsigned char *p)
{
	return (unsigned short)(p[0] << 8 | p[1]);
}

static void
addrs_add(struct remote_addrs *addrs, int family, const void *ip, unsigned pref)
{
	struct remote_addr *a;

	if (addrs->n >= REMOTE_MAXADDRS)
		return;
	for (size_t i = 0; i < addrs->n; i++)
		if (addrs->a[i].family == family &&
		    memcmp(addrs->a[i].ip, ip, family == AF_INET ? 4 : 16) == 0)
			return;
	a = &addrs->a[addrs->n++];
	memset(a, 0, sizeof(*a));
	a->family = family;
	memcpy(a->ip, ip, family == AF_INET ? 4 : 16);
	a->pref = pref;
}

/* mx_parse_answer - records of qtype in the answer section: A/AAAA go to
 * addrs, MX to mxnames/mxpref, a CNAME target to cname.  Returns the number
 * of records used, or -1 when the answer is malformed */
int
mx_parse_answer(const unsigned char *ans, int len, int qtype, const char *host,
    struct remote_addrs *addrs, char mxnames[][REMOTE_NAMEMAX], unsigned *mxpref,
    size_t *nmx, char *cname, size_t cnamesize)
{
	const unsigned char *p = ans + HFIXEDSZ, *end = ans + len;
	char name[NS_MAXDNAME];
	int qd, an, n, used = 0;

	(void)host;
	if (len < HFIXEDSZ)
		return -1;
	qd = get16(ans + 4);
	an = get16(ans + 6);
	while (qd-- > 0) {
		if ((n = dn_skipname(p, end)) < 0 || p + n + QFIXEDSZ > end)
			return -1;
		p += n + QFIXEDSZ;
	}
	while (an-- > 0) {
		int type, rdlen;

		if ((n = dn_skipname(p, end)) < 0 || p + n + RRFIXEDSZ > end)
			return -1;
		p += n;
		type = get16(p);
		rdlen = get16(p + 8);
		p += RRFIXEDSZ;
		if (p + rdlen > end)
			return -1;
		if (type == ns_t_cname && cname != NULL) {
			if (dn_expand(ans, end, p, name, sizeof(name)) < 0)
				return -1;
			if (strlen(name) < cnamesize)
				memcpy(cname, name, strlen(name) + 1);
		} else if (type == qtype && type == ns_t_a && rdlen == 4) {
			addrs_add(addrs, AF_INET, p, 0);
			used++;
		} else if (type == qtype && type == ns_t_aaaa && rdlen == 16) {
			addrs_add(addrs, AF_INET6, p, 0);
			used++;
		} else if (type == qtype && type == ns_t_mx) {
			if (rdlen < 3 || dn_expand(ans, end, p + 2, name, sizeof(name)) < 0)
				return -1;
			if (*nmx < MX_MAXMX && strlen(name) < REMOTE_NAMEMAX) {
				mxpref[*nmx] = get16(p);
				memcpy(mxnames[*nmx], name, strlen(name) + 1);
				++*nmx;
			}
			used++;
		}
		p += rdlen;
	}
	return used;
}

/* mx_query - one query: answer length, or MX_SOFT / MX_HARD (NXDOMAIN) / 0 (no data) */
static int
mx_query(const char *name, int type, unsigned char *ans)
{
	struct __res_state rs;
	int len;

	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) < 0)
		return mx_soft("cannot read the resolver configuration");
	memset(ans, 0, HFIXEDSZ);
	len = res_nquery(&rs, name, ns_c_in, type, ans, MX_ANSWER_MAX);
	if (len < 0) {
		int herr = rs.res_h_errno;

		res_nclose(&rs);
		/* glibc says "no data" for an empty answer even when it was
		 * truncated (TC after the TCP retry too): not a real "no data" */
		if (ans[2] & 0x02)
			return mx_soft("truncated answer");
		if (herr == HOST_NOT_FOUND)
			return MX_HARD;
		if (herr == NO_DATA)
			return 0;
		return mx_soft("no answer, or SERVFAIL");
	}
	res_nclose(&rs);
	if (len > MX_ANSWER_MAX || len < HFIXEDSZ || (ans[2] & 0x02))
		return mx_soft("truncated answer");	/* even after the TCP retry */
	return len;
}

/* mx_records - query name for type following CNAMEs: MX_OK, MX_SOFT, MX_HARD */
static int
mx_records(const char *host, int type, struct remote_addrs *addrs,
    char mxnames[][REMOTE_NAMEMAX], unsigned *mxpref, size_t *nmx)
{
	static unsigned char ans[MX_ANSWER_MAX];
	char name[REMOTE_NAMEMAX], cname[REMOTE_NAMEMAX];

	if (strlen(host) >= sizeof(name))
		return MX_HARD;
	memcpy(name, host, strlen(host) + 1);
	for (int depth = 0; depth < MX_CNAME_DEPTH; depth++) {
		int len = mx_query(name, type, ans), used;

		if (len <= 0)
			return len == 0 ? MX_OK : len;
		cname[0] = '\0';
		used = mx_parse_answer(ans, len, type, name, addrs, mxnames, mxpref, nmx,
		    cname, sizeof(cname));
		if (used < 0)
			return mx_soft("malformed answer");
		if (used > 0 || cname[0] == '\0' || strcasecmp(cname, name) == 0)
			return MX_OK;
		memcpy(name, cname, strlen(cname) + 1);
	}
	return mx_soft("CNAME loop, or more than 8 CNAMEs in a row");
}

/* mx_canon - qmail's dns_cname: follow the CNAMEs of name (in place, at
 * most 10): the number followed (0: not an alias), MX_SOFT, or MX_HARD when
 * they loop or go on (name is then left as it was) */
int
mx_canon(char *name, size_t size)
{
	static unsigned char ans[MX_ANSWER_MAX];
	char cur[REMOTE_NAMEMAX], cname[REMOTE_NAMEMAX];
	size_t n = strlen(name), nmx = 0;
	int len, used;

	while (n > 0 && name[n - 1] == '.')
		n--;
	if (n == 0 || n >= sizeof(cur) || name[n - 1] == ']')
		return 0;
	memcpy(cur, name, n);
	cur[n] = '\0';
	for (int hops = 0; hops < MX_CANON_DEPTH; hops++) {
		len = mx_query(cur, ns_t_cname, ans);
		if (len == MX_SOFT)
			return MX_SOFT;
		cname[0] = '\0';
		if (len > 0 && (used = mx_parse_answer(ans, len, ns_t_cname, cur, NULL, NULL,
		    NULL, &nmx, cname, sizeof(cname))) < 0)
			return mx_soft("malformed answer");
		n = strlen(cname);
		while (n > 0 && cname[n - 1] == '.')
			cname[--n] = '\0';
		if (n == 0 || strcasecmp(cname, cur) == 0) {
			if (hops > 0 && snprintf(name, size, "%s", cur) >= (int)size)
				return MX_HARD;
			return hops;
		}
		memcpy(cur, cname, n + 1);
	}
	return MX_HARD;
}

/* mx_ip - A and AAAA of host with preference pref; AAAA first (RFC 6724
 * prefers IPv6), the caller falls back to IPv4 when IPv6 fails */
int
mx_ip(const char *host, unsigned pref, struct remote_addrs *addrs)
{
	size_t before = addrs->n, nmx = 0;
	int r6, r4;

	r6 = mx_records(host, ns_t_aaaa, addrs, NULL, NULL, &nmx);
	r4 = mx_records(host, ns_t_a, addrs, NULL, NULL, &nmx);
	for (size_t i = before; i < addrs->n; i++) {
		addrs->a[i].pref = pref;
		snprintf(addrs->a[i].name, sizeof(addrs->a[i].name), "%s", host);
	}
	if (addrs->n > before)
		return MX_OK;
	if (r6 == MX_SOFT || r4 == MX_SOFT)
		return MX_SOFT;
	if (r6 == MX_HARD && r4 == MX_HARD)
		return MX_HARD;
	return MX_OK;
}

/* mx_lookup - qmail's dns_mxip: MX hosts by preference, else the host's own
 * addresses; MX_NULL for "0 ." (RFC 7505) */
int
mx_lookup(const char *host, struct remote_addrs *addrs, unsigned long seed)
{
	static char mxnames[MX_MAXMX][REMOTE_NAMEMAX];
	unsigned mxpref[MX_MAXMX];
	size_t nmx = 0;
	int r, soft = 0;
	struct remote_addr lit;

	addrs->n = 0;
	if (mx_parse_literal(host, &lit)) {
		snprintf(lit.name, sizeof(lit.name), "%s", host);
		addrs->a[addrs->n++] = lit;
		return MX_OK;
	}
	r = mx_records(host, ns_t_mx, addrs, mxnames, mxpref, &nmx);
	if (r != MX_OK)
		return r;
	if (nmx == 0)
		return mx_ip(host, 0, addrs);
	for (size_t i = 0; i < nmx; i++)
		if (mxnames[i][0] == '\0' || strcmp(mxnames[i], ".") == 0) {
			if (nmx == 1)
				return MX_NULL;
			mxnames[i][0] = '\0';	/* null MX among others: ignore it */
		}
	/* shuffle hosts of equal preference before resolving them, so that the
	 * addresses of one MX stay next to each other (IPv6 then IPv4) */
	for (size_t i = 0; i < nmx; i++)
		for (size_t k = i + 1; k < nmx; k++)
			if (mxpref[k] < mxpref[i] || (mxpref[k] == mxpref[i] &&
			    ((seed = seed * 1103515245 + 12345) >> 16) % 2)) {
				unsigned t = mxpref[k];
				char tn[REMOTE_NAMEMAX];

				mxpref[k] = mxpref[i];
				mxpref[i] = t;
				memcpy(tn, mxnames[k], sizeof(tn));
				memcpy(mxnames[k], mxnames[i], sizeof(tn));
				memcpy(mxnames[i], tn, sizeof(tn));
			}
	for (size_t i = 0; i < nmx; i++)
		if (mxnames[i][0] != '\0' && mx_ip(mxnames[i], mxpref[i], addrs) == MX_SOFT)
			soft = 1;
	if (addrs->n == 0 && soft)
		return MX_SOFT;
	return MX_OK;		/* no address at all: the caller says "no mail exchanger" */
}

/* mx_parse_literal - "[192.0.2.1]", "[IPv6:2001:db8::1]" or "[2001:db8::1]",
 * an IPv6 one with "%ifname" */
int
mx_parse_literal(const char *s, struct remote_addr *a)
{
	char tmp[64], *pct;
	size_t n = strlen(s);

	if (n < 3 || s[0] != '[' || s[n - 1] != ']' || n - 2 >= sizeof(tmp))
		return 0;
	memcpy(tmp, s + 1, n - 2);
	tmp[n - 2] = '\0';
	memset(a, 0, sizeof(*a));
	if ((pct = strchr(tmp, '%')) != NULL) {
		*pct++ = '\0';
		if ((a->scope = if_nametoindex(pct)) == 0)
			return 0;
	}
	if (inet_pton(AF_INET, tmp, a->ip) == 1) {
		a->family = AF_INET;
		a->scope = 0;
		return 1;
	}
	if (strncasecmp(tmp, "IPv6:", 5) == 0)
		memmove(tmp, tmp + 5, strlen(tmp + 5) + 1);
	if (inet_pton(AF_INET6, tmp, a->ip) == 1) {
		a->family = AF_INET6;
		return 1;
	}
	return 0;
}
