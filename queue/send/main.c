/* SPDX-License-Identifier: MIT
 * main.c - qmail-send: the queue manager (qmail's, with batched todo processing).
 *
 * Runs as:    qmails, started by qmail-start with fds 0-6 wired (see qmail-send(8)).
 * Hostile:    nothing on argv; spawn reports are bounded in send_spawn.c.
 * Trusted:    <home>/control, the queue, qmail-start's fds.
 * May touch:  <home>/queue (cwd), fds 0-6.
 */
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "send.h"

int
main(void)
{
	log_set_fd(FD_LOG);
	if (chdir(home_dir()) < 0)
		log_fatal(EXIT_TEMP, "alert: cannot start: unable to switch to home directory");
	if (send_conf_load(&send_conf) < 0)
		log_fatal(EXIT_TEMP, "alert: cannot start: unable to read controls");
	if (chdir("queue") < 0)
		log_fatal(EXIT_TEMP, "alert: cannot start: unable to switch to queue directory");
	return send_run();
}
