/* SPDX-License-Identifier: MIT
 * lspawn.c - qmail-lspawn's delivery child: find the user, become the user,
 * run qmail-local; and the report made from qmail-local's exit status.
 *
 * Runs as:    root (a forked child of qmail-lspawn), then the recipient's uid.
 * Trusted:    users/cdb, the passwd database, argv from qmail-start.
 * Hostile:    the recipient and sender (envelope): passed as arguments only.
 * May touch:  users/cdb; execs <home>/bin/qmail-local and nothing else.
 * Must not:   run qmail-local as root (outside a sandbox home) or keep groups.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "mail/exitcode.h"
#include "lspawn.h"
#include "spawn.h"
#include "users.h"

static const struct lspawn_config *lspawn_cfg;

void
lspawn_setup(const struct lspawn_config *cfg)
{
	lspawn_cfg = cfg;
}

/* lspawn_become - drop to the user: one group, no supplementary groups */
static void
lspawn_become(const struct users_entry *u)
{
	uid_t me = geteuid();

	if (u->uid == 0 && !lspawn_cfg->allow_root)
		spawn_report_exit(EXIT_TEMP, "Not allowed to perform deliveries as root. (#4.3.0)");
	if (me != 0) {
		if (u->uid != me)
			spawn_report_exit(EXIT_TEMP, "qmail-lspawn runs as uid %lu, not root, and "
			    "cannot deliver as uid %lu. (#4.3.0)",
			    (unsigned long)me, (unsigned long)u->uid);
		return;
	}
	if (setgroups(1, &u->gid) < 0 || setgid(u->gid) < 0 || setuid(u->uid) < 0)
		spawn_report_exit(EXIT_TEMP, "Unable to switch to uid %lu: %s. (#4.3.0)",
		    (unsigned long)u->uid, strerror(errno));
	if (u->uid != 0 && (getuid() == 0 || geteuid() == 0))
		spawn_report_exit(EXIT_TEMP, "Not allowed to perform deliveries as root. (#4.3.0)");
}

static void __attribute__((noreturn))
lspawn_child(const struct spawn_request *req)
{
	char cdbpath[4096], prog[4096];
	struct users_entry u;
	const char *why, *local, *domain;
	char *argv[11];

	if (dup2(req->fdmess, 0) < 0 || dup2(req->fdout, 1) < 0 || dup2(1, 2) < 0)
		_exit(EXIT_TEMP);
	req->recipient[req->at] = '\0';
	local = req->recipient;
	domain = req->recipient + req->at + 1;
	if (*local == '\0')
		_exit(0);	/* qmail: an empty local part is the trash can */
	if (snprintf(cdbpath, sizeof(cdbpath), "%s/users/cdb", lspawn_cfg->home) >=
	    (int)sizeof(cdbpath) ||
	    snprintf(prog, sizeof(prog), "%s/bin/qmail-local", lspawn_cfg->home) >=
	    (int)sizeof(prog))
		spawn_report_exit(EXIT_TEMP, "qmail home path too long. (#4.3.0)");
	users_entry_init(&u);
	if (users_lookup(cdbpath, local, &u, &why) < 0)
		spawn_report_exit(EXIT_TEMP, "%s", why);
	lspawn_become(&u);
	argv[0] = prog;
	argv[1] = "--";
	argv[2] = (char *)u.user;
	argv[3] = (char *)u.home;
	argv[4] = (char *)local;
	argv[5] = (char *)u.dash;
	argv[6] = (char *)u.ext;
	argv[7] = (char *)domain;
	argv[8] = (char *)req->sender;
	argv[9] = (char *)lspawn_cfg->defaultdelivery;
	argv[10] = NULL;
	execv(prog, argv);
	spawn_report_exit(EXIT_TEMP, "Unable to run qmail-local: %s. (#4.3.0)", strerror(errno));
}

static pid_t
lspawn_start(const struct spawn_request *req, const char **why)
{
	pid_t pid = fork();

	if (pid == 0)
		lspawn_child(req);
	if (pid < 0)
		*why = "Zqmail-lspawn unable to fork. (#4.3.0)\n";
	return pid;
}

/* lspawn_letter - qmail-local's exit code as K, Z or D.  qmail's codes: 0 K;
 * 111, 71, 74, 75 Z; 100 D.  99 (done) is K, qmail-command(8)'s permanent
 * codes are D; any other code is a broken delivery agent and defers (qmail
 * bounced it), so no mail is lost to a crash-like exit. */
static char
lspawn_letter(int code)
{
	switch (code) {
	case 0: case EXIT_OK_STOP:
		return 'K';
	case EXIT_PERM: case 64: case 65: case 70: case 76: case 77: case 78: case 112:
		return 'D';
	default:
		return 'Z';
	}
}

/* lspawn_report - "K"/"Z"/"D" + qmail-local's output (to its first NUL) */
void
lspawn_report(struct buf *out, int wstat, const char *output, size_t len, int truncated)
{
	static const char toolong[] = "\nError report too long, sorry.\n";
	size_t n = strnlen(output, len);

	if (!WIFEXITED(wstat)) {
		buf_cats(out, "Zqmail-local crashed.\n");
		return;
	}
	buf_catc(out, lspawn_letter(WEXITSTATUS(wstat)));
	if (truncated && n > LSPAWN_REPORT_MAX - sizeof(toolong) - 2)
		n = LSPAWN_REPORT_MAX - sizeof(toolong) - 2;
	buf_cat(out, output, n);
	if (truncated)
		buf_cats(out, toolong);
}

const struct spawn_ops lspawn_ops = {
	.output_max = LSPAWN_REPORT_MAX,
	.start = lspawn_start,
	.report = lspawn_report,
};
