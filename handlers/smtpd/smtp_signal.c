/* SPDX-License-Identifier: MIT
 * smtp_signal.c - SIGTERM (shutdown) and the session bound (SIGALRM): say 421, leave.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    nothing; signals come from systemd (stop) or our own alarm.
 * May touch:  one write(2) of a constant reply to the client, then _exit.
 * A message in progress is not lost: qmail-queue sees its pipes close before
 * the envelope is complete and queues nothing; the client was not told 250.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "smtp_reply.h"
#include "smtpd.h"

static volatile sig_atomic_t smtp_signal_fd = -1;

static void
smtp_signal_say(const char *reply)
{
	int fd = smtp_signal_fd;

	if (fd >= 0) {
		ssize_t r = write(fd, reply, strlen(reply));

		r = write(fd, "\r\n", 2);
		(void)r;
	}
	_exit(SMTPD_EXIT_DROP);
}

static void
smtp_on_term(int sig)
{
	(void)sig;
	smtp_signal_say(SMTP_R_SHUTDOWN);
}

static void
smtp_on_alarm(int sig)
{
	(void)sig;
	smtp_signal_say(SMTP_R_SESSION_TIME);
}

/* smtp_signal_init - from now on SIGTERM and the end of the session bound
 * (seconds, 0: none) answer 421 on wfd and end the process */
void
smtp_signal_init(int wfd, unsigned long seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = smtp_on_term;
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = smtp_on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	smtp_signal_fd = wfd;
	if (seconds)
		alarm((unsigned)seconds);
}

/* smtp_signal_plain - 0 once the stream is no longer plain text (TLS): then
 * a signal ends the process without writing into the encrypted stream */
void
smtp_signal_plain(int wfd)
{
	smtp_signal_fd = wfd;
}
