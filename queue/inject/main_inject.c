/* SPDX-License-Identifier: MIT
 * main_inject.c - qmail-inject [-nN] [-aAhH] [-f sender] [address ...]; see qmail-inject(8).
 *
 * Runs as:    the local user who sends; no privileges.
 * Hostile:    nothing beyond the user's own input.
 * May touch:  fd 0-2, <home>/control (read), runs qmail-queue or $QMAILQUEUE.
 */
#include <stdio.h>
#include <unistd.h>

#include "buf.h"
#include "mail/exitcode.h"
#include "inject.h"

int
main(int argc, char **argv)
{
	struct inject_opts o = { .prog = "qmail-inject" };
	int c;

	buf_set_nomem_exit(EXIT_TEMP);
	while ((c = getopt(argc, argv, "+aAhHnNf:")) != -1) {
		switch (c) {
		case 'a': case 'A': o.mode = INJECT_RCPT_ARGS; break;
		case 'h': case 'H': o.mode = INJECT_RCPT_HEADER; break;
		case 'n': o.print = 1; break;
		case 'N': o.print = 0; break;
		case 'f': o.sender = optarg; break;
		default:
			dprintf(2, "qmail-inject: usage: qmail-inject [-nN] [-aAhH] "
			    "[-f sender] [address ...]\n");
			return EXIT_PERM;
		}
	}
	o.args = argv + optind;
	o.nargs = argc - optind;
	return inject_run(&o, 0);
}
