/* SPDX-License-Identifier: MIT
 * main.c - qmail-qmtpd: receive mail over QMTP (QMTPS with --tls=implicit) on fd 0/1
 * and hand it to qmail-queue.
 *
 * Runs as:    qmaild (User= in the unit; tcpserver -u/-g), one process per connection.
 * Hostile:    every byte from the client on fd 0.
 * Trusted:    argv, control files, credentials, the environment set by the unit or
 *             tcpserver rules.
 * May touch:  fd 0/1 (client), fd 2 (journal), qmail-queue through lib/mail/qqueue.
 * Must not:   write any file; it needs no privilege and asks for none.
 */
#include <signal.h>

#include "buf.h"
#include "mail/exitcode.h"
#include "qmtpd.h"

/* main - qmail-qmtpd on fd 0/1; the exit code is the session's */
int
main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	if (qmtpd_tls_args(argc, argv) < 0)
		return EXIT_TEMP;
	buf_set_nomem_exit(QMTPD_EXIT_DROP);
	return qmtpd_serve(0, 1);
}
