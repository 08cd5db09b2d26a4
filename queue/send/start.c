/* SPDX-License-Identifier: MIT
 * start.c - qmail-start: wire qmail-send to qmail-lspawn, qmail-rspawn and
 * qmail-clean with six pipes (qmail's layout), start an optional logger, and
 * become qmail-send, so that qmail-send is the unit's main process.
 *
 * Runs as:    root (the unit's ExecStart), or the caller in a sandbox
 *             (any uid, or root with $QMAILHOME: nobody changes identity).
 * Trusted:    argv and environment from the unit; the environment is passed down.
 * Hostile:    nothing: it reads no input, only argv and the environment.
 * May touch:  fork/exec of <home>/bin/qmail-{lspawn,rspawn,clean,send} and the logger.
 * WARNING:    as root each child drops to its own uid before exec: qmail-send to
 *             qmails, qmail-rspawn to qmailr, qmail-clean to qmailq, the logger to
 *             qmaill (group nofiles); qmail-lspawn stays root. All but the logger
 *             get the single group qmail.
 */
#include <grp.h>
#include <pwd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "mail/exitcode.h"

struct ids { uid_t uid; gid_t gid; };

static int as_root;

static struct ids
lookup(const char *user, const char *group)
{
	struct passwd *pw;
	struct group *gr;

	if (!as_root)
		return (struct ids){ 0, 0 };
	pw = getpwnam(user);
	gr = getgrnam(group);
	if (pw == NULL || gr == NULL)
		log_fatal(EXIT_TEMP, "unable to find user %s or group %s", user, group);
	return (struct ids){ pw->pw_uid, gr->gr_gid };
}

/* become - drop to ids (root only; a sandbox keeps the caller's) */
static void
become(const struct ids *id, int keep_root)
{
	if (!as_root)
		return;
	if (setgroups(1, &id->gid) < 0 || setgid(id->gid) < 0 ||
	    (!keep_root && setuid(id->uid) < 0))
		_exit(EXIT_TEMP);
}

/* hipipe - a pipe with both ends above fd 9, close-on-exec */
static void
hipipe(int p[2])
{
	int t[2];

	if (pipe(t) < 0)
		log_fatal(EXIT_TEMP, "unable to create pipe: %m");
	p[0] = fcntl(t[0], F_DUPFD_CLOEXEC, 10);
	p[1] = fcntl(t[1], F_DUPFD_CLOEXEC, 10);
	if (p[0] < 0 || p[1] < 0)
		log_fatal(EXIT_TEMP, "unable to move pipe: %m");
	close(t[0]);
	close(t[1]);
}

static void
run(const char *name, char **argv)
{
	char path[4096];

	if (home_path(path, sizeof(path), "bin/%s", name) < 0)
		_exit(EXIT_TEMP);
	argv[0] = (char *)name;
	execv(path, argv);
	log_fatal(EXIT_TEMP, "unable to run %s: %m", path);
}

/* child - fork a process with fd 0 <- in and fd 1 <- out, running name from
 * <home>/bin, or (logger) argv[0] from PATH */
static void
child(const char *name, char **argv, int in, int out, const struct ids *id, int keep_root)
{
	pid_t pid = fork();

	if (pid < 0)
		log_fatal(EXIT_TEMP, "unable to fork: %m");
	if (pid > 0)
		return;
	become(id, keep_root);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0)
		_exit(EXIT_TEMP);
	if (name != NULL)
		run(name, argv);
	execvp(argv[0], argv);
	log_fatal(EXIT_TEMP, "unable to run %s: %m", argv[0]);
}

int
main(int argc, char **argv)
{
	struct ids send = { 0, 0 }, spawnr = send, clean = send, logid = send, lspawn = send;
	char *largv[] = { NULL, argc > 1 ? argv[1] : "./Maildir/", NULL };
	char *noargs[] = { NULL, NULL };
	int pi[7][2], logfd;

	umask(077);
	/* a home named by $QMAILHOME (a sandbox or test home) keeps the
	 * caller's identity, as qmail-lspawn does: qmail's users, where the
	 * host has them, own /var/qmail, not the sandbox */
	as_root = geteuid() == 0 && getenv("QMAILHOME") == NULL;
	if (as_root) {
		send = lookup("qmails", "qmail");
		spawnr = lookup("qmailr", "qmail");
		clean = lookup("qmailq", "qmail");
		lspawn = (struct ids){ 0, clean.gid };
		logid = lookup("qmaill", "nofiles");
	}
	if (chdir(home_dir()) < 0)
		log_fatal(EXIT_TEMP, "unable to switch to %s: %m", home_dir());
	if (argc > 2) {		/* logger: reads qmail-send's log on its fd 0 */
		hipipe(pi[0]);
		child(NULL, argv + 2, pi[0][0], 1, &logid, 0);
		logfd = pi[0][1];
	} else if ((logfd = fcntl(1, F_DUPFD_CLOEXEC, 10)) < 0)
		log_fatal(EXIT_TEMP, "no stdout for the log: %m");
	for (int i = 1; i <= 6; i++)
		hipipe(pi[i]);
	child("qmail-lspawn", largv, pi[1][0], pi[2][1], &lspawn, 1);
	child("qmail-rspawn", noargs, pi[3][0], pi[4][1], &spawnr, 0);
	child("qmail-clean", noargs, pi[5][0], pi[6][1], &clean, 0);
	/* qmail-send: 0 log, 1/2 lspawn, 3/4 rspawn, 5/6 clean; it keeps our pid */
	become(&send, 0);
	if (dup2(logfd, 0) < 0 || dup2(pi[1][1], 1) < 0 || dup2(pi[2][0], 2) < 0 ||
	    dup2(pi[3][1], 3) < 0 || dup2(pi[4][0], 4) < 0 ||
	    dup2(pi[5][1], 5) < 0 || dup2(pi[6][0], 6) < 0)
		_exit(EXIT_TEMP);
	log_set_fd(0);
	run("qmail-send", noargs);
	return EXIT_TEMP;
}
