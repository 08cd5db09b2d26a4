/* SPDX-License-Identifier: MIT
 * program.c - a "|command" line of a .qmail file: /bin/sh -c command with the
 * message on fd 0 and qmail-command(8)'s environment.
 *
 * Runs as:    the recipient (qmail-local).
 * Trusted:    the command (the user wrote it).
 * Hostile:    the message, which the command reads.
 * May touch:  whatever the command does; its output joins our report.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/exitcode.h"
#include "local.h"

/* program_deliver - run it and act on the exit code: 0 next line, 99 stop
 * after this line, 100 and 64 65 70 76 77 78 112 permanent, else temporary */
void
program_deliver(struct local_ctx *c, const char *command)
{
	pid_t pid;
	int status;

	local_rewind();
	pid = fork();
	if (pid < 0)
		spawn_report_exit(EXIT_TEMP, "Unable to fork: %s. (#4.3.0)", strerror(errno));
	if (pid == 0) {
		signal(SIGPIPE, SIG_DFL);
		execl("/bin/sh", "sh", "-c", command, (char *)NULL);
		spawn_report_exit(EXIT_TEMP, "Unable to run /bin/sh: %s. (#4.3.0)", strerror(errno));
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			spawn_report_exit(EXIT_TEMP, "Unable to wait for program: %s. (#4.3.0)",
			    strerror(errno));
	if (!WIFEXITED(status))
		spawn_report_exit(EXIT_TEMP, "Aack, child crashed. (#4.3.0)");
	switch (WEXITSTATUS(status)) {
	case 0:
		return;
	case EXIT_OK_STOP:
		c->stop = 1;
		return;
	case EXIT_PERM: case 64: case 65: case 70: case 76: case 77: case 78: case 112:
		_exit(EXIT_PERM);	/* the program's own output is the report */
	default:
		_exit(EXIT_TEMP);
	}
}
