/* SPDX-License-Identifier: MIT
 * main.c - qmail-lspawn: run qmail-local as the recipient for qmail-send.
 *
 * Runs as:    root, started by qmail-start; the only long-running root process.
 * Trusted:    qmail-send on fd 0/1, argv and environment from qmail-start,
 *             users/cdb and the passwd database.
 * Hostile:    envelope addresses inside requests; qmail-local's output.
 * May touch:  queue/mess (read), users/cdb (read); forks and execs qmail-local.
 *
 * WARNING: this program keeps root to become each recipient.  From its parent
 * it inherits cwd, fds, umask, rlimits, signal dispositions and environment.
 * main() therefore: makes sure fds 0-2 are open (0/1 are the protocol, 2 the
 * journal), sets umask 077, resets SIGCHLD/SIGPIPE, moves to queue/mess; the
 * environment is kept on purpose: qmail passes qmail-start's environment down
 * to qmail-local and .qmail programs (qmail-start(8)), and qmail-start is root.
 * The queue owner is the owner of queue/mess; a message file owned by anyone
 * else is refused.  Children drop to the user (setgroups to one group, setgid,
 * setuid) before exec; deliveries as uid 0 are refused unless the home comes
 * from $QMAILHOME (a sandbox).  Without root, only the invoking uid is served.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "lspawn.h"
#include "spawn.h"

static void
lspawn_check_fds(void)
{
	if (fcntl(2, F_GETFD) < 0 && open("/dev/null", O_WRONLY) != 2)
		_exit(EXIT_TEMP);
	if (fcntl(0, F_GETFD) < 0 || fcntl(1, F_GETFD) < 0)
		log_fatal(EXIT_TEMP, "fd 0 and 1 must be the pipes from qmail-send");
}

int
main(int argc, char **argv)
{
	static struct lspawn_config cfg;
	char mess[4096];
	struct stat sb;

	/* 1. fds, 2. umask, 3. signals; the environment is kept (see WARNING) */
	lspawn_check_fds();
	umask(077);
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (argc != 2 || argv[1][0] == '\0')
		log_fatal(EXIT_PERM, "usage: qmail-lspawn defaultdelivery");
	cfg.home = home_dir();
	cfg.defaultdelivery = argv[1];
	cfg.allow_root = strcmp(cfg.home, QMAIL_HOME) != 0;

	/* 4. the queue owner: whoever owns queue/mess */
	if (home_path(mess, sizeof(mess), "queue/mess") < 0)
		log_fatal(EXIT_TEMP, "qmail home path too long");
	if (chdir(mess) < 0 || stat(".", &sb) < 0)
		log_fatal(EXIT_TEMP, "chdir %s: %m", mess);

	/* 5. privileges stay: children drop to each recipient in lspawn_child() */
	if (geteuid() != 0)
		log_notice("not running as root: delivering only as uid %lu",
		    (unsigned long)geteuid());

	/* 6. only now read requests */
	lspawn_setup(&cfg);
	return spawn_run(&lspawn_ops, 0, 1, sb.st_uid);
}
