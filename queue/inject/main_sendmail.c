/* SPDX-License-Identifier: MIT
 * main_sendmail.c - sendmail(8) compatibility: the usual options mapped onto
 * qmail-inject's behaviour; -bs runs qmail-smtpd, -bp (and "mailq") qmail-qread.
 *
 * Runs as:    the local user who sends; no privileges.
 * Hostile:    nothing beyond the user's own input.
 * May touch:  fd 0-2, <home>/control (read), runs qmail-queue, qmail-smtpd, qmail-qread.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "home.h"
#include "mail/exitcode.h"
#include "inject.h"

static int
usage(void)
{
	dprintf(2, "sendmail: usage: sendmail [-t] [-f sender] [-F name] [-bm|-bp|-bs] "
	    "[address ...]\n");
	return EXIT_PERM;
}

/* run_home - exec <home>/bin/NAME (qmail's sendmail does the same) */
static int
run_home(const char *name)
{
	char path[4096];
	char *argv[2] = { (char *)name, NULL };

	if (strcmp(name, "qmail-smtpd") == 0 && getenv("PROTO") == NULL) {
		/* a local SMTP session on stdin/stdout may relay, like qmail's sendmail -bs */
		setenv("RELAYCLIENT", "", 1);
		setenv("PROTO", "TCP", 1);
		setenv("TCPLOCALIP", "127.0.0.1", 1);
		setenv("TCPREMOTEIP", "127.0.0.1", 1);
		setenv("TCPREMOTEINFO", "sendmail-bs", 1);
	}
	if (home_path(path, sizeof(path), "bin/%s", name) == 0)
		execv(path, argv);
	dprintf(2, "sendmail: fatal: unable to run %s\n", name);
	return EXIT_TEMP;
}

int
main(int argc, char **argv)
{
	struct inject_opts o = { .prog = "sendmail", .mode = INJECT_RCPT_ARGS };
	int c;

	buf_set_nomem_exit(EXIT_TEMP);
	if (strcmp(basename(argv[0]), "mailq") == 0)
		return run_home("qmail-qread");
	while ((c = getopt(argc, argv, "+timvxe:E::J::B:N:O:o:p:f:F:b:")) != -1) {
		switch (c) {
		case 't': o.mode = INJECT_RCPT_HEADER; break;
		case 'f': o.sender = o.from_addr = optarg; break;
		case 'F': o.fullname = optarg; break;
		case 'b':
			if (strcmp(optarg, "m") == 0)
				break;
			if (strcmp(optarg, "p") == 0)
				return run_home("qmail-qread");
			if (strcmp(optarg, "s") == 0)
				return run_home("qmail-smtpd");
			return usage();
		case 'i': case 'm': case 'v': case 'x': case 'e': case 'E': case 'J':
		case 'B': case 'N': case 'O': case 'o': case 'p':
			break;	/* qmail has one delivery mode, one error mode, no dot rule */
		default:
			return usage();
		}
	}
	o.args = argv + optind;
	o.nargs = argc - optind;
	return inject_run(&o, 0);
}
