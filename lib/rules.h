/* SPDX-License-Identifier: MIT */
#ifndef SQ_RULES_H
#define SQ_RULES_H

#include <stddef.h>

/* Per-client rules in the cdb that ucspi-tcp's tcprules(1) writes and
 * tcpserver -x reads: key = client address form, value = instructions, each
 * NUL-terminated: "D" deny, "+VAR=value" set, "+VAR" unset. Used by receivers
 * that run without tcpserver (systemd Accept=yes): qmail-smtpd, qmail-qmtpd. */

#define RULES_VALUE_MAX 8192	/* longer rule values are refused as malformed */

struct rules_match {
	int found;			/* a key matched (else the defaults apply) */
	int deny;			/* the matched rule says "deny" */
	char key[128];			/* the key that matched, for the log */
	size_t len;			/* bytes in value */
	char value[RULES_VALUE_MAX];	/* the instructions as stored */
};

/* rules_lookup - find the rule for a client as tcpserver does: info@ip,
 * info@=host, ip, =host, shorter prefixes of ip ending in '.' (IPv4) or ':'
 * (IPv6, as ucspi-tcp's IPv6 patch writes them), =.suffixes of host, "=",
 * then "". host and info may be NULL. Returns 0 (m filled; m->found 0 when
 * no key or no file), -1 on a read error or a malformed file (errno set). */
int rules_lookup(const char *path, const char *ip, const char *host,
    const char *info, struct rules_match *m);

/* rules_setenv - apply the "+VAR=value" / "+VAR" instructions of m to the
 * environment; returns how many were applied, -1 on a malformed one */
int rules_setenv(const struct rules_match *m);

#endif
