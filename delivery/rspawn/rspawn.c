/* SPDX-License-Identifier: MIT
 * rspawn.c - qmail-rspawn's delivery child (qmail-remote host sender recipient)
 * and the conversion of qmail-remote's output into a spawn report.
 *
 * Runs as:    qmailr (or the sandbox owner).
 * Trusted:    qmail-send's requests; the path of qmail-remote.
 * Hostile:    qmail-remote's output (it talks to the world): bounded by the
 *             spawn loop, cut at NULs, only its first two fields are used.
 * May touch:  execs qmail-remote only.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/exitcode.h"
#include "rspawn.h"

static const struct rspawn_config *rspawn_cfg;

void
rspawn_setup(const struct rspawn_config *cfg)
{
	rspawn_cfg = cfg;
}

static pid_t
rspawn_start(const struct spawn_request *req, const char **why)
{
	char *argv[5];
	pid_t pid;

	/* qmail-remote comes later: until it is installed, remote mail waits */
	if (access(rspawn_cfg->remote, X_OK) < 0 && errno == ENOENT) {
		*why = "Zqmail-remote is not installed. (#4.3.0)\n";
		return -1;
	}
	argv[0] = (char *)rspawn_cfg->remote;
	argv[1] = req->recipient + req->at + 1;
	argv[2] = (char *)req->sender;
	argv[3] = req->recipient;
	argv[4] = NULL;
	pid = fork();
	if (pid == 0) {
		if (dup2(req->fdmess, 0) < 0 || dup2(req->fdout, 1) < 0 || dup2(1, 2) < 0)
			_exit(EXIT_TEMP);
		execv(argv[0], argv);
		_exit(errno == ENOENT || errno == EACCES || errno == ENOEXEC ?
		    EXIT_PERM : EXIT_TEMP);
	}
	if (pid < 0)
		*why = "Zqmail-rspawn unable to fork. (#4.3.0)\n";
	return pid;
}

/* rspawn_result - the message report (first field starting K, Z or D):
 * 1 K, 0 Z, -1 D or none */
static int
rspawn_result(const char *s, size_t len)
{
	size_t j = 0;

	for (size_t k = 0; k < len; k++) {
		if (s[k] != '\0')
			continue;
		if (s[j] == 'K')
			return 1;
		if (s[j] == 'Z')
			return 0;
		if (s[j] == 'D')
			return -1;
		j = k + 1;
	}
	return -1;
}

/* rspawn_report - the recipient report decides unless it accepted ('r'):
 * 's' defers, 'h' fails, 'r' takes the message report's verdict.  Text:
 * the recipient report, plus the message report when it is not better
 * than the final verdict (qmail-rspawn's rule) */
void
rspawn_report(struct buf *out, int wstat, const char *s, size_t len, int truncated)
{
	size_t first;
	int result, orr;

	if (!WIFEXITED(wstat)) {
		buf_cats(out, "Zqmail-remote crashed.\n");
		return;
	}
	if (WEXITSTATUS(wstat) != 0) {
		buf_cats(out, WEXITSTATUS(wstat) == EXIT_TEMP ? "ZUnable to run qmail-remote.\n"
		    : "DUnable to run qmail-remote.\n");
		return;
	}
	if (truncated) {
		buf_cats(out, "Zqmail-remote output too long. (#4.3.0)\n");
		return;
	}
	if (len == 0) {
		buf_cats(out, "Zqmail-remote produced no output.\n");
		return;
	}
	result = orr = rspawn_result(s, len);
	if (s[0] == 's')
		orr = 0;
	else if (s[0] == 'h')
		orr = -1;
	buf_catc(out, orr == 1 ? 'K' : orr == 0 ? 'Z' : 'D');
	first = 1 + strnlen(s + 1, len - 1);	/* the first NUL after the letter */
	if (first >= len)
		return;		/* no NUL at all: the letter alone, as qmail */
	buf_cat(out, s + 1, first - 1);
	if (result <= orr && first + 1 < len && s[first + 1] != '\0' &&
	    strchr("KZD", s[first + 1]) != NULL)
		buf_cat(out, s + first + 2, strnlen(s + first + 2, len - first - 2));
}

const struct spawn_ops rspawn_ops = {
	.output_max = RSPAWN_OUTPUT_MAX,
	.start = rspawn_start,
	.report = rspawn_report,
};
