/* SPDX-License-Identifier: MIT
 * qq_queue.c - write one message into the queue in qmail's crash-safe order.
 *
 * Runs as:    qmail-queue, as the caller (sandbox) or the queue owner.
 * Hostile:    the message (fd 0) and envelope (fd 1) bytes; they are copied, never
 *             interpreted, except for the envelope's record structure.
 * May touch:  <home>/queue: pid/, mess/, intd/, todo/ and lock/trigger.
 * Must not:   leave a todo/ entry whose mess/ and intd/ are not complete and durable.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cfg.h"
#include "fd.h"
#include "log.h"
#include "mail/qqueue.h"
#include "qfs.h"
#include "qq.h"

/* Everything the cleanup (also from the alarm handler) needs, prepared up front. */
static struct {
	char pidfn[64], messfn[64], intdfn[64], todofn[64];
	int messfd, intdfd;
	volatile sig_atomic_t made_pid, made_mess, made_intd, reading;
} qq = { .messfd = -1, .intdfd = -1 };

static char qq_iobuf[65536];
static int qq_use_syncfs;	/* control/queuesync is "syncfs" */

/* qq_cleanup - remove the files of a message that will not be queued.
 * Only async-signal-safe calls: the alarm handler uses it while we wait for input. */
static void
qq_cleanup(void)
{
	if (qq.made_intd) {
		if (qq.intdfd >= 0 && ftruncate(qq.intdfd, 0) < 0) {
			/* unlink below is what matters */
		}
		unlink(qq.intdfn);
		qq.made_intd = 0;
	}
	if (qq.made_mess) {
		if (qq.messfd >= 0 && ftruncate(qq.messfd, 0) < 0) {
			/* as above */
		}
		unlink(qq.messfn);
		qq.made_mess = 0;
	}
	if (qq.made_pid) {
		unlink(qq.pidfn);
		qq.made_pid = 0;
	}
}

/* qq_alarm - DEATH: the caller stalled for 24 hours.  Files are removed only while
 * we are blocked reading input, which is always before the todo/ link. */
static void
qq_alarm(int sig)
{
	(void)sig;
	if (qq.reading)
		qq_cleanup();
	_exit(QQ_EXIT_TIMEOUT);
}

/* qq_term - the caller gave up on us (qqueue_abort sends SIGTERM): clean up as for
 * DEATH, then die of the signal so that the caller sees what happened */
static void
qq_term(int sig)
{
	if (qq.reading)
		qq_cleanup();
	raise(sig);
	_exit(QQ_EXIT_BUG);
}

static int
qq_fail(int code, const char *what, const char *name)
{
	int saved = errno;

	/* a full disk or quota shows up as 53 wherever it strikes */
	if (saved == ENOSPC || saved == EDQUOT)
		code = QQ_EXIT_WRITE;
	qq_cleanup();
	errno = saved;
	log_err("qmail-queue: %s %s: %m", what, name);
	return code;
}


/* qq_pidopen - a new file pid/PID.TIME.SEQ; its inode number is the message id */
static int
qq_pidopen(unsigned long pid, time_t start, unsigned long *id)
{
	struct stat st;

	for (unsigned seq = 1; seq < 10; seq++) {
		snprintf(qq.pidfn, sizeof(qq.pidfn), "pid/%lu.%lld.%u", pid,
		    (long long)start, seq);
		qq.messfd = open(qq.pidfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (qq.messfd >= 0)
			break;
		if (errno != EEXIST)
			break;
	}
	if (qq.messfd < 0)
		return qq_fail(QQ_EXIT_QUEUE_PID, "create", "pid file");
	qq.made_pid = 1;
	if (fstat(qq.messfd, &st) < 0)
		return qq_fail(QQ_EXIT_QUEUE_PID, "stat", qq.pidfn);
	*id = (unsigned long)st.st_ino;
	if (qfs_path(qq.messfn, sizeof(qq.messfn), QFS_MESS, *id) < 0 ||
	    qfs_path(qq.intdfn, sizeof(qq.intdfn), QFS_INTD, *id) < 0 ||
	    qfs_path(qq.todofn, sizeof(qq.todofn), QFS_TODO, *id) < 0)
		return qq_fail(QQ_EXIT_BUG, "name", qq.pidfn);
	return 0;
}

/* qq_copy_message - the Received line, then fd 0 to EOF, through one large buffer */
static int
qq_copy_message(int msgfd, const char *received, size_t rlen)
{
	size_t len = rlen;
	ssize_t n;

	memcpy(qq_iobuf, received, rlen);
	for (;;) {
		qq.reading = 1;
		n = read(msgfd, qq_iobuf + len, sizeof(qq_iobuf) - len);
		qq.reading = 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return qq_fail(QQ_EXIT_READ, "read", "message");
		len += (size_t)n;
		if (n == 0 || len == sizeof(qq_iobuf)) {
			if (fd_write_all(qq.messfd, qq_iobuf, len) < 0)
				return qq_fail(QQ_EXIT_WRITE, "write", qq.messfn);
			len = 0;
		}
		if (n == 0)
			return 0;
	}
}

/* qq_sync_dir - make the entries of directory "DIR/SPLIT" of name durable */
static int
qq_sync_dir(const char *name)
{
	char dir[64];
	const char *slash = strrchr(name, '/');
	int fd, r;

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - name), name);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = fsync(fd);
	close(fd);
	return r;
}

/* qq_envelope - read the envelope, then write intd/ as u<uid>\0p<pid>\0F..\0T..\0.. */
static int
qq_envelope(int envfd, unsigned long uid, unsigned long pid)
{
	struct buf env;
	int r;

	buf_init(&env, QQ_ENVELOPE_MAX);
	if (buf_printf(&env, "u%lu", uid) < 0 || buf_catc(&env, '\0') < 0 ||
	    buf_printf(&env, "p%lu", pid) < 0 || buf_catc(&env, '\0') < 0)
		return qq_fail(QQ_EXIT_BUG, "format", "envelope");
	qq.reading = 1;
	r = qq_env_read(envfd, &env);
	qq.reading = 0;
	if (r != QQ_EXIT_OK) {
		buf_free(&env);
		qq_cleanup();
		log_err("qmail-queue: envelope: %s", r == QQ_EXIT_READ ? "read error or cut short" :
		    r == QQ_EXIT_ADDR_TOO_LONG ? "address too long" : "format error");
		return r;
	}
	qq.intdfd = open(qq.intdfn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (qq.intdfd < 0) {
		buf_free(&env);
		return qq_fail(QQ_EXIT_QUEUE_INTD, "create", qq.intdfn);
	}
	qq.made_intd = 1;
	r = fd_write_all(qq.intdfd, env.s, env.len);
	buf_free(&env);
	if (r < 0)
		return qq_fail(QQ_EXIT_WRITE, "write", qq.intdfn);
	return 0;
}

/* qq_config - control/queuesync: "fsync" (default) or "syncfs"; anything else is 55 */
static int
qq_config(void)
{
	struct buf v;
	int r;

	buf_init(&v, 64);
	r = cfg_read_line("queuesync", &v);
	if (r > 0 && strcmp(buf_str(&v), "syncfs") == 0)
		qq_use_syncfs = 1;
	else if (r > 0 && strcmp(buf_str(&v), "fsync") != 0)
		r = -1;
	buf_free(&v);
	if (r < 0) {
		log_err("qmail-queue: control/queuesync: unreadable or neither fsync nor syncfs");
		return QQ_EXIT_CONFIG;
	}
	return 0;
}

/* qq_syncfs - one syncfs(2) makes mess, intd and their directory entries durable
 * with one journal commit; Linux >= 5.8 reports writeback errors through it */
static int
qq_syncfs(void)
{
	int r = syncfs(qq.messfd);

	if (r < 0)
		return qq_fail(QQ_EXIT_WRITE, "syncfs", "queue");
	r = close(qq.messfd) | close(qq.intdfd);
	qq.messfd = qq.intdfd = -1;
	return r < 0 ? qq_fail(QQ_EXIT_WRITE, "close", qq.messfn) : 0;
}

/* qq_durable - fsync mess and intd and the mess/ entry: all before the todo/ link */
static int
qq_durable(void)
{
	if (qq_use_syncfs)
		return qq_syncfs();
	if (fsync(qq.messfd) < 0 || close(qq.messfd) < 0) {
		qq.messfd = -1;
		return qq_fail(QQ_EXIT_WRITE, "fsync", qq.messfn);
	}
	qq.messfd = -1;
	if (fsync(qq.intdfd) < 0 || close(qq.intdfd) < 0) {
		qq.intdfd = -1;
		return qq_fail(QQ_EXIT_WRITE, "fsync", qq.intdfn);
	}
	qq.intdfd = -1;
	/* on Linux a new directory entry is durable only once its directory is synced */
	if (qq_sync_dir(qq.messfn) < 0)
		return qq_fail(QQ_EXIT_WRITE, "fsync directory of", qq.messfn);
	return 0;
}

/* qq_trigger - wake qmail-send; nobody listening is fine */
static void
qq_trigger(void)
{
	int fd = open("lock/trigger", O_WRONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, "", 1) < 0) {
		/* the fifo is full or has no reader: qmail-send will look anyway */
	}
	close(fd);
}

/* qq_commit - link intd into todo/ (the message is queued), make that durable */
static int
qq_commit(void)
{
	if (link(qq.intdfn, qq.todofn) < 0)
		return qq_fail(QQ_EXIT_QUEUE_TODO, "link", qq.todofn);
	/* From here on qmail-send may already be working on the message: never remove
	 * it.  If the todo/ entry cannot be made durable the caller hears 53 and may
	 * send again: a possible duplicate, never a loss or a half message. */
	if (qq_sync_dir(qq.todofn) < 0) {
		log_err("qmail-queue: fsync directory of %s: %m", qq.todofn);
		return QQ_EXIT_WRITE;
	}
	if (unlink(qq.pidfn) < 0)
		log_warning("qmail-queue: unlink %s: %m", qq.pidfn);
	qq.made_pid = qq.made_mess = qq.made_intd = 0;
	return QQ_EXIT_OK;
}

/* qq_setup - signals and failure hooks before the first file exists */
static void
qq_setup(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGXFSZ, &sa, NULL);	/* a file size limit is a write error, 53 */
	/* as qmail: a terminal's signals do not stop us; the caller's EOF does */
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);
	sa.sa_handler = qq_term;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;	/* so its raise() kills at once */
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_flags = 0;
	sa.sa_handler = qq_alarm;
	sigaction(SIGALRM, &sa, NULL);
	alarm(QQ_DEATH);
	log_set_cleanup(qq_cleanup);
	buf_set_nomem_exit(QQ_EXIT_NOMEM);
}

/* qq_run - qmail's order: pid/ -> mess/ -> write+fsync -> intd/ -> fsync -> todo/ */
int
qq_run(const char *home, int msgfd, int envfd)
{
	char received[256];
	unsigned long pid = (unsigned long)getpid(), uid = (unsigned long)getuid(), id;
	time_t start = time(NULL);
	size_t rlen;
	int r;

	if (chdir(home) < 0) {
		log_err("qmail-queue: chdir %s: %m", home);
		return QQ_EXIT_HOME;
	}
	if (chdir("queue") < 0) {
		log_err("qmail-queue: chdir %s/queue: %m", home);
		return QQ_EXIT_QUEUE_DIR;
	}
	rlen = qq_received(received, sizeof(received), pid, qq_invoker(getuid()),
	    uid, start);
	if (rlen == 0)
		return QQ_EXIT_BUG;
	if ((r = qq_config()) != 0)
		return r;
	qq_setup();
	if ((r = qq_pidopen(pid, start, &id)) != 0)
		return r;
	if (link(qq.pidfn, qq.messfn) < 0)
		return qq_fail(QQ_EXIT_QUEUE_MESS, "link", qq.messfn);
	qq.made_mess = 1;
	if ((r = qq_copy_message(msgfd, received, rlen)) != 0 ||
	    (r = qq_envelope(envfd, uid, pid)) != 0 ||
	    (r = qq_durable()) != 0 ||
	    (r = qq_commit()) != 0)
		return r;
	qq_trigger();
	return QQ_EXIT_OK;
}
