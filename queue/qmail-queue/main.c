/* SPDX-License-Identifier: MIT
 * main.c - qmail-queue: the only way into the queue.  Message on fd 0, envelope on
 * fd 1, exit code as in qmail-queue(8).
 *
 * Runs as:    the caller.  The queue owner (and the sandbox's single user) writes
 *             the queue itself; everyone else hands the message to the queue
 *             writer qmail-queued (qq_handoff.c), which runs as the queue owner.
 * Hostile:    fd 0 and fd 1 contents; the caller's environment.
 * Trusted:    QMAILHOME only without AT_SECURE (lib/home).
 * May touch:  <home>/queue pid/ mess/ intd/ todo/ lock/trigger; fd 2 for one log line.
 *
 * WARNING.  The caller chooses our fds, umask, rlimits and signal mask.  main()
 * makes fds 0-2 exist (a closed fd 2 must not become a queue file that log lines
 * land in), sets qmail's umask 033, and qq_run() sets its own signal handlers.
 * Nothing is executed, so the environment needs no cleaning; no privileges change.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "mail/qqueue.h"
#include "qq.h"

int
main(void)
{
	char path[4096];
	const char *home;
	sigset_t none;
	int route, sock;

	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return QQ_EXIT_BUG;
	umask(033);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	home = home_dir();
	route = qq_route(home, path, sizeof(path));
	if (route != QQ_ROUTE_DIRECT) {
		sock = qq_handoff_connect(path);
		if (sock >= 0)
			return qq_handoff(sock, 0, 1);
		if (route == QQ_ROUTE_WRITER) {
			log_err("qmail-queue: cannot write the queue, and connect %s: %m", path);
			return QQ_EXIT_CONN_FAILED;
		}
	}
	return qq_run(home, 0, 1);
}
