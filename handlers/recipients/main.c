/* SPDX-License-Identifier: MIT
 * main.c - qmail-recipients: compile <home>/users/recipients into users/recipients.cdb.
 *
 * Runs as:    root or the qmail admin, by hand or from a script.
 * Trusted:    users/recipients (one address per line, '#' comments).
 * Hostile:    nothing: the input is the administrator's; a line too long
 *             is refused rather than truncated.
 * May touch:  writes users/recipients.tmp, renames it over users/recipients.cdb.
 * Format:     s/qmail's (fastforward's): key ":" + the lower-cased line, empty value.
 */
#include <cdb.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cdbfile.h"
#include "home.h"
#include "log.h"
#include "mail/exitcode.h"

#define RCPT_LINE_MAX 1024

/* recipients_add - one line of the source file as a cdb key */
static int
recipients_add(struct cdb_make *cm, char *line, void *unused)
{
	char key[RCPT_LINE_MAX + 2];
	size_t n = strlen(line);

	(void)unused;
	while (n > 0 && strchr(" \t\r\n", line[n - 1]))
		n--;
	if (n == 0 || line[0] == '#')
		return 0;
	key[0] = ':';
	for (size_t i = 0; i < n; i++)
		key[i + 1] = (char)tolower((unsigned char)line[i]);
	return cdb_make_add(cm, key, (unsigned)n + 1, "", 0) < 0 ? CDBFILE_WRITE : 0;
}

/* main - no arguments: the paths are fixed under the qmail home */
int
main(int argc, char **argv)
{
	char src[4096], tmp[4096], dst[4096];

	(void)argv;
	if (argc > 1)
		log_fatal(EXIT_PERM, "usage: qmail-recipients");
	umask(022);
	if (home_path(src, sizeof(src), "users/recipients") < 0 ||
	    home_path(tmp, sizeof(tmp), "users/recipients.tmp") < 0 ||
	    home_path(dst, sizeof(dst), "users/recipients.cdb") < 0)
		log_fatal(EXIT_TEMP, "qmail home path too long");
	return cdbfile_compile(src, tmp, dst, RCPT_LINE_MAX, recipients_add, NULL);
}
