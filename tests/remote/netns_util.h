/* SPDX-License-Identifier: MIT */
#ifndef SQ_TEST_REMOTE_NETNS_UTIL_H
#define SQ_TEST_REMOTE_NETNS_UTIL_H

#include <stddef.h>

extern char net[64];		/* DIR of netns.sh: logs, peers, resolv-bad.conf */
extern char ns_c[64];		/* the client namespace */
extern char home[256];		/* this test's qmail home (client()) */
extern char out[1 << 16];	/* output of the last sh()/remote() */

/* netns_names - net and ns_c for this run (SQ_NETNS_ID) */
void netns_names(void);
/* sh - run a shell command; its stdout (NULs as '|') into out; exit status */
int sh(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* env - $name, or "." */
const char *env(const char *name);
/* client, client_done - a fresh home (skip without root or network); remove it */
void client(void);
void client_done(void);
/* ctl - write control/name in home */
void ctl(const char *name, const char *text);
/* remote - qmail-remote host a@client.test rcpt in the client namespace */
const char *remote(const char *host, const char *rcpt);

#endif
