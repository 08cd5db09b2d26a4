/* SPDX-License-Identifier: MIT
 * authuser.c - check a user and password (or CRAM-MD5 response) against users/authuser.
 *
 * Runs as:    qmaild (a child of qmail-smtpd), or root for system users (-s).
 * Hostile:    the user name, secret and challenge from fd 3.
 * Trusted:    users/authuser, the passwd and shadow databases (with -s).
 * May touch:  reads those files; nothing else.
 * Must not:   log a secret; answer faster for an unknown user than for a wrong password.
 */
#include <crypt.h>
#include <errno.h>
#include <pwd.h>
#include <shadow.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "authuser.h"
#include "buf.h"
#include "log.h"
#include "tls.h"


static int
field(char *dst, size_t size, const char **p, const char *end)
{
	const char *z = memchr(*p, '\0', (size_t)(end - *p));

	if (z == NULL || (size_t)(z - *p) >= size)
		return -1;
	memcpy(dst, *p, (size_t)(z - *p) + 1);
	*p = z + 1;
	return 0;
}

/* authuser_parse - three NUL-terminated fields */
int
authuser_parse(const char *p, size_t n, struct authuser_req *r)
{
	const char *end = p + n;

	memset(r, 0, sizeof(*r));
	if (field(r->user, sizeof(r->user), &p, end) < 0 ||
	    field(r->secret, sizeof(r->secret), &p, end) < 0)
		return -1;
	if (p < end && field(r->challenge, sizeof(r->challenge), &p, end) < 0)
		return -1;
	return 0;
}

static int
ct_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la && i < lb; i++)
		d |= (unsigned char)(a[i] ^ b[i]);
	return d == 0;
}

static int
check_crypt(const char *secret, const char *hash)
{
	struct crypt_data cd;
	const char *h;

	memset(&cd, 0, sizeof(cd));
	h = crypt_r(secret, hash, &cd);
	return h && h[0] != '*' && ct_equal(h, hash);
}

static int
check_cram(const struct authuser_req *r, const char *clear)
{
	unsigned char mac[16];
	char hex[33];
	int i;

	if (tls_hmac_md5(clear, strlen(clear), r->challenge, strlen(r->challenge), mac) < 0)
		return 0;
	for (i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", mac[i]);
	return ct_equal(hex, r->secret);
}

/* check_dummy - an unknown user costs one crypt() of the default method, as a
 * wrong password does (the answer must not tell whether the user exists) */
static void
check_dummy(const char *secret)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];

	if (crypt_gensalt_rn(NULL, 0, NULL, 0, setting, sizeof(setting)) != NULL)
		(void)check_crypt(secret, setting);
}

/* lookup - the token of user in file: 1 found, 0 not, -1 error */
static int
lookup(const char *file, const char *user, struct buf *token)
{
	char line[1024];
	size_t ul = strlen(user);
	FILE *f = fopen(file, "re");
	int found = 0;

	if (f == NULL)
		return errno == ENOENT ? 0 : -1;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '#' || strncmp(line, user, ul) != 0 || line[ul] != ':')
			continue;
		found = buf_cpys(token, line + ul + 1) == 0;
	}
	explicit_bzero(line, sizeof(line));
	if (ferror(f))
		found = -1;
	fclose(f);
	return found;
}

static int
check_token(const struct authuser_req *r, const char *tok)
{
	if (r->challenge[0])
		return tok[0] != '$' && check_cram(r, tok);
	if (tok[0] == '$')
		return check_crypt(r->secret, tok);
	return ct_equal(r->secret, tok);
}

/* system_hash - a system user's crypt(3) hash (passwd, or shadow when passwd
 * says "x"), or NULL: no such user, shadow unreadable (not root), locked
 * ("!" or "*"), or the account expired */
static const char *
system_hash(const char *user)
{
	struct passwd *pw = getpwnam(user);
	struct spwd *sp;
	long today = (long)(time(NULL) / 86400);

	if (pw == NULL)
		return NULL;
	if (strcmp(pw->pw_passwd, "x") != 0)
		return pw->pw_passwd[0] == '$' ? pw->pw_passwd : NULL;
	if ((sp = getspnam(user)) == NULL || sp->sp_pwdp[0] != '$')
		return NULL;
	if (sp->sp_expire > 0 && today >= sp->sp_expire)
		return NULL;
	return sp->sp_pwdp;
}

/* authuser_check - users/authuser first, then (with -s) the system's users */
int
authuser_check(const struct authuser_req *r, const char *file, int system_users)
{
	struct buf tok;
	const char *h;
	int f, ok = 0;

	if (r->user[0] == '\0' || r->secret[0] == '\0' || strchr(r->user, ':'))
		return AUTHUSER_NO;
	buf_init(&tok, 1024);
	if ((f = lookup(file, r->user, &tok)) < 0) {
		log_err("read %s: %m", file);
		buf_free(&tok);
		return AUTHUSER_TEMP;
	}
	if (f)
		ok = check_token(r, buf_str(&tok));
	else if (system_users && !r->challenge[0] && (h = system_hash(r->user)) != NULL)
		ok = check_crypt(r->secret, h);
	else if (!r->challenge[0])
		check_dummy(r->secret);
	explicit_bzero(tok.s ? tok.s : (char *)&tok, tok.s ? buf_len(&tok) : 0);
	buf_free(&tok);
	return ok ? AUTHUSER_OK : AUTHUSER_NO;
}

/* authuser_hash - crypt(3) hash of secret with the system's default method
 * (yescrypt on Debian 12), for users/authuser: 0, or -1 */
int
authuser_hash(const char *secret, char *out, size_t size)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data cd;
	const char *h;

	memset(&cd, 0, sizeof(cd));
	if (crypt_gensalt_rn(NULL, 0, NULL, 0, setting, sizeof(setting)) == NULL ||
	    (h = crypt_r(secret, setting, &cd)) == NULL || h[0] == '*')
		return -1;
	return snprintf(out, size, "%s", h) < (int)size ? 0 : -1;
}
