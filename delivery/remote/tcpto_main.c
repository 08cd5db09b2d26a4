/* SPDX-License-Identifier: MIT
 * tcpto_main.c - qmail-tcpto: print qmail-remote's table of addresses that
 * timed out (queue/lock/tcpto), one line each.
 *
 * Runs as:    root or qmailr (the administrator).
 * Trusted:    the table.
 * Hostile:    nothing.
 * May touch:  queue/lock/tcpto (read).
 */
#include <stdio.h>
#include <time.h>

#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "remote.h"

int
main(void)
{
	char path[4096];
	struct buf out;

	buf_init(&out, 1 << 20);
	if (home_path(path, sizeof(path), "queue/lock/tcpto") < 0)
		log_fatal(EXIT_TEMP, "qmail home path too long");
	if (tcpto_list(path, &out, (long)time(NULL)) < 0)
		log_fatal(EXIT_TEMP, "unable to read %s: %m", path);
	fwrite(buf_str(&out), 1, buf_len(&out), stdout);
	return fflush(stdout) == 0 ? 0 : EXIT_TEMP;
}
