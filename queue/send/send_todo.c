/* SPDX-License-Identifier: MIT
 * send_todo.c - todo/ preprocessing: envelope -> info/, local/, remote/, in
 * bounded batches made durable by one syncfs() before qmail-clean removes todo/.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    envelope addresses (any sender); they are rewritten, never interpreted.
 * Trusted:    todo/ files (written by qmail-queue, owner qmailq).
 * May touch:  queue/todo/ (read), info/, local/, remote/ (create), mess/ (stat).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "num.h"
#include "qfs.h"
#include "send.h"

#define TODO_BATCH 128	/* messages per loop round: deliveries keep running in between */

static DIR *todo_dir;
static int todo_split;		/* -1: flat todo/ (qmail 1.03), then 0..QFS_SPLIT-1 */
static int todo_scanning, todo_triggered;
static time_t todo_next;
static int todo_qfd = -1;	/* the queue directory, for syncfs() */

/* todo_init - scan at start-up */
void
todo_init(void)
{
	todo_triggered = 1;
	todo_next = 0;
	todo_qfd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

/* todo_trigger - qmail-queue pulled the trigger: scan (again) */
void
todo_trigger(void)
{
	todo_triggered = 1;
}

/* todo_pending - is there todo/ work to do right now? */
int
todo_pending(void)
{
	return todo_scanning || todo_triggered;
}

/* todo_wakeup - the latest time of the next periodic scan */
time_t
todo_wakeup(void)
{
	return todo_next;
}

/* flat todo/ files qmail-clean did not remove: parked, never redone (redoing
 * one would rewrite the lists of a message being delivered) */
static unsigned long *todo_parked;
static size_t todo_nparked;

static int
todo_is_parked(unsigned long id)
{
	for (size_t i = 0; i < todo_nparked; i++)
		if (todo_parked[i] == id)
			return 1;
	return 0;
}

static void
todo_park(unsigned long id)
{
	unsigned long *p = reallocarray(todo_parked, todo_nparked + 1, sizeof(*p));

	slog_alert("qmail-clean left todo/%lu: a flat qmail 1.03 todo/ needs a qmail-clean "
	    "that removes flat files; message %lu is held", id, id);
	if (p == NULL)
		return;
	todo_parked = p;
	todo_parked[todo_nparked++] = id;
}

static int
todo_entry(struct dirent *de, int flat, unsigned long *id)
{
	struct stat st;

	if (num_parse_uint(de->d_name, 1, (unsigned long)-1, id) < 0)
		return 0;
	if (!flat)
		return 1;
	if (todo_is_parked(*id))
		return 0;
	if (de->d_type == DT_REG)
		return 1;
	if (de->d_type != DT_UNKNOWN)
		return 0;
	return fstatat(dirfd(todo_dir), de->d_name, &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* todo_next_id - the next id of the scan: 1, or 0 at its end */
static int
todo_next_id(unsigned long *id, int *flat)
{
	char dn[32];
	struct dirent *de;

	for (;;) {
		if (todo_dir == NULL) {
			if (todo_split >= QFS_SPLIT)
				return 0;
			if (todo_split < 0)
				snprintf(dn, sizeof(dn), "todo");
			else
				snprintf(dn, sizeof(dn), "todo/%d", todo_split);
			if ((todo_dir = opendir(dn)) == NULL) {
				slog_alert("unable to opendir %s, sleeping...", dn);
				todo_split++;
				continue;
			}
		}
		while ((de = readdir(todo_dir)) != NULL)
			if (todo_entry(de, todo_split < 0, id)) {
				*flat = todo_split < 0;
				return 1;
			}
		closedir(todo_dir);
		todo_dir = NULL;
		todo_split++;
	}
}

static int
write_file(const char *fn, const char *p, size_t n)
{
	int fd = open(fn, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t done = 0;

	if (fd < 0) {
		slog_warn("unable to create %s", fn);
		return -1;
	}
	while (done < n) {
		ssize_t w = write(fd, p + done, n - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			slog_warn("trouble writing to %s", fn);
			close(fd);
			return -1;
		}
		done += (size_t)w;
	}
	close(fd);
	return 0;
}

/* todo_parse - split the envelope: info text, one list per channel, log lines */
static int
todo_parse(unsigned long id, const char *tfn, const char *env, size_t len,
    off_t bytes, struct buf *info, struct buf chan[CHANNELS])
{
	unsigned long uid = 0, pid = 0;
	struct buf addr, safe;
	size_t pos = 0;
	int r = 0;

	buf_init(&addr, 0);
	buf_init(&safe, 0);
	while (pos < len && r == 0) {
		const char *rec = env + pos, *end = memchr(rec, '\0', len - pos);
		if (end == NULL)
			break;		/* qmail's getln: a partial last record is dropped */
		pos += (size_t)(end - rec) + 1;
		switch (rec[0]) {
		case 'u':
			num_parse_uint(rec + 1, 0, (unsigned long)-1, &uid);
			break;
		case 'p':
			num_parse_uint(rec + 1, 0, (unsigned long)-1, &pid);
			break;
		case 'F':
			buf_cat(info, rec, (size_t)(end - rec) + 1);
			buf_reset(&safe);
			slog_safe(&safe, rec + 1);
			slog("info msg %lu: bytes %lld from <%s> qp %lu uid %lu", id,
			    (long long)bytes, buf_str(&safe), pid, uid);
			break;
		case 'T': {
			int c = rw_rewrite(&send_conf.rw, rec + 1, &addr);
			buf_catc(&chan[c], 'T');
			buf_cat(&chan[c], addr.s, addr.len + 1);
			break;
		}
		default:
			slog_warn("unknown record type in %s", tfn);
			r = -1;
		}
	}
	buf_free(&addr);
	buf_free(&safe);
	return r;
}

/* todo_one - write info/, local/, remote/ for id (not yet durable); 0 or -1 */
static int
todo_one(unsigned long id, int flat, int has[CHANNELS])
{
	static const enum qfs_dir dirs[] = { QFS_LOCAL, QFS_REMOTE, QFS_INFO };
	char tfn[64], fn[64], *env = NULL;
	struct buf info, chan[CHANNELS];
	struct stat st;
	size_t len;
	int fd, r = -1;

	if (flat)
		snprintf(tfn, sizeof(tfn), "todo/%lu", id);
	else
		qfs_path(tfn, sizeof(tfn), QFS_TODO, id);
	if ((fd = open(tfn, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno != ENOENT)
			slog_warn("unable to open %s", tfn);
		return -1;
	}
	if (send_slurp(fd, &env, &len) < 0) {
		slog_warn("trouble reading %s", tfn);
		close(fd);
		return -1;
	}
	close(fd);
	qfs_path(fn, sizeof(fn), QFS_MESS, id);
	if (stat(fn, &st) < 0) {
		slog_warn("unable to stat %s", fn);
		free(env);
		return -1;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		qfs_path(fn, sizeof(fn), dirs[i], id);
		if (unlink(fn) < 0 && errno != ENOENT) {
			slog_warn("unable to unlink %s", fn);
			free(env);
			return -1;
		}
	}
	slog("new msg %lu", id);
	buf_init(&info, 0);
	for (int c = 0; c < CHANNELS; c++)
		buf_init(&chan[c], 0);
	if (todo_parse(id, tfn, env, len, st.st_size, &info, chan) == 0) {
		qfs_path(fn, sizeof(fn), QFS_INFO, id);
		r = write_file(fn, info.s ? info.s : "", info.len);
		for (int c = 0; c < CHANNELS; c++) {
			has[c] = chan[c].len > 0;
			qfs_path(fn, sizeof(fn), c == CH_LOCAL ? QFS_LOCAL : QFS_REMOTE, id);
			if (r == 0 && has[c])
				r = write_file(fn, chan[c].s, chan[c].len);
		}
	}
	/* a failed attempt gives back its space (a full disk needs every page) */
	for (size_t i = 0; r < 0 && i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		qfs_path(fn, sizeof(fn), dirs[i], id);
		unlink(fn);
	}
	buf_free(&info);
	for (int c = 0; c < CHANNELS; c++)
		buf_free(&chan[c]);
	free(env);
	return r;
}

/* todo_durable - one flush for the whole batch: syncfs() on the queue's file
 * system (fsync of each file would cost one disk flush per file) */
static int
todo_durable(void)
{
	if (todo_qfd >= 0 && syncfs(todo_qfd) == 0)
		return 0;
	slog_warn("trouble syncing the queue: %s", strerror(errno));
	return -1;
}

/* todo_run - preprocess at most TODO_BATCH todo/ entries, then let qmail-clean
 * remove their todo/ and intd/ files; qmail's guarantee holds: a todo/ file
 * goes only after info/, local/ and remote/ are on disk */
void
todo_run(time_t now)
{
	unsigned long ids[TODO_BATCH];
	int has[TODO_BATCH][CHANNELS], flats[TODO_BATCH];
	char answers[TODO_BATCH];
	size_t n = 0;
	int flat;

	if (send_exiting || !send_clean_alive)
		return;
	if (!todo_scanning) {
		if (!todo_triggered && now < todo_next)
			return;
		todo_scanning = 1;
		todo_triggered = 0;
		todo_split = -1;
		todo_next = now + SEND_SLEEP_TODO;
	}
	while (n < TODO_BATCH) {
		if (!todo_next_id(&ids[n], &flat)) {
			todo_scanning = 0;
			break;
		}
		if (todo_one(ids[n], flat, has[n]) == 0)
			flats[n++] = flat;
	}
	if (n == 0 || todo_durable() < 0)
		return;
	if (clean_batch("todo", ids, n, answers) < 0)
		return;
	for (size_t i = 0; i < n; i++) {
		char fn[64];
		struct stat st;
		if (answers[i] != '+')
			continue;
		snprintf(fn, sizeof(fn), "todo/%lu", ids[i]);
		if (flats[i] && stat(fn, &st) == 0)
			todo_park(ids[i]);
		else
			sched_queued(ids[i], has[i], now);
	}
}
