/* SPDX-License-Identifier: MIT
 * main.c - qmail-local [-nN] user homedir local dash ext domain sender defaultdelivery
 *
 * Runs as:    the recipient, started by qmail-lspawn (or by hand with -n).
 * Trusted:    argv (qmail-lspawn built it from users/cdb or passwd).
 * Hostile:    the message on fd 0 and the sender string.
 * May touch:  see local.c.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mail/exitcode.h"
#include "local.h"

static void
local_usage(void)
{
	spawn_report_exit(EXIT_PERM, "qmail-local: usage: qmail-local [ -nN ] user homedir "
	    "local dash ext domain sender aliasempty");
}

int
main(int argc, char **argv)
{
	static struct local_ctx c;
	int opt;

	umask(077);
	signal(SIGPIPE, SIG_IGN);
	buf_set_nomem_exit(EXIT_TEMP);
	c.doit = 1;
	while ((opt = getopt(argc, argv, "nN")) != -1) {
		if (opt == 'n')
			c.doit = 0;
		else if (opt == 'N')
			c.doit = 1;
		else
			local_usage();
	}
	if (argc - optind != 8 || argv[optind + 1][0] != '/')
		local_usage();
	argv += optind;
	c.user = argv[0];
	c.homedir = argv[1];
	c.local = argv[2];
	c.dash = argv[3];
	c.ext = argv[4];
	c.host = argv[5];
	c.sender = argv[6];
	c.defaultdelivery = argv[7];
	buf_init(&c.dtline, LOCAL_ADDR_MAX);
	buf_init(&c.rpline, 2 * LOCAL_ADDR_MAX);
	buf_init(&c.ufline, LOCAL_ADDR_MAX);
	buf_init(&c.newsender, 2 * LOCAL_ADDR_MAX);
	buf_init(&c.safeext, LOCAL_ADDR_MAX);
	buf_init(&c.qmail, 2 * LOCAL_ADDR_MAX);
	local_run(&c);
	if (c.forward_qp)
		spawn_report_exit(0, "did %lu+%lu+%lu\nqp %lu", c.nfile, c.nforward, c.nprogram,
		    c.forward_qp);
	spawn_report_exit(0, "did %lu+%lu+%lu", c.nfile, c.nforward, c.nprogram);
}
