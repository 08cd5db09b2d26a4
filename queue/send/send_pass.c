/* SPDX-License-Identifier: MIT
 * send_pass.c - which message is due where: the start-up scan of info/, passes
 * over recipient lists, and the end of a message (bounce, info, mess).
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    nothing beyond the queue files qmail-send wrote itself.
 * May touch:  queue/info/, local/, remote/, todo/ (stat only); qmail-clean.
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
#include "send_sched.h"

/* todo_exists - is id still waiting in todo/ (split or qmail 1.03's flat)? */
static int
todo_exists(unsigned long id)
{
	char fn[64];
	struct stat st;

	qfs_path(fn, sizeof(fn), QFS_TODO, id);
	if (stat(fn, &st) == 0)
		return 1;
	snprintf(fn, sizeof(fn), "todo/%lu", id);
	return stat(fn, &st) == 0 && S_ISREG(st.st_mode);
}

/* pqadd - schedule id found in info/ at start-up, due at the lists' mtimes */
static void
pqadd(unsigned long id, int counted)
{
	int has[CHANNELS], any = 0;
	time_t dt[CHANNELS];
	char fn[64];
	struct stat st;

	qfs_path(fn, sizeof(fn), QFS_INFO, id);
	if (stat(fn, &st) < 0) {
		if (errno != ENOENT)
			goto fail;
		return;
	}
	if (todo_exists(id))
		return;		/* todo/ processing will redo info/ */
	for (int c = 0; c < CHANNELS; c++) {
		sched_chanfile(fn, sizeof(fn), id, c);
		has[c] = stat(fn, &st) == 0;
		if (!has[c] && errno != ENOENT)
			goto fail;
		dt[c] = has[c] ? st.st_mtime : 0;
		any |= has[c];
	}
	for (int c = 0; c < CHANNELS; c++)
		if (has[c])
			pq_insert(&sched.pqchan[c], dt[c], id);
	if (!any)
		pq_insert(&sched.pqdone, time(NULL), id);
	if (!counted)
		sched.messages++;
	return;
fail:
	slog_warn("unable to stat %s; will try again later", fn);
	pq_insert(&sched.pqfail, time(NULL) + SEND_SLEEP_SYSFAIL, id);
	if (!counted)
		sched.messages++;
}

/* sched_scan - schedule every message that has an info/ file */
void
sched_scan(void)
{
	char dn[32];

	for (unsigned int s = 0; s < QFS_SPLIT; s++) {
		struct dirent *de;
		DIR *dir;
		snprintf(dn, sizeof(dn), "info/%u", s);
		while ((dir = opendir(dn)) == NULL) {
			slog_alert("unable to opendir %s, sleeping...", dn);
			sleep(10);
		}
		while ((de = readdir(dir)) != NULL) {
			unsigned long id;
			if (num_parse_uint(de->d_name, 1, (unsigned long)-1, &id) == 0)
				pqadd(id, 0);
		}
		closedir(dir);
	}
}

/* sched_queued - todo/ processing finished id: deliver now */
void
sched_queued(unsigned long id, int has[CHANNELS], time_t now)
{
	int any = 0;

	for (int c = 0; c < CHANNELS; c++)
		if (has[c]) {
			pq_insert(&sched.pqchan[c], now, id);
			any = 1;
		}
	if (!any)
		pq_insert(&sched.pqdone, now, id);
	sched.messages++;
}

/* send_slurp - read a whole queue file into malloc'd memory */
int
send_slurp(int fd, char **data, size_t *len)
{
	struct stat st;
	size_t got = 0;

	if (fstat(fd, &st) < 0 || (*data = malloc((size_t)st.st_size + 1)) == NULL)
		return -1;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, *data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	return 0;
}

/* pass_open - start a pass over the due list on chan: 0 started, -1 not */
static int
pass_open(int c, time_t now)
{
	struct pass *p = &sched.pass[c];
	struct pq_elt pe;
	struct buf sender;
	char fn[64];
	time_t birth;
	int fd, j;

	if (!job_avail() || !pq_min(&sched.pqchan[c], &pe) || pe.dt > now)
		return -1;
	pq_delmin(&sched.pqchan[c]);
	sched_chanfile(fn, sizeof(fn), pe.id, c);
	buf_init(&sender, 0);
	if ((fd = open(fn, O_RDWR | O_CLOEXEC)) < 0 ||
	    send_slurp(fd, &p->data, &p->len) < 0 || !info_read(pe.id, &sender, &birth)) {
		if (fd >= 0)
			close(fd);
		free(p->data);
		p->data = NULL;
		buf_free(&sender);
		slog_warn("trouble opening %s; will try again later", fn);
		pq_insert(&sched.pqchan[c], now + SEND_SLEEP_SYSFAIL, pe.id);
		return -1;
	}
	j = job_open(pe.id, c);
	sched.jobs[j].fd = fd;
	sched.jobs[j].retry = retry_next(birth, now, c);
	sched.jobs[j].dying = now > birth + (time_t)send_conf.lifetime;
	buf_cpy(&sched.jobs[j].sender, sender.s ? sender.s : "", sender.len);
	buf_free(&sender);
	p->id = pe.id;
	p->job = j;
	p->pos = 0;
	return 0;
}

static void
pass_close(int c, int hiteof, time_t now)
{
	struct pass *p = &sched.pass[c];

	sched.jobs[p->job].hiteof = hiteof;
	job_close(p->job, now);
	free(p->data);
	p->data = NULL;
	p->id = 0;
}

/* pass_dochan - start deliveries from chan's current list while slots are free */
static void
pass_dochan(int c, time_t now)
{
	struct pass *p = &sched.pass[c];

	if (send_exiting)
		return;
	if (p->id == 0 && pass_open(c, now) < 0)
		return;
	while (del_avail(c)) {
		char *rec = p->data + p->pos, *end;
		if (p->pos >= p->len ||
		    (end = memchr(rec, '\0', p->len - p->pos)) == NULL) {
			pass_close(c, 1, now);
			return;
		}
		if (rec[0] == 'T') {
			sched.jobs[p->job].numtodo++;
			del_start(p->job, (off_t)p->pos, rec + 1);
		} else if (rec[0] != 'D') {
			char fn[64];
			sched_chanfile(fn, sizeof(fn), p->id, c);
			slog_warn("unknown record type in %s!", fn);
			pass_close(c, 0, now);
			return;
		}
		p->pos += (size_t)(end - rec) + 1;
	}
}

/* messdone - every list of id is gone: bounce, "end msg", info/, then mess/ */
static void
messdone(unsigned long id, time_t now)
{
	char fn[64];
	struct stat st;

	for (int c = 0; c < CHANNELS; c++) {
		sched_chanfile(fn, sizeof(fn), id, c);
		if (stat(fn, &st) == 0)
			return;		/* still going on another channel */
		if (errno != ENOENT)
			goto fail;
	}
	if (todo_exists(id))
		return;
	qfs_path(fn, sizeof(fn), QFS_INFO, id);
	if (stat(fn, &st) < 0) {
		if (errno == ENOENT)
			return;
		goto fail;
	}
	if (bounce_inject(id) < 0)
		goto retry;
	slog("end msg %lu", id);
	if (unlink(fn) < 0)
		goto fail;
	if (sched.messages > 0)
		sched.messages--;
	clean_request("foop", id);
	return;
fail:
	slog_warn("unable to stat or unlink %s; will try again later", fn);
retry:
	pq_insert(&sched.pqdone, now + SEND_SLEEP_SYSFAIL, id);
}

#define SCHED_DONE_BATCH 64	/* messages ended per loop round */

/* sched_run - start what is due: passes, failed stats, finished messages */
void
sched_run(time_t now)
{
	struct pq_elt pe;

	for (int c = 0; c < CHANNELS; c++)
		pass_dochan(c, now);
	while (pq_min(&sched.pqfail, &pe) && pe.dt <= now) {
		pq_delmin(&sched.pqfail);
		pqadd(pe.id, 1);
	}
	for (int i = 0; i < SCHED_DONE_BATCH && send_clean_alive; i++) {
		if (!pq_min(&sched.pqdone, &pe) || pe.dt > now)
			break;
		pq_delmin(&sched.pqdone);
		messdone(pe.id, now);
	}
}

static void
wake_at(time_t *w, time_t t)
{
	if (t < *w)
		*w = t;
}

/* sched_wakeup - the earliest time sched_run has something to do (now: at once) */
time_t
sched_wakeup(time_t now)
{
	time_t w = now + 86400;
	struct pq_elt pe;

	if (send_exiting)
		return w;
	for (int c = 0; c < CHANNELS; c++) {
		if (sched.pass[c].id && del_avail(c))
			return now;
		if (!sched.pass[c].id && job_avail() && pq_min(&sched.pqchan[c], &pe))
			wake_at(&w, pe.dt);
	}
	if (pq_min(&sched.pqfail, &pe))
		wake_at(&w, pe.dt);
	if (pq_min(&sched.pqdone, &pe))
		wake_at(&w, pe.dt);
	return w;
}

static void
pq_all_due(struct pq *q, time_t now)
{
	for (size_t i = 0; i < q->len; i++)
		q->p[i].dt = now;
}

/* sched_runasap - SIGALRM: every message is due now, including the ends of
 * messages (bounce injection) and the stats that failed, which otherwise wait
 * SEND_SLEEP_SYSFAIL */
void
sched_runasap(time_t now)
{
	for (int c = 0; c < CHANNELS; c++)
		pq_all_due(&sched.pqchan[c], now);
	pq_all_due(&sched.pqdone, now);
	pq_all_due(&sched.pqfail, now);
}

/* sched_finish - at exit, keep each list's next retry in its mtime (qmail's pqfinish) */
void
sched_finish(void)
{
	struct pq_elt pe;
	char fn[64];

	for (int c = 0; c < CHANNELS; c++)
		while (pq_min(&sched.pqchan[c], &pe)) {
			struct timespec ts[2] = { { pe.dt, 0 }, { pe.dt, 0 } };
			pq_delmin(&sched.pqchan[c]);
			sched_chanfile(fn, sizeof(fn), pe.id, c);
			if (utimensat(AT_FDCWD, fn, ts, 0) < 0)
				slog_warn("unable to utime %s; message will be retried too soon", fn);
		}
}
