/* SPDX-License-Identifier: MIT
 * main.c - qmail-mfrules: compile <home>/control/mailfromrules into mailfromrules.cdb
 * for qmail-smtpd's LOCALMFCHECK='!' (s/qmail's file format and cdb layout).
 *
 * Runs as:    root or the qmail admin, by hand or from a script.
 * Trusted:    control/mailfromrules: "client&sender,sender,..." per line, '#' comments.
 * May touch:  writes control/mailfromrules.tmp, renames it over mailfromrules.cdb.
 * Format:     key = the lower-cased client, value = "+sender" for each sender
 *             (empty: any sender); "a.b.c.10-20" stands for eleven keys.
 */
#include <cdb.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "cdbfile.h"
#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "num.h"

#define MF_LINE_MAX 8192

static void
lower(char *p)
{
	for (; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

/* mf_value - "a,b,c" as "+a+b+c"; -1 on an empty or blank entry */
static int
mf_value(const char *list, struct buf *v)
{
	const char *e = list, *comma;
	size_t n;

	buf_reset(v);
	while (*e) {
		comma = strchr(e, ',');
		n = comma ? (size_t)(comma - e) : strlen(e);
		if (n == 0 || strcspn(e, " \t") < n)
			return -1;
		if (buf_catc(v, '+') < 0 || buf_cat(v, e, n) < 0)
			return -1;
		e += n + (comma != NULL);
		if (comma && *e == '\0')
			return -1;
	}
	return 0;
}

/* mf_range - an IPv4 key with one "bot-top" component (s/qmail, as tcprules):
 * 0 done (keys added), 1 not a range, -1 malformed or write error */
static int
mf_range(struct cdb_make *cm, const char *key, const struct buf *v)
{
	const char *dash = strchr(key, '-'), *left, *right;
	char lo[8], hi[8], k[MF_LINE_MAX];
	unsigned long bot, top;

	if (dash == NULL || strchr(key, '=') || strchr(key, '@') || strchr(key, ':'))
		return 1;
	for (left = dash; left > key && left[-1] != '.'; left--)
		;
	right = dash + 1 + strcspn(dash + 1, ".");
	if ((size_t)(dash - left) >= sizeof(lo) || (size_t)(right - dash - 1) >= sizeof(hi))
		return -1;
	snprintf(lo, sizeof(lo), "%.*s", (int)(dash - left), left);
	snprintf(hi, sizeof(hi), "%.*s", (int)(right - dash - 1), dash + 1);
	if (num_parse_uint(lo, 0, 255, &bot) < 0 || num_parse_uint(hi, 0, 255, &top) < 0 ||
	    bot > top)
		return -1;
	for (; bot <= top; bot++) {
		int n = snprintf(k, sizeof(k), "%.*s%lu%s", (int)(left - key), key, bot, right);

		if (n < 0 || (size_t)n >= sizeof(k) ||
		    cdb_make_add(cm, k, (unsigned)n, buf_str(v), (unsigned)buf_len(v)) < 0)
			return -1;
	}
	return 0;
}

/* mf_line - one rule; 0 added or skipped, CDBFILE_BAD malformed, CDBFILE_WRITE
 * write error; v (a struct buf) is scratch space for the value */
static int
mf_line(struct cdb_make *cm, char *line, void *scratch)
{
	struct buf *v = scratch;
	size_t n = strlen(line);
	char *amp;
	int r;

	while (n > 0 && strchr(" \t\r\n", line[n - 1]))
		line[--n] = '\0';
	if (n == 0 || line[0] == '#')
		return 0;
	lower(line);
	amp = strchr(line, '&');
	if (amp == NULL || amp == line || mf_value(amp + 1, v) < 0)
		return CDBFILE_BAD;
	*amp = '\0';
	if ((r = mf_range(cm, line, v)) <= 0)
		return r < 0 ? CDBFILE_BAD : 0;
	return cdb_make_add(cm, line, (unsigned)(amp - line), buf_str(v),
	    (unsigned)buf_len(v)) < 0 ? CDBFILE_WRITE : 0;
}

/* main - no arguments: the paths are fixed under the qmail home */
int
main(int argc, char **argv)
{
	char src[4096], tmp[4096], dst[4096];
	struct buf v;
	int r;

	(void)argv;
	if (argc > 1)
		log_fatal(EXIT_PERM, "usage: qmail-mfrules");
	umask(022);
	if (home_path(src, sizeof(src), "control/mailfromrules") < 0 ||
	    home_path(tmp, sizeof(tmp), "control/mailfromrules.tmp") < 0 ||
	    home_path(dst, sizeof(dst), "control/mailfromrules.cdb") < 0)
		log_fatal(EXIT_TEMP, "qmail home path too long");
	buf_init(&v, MF_LINE_MAX + 2);
	r = cdbfile_compile(src, tmp, dst, MF_LINE_MAX, mf_line, &v);
	buf_free(&v);
	return r;
}
