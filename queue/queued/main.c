/* SPDX-License-Identifier: MIT
 * main.c - qmail-queued: the queue writer.  Takes messages from qmail-queue
 * run by users who cannot write the queue, writes them as the queue owner and
 * makes concurrent ones durable together (group commit).
 *
 * Runs as:    the queue owner (qmailq), started by qmail-queued.socket; or by hand
 *             (the sandbox), binding control/queuewriter itself.
 * Hostile:    every client: any local user may connect, as any local user could
 *             run qmail's setuid qmail-queue.
 * Trusted:    control files; QMAILHOME without AT_SECURE; SO_PEERCRED.
 * May touch:  <home>/queue pid/ mess/ intd/ todo/ lock/trigger; the socket.
 *
 * WARNING.  Whoever starts us chooses fds, umask, environment and rlimits.
 * main() makes fds 0-2 exist, sets qmail's umask 033, takes what it needs from
 * the environment (home, LISTEN_FDS) and clears it, raises the fd limit to its
 * hard maximum, refuses to run as anyone but the owner of queue/mess/ (files it
 * wrote would never be delivered), and only then reads a client byte.  It
 * changes no uid: the unit's User= chooses it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "cfg.h"
#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "qd.h"

static struct qd_conf conf;
static struct buf sockpath, queuesync;

static const struct cfg_item qd_cfg[] = {
	/* file               type      min  max         default      env   target */
	{ "queuedbytes",       CFG_SIZE, 1,   ~0UL,       "268435456", NULL, &conf.maxbytes },
	{ "timeoutqueued",     CFG_UINT, 1,   86400,      "1200",      NULL, &conf.timeout },
	{ "concurrencyqueued", CFG_UINT, 1,   10000,      "200",       NULL, &conf.clients },
	{ "idlequeued",        CFG_UINT, 0,   86400,      "60",        NULL, &conf.idle },
	{ "queuewriter",       CFG_LINE, 0,   0,          QD_SOCKET_DEFAULT, NULL, &sockpath },
	{ "queuesync",         CFG_LINE, 0,   0,          "fsync",     NULL, &queuesync },
	{ NULL }
};

/* qd_listen - systemd's socket, or our own at control/queuewriter (mode 0666:
 * every local user may queue mail, as with qmail's setuid qmail-queue) */
static int
qd_listen(void)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = buf_str(&sockpath);
	int n = sd_listen_fds(1), fd;

	if (n > 1)
		log_fatal(EXIT_TEMP, "qmail-queued: %d sockets passed, want one", n);
	if (n == 1)
		return SD_LISTEN_FDS_START;
	if (strlen(path) >= sizeof(sun.sun_path) || path[0] != '/')
		log_fatal(EXIT_TEMP, "qmail-queued: control/queuewriter: not an absolute socket path");
	memcpy(sun.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		log_fatal(EXIT_TEMP, "qmail-queued: socket: %m");
	if (unlink(path) < 0 && errno != ENOENT)
		log_fatal(EXIT_TEMP, "qmail-queued: unlink %s: %m", path);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || chmod(path, 0666) < 0 ||
	    listen(fd, SOMAXCONN) < 0)
		log_fatal(EXIT_TEMP, "qmail-queued: listen on %s: %m", path);
	return fd;
}

/* qd_owner - we must own queue/mess/, or qmail-lspawn would refuse our files */
static void
qd_owner(void)
{
	struct stat st;

	if (stat("mess", &st) < 0)
		log_fatal(EXIT_TEMP, "qmail-queued: stat queue/mess: %m");
	if (st.st_uid != geteuid())
		log_fatal(EXIT_TEMP, "qmail-queued: queue/mess belongs to uid %lu, we run as %lu",
		    (unsigned long)st.st_uid, (unsigned long)geteuid());
}

int
main(void)
{
	struct rlimit rl;
	int fd;

	for (fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) < 0 && open("/dev/null", O_RDWR) != fd)
			return EXIT_TEMP;
	umask(033);
	buf_init(&sockpath, 4096);
	buf_init(&queuesync, 64);
	if (cfg_load(qd_cfg) < 0)
		log_fatal(EXIT_TEMP, "qmail-queued: unable to read controls");
	if (strcmp(buf_str(&queuesync), "syncfs") == 0)
		conf.use_syncfs = 1;
	else if (strcmp(buf_str(&queuesync), "fsync") != 0)
		log_fatal(EXIT_TEMP, "qmail-queued: control/queuesync: neither fsync nor syncfs");
	if (chdir(home_dir()) < 0 || chdir("queue") < 0)
		log_fatal(EXIT_TEMP, "qmail-queued: chdir %s/queue: %m", home_dir());
	fd = qd_listen();
	clearenv();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	qd_owner();
	if (qd_commit_open() < 0)
		return EXIT_TEMP;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
		log_fatal(EXIT_TEMP, "qmail-queued: listening socket: %m");
	buf_set_nomem_exit(EXIT_TEMP);
	return qd_serve(fd, &conf);
}
