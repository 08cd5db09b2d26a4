/* SPDX-License-Identifier: MIT
 * main.c - qmail-rspawn: run qmail-remote for qmail-send's remote deliveries.
 *
 * Runs as:    qmailr, started by qmail-start (or the sandbox owner).
 * Trusted:    qmail-send on fd 0/1; QMAILREMOTE and the environment from qmail-start.
 * Hostile:    qmail-remote's output (it carries remote servers' text).
 * May touch:  queue/mess (read); execs qmail-remote.
 */
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "rspawn.h"
#include "spawn.h"

int
main(void)
{
	static struct rspawn_config cfg;
	static char remote[4096];
	char mess[4096];
	struct stat sb;
	const char *env = getenv("QMAILREMOTE");

	umask(077);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (env != NULL && *env == '/')
		cfg.remote = env;
	else if (home_path(remote, sizeof(remote), "bin/qmail-remote") < 0)
		log_fatal(EXIT_TEMP, "qmail home path too long");
	else
		cfg.remote = remote;
	if (home_path(mess, sizeof(mess), "queue/mess") < 0)
		log_fatal(EXIT_TEMP, "qmail home path too long");
	if (chdir(mess) < 0 || stat(".", &sb) < 0)
		log_fatal(EXIT_TEMP, "chdir %s: %m", mess);
	rspawn_setup(&cfg);
	return spawn_run(&rspawn_ops, 0, 1, sb.st_uid);
}
