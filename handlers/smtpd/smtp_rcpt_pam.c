/* SPDX-License-Identifier: MIT
 * smtp_rcpt_pam.c - s/qmail's "domain|program args" recipients lines: ask a
 * checkpassword-style program whether an address exists.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the address (bounded, no NUL; given on fd 3, never on the command line).
 * Trusted:    the program and its arguments (control/recipients, root-owned).
 * May touch:  forks and execs the program with the address on fd 3.
 * Protocol:   "address\0\0\0" on fd 3; exit 0 known, 111 temporary, other unknown.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "smtpd.h"

#define SMTP_PAM_ARGS 8		/* program and up to 7 arguments, as s/qmail's 6 */
#define SMTP_PAM_TIMEOUT 30	/* seconds before the program is killed */

/* smtp_pam_argv - split the line's program part at spaces, in place */
static int
smtp_pam_argv(char *cmd, char **argv)
{
	int n = 0;

	for (char *p = strtok(cmd, " \t"); p && n < SMTP_PAM_ARGS; p = strtok(NULL, " \t"))
		argv[n++] = p;
	argv[n] = NULL;
	return n;
}

static void
smtp_pam_child(int rfd, char **argv)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	if (rfd != 3) {
		if (dup2(rfd, 3) < 0)
			_exit(111);
		close(rfd);
	}
	alarm(SMTP_PAM_TIMEOUT);	/* survives exec: a hung program dies */
	execvp(argv[0], argv);
	_exit(111);
}

/* smtp_rcpt_pam - 1 the program knows addr, 0 it does not, -1 trouble */
int
smtp_rcpt_pam(const char *cmdline, const char *addr)
{
	char cmd[1024], *argv[SMTP_PAM_ARGS + 1];
	int fd[2], status;
	unsigned int left;
	pid_t pid;
	ssize_t w;

	if (strlen(cmdline) >= sizeof(cmd))
		return -1;
	memcpy(cmd, cmdline, strlen(cmdline) + 1);
	if (smtp_pam_argv(cmd, argv) == 0 || pipe(fd) < 0)
		return -1;
	left = alarm(0);		/* the session bound is paused while we wait */
	pid = fork();
	if (pid == 0) {
		close(fd[1]);
		smtp_pam_child(fd[0], argv);
	}
	close(fd[0]);
	if (pid > 0) {
		w = write(fd[1], addr, strlen(addr));
		if (w >= 0)
			w = write(fd[1], "\0\0\0", 3);
		(void)w;		/* a program that does not read still answers */
	}
	close(fd[1]);
	while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (left)
		alarm(left);
	if (pid < 0 || !WIFEXITED(status)) {
		log_err("recipients program %s failed", argv[0]);
		return -1;
	}
	if (WEXITSTATUS(status) == 111)
		return -1;
	return WEXITSTATUS(status) == 0;
}
