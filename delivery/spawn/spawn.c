/* SPDX-License-Identifier: MIT
 * spawn.c - the spawn side of qmail's spawn protocol: many deliveries at once.
 *
 * Runs as:    qmail-lspawn (root) and qmail-rspawn (qmailr), started by qmail-start.
 * Trusted:    qmail-send on fd 0/1 (its requests are still checked strictly).
 * Hostile:    the output of delivery children (bounded, NUL-cut).
 * May touch:  message files under queue/mess (read only), pipes to children.
 * Must not:   block on qmail-send: answers are queued and written when fd 1 is ready.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"
#include "spawn.h"

#define SPAWN_OUT_MAX (SPAWN_MAX * 12000 + 65536)

struct spawn_slot {
	int used;
	pid_t pid;
	int pidfd;		/* -1 once reaped */
	int fdin;		/* report pipe; -1 once at EOF */
	int wstat;
	int truncated;
	struct buf output;
};

/* the request being read: 0 slot, 1 message file, 2 sender, 3 recipient */
struct spawn_state {
	const struct spawn_ops *ops;
	uid_t queue_uid;
	struct spawn_slot slot[SPAWN_MAX];
	int stage, delnum, overflow;
	struct buf messid, sender, recip;
	struct buf out;		/* answers not yet written to qmail-send */
	int reading, writing;
};

static void
spawn_answer(struct spawn_state *st, int delnum, const char *report, size_t len)
{
	if (!st->writing)
		return;
	if (buf_catc(&st->out, (char)delnum) < 0 ||
	    buf_cat(&st->out, report, len) < 0 || buf_catc(&st->out, '\0') < 0)
		log_fatal(111, "answers to qmail-send: buffer full");
}

static void
spawn_err(struct spawn_state *st, const char *text)
{
	spawn_answer(st, st->delnum, text, strlen(text));
}

static int
spawn_pidfd_open(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* spawn_check_messid - "SPLIT/ID": digits and slashes, not starting with '/' */
static const char *
spawn_check_messid(const struct buf *m)
{
	if (m->len == 0)
		return "DInternal error: messid too short. (#5.3.5)\n";
	if (m->len > SPAWN_MESSID_MAX)
		return "DInternal error: messid too long. (#5.3.5)\n";
	for (size_t i = 0; i < m->len; i++)
		if (!(m->s[i] >= '0' && m->s[i] <= '9') && (i == 0 || m->s[i] != '/'))
			return "DInternal error: messid has nonnumerics. (#5.3.5)\n";
	return NULL;
}

static int
spawn_open_message(struct spawn_state *st, const char **why)
{
	struct stat sb;
	int fd;

	fd = open(st->messid.s, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		*why = "Zqmail-spawn unable to open message. (#4.3.0)\n";
		return -1;
	}
	if (fstat(fd, &sb) < 0)
		*why = "Zqmail-spawn unable to fstat message. (#4.3.0)\n";
	else if (!S_ISREG(sb.st_mode))
		*why = "ZSorry, message has wrong type. (#4.3.5)\n";
	else if (sb.st_uid != st->queue_uid)
		*why = "ZSorry, message has wrong owner. (#4.3.5)\n";
	else
		return fd;
	close(fd);
	return -1;
}

static const char *
spawn_start(struct spawn_state *st, struct spawn_slot *sl)
{
	struct spawn_request req;
	const char *why = NULL, *at;
	int pi[2];

	if ((why = spawn_check_messid(&st->messid)) != NULL)
		return why;
	/* a field that got no byte has never been allocated: s is NULL */
	if (st->recip.s == NULL || (at = strrchr(st->recip.s, '@')) == NULL)
		return "DSorry, address must include host name. (#5.1.3)\n";
	if ((req.fdmess = spawn_open_message(st, &why)) < 0)
		return why;
	if (pipe2(pi, O_CLOEXEC) < 0) {
		close(req.fdmess);
		return "Zqmail-spawn unable to create pipe. (#4.3.0)\n";
	}
	req.fdout = pi[1];
	req.sender = buf_str(&st->sender);	/* "" for the null sender (a bounce) */
	req.recipient = st->recip.s;
	req.at = (size_t)(at - st->recip.s);
	sl->pid = st->ops->start(&req, &why);
	close(req.fdmess);
	close(pi[1]);
	if (sl->pid < 0) {
		close(pi[0]);
		return why ? why : "Zqmail-spawn unable to fork. (#4.3.0)\n";
	}
	sl->pidfd = spawn_pidfd_open(sl->pid);
	if (sl->pidfd < 0)
		log_fatal(111, "pidfd_open %ld: %m", (long)sl->pid);
	sl->fdin = pi[0];
	sl->truncated = 0;
	buf_reset(&sl->output);
	sl->used = 1;
	return NULL;
}

/* spawn_request - one complete request has been read */
static void
spawn_request(struct spawn_state *st)
{
	const char *why;

	if (st->overflow) {
		spawn_err(st, "DSorry, envelope address too long. (#5.1.3)\n");
		return;
	}
	if (st->delnum >= SPAWN_MAX) {
		spawn_err(st, "ZInternal error: delnum too big. (#4.3.5)\n");
		return;
	}
	if (st->slot[st->delnum].used) {
		spawn_err(st, "ZInternal error: delnum in use. (#4.3.5)\n");
		return;
	}
	if ((why = spawn_start(st, &st->slot[st->delnum])) != NULL)
		spawn_err(st, why);
}

static void
spawn_take(struct spawn_state *st, struct buf *field, char ch, int next)
{
	if (ch == '\0') {
		st->stage = next;
		return;
	}
	if (buf_catc(field, ch) < 0)
		st->overflow = 1;
}

/* spawn_getcmd - feed bytes from qmail-send into the request parser */
static void
spawn_getcmd(struct spawn_state *st, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];

		switch (st->stage) {
		case 0:
			st->delnum = (unsigned char)ch;
			buf_reset(&st->messid);
			buf_reset(&st->sender);
			buf_reset(&st->recip);
			st->overflow = 0;
			st->stage = 1;
			break;
		case 1:
			spawn_take(st, &st->messid, ch, 2);
			break;
		case 2:
			spawn_take(st, &st->sender, ch, 3);
			break;
		default:
			spawn_take(st, &st->recip, ch, 3);
			if (ch == '\0') {
				spawn_request(st);
				st->stage = 0;
			}
			break;
		}
	}
}

static void
spawn_read_child(struct spawn_state *st, struct spawn_slot *sl)
{
	char tmp[4096];
	ssize_t r;
	size_t room;

	r = read(sl->fdin, tmp, sizeof(tmp));
	if (r < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		r = 0;
	}
	if (r == 0) {
		close(sl->fdin);
		sl->fdin = -1;
		return;
	}
	room = st->ops->output_max - sl->output.len;
	if ((size_t)r > room) {
		sl->truncated = 1;
		r = (ssize_t)room;
	}
	if (buf_cat(&sl->output, tmp, (size_t)r) < 0)
		sl->truncated = 1;
}

static void
spawn_reap(struct spawn_slot *sl)
{
	int status;

	if (waitpid(sl->pid, &status, WNOHANG) <= 0)
		return;
	sl->wstat = status;
	close(sl->pidfd);
	sl->pidfd = -1;
}

/* spawn_finish - child dead and its output at EOF: answer qmail-send */
static void
spawn_finish(struct spawn_state *st, int i)
{
	struct spawn_slot *sl = &st->slot[i];
	struct buf report;

	buf_init(&report, st->ops->output_max + 1024);
	st->ops->report(&report, sl->wstat, sl->output.s ? sl->output.s : "",
	    sl->output.len, sl->truncated);
	/* the answer ends at the first NUL; a report is never empty */
	if (report.len == 0)
		buf_cats(&report, "Z");
	spawn_answer(st, i, report.s, strnlen(report.s, report.len));
	buf_free(&report);
	sl->used = 0;
}

static void
spawn_flush(struct spawn_state *st, int outfd)
{
	ssize_t w;

	if (st->out.len == 0)
		return;
	w = write(outfd, st->out.s, st->out.len);
	if (w < 0) {
		if (errno == EINTR || errno == EAGAIN)
			return;
		/* qmail-send is gone: keep delivering, drop the answers */
		log_err("write to qmail-send: %m");
		st->writing = 0;
		buf_reset(&st->out);
		return;
	}
	memmove(st->out.s, st->out.s + w, st->out.len - (size_t)w);
	buf_truncate(&st->out, st->out.len - (size_t)w);
}

static void
spawn_init(struct spawn_state *st, const struct spawn_ops *ops, uid_t queue_uid)
{
	memset(st, 0, sizeof(*st));
	st->ops = ops;
	st->queue_uid = queue_uid;
	st->reading = st->writing = 1;
	buf_init(&st->messid, SPAWN_MESSID_MAX + 1);
	buf_init(&st->sender, SPAWN_ADDR_MAX);
	buf_init(&st->recip, SPAWN_ADDR_MAX);
	buf_init(&st->out, SPAWN_OUT_MAX);
	for (int i = 0; i < SPAWN_MAX; i++)
		buf_init(&st->slot[i].output, ops->output_max + 1);
}

/* spawn_poll_set - fds to wait for; map[k] = slot index (or -1 for fd 0/1) */
static nfds_t
spawn_poll_set(struct spawn_state *st, int infd, int outfd, struct pollfd *pfd, int *map)
{
	nfds_t n = 0;

	if (st->reading) {
		pfd[n] = (struct pollfd){ .fd = infd, .events = POLLIN };
		map[n++] = -1;
	}
	if (st->out.len > 0) {
		pfd[n] = (struct pollfd){ .fd = outfd, .events = POLLOUT };
		map[n++] = -2;
	}
	for (int i = 0; i < SPAWN_MAX; i++) {
		struct spawn_slot *sl = &st->slot[i];

		if (!sl->used)
			continue;
		if (sl->fdin >= 0) {
			pfd[n] = (struct pollfd){ .fd = sl->fdin, .events = POLLIN };
			map[n++] = i;
		}
		if (sl->pidfd >= 0) {
			pfd[n] = (struct pollfd){ .fd = sl->pidfd, .events = POLLIN };
			map[n++] = i;
		}
	}
	return n;
}

static int
spawn_busy(const struct spawn_state *st)
{
	for (int i = 0; i < SPAWN_MAX; i++)
		if (st->slot[i].used)
			return 1;
	return st->out.len > 0;
}

static void
spawn_read_cmds(struct spawn_state *st, int infd)
{
	char tmp[4096];
	ssize_t r = read(infd, tmp, sizeof(tmp));

	if (r < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (r <= 0) {
		if (st->stage != 0)
			log_warning("qmail-send closed the spawn pipe inside a request");
		st->reading = 0;
		return;
	}
	spawn_getcmd(st, tmp, (size_t)r);
}

/* spawn_run - the main loop */
int
spawn_run(const struct spawn_ops *ops, int infd, int outfd, uid_t queue_uid)
{
	static struct spawn_state st;
	struct pollfd pfd[2 + 2 * SPAWN_MAX];
	int map[2 + 2 * SPAWN_MAX];
	char ch = SPAWN_MAX;

	spawn_init(&st, ops, queue_uid);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_DFL);
	if (fcntl(outfd, F_SETFL, fcntl(outfd, F_GETFL) | O_NONBLOCK) < 0)
		log_fatal(111, "set fd %d non-blocking: %m", outfd);
	buf_cat(&st.out, &ch, 1);
	while (st.reading || spawn_busy(&st)) {
		nfds_t n = spawn_poll_set(&st, infd, outfd, pfd, map);

		if (poll(pfd, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_fatal(111, "poll: %m");
		}
		for (nfds_t k = 0; k < n; k++) {
			if (pfd[k].revents == 0)
				continue;
			if (map[k] == -1)
				spawn_read_cmds(&st, infd);
			else if (map[k] == -2)
				spawn_flush(&st, outfd);
			else if (pfd[k].fd == st.slot[map[k]].fdin)
				spawn_read_child(&st, &st.slot[map[k]]);
			else
				spawn_reap(&st.slot[map[k]]);
		}
		for (int i = 0; i < SPAWN_MAX; i++)
			if (st.slot[i].used && st.slot[i].fdin < 0 && st.slot[i].pidfd < 0)
				spawn_finish(&st, i);
	}
	return 0;
}
