/* SPDX-License-Identifier: MIT
 * main.c - qmail-newu: compile <home>/users/assign into <home>/users/cdb.
 *
 * Runs as:    root or the home's owner, by hand or from mkhome.sh.
 * Trusted:    users/assign.
 * Hostile:    nothing: only the administrator writes users/assign.
 * May touch:  users/cdb.tmp, users/cdb, and an fsync of users/.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "newu.h"

int
main(void)
{
	char assign[4096], cdb[4096], tmp[4096], dir[4096];
	struct buf err;
	int fd;

	umask(033);
	if (home_path(assign, sizeof(assign), "users/assign") < 0 ||
	    home_path(cdb, sizeof(cdb), "users/cdb") < 0 ||
	    home_path(tmp, sizeof(tmp), "users/cdb.tmp") < 0 ||
	    home_path(dir, sizeof(dir), "users") < 0)
		log_fatal(EXIT_TEMP, "qmail home path too long");
	buf_init(&err, 8192);
	if (newu_compile(assign, cdb, tmp, &err) < 0)
		log_fatal(EXIT_TEMP, "%s", buf_str(&err));
	/* make the rename durable too */
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) >= 0) {
		if (fsync(fd) < 0)
			log_fatal(EXIT_TEMP, "fsync %s: %m", dir);
		close(fd);
	}
	return 0;
}
