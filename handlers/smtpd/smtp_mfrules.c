/* SPDX-License-Identifier: MIT
 * smtp_mfrules.c - LOCALMFCHECK='!': s/qmail's control/mailfromrules.cdb
 * (made by qmail-mfrules) says which senders a relaying client may use.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the sender address; the AUTH user name (its length is bounded).
 * Trusted:    control/mailfromrules.cdb (root-owned), TCPREMOTEHOST, the peer address.
 * May touch:  reads the cdb, opened before the first client byte.
 */
#include <cdb.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "smtpd.h"

#define MFRULES_KEY_MAX		600
#define MFRULES_VALUE_MAX	65536

enum { MF_NOKEY, MF_ALLOW, MF_DENY, MF_ERROR };

/* smtp_mfrules_open - the cdb's descriptor; -1 when there is none (ENOENT),
 * -2 on any other error (logged) */
int
smtp_mfrules_open(void)
{
	char path[4096];
	int fd;

	if (home_path(path, sizeof(path), "control/mailfromrules.cdb") < 0)
		return -2;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		log_err("open control/mailfromrules.cdb: %m");
		return -2;
	}
	return fd;
}

/* mfrules_listed - is sender one of "+entry+entry..."? An entry matches the
 * end of the sender (s/qmail compares right to left): "@dom" is a domain,
 * "user@dom" an address, the empty list any sender. */
static int
mfrules_listed(char *v, size_t n, const char *sender)
{
	size_t sl = strlen(sender), el;
	char *e, *end = v + n, *next;

	if (n == 0)
		return 1;
	for (e = v; e < end; e = next) {
		if (*e == '+')
			e++;
		next = memchr(e, '+', (size_t)(end - e));
		if (next == NULL)
			next = end;
		el = (size_t)(next - e);
		if (el > 0 && el <= sl && strncasecmp(sender + sl - el, e, el) == 0)
			return 1;
	}
	return 0;
}

/* mfrules_find - the rule for key, if there is one: MF_* */
static int
mfrules_find(struct cdb *c, const char *key, const char *sender)
{
	unsigned len;
	char *v;
	int r;

	r = cdb_find(c, key, (unsigned)strlen(key));
	if (r <= 0)
		return r < 0 ? MF_ERROR : MF_NOKEY;
	len = cdb_datalen(c);
	if (len > MFRULES_VALUE_MAX || (v = malloc(len + 1)) == NULL)
		return MF_ERROR;
	if (cdb_read(c, v, len, cdb_datapos(c)) < 0) {
		free(v);
		return MF_ERROR;
	}
	r = mfrules_listed(v, len, sender) ? MF_ALLOW : MF_DENY;
	free(v);
	return r;
}

/* mfrules_try - the rule for the key a mid b (lower-cased) */
static int
mfrules_try(struct cdb *c, const char *sender, const char *a, const char *mid,
    const char *b)
{
	char key[MFRULES_KEY_MAX];
	int n = snprintf(key, sizeof(key), "%s%s%s", a, mid, b);

	if (n < 0 || (size_t)n >= sizeof(key))
		return MF_NOKEY;
	for (char *p = key; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return mfrules_find(c, key, sender);
}

/* mfrules_prefixes - shorter and shorter prefixes of ip ending in sep */
static int
mfrules_prefixes(struct cdb *c, const char *sender, const char *ip, char sep)
{
	char key[PEER_IP_MAX];
	size_t n = strlen(ip);
	int r;

	if (n >= sizeof(key))
		return MF_NOKEY;
	for (; n > 0; n--) {
		if (ip[n - 1] != sep)
			continue;
		memcpy(key, ip, n);
		key[n] = '\0';
		if ((r = mfrules_find(c, key, sender)) != MF_NOKEY)
			return r;
	}
	return MF_NOKEY;
}

/* mfrules_search - the keys in s/qmail's order; the first key found decides */
static int
mfrules_search(struct cdb *c, const char *ip, const char *host, const char *info,
    const char *sender)
{
	int r = MF_NOKEY;

	if (info && (r = mfrules_try(c, sender, info, "", "")) == MF_NOKEY &&
	    (r = mfrules_try(c, sender, info, "@", ip)) == MF_NOKEY && host)
		r = mfrules_try(c, sender, info, "@=", host);
	if (r == MF_NOKEY)
		r = mfrules_try(c, sender, ip, "", "");
	if (r == MF_NOKEY && host)
		r = mfrules_try(c, sender, "=", host, "");
	if (r == MF_NOKEY)
		r = mfrules_prefixes(c, sender, ip, ':');
	if (r == MF_NOKEY)
		r = mfrules_prefixes(c, sender, ip, '.');
	for (const char *d = host; r == MF_NOKEY && d && *d; d++)
		if (*d == '.')
			r = mfrules_try(c, sender, "=", d, "");
	if (r == MF_NOKEY && host)
		r = mfrules_try(c, sender, "=", "", "");
	return r;
}

/* smtp_mfrules_check - may this client use sender? 1 yes, 0 no (also when no
 * rule names the client), -1 the cdb could not be read (logged) */
int
smtp_mfrules_check(int fd, const char *ip, const char *host, const char *info,
    const char *sender)
{
	struct cdb c;
	int r;

	if (cdb_init(&c, fd) < 0) {
		log_err("read control/mailfromrules.cdb: %m");
		return -1;
	}
	r = mfrules_search(&c, ip, host, info, sender);
	cdb_free(&c);
	if (r == MF_ERROR) {
		log_err("read control/mailfromrules.cdb: malformed or unreadable");
		return -1;
	}
	return r == MF_ALLOW;
}
