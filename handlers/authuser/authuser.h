/* SPDX-License-Identifier: MIT */
#ifndef SQ_AUTHUSER_H
#define SQ_AUTHUSER_H

#include <stddef.h>

/* qmail-authuser: the checkpassword interface (user\0secret\0challenge\0 on
 * fd 3) against users/authuser ("user:token", token a crypt(3) hash such as
 * yescrypt "$y$..." or SHA-512 "$6$...", or a clear text, which CRAM-MD5
 * needs) and, with -s as root, the system's shadow file. */

#define AUTHUSER_OK	0
#define AUTHUSER_NO	1
#define AUTHUSER_TEMP	111

struct authuser_req {
	char user[256], secret[256], challenge[256];
};

/* authuser_parse - the fd-3 bytes: 0, or -1 if malformed */
int authuser_parse(const char *p, size_t n, struct authuser_req *r);
/* authuser_check - AUTHUSER_OK, AUTHUSER_NO or AUTHUSER_TEMP; file: users/authuser path */
int authuser_check(const struct authuser_req *r, const char *file, int system_users);
/* authuser_hash - a new hash of secret (default crypt method): 0, or -1 */
int authuser_hash(const char *secret, char *out, size_t size);

#endif
