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

#include "home.h"
#include "log.h"
#include "mail/exitcode.h"

#define RCPT_LINE_MAX 1024

/* recipients_add - one line of the source file as a cdb key */
static int
recipients_add(struct cdb_make *cm, char *line)
{
	char key[RCPT_LINE_MAX + 2];
	size_t n = strlen(line);

	while (n > 0 && strchr(" \t\r\n", line[n - 1]))
		n--;
	if (n == 0 || line[0] == '#')
		return 0;
	key[0] = ':';
	for (size_t i = 0; i < n; i++)
		key[i + 1] = (char)tolower((unsigned char)line[i]);
	return cdb_make_add(cm, key, (unsigned)n + 1, "", 0);
}

/* recipients_compile - src into tmp as a cdb, then rename over dst */
static int
recipients_compile(const char *src, const char *tmp, const char *dst)
{
	char line[RCPT_LINE_MAX + 2];
	struct cdb_make cm;
	FILE *in;
	int fd;

	if ((in = fopen(src, "r")) == NULL)
		log_fatal(EXIT_TEMP, "open %s: %m", src);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		log_fatal(EXIT_TEMP, "create %s: %m", tmp);
	cdb_make_start(&cm, fd);
	while (fgets(line, sizeof(line), in)) {
		if (strchr(line, '\n') == NULL && !feof(in))
			log_fatal(EXIT_PERM, "%s: line longer than %d bytes", src, RCPT_LINE_MAX);
		if (recipients_add(&cm, line) < 0)
			log_fatal(EXIT_TEMP, "write %s: %m", tmp);
	}
	if (ferror(in))
		log_fatal(EXIT_TEMP, "read %s: %m", src);
	fclose(in);
	if (cdb_make_finish(&cm) < 0 || fsync(fd) < 0 || close(fd) < 0)
		log_fatal(EXIT_TEMP, "write %s: %m", tmp);
	if (rename(tmp, dst) < 0)
		log_fatal(EXIT_TEMP, "rename %s to %s: %m", tmp, dst);
	return 0;
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
	return recipients_compile(src, tmp, dst);
}
