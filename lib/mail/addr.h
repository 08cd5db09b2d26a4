/* SPDX-License-Identifier: MIT */
#ifndef SQ_MAIL_ADDR_H
#define SQ_MAIL_ADDR_H

#include <stddef.h>

/* Envelope addresses as qmail keeps them: unquoted "local@domain" text, the
 * domain after the LAST '@' (qmail's rule), no '@' = unqualified. Pure
 * functions, no I/O: qmail-smtpd, qmail-qmtpd and qmail-remote share them. */

/* addr_domain - the domain (after the last '@'), or NULL when there is none */
const char *addr_domain(const char *addr);
/* addr_local_len - bytes of the local part (all of addr when unqualified) */
size_t addr_local_len(const char *addr);
/* addr_is_routed - does the local part carry another route ('@', '%', '!')?
 * These are the percent hack, bang paths and "user@other"@here: a mail system
 * behind us may forward on them, so a non-relay client must not use them. */
int addr_is_routed(const char *addr);
/* addr_lower - copy addr lower-cased into out (size bytes): 0, or -1 if too long */
int addr_lower(const char *addr, char *out, size_t size);
/* addr_domain_match - qmail's rcpthosts rule: is dom equal to pat, or, when pat
 * starts with '.', does dom end with pat? Case-insensitive. */
int addr_domain_match(const char *dom, const char *pat);
/* addr_is_literal - is dom an address literal "[...]"? */
int addr_is_literal(const char *dom);

#endif
