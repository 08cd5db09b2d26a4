/* SPDX-License-Identifier: MIT
 * qmqpc_main.c - qmail-qmqpc: hand a message to a QMQP server instead of the local queue.
 *
 * Runs as:    the injecting user (as qmail-queue would be run), no privilege.
 * Hostile:    the server's answer.
 * Trusted:    fd 0 (message), fd 1 (envelope), control files.
 * May touch:  TCP connections to control/qmqpservers; no file.
 */
#include <signal.h>

#include "buf.h"
#include "mail/qqueue.h"
#include "qmtpd.h"

/* main - qmail-queue's interface; the exit code is qmail-queue's table */
int
main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	signal(SIGPIPE, SIG_IGN);
	buf_set_nomem_exit(QQ_EXIT_NOMEM);
	return qmqpc_run();
}
