/* SPDX-License-Identifier: MIT
 * main.c - qmail-smtpd: receive mail over SMTP on fd 0/1 and hand it to qmail-queue.
 *
 * Runs as:    qmaild (User= in the unit; tcpserver -u/-g), one process per connection.
 * Hostile:    every byte from the client on fd 0.
 * Trusted:    control files, the environment set by the unit or tcpserver rules.
 * May touch:  fd 0/1 (client), fd 2 (journal), qmail-queue through lib/mail/qqueue.
 * Must not:   write any file; it needs no privilege and asks for none.
 */
#include <signal.h>

#include "buf.h"
#include "mail/exitcode.h"
#include "smtpd.h"

/* main - qmail-smtpd on fd 0/1; the exit code is the session's */
int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (smtp_sec_args(argc, argv) < 0)
		return EXIT_TEMP;
	buf_set_nomem_exit(SMTPD_EXIT_DROP);
	return smtpd_serve(0, 1);
}
