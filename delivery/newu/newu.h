/* SPDX-License-Identifier: MIT */
#ifndef SQ_NEWU_H
#define SQ_NEWU_H

#include "buf.h"

/* newu_compile - users/assign (qmail-users(5)) in dir "users" of the current
 * directory -> users/cdb, atomically (cdb.tmp, fsync, rename).  Keys are
 * "!local\0" for =local lines, "!prefix" for +prefix lines, and "" holds the
 * last characters of all prefixes; values are "user\0uid\0gid\0home\0dash\0ext".
 * 0, or -1 with the reason (and line number) in err. */
int newu_compile(const char *assign, const char *cdb, const char *tmp, struct buf *err);

#endif
