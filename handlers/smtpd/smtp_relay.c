/* SPDX-License-Identifier: MIT
 * smtp_relay.c - may a recipient be accepted from a client that is not a relay client?
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the recipient address.
 * Trusted:    control/rcpthosts, control/morercpthosts.cdb (read at start).
 * May touch:  the already opened morercpthosts.cdb (read only).
 * Later checks of issue 4 (recipients, badrcptto) go beside this one.
 */
#include <ctype.h>
#include <string.h>

#include "smtpd.h"

static int
smtp_mrh_has(const struct smtpd_conf *conf, const char *d, size_t n)
{
	struct cdb *c = (struct cdb *)&conf->mrh;	/* cdb_find only reads the map */

	return conf->mrh_ok && cdb_find(c, d, (unsigned)n) > 0;
}

/* smtp_rcpthosts - qmail's rule: the domain after the last '@', lower-cased,
 * or any ".suffix" of it, is listed in rcpthosts or morercpthosts.cdb. An
 * address without '@' is local (qmail-send adds envnoathost). Unlike qmail,
 * a missing or empty rcpthosts does not make an open relay: only the
 * morercpthosts.cdb entries (if any) are accepted then. */
int
smtp_rcpthosts(const struct smtpd_conf *conf, const char *addr)
{
	const char *at = strrchr(addr, '@');
	char dom[SMTP_ADDR_MAX + 1];
	size_t n, i;

	if (at == NULL)
		return 1;
	n = strlen(at + 1);
	if (n == 0 || n >= sizeof(dom))
		return 0;
	for (i = 0; i < n; i++)
		dom[i] = (char)tolower((unsigned char)at[1 + i]);
	dom[n] = '\0';
	for (i = 0; i < n; i++) {
		if (i > 0 && dom[i] != '.')
			continue;
		if (cfg_list_has_ci(&conf->rcpthosts, dom + i, n - i) ||
		    smtp_mrh_has(conf, dom + i, n - i))
			return 1;
	}
	return 0;
}
