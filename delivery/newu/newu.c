/* SPDX-License-Identifier: MIT
 * newu.c - compile users/assign into users/cdb (qmail-newu).
 *
 * Runs as:    root (the administrator), or the sandbox owner.
 * Trusted:    users/assign (written by the administrator): still checked
 *             line by line so a typo fails loudly instead of misrouting mail.
 * Hostile:    nothing: the input is the administrator's.
 * May touch:  users/cdb.tmp (created), users/cdb (replaced by rename).
 */
#include <cdb.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "num.h"
#include "newu.h"

#define NEWU_LINE_MAX 65536

/* newu_fields - the data after "=local:" with its first six ':' made NUL;
 * checks uid, gid and an absolute home */
static const char *
newu_fields(char *data, size_t len, size_t *outlen)
{
	char *f[6];
	size_t n = 0, i;
	unsigned long num;

	f[n++] = data;
	for (i = 0; i < len && n <= 6; i++) {
		if (data[i] != ':')
			continue;
		data[i] = '\0';
		if (n < 6)
			f[n] = data + i + 1;
		n++;
	}
	if (n <= 6)
		return "expected user:uid:gid:home:dash:ext: after the address";
	*outlen = (size_t)(f[5] + strlen(f[5]) - data);
	if (f[0][0] == '\0')
		return "empty user name";
	if (num_parse_uint(f[1], 0, 4294967294UL, &num) < 0)
		return "uid is not a number";
	if (num_parse_uint(f[2], 0, 4294967294UL, &num) < 0)
		return "gid is not a number";
	if (f[3][0] != '/')
		return "home directory is not an absolute path";
	return NULL;
}

/* newu_line - one "=local:..." or "+prefix:..." line into the cdb */
static const char *
newu_line(struct cdb_make *cm, char *line, size_t len, struct buf *wild)
{
	char *colon = memchr(line, ':', len);
	struct buf key;
	size_t klen, dlen;
	const char *why;

	if (memchr(line, '\0', len) != NULL)
		return "NUL byte in line";
	if (line[0] != '=' && line[0] != '+')
		return "line must start with '=', '+' or '.'";
	if (colon == NULL)
		return "missing ':' after the address";
	klen = (size_t)(colon - line) - 1;
	if ((why = newu_fields(colon + 1, len - klen - 2, &dlen)) != NULL)
		return why;
	buf_init(&key, klen + 3);
	buf_catc(&key, '!');
	for (size_t i = 0; i < klen; i++)
		buf_catc(&key, (char)tolower((unsigned char)line[1 + i]));
	if (line[0] == '=')
		buf_catc(&key, '\0');
	else if (klen > 0 && memchr(buf_str(wild), line[klen], wild->len) == NULL)
		buf_catc(wild, line[klen]);
	if (cdb_make_add(cm, key.s, (unsigned)key.len, colon + 1, (unsigned)dlen) < 0)
		why = "cannot write users/cdb.tmp";
	buf_free(&key);
	return why;
}

static int
newu_read(FILE *in, struct cdb_make *cm, struct buf *err)
{
	struct buf wild;
	char *line = NULL;
	size_t cap = 0, lineno = 0;
	ssize_t n;
	const char *why = NULL;

	buf_init(&wild, 256);
	while ((n = getline(&line, &cap, in)) > 0) {
		lineno++;
		if (line[0] == '.')
			break;
		if (line[n - 1] != '\n')
			why = "last line does not end with a newline";
		else if ((size_t)n > NEWU_LINE_MAX)
			why = "line too long";
		else
			why = newu_line(cm, line, (size_t)n - 1, &wild);
		if (why != NULL)
			break;
	}
	if (why == NULL && n <= 0)
		why = ferror(in) ? "read error" : "missing the final '.' line";
	if (why == NULL && cdb_make_add(cm, "", 0, buf_str(&wild), (unsigned)wild.len) < 0)
		why = "cannot write users/cdb.tmp";
	if (why != NULL)
		buf_printf(err, "users/assign line %zu: %s", lineno + (n <= 0), why);
	free(line);
	buf_free(&wild);
	return why ? -1 : 0;
}

/* newu_compile - the whole job, atomically */
int
newu_compile(const char *assign, const char *cdb, const char *tmp, struct buf *err)
{
	struct cdb_make cm;
	FILE *in;
	int fd, r;

	if ((in = fopen(assign, "re")) == NULL) {
		buf_printf(err, "open %s: %s", assign, strerror(errno));
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		buf_printf(err, "create %s: %s", tmp, strerror(errno));
		fclose(in);
		return -1;
	}
	cdb_make_start(&cm, fd);
	r = newu_read(in, &cm, err);
	fclose(in);
	if (r == 0 && (cdb_make_finish(&cm) < 0 || fsync(fd) < 0)) {
		buf_printf(err, "write %s: %s", tmp, strerror(errno));
		r = -1;
	}
	if (close(fd) < 0 && r == 0) {
		buf_printf(err, "write %s: %s", tmp, strerror(errno));
		r = -1;
	}
	if (r == 0 && rename(tmp, cdb) < 0) {
		buf_printf(err, "rename %s to %s: %s", tmp, cdb, strerror(errno));
		r = -1;
	}
	if (r < 0)
		unlink(tmp);
	return r;
}
