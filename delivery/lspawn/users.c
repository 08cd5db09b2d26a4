/* SPDX-License-Identifier: MIT
 * users.c - map a local part to user, uid, gid, home, dash and extension:
 * users/cdb (qmail-users(5), compiled by qmail-newu) first, then the
 * passwd database the way qmail-getpw does it.
 *
 * Runs as:    a qmail-lspawn child (root) before it becomes the user.
 * Trusted:    users/cdb (root-owned), the passwd database.
 * Hostile:    the local part (from the envelope): only used as a lookup key.
 * May touch:  users/cdb (read), stat() of home directories.
 */
#include <cdb.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "num.h"
#include "users.h"

#define USERS_RAW_MAX 65536
#define USERS_KEY_MAX 16400
#define USERS_NAME_MAX 32	/* longest passwd name tried (qmail-getpw's limit) */

void
users_entry_init(struct users_entry *u)
{
	memset(u, 0, sizeof(*u));
	buf_init(&u->raw, USERS_RAW_MAX);
}

void
users_entry_free(struct users_entry *u)
{
	buf_free(&u->raw);
}

/* users_parse - split raw into its six fields; -1 (EINVAL) if malformed */
static int
users_parse(struct users_entry *u)
{
	const char *f[6];
	const char *p = u->raw.s, *end = u->raw.s + u->raw.len;
	unsigned long uid, gid;

	for (int i = 0; i < 6; i++) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));

		if (nul == NULL)
			goto bad;
		f[i] = p;
		p = nul + 1;
	}
	if (num_parse_uint(f[1], 0, (uid_t)-1 - 1, &uid) < 0 ||
	    num_parse_uint(f[2], 0, (gid_t)-1 - 1, &gid) < 0 || f[3][0] != '/')
		goto bad;
	u->user = f[0];
	u->uid = (uid_t)uid;
	u->gid = (gid_t)gid;
	u->home = f[3];
	u->dash = f[4];
	u->ext = f[5];
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

static int
users_cdb_get(struct cdb *c, struct users_entry *u, const char *rest)
{
	unsigned len = cdb_datalen(c);

	buf_reset(&u->raw);
	if (buf_cat(&u->raw, cdb_get(c, len, cdb_datapos(c)), len) < 0 ||
	    buf_cats(&u->raw, rest) < 0 || buf_catc(&u->raw, '\0') < 0)
		return -1;
	return users_parse(u) < 0 ? -1 : 1;
}

/* users_cdb_search - "!local\0" exactly, then the longest "!prefix" whose last
 * character is a wildcard character (the value stored under the empty key);
 * "!" alone is the catch-all.  A prefix match appends the rest of the local part. */
static int
users_cdb_search(struct cdb *c, const char *local)
{
	char key[USERS_KEY_MAX];
	size_t n = strlen(local), len;
	const char *wild;
	unsigned wildlen;
	int r;

	if (n + 2 > sizeof(key)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (cdb_find(c, "", 0) != 1) {
		errno = EINVAL;
		return -1;
	}
	wildlen = cdb_datalen(c);
	wild = cdb_get(c, wildlen, cdb_datapos(c));
	key[0] = '!';
	for (size_t i = 0; i < n; i++)
		key[i + 1] = (char)tolower((unsigned char)local[i]);
	key[n + 1] = '\0';
	if ((r = cdb_find(c, key, (unsigned)n + 2)) != 0)
		return r < 0 ? -1 : 0;
	for (len = n + 1; len >= 1; len--) {
		if (len > 1 && (wild == NULL ||
		    memchr(wild, key[len - 1], wildlen) == NULL))
			continue;
		if ((r = cdb_find(c, key, (unsigned)len)) != 0)
			return r < 0 ? -1 : (int)len;
	}
	return -2;
}

/* users_cdb_lookup - one lookup in users/cdb */
int
users_cdb_lookup(const char *path, const char *local, struct users_entry *u)
{
	struct cdb c;
	int fd, r, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	if (cdb_init(&c, fd) < 0) {
		close(fd);
		return -1;
	}
	r = users_cdb_search(&c, local);
	if (r == -2)
		ret = 0;
	else if (r < 0)
		ret = -1;
	else
		ret = users_cdb_get(&c, u, r == 0 ? "" : local + r - 1);
	cdb_free(&c);
	close(fd);
	return ret;
}

static int
users_from_pw(struct users_entry *u, const struct passwd *pw, const char *dash,
    const char *ext)
{
	buf_reset(&u->raw);
	if (buf_printf(&u->raw, "%s%c%lu%c%lu%c%s%c%s%c%s%c", pw->pw_name, 0,
	    (unsigned long)pw->pw_uid, 0, (unsigned long)pw->pw_gid, 0,
	    pw->pw_dir, 0, dash, 0, ext, 0) < 0)
		return -1;
	return users_parse(u) < 0 ? -1 : 1;
}

static int
users_stat_temp(int err)
{
	return !(err == ENOENT || err == ENOTDIR || err == EACCES || err == ELOOP ||
	    err == ENAMETOOLONG);
}

/* users_getpw - qmail-getpw: the longest "user" before a '-' (or the whole
 * local part) with uid != 0 whose home exists and belongs to it; else alias */
int
users_getpw(const char *local, struct users_entry *u)
{
	char name[USERS_NAME_MAX];
	size_t n = strlen(local);
	struct passwd *pw;
	struct stat sb;

	for (size_t e = n + 1; e-- > 0;) {
		if (e >= sizeof(name) || (local[e] != '\0' && local[e] != USERS_BREAK))
			continue;
		for (size_t i = 0; i < e; i++)
			name[i] = (char)tolower((unsigned char)local[i]);
		name[e] = '\0';
		errno = 0;
		pw = getpwnam(name);
		if (pw == NULL && errno == ETXTBSY)
			return -1;
		if (pw == NULL || pw->pw_uid == 0)
			continue;
		if (stat(pw->pw_dir, &sb) < 0) {
			if (users_stat_temp(errno))
				return -1;
			continue;
		}
		if (sb.st_uid != pw->pw_uid)
			continue;
		if (local[e] == '\0')
			return users_from_pw(u, pw, "", "");
		return users_from_pw(u, pw, "-", local + e + 1);
	}
	if ((pw = getpwnam(USERS_ALIAS)) == NULL)
		return 0;
	return users_from_pw(u, pw, "-", local);
}

/* users_lookup - the whole lookup, with qmail-lspawn's texts for failures */
int
users_lookup(const char *cdbpath, const char *local, struct users_entry *u,
    const char **why)
{
	int r = users_cdb_lookup(cdbpath, local, u);

	if (r < 0) {
		*why = "Trouble reading users/cdb in qmail-lspawn. (#4.3.0)";
		return -1;
	}
	if (r > 0)
		return 1;
	r = users_getpw(local, u);
	if (r > 0)
		return 1;
	*why = r == 0 ? "Unable to find alias user! (#4.3.0)"
	    : "Temporary failure in the passwd lookup in qmail-lspawn. (#4.3.0)";
	return -1;
}
