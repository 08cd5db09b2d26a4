/* SPDX-License-Identifier: MIT
 * tcpok_main.c - qmail-tcpok: clear qmail-remote's table of addresses that
 * timed out, so that the next delivery tries every address again.
 *
 * Runs as:    root or qmailr (the administrator).
 * Trusted:    nothing read.
 * Hostile:    nothing.
 * May touch:  queue/lock/tcpto (write).
 */
#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "remote.h"

int
main(void)
{
	char path[4096];

	if (home_path(path, sizeof(path), "queue/lock/tcpto") < 0)
		log_fatal(EXIT_TEMP, "qmail home path too long");
	if (tcpto_clear(path) < 0)
		log_fatal(EXIT_TEMP, "unable to clear %s: %m", path);
	return 0;
}
