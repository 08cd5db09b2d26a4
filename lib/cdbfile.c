/* SPDX-License-Identifier: MIT
 * cdbfile.c - the administrator's text file compiled into a cdb, replaced in
 * one rename (qmail-recipients, qmail-mfrules).
 *
 * Runs as:    root or the qmail admin, by hand.
 * Trusted:    the source file (the administrator's); still a line too long
 *             or one the handler cannot parse stops the run.
 * Hostile:    nothing.
 * May touch:  creates tmp, renames it over dst; reads src.
 */
#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cdbfile.h"
#include "log.h"
#include "mail/exitcode.h"

static const char *cdbfile_tmp;

/* cdbfile_die - remove the half-written cdb, then log and exit */
static void __attribute__((noreturn))
cdbfile_die(int code, const char *what, const char *path)
{
	int e = errno;

	unlink(cdbfile_tmp);
	errno = e;
	log_fatal(code, "%s %s: %m", what, path);
}

int
cdbfile_compile(const char *src, const char *tmp, const char *dst, size_t linemax,
    int (*add)(struct cdb_make *cm, char *line, void *arg), void *arg)
{
	struct cdb_make cm;
	char *line = malloc(linemax + 2);
	FILE *in;
	int fd, r;

	cdbfile_tmp = tmp;
	if (line == NULL)
		log_fatal(EXIT_TEMP, "out of memory");
	if ((in = fopen(src, "re")) == NULL)
		log_fatal(EXIT_TEMP, "open %s: %m", src);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		log_fatal(EXIT_TEMP, "create %s: %m", tmp);
	cdb_make_start(&cm, fd);
	while (fgets(line, (int)linemax + 2, in)) {
		if (strchr(line, '\n') == NULL && !feof(in)) {
			unlink(tmp);
			log_fatal(EXIT_PERM, "%s: line longer than %zu bytes", src, linemax);
		}
		if ((r = add(&cm, line, arg)) == CDBFILE_BAD) {
			unlink(tmp);
			log_fatal(EXIT_PERM, "%s: cannot parse: %s", src, line);
		}
		if (r < 0)
			cdbfile_die(EXIT_TEMP, "write", tmp);
	}
	if (ferror(in))
		cdbfile_die(EXIT_TEMP, "read", src);
	fclose(in);
	free(line);
	if (cdb_make_finish(&cm) < 0 || fsync(fd) < 0 || close(fd) < 0)
		cdbfile_die(EXIT_TEMP, "write", tmp);
	if (rename(tmp, dst) < 0) {
		unlink(tmp);
		log_fatal(EXIT_TEMP, "rename %s to %s: %m", tmp, dst);
	}
	return 0;
}
