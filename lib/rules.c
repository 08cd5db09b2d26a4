/* SPDX-License-Identifier: MIT
 * rules.c - tcpserver's per-client rules (tcprules cdb) without tcpserver.
 *
 * Runs as:    the receiver's user, before the first client byte is read.
 * Trusted:    the rules cdb (root-owned, compiled by tcprules).
 * Hostile:    nothing: the client address comes from the kernel or tcpserver.
 * May touch:  reads the rules file; sets environment variables.
 */
#include <cdb.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rules.h"

/* rules_try - look key up: 1 found (value read into m), 0 not found, -1 error */
static int
rules_try(struct cdb *c, const char *key, struct rules_match *m)
{
	size_t n = strlen(key);
	int r;

	if (n >= sizeof(m->key))
		return 0;
	r = cdb_find(c, key, (unsigned)n);
	if (r <= 0)
		return r < 0 ? -1 : 0;
	if (cdb_datalen(c) > sizeof(m->value)) {
		errno = EFBIG;
		return -1;
	}
	m->len = cdb_datalen(c);
	if (cdb_read(c, m->value, (unsigned)m->len, cdb_datapos(c)) < 0)
		return -1;
	memcpy(m->key, key, n + 1);
	m->found = 1;
	/* tcpserver: an instruction "D" anywhere denies */
	for (size_t i = 0; i < m->len; i += strnlen(m->value + i, m->len - i) + 1)
		if (m->value[i] == 'D')
			m->deny = 1;
	return 1;
}

/* rules_search - tcpserver's order of keys */
static int
rules_search(struct cdb *c, const char *ip, const char *host, const char *info,
    struct rules_match *m)
{
	char key[128];
	size_t n;
	int r;

	if (info) {
		snprintf(key, sizeof(key), "%s@%s", info, ip);
		if ((r = rules_try(c, key, m)) != 0)
			return r;
		if (host) {
			snprintf(key, sizeof(key), "%s@=%s", info, host);
			if ((r = rules_try(c, key, m)) != 0)
				return r;
		}
	}
	if ((r = rules_try(c, ip, m)) != 0)
		return r;
	if (host) {
		snprintf(key, sizeof(key), "=%s", host);
		if ((r = rules_try(c, key, m)) != 0)
			return r;
	}
	snprintf(key, sizeof(key), "%s", ip);
	for (n = strlen(key); n > 0; n--) {
		if (n < strlen(ip) && (key[n - 1] == '.' || key[n - 1] == ':')) {
			key[n] = '\0';
			if ((r = rules_try(c, key, m)) != 0)
				return r;
		}
	}
	for (const char *h = host; h && *h; h++) {
		if (*h != '.')
			continue;
		snprintf(key, sizeof(key), "=%s", h);
		if ((r = rules_try(c, key, m)) != 0)
			return r;
	}
	if (host && (r = rules_try(c, "=", m)) != 0)
		return r;
	return rules_try(c, "", m);
}

/* rules_lookup - open path and search; a missing file is "no rule" */
int
rules_lookup(const char *path, const char *ip, const char *host,
    const char *info, struct rules_match *m)
{
	struct cdb c;
	int fd, r, saved;

	memset(m, 0, offsetof(struct rules_match, value));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (cdb_init(&c, fd) < 0) {
		saved = errno ? errno : EINVAL;
		close(fd);
		errno = saved;
		return -1;
	}
	r = rules_search(&c, ip, host, info, m);
	saved = errno;
	cdb_free(&c);
	close(fd);
	errno = saved;
	return r < 0 ? -1 : 0;
}

/* rules_setenv - "+VAR=value" sets, "+VAR" unsets, other instructions skipped */
int
rules_setenv(const struct rules_match *m)
{
	char inst[RULES_VALUE_MAX + 1], *eq;
	size_t i, n;
	int applied = 0;

	for (i = 0; i < m->len; i += n + 1) {
		n = strnlen(m->value + i, m->len - i);
		if (m->value[i] != '+')
			continue;
		memcpy(inst, m->value + i + 1, n - 1);
		inst[n - 1] = '\0';
		if (inst[0] == '\0' || inst[0] == '=')
			return -1;
		if ((eq = strchr(inst, '=')) != NULL) {
			*eq = '\0';
			if (setenv(inst, eq + 1, 1) < 0)
				return -1;
		} else if (unsetenv(inst) < 0)
			return -1;
		applied++;
	}
	return applied;
}
