/* SPDX-License-Identifier: MIT */
#ifndef SQ_USERS_H
#define SQ_USERS_H

#include <sys/types.h>

#include "buf.h"

/* Who receives mail for a local part: qmail-users(5) record (users/cdb) or
 * qmail-getpw's answer, both "user\0uid\0gid\0home\0dash\0ext\0". */
struct users_entry {
	struct buf raw;
	const char *user, *home, *dash, *ext;
	uid_t uid;
	gid_t gid;
};

#define USERS_ALIAS "alias"	/* receives mail for local parts nobody owns */
#define USERS_BREAK '-'		/* separates user from extension */

void users_entry_init(struct users_entry *u);
void users_entry_free(struct users_entry *u);
/* users_cdb_lookup - users/cdb at path: 1 found, 0 not there (or no file), -1 error (errno) */
int users_cdb_lookup(const char *path, const char *local, struct users_entry *u);
/* users_getpw - the passwd fallback (qmail-getpw): 1, 0 no alias user, -1 temporary */
int users_getpw(const char *local, struct users_entry *u);
/* users_lookup - cdb then passwd; 1 found, else -1 with a report text in *why */
int users_lookup(const char *cdbpath, const char *local, struct users_entry *u,
    const char **why);

#endif
