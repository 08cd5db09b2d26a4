/* SPDX-License-Identifier: MIT
 * addr.c - envelope address helpers: domain, local part, routing tricks, matching.
 *
 * Runs as:    any caller; no I/O, no allocation (a fuzz target).
 * Hostile:    every address (client input); all scans are bounded by its NUL.
 * May touch:  its arguments only.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "mail/addr.h"

/* addr_domain - the text after the last '@', or NULL */
const char *
addr_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? at + 1 : NULL;
}

/* addr_local_len - length of the part before the last '@' */
size_t
addr_local_len(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at ? (size_t)(at - addr) : strlen(addr);
}

/* addr_is_routed - '@', '%' or '!' in the local part */
int
addr_is_routed(const char *addr)
{
	size_t n = addr_local_len(addr);

	for (size_t i = 0; i < n; i++)
		if (addr[i] == '@' || addr[i] == '%' || addr[i] == '!')
			return 1;
	return 0;
}

/* addr_lower - lower-cased copy */
int
addr_lower(const char *addr, char *out, size_t size)
{
	size_t n = strlen(addr);

	if (n >= size)
		return -1;
	for (size_t i = 0; i <= n; i++)
		out[i] = (char)tolower((unsigned char)addr[i]);
	return 0;
}

/* addr_domain_match - exact, or ".suffix" */
int
addr_domain_match(const char *dom, const char *pat)
{
	size_t d = strlen(dom), p = strlen(pat);

	if (p == 0)
		return 0;
	if (pat[0] != '.')
		return d == p && strcasecmp(dom, pat) == 0;
	return d > p && strcasecmp(dom + d - p, pat) == 0;
}

/* addr_is_literal - "[...]" */
int
addr_is_literal(const char *dom)
{
	size_t n = strlen(dom);

	return n >= 2 && dom[0] == '[' && dom[n - 1] == ']';
}
