/* SPDX-License-Identifier: MIT
 * send_sched.c - delivery scheduling: jobs (one message on one channel), passes
 * over local/ID and remote/ID, delivery slots, reports, "D" marks.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    report texts (bounded by send_spawn.c); recipient lines were written
 *             by qmail-send itself from the envelope.
 * May touch:  queue/local/, queue/remote/ (read, mark, unlink), fds 1 and 3.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "mail/exitcode.h"
#include "qfs.h"
#include "send.h"
#include "send_sched.h"

static const char *const chan_name[CHANNELS] = { "local", "remote" };
static const enum qfs_dir chan_dir[CHANNELS] = { QFS_LOCAL, QFS_REMOTE };

struct sched sched;
int send_exiting;

/* sched_chanfile - queue-relative name of id's recipient list on chan */
void
sched_chanfile(char *fn, size_t size, unsigned long id, int chan)
{
	qfs_path(fn, size, chan_dir[chan], id);
}

/* sched_limit - concurrency of chan: control file, capped by the spawn's slots */
unsigned int
sched_limit(int chan)
{
	unsigned long c = send_conf.concurrency[chan];

	return c < sched.slots[chan] ? (unsigned int)c : sched.slots[chan];
}

unsigned int
sched_used(int chan)
{
	return sched.used[chan];
}

size_t
sched_messages(void)
{
	return sched.messages;
}

/* sched_status - qmail's "status: local L/LMAX remote R/RMAX" line */
void
sched_status(void)
{
	slog("status: local %u/%u remote %u/%u%s", sched.used[CH_LOCAL],
	    sched_limit(CH_LOCAL), sched.used[CH_REMOTE], sched_limit(CH_REMOTE),
	    send_exiting ? " exitasap" : "");
}

/* sched_init - size the job and slot tables from the spawns' slot counts */
void
sched_init(const unsigned int slots[CHANNELS])
{
	sched.njobs = 0;
	for (int c = 0; c < CHANNELS; c++) {
		sched.slots[c] = slots[c];
		sched.del[c] = calloc(slots[c] ? slots[c] : 1, sizeof(struct del));
		if (sched.del[c] == NULL)
			log_fatal(EXIT_TEMP, "alert: out of memory");
		for (unsigned int i = 0; i < slots[c]; i++)
			buf_init(&sched.del[c][i].recip, 0);
		sched.njobs += slots[c];
	}
	sched.njobs += 1;
	sched.jobs = calloc(sched.njobs, sizeof(struct job));
	if (sched.jobs == NULL)
		log_fatal(EXIT_TEMP, "alert: out of memory");
	for (size_t j = 0; j < sched.njobs; j++) {
		buf_init(&sched.jobs[j].sender, 0);
		sched.jobs[j].fd = -1;
	}
	sched.masterdelid = 1;
	sched_status();
}

/* job_avail - is a job slot free? */
int
job_avail(void)
{
	for (size_t j = 0; j < sched.njobs; j++)
		if (sched.jobs[j].refs == 0)
			return 1;
	return 0;
}

/* job_open - take a free job for message id on chan: its index or -1 */
int
job_open(unsigned long id, int chan)
{
	for (size_t j = 0; j < sched.njobs; j++) {
		struct job *jo = &sched.jobs[j];
		if (jo->refs != 0)
			continue;
		jo->refs = 1;
		jo->id = id;
		jo->chan = chan;
		jo->numtodo = 0;
		jo->hiteof = 0;
		jo->dirty = 0;
		jo->fd = -1;
		return (int)j;
	}
	return -1;
}

static void
job_sync(struct job *jo)
{
	char fn[64];

	if (jo->dirty && jo->fd >= 0 && fdatasync(jo->fd) < 0) {
		sched_chanfile(fn, sizeof(fn), jo->id, jo->chan);
		slog_warn("trouble fsyncing %s; message may be delivered twice", fn);
	}
	jo->dirty = 0;
}

/* sched_sync - make this round's "D" marks durable (one fdatasync per job) */
void
sched_sync(void)
{
	for (size_t j = 0; j < sched.njobs; j++)
		if (sched.jobs[j].refs > 0)
			job_sync(&sched.jobs[j]);
}

/* job_finished - all recipients on chan done: unlink the list; the message
 * ends when no other channel list is left */
static time_t
job_finished(struct job *jo, time_t now)
{
	char fn[64];
	struct stat st;

	sched_chanfile(fn, sizeof(fn), jo->id, jo->chan);
	if (unlink(fn) < 0) {
		slog_warn("unable to unlink %s; will try again later", fn);
		return now + SEND_SLEEP_SYSFAIL;
	}
	for (int c = 0; c < CHANNELS; c++) {
		if (c == jo->chan)
			continue;
		sched_chanfile(fn, sizeof(fn), jo->id, c);
		if (stat(fn, &st) == 0)
			return 0;	/* the other channel still runs */
		if (errno != ENOENT) {
			slog_warn("unable to stat %s", fn);
			break;
		}
	}
	pq_insert(&sched.pqdone, now, jo->id);
	return 0;
}

/* job_close - drop a reference; the last one reschedules or finishes the job */
void
job_close(int j, time_t now)
{
	struct job *jo = &sched.jobs[j];
	time_t dt = jo->retry;

	if (--jo->refs > 0)
		return;
	/* a list about to be unlinked needs no durable marks: after a crash it
	 * would only come back with deliveries to repeat (duplicates, no loss) */
	if (!(jo->hiteof && jo->numtodo == 0))
		job_sync(jo);
	if (jo->fd >= 0)
		close(jo->fd);
	jo->fd = -1;
	if (jo->hiteof && jo->numtodo == 0) {
		if ((dt = job_finished(jo, now)) == 0)
			return;
	}
	pq_insert(&sched.pqchan[jo->chan], dt, jo->id);
}

/* del_avail - may chan start another delivery now? */
int
del_avail(int chan)
{
	return send_spawn_alive[chan] && comm_canwrite(chan) &&
	    sched.used[chan] < sched_limit(chan);
}

/* del_start - hand recipient recip (record at mpos) of job j to its spawn */
void
del_start(int j, off_t mpos, const char *recip)
{
	struct job *jo = &sched.jobs[j];
	int c = jo->chan;
	struct buf req, safe;
	unsigned int i;
	struct del *d;

	for (i = 0; i < sched.slots[c]; i++)
		if (!sched.del[c][i].used)
			break;
	if (i == sched.slots[c])
		return;
	d = &sched.del[c][i];
	buf_cpys(&d->recip, recip);
	d->job = j;
	jo->refs++;
	d->delid = sched.masterdelid++;
	d->mpos = mpos;
	d->used = 1;
	sched.used[c]++;
	buf_init(&req, 0);
	spawn_request(&req, (int)i, jo->id, buf_str(&jo->sender), recip);
	comm_queue(c, &req);
	buf_free(&req);
	buf_init(&safe, 0);
	slog_safe(&safe, recip);
	slog("starting delivery %lu: msg %lu to %s %s", d->delid, jo->id,
	    chan_name[c], buf_str(&safe));
	buf_free(&safe);
	sched_status();
}

/* markdone - write "D" over the record's "T" (made durable by sched_sync) */
static void
markdone(struct job *jo, off_t pos)
{
	char fn[64];

	if (jo->fd >= 0 && pwrite(jo->fd, "D", 1, pos) == 1) {
		jo->dirty = 1;
		return;
	}
	sched_chanfile(fn, sizeof(fn), jo->id, jo->chan);
	slog_warn("trouble marking %s; message will be delivered twice!", fn);
}

static const char too_long[] =
    "I'm not going to try again; this message has been in the queue too long.\n";

/* sched_report - one report from chan's spawn: slot byte, K/Z/D, text */
void
sched_report(int c, const char *line, size_t len)
{
	unsigned int slot = (unsigned char)line[0];
	struct buf text, safe;
	struct del *d;
	struct job *jo;
	char code;

	if (len < 2 || slot >= sched.slots[c] || !sched.del[c][slot].used) {
		slog_warn("internal error: delivery report out of range");
		return;
	}
	d = &sched.del[c][slot];
	jo = &sched.jobs[d->job];
	code = line[1];
	buf_init(&text, 0);
	buf_cpys(&text, len > 2 ? line + 2 : "");
	if (code == 'Z' && jo->dying) {
		code = 'D';
		buf_cats(&text, too_long);
	}
	buf_init(&safe, 0);
	slog_safe(&safe, buf_str(&text));
	switch (code) {
	case 'K':
		slog("delivery %lu: success: %s", d->delid, buf_str(&safe));
		markdone(jo, d->mpos);
		jo->numtodo--;
		break;
	case 'Z':
		slog("delivery %lu: deferral: %s", d->delid, buf_str(&safe));
		break;
	case 'D':
		slog("delivery %lu: failure: %s", d->delid, buf_str(&safe));
		if (bounce_add(jo->id, buf_str(&d->recip), buf_str(&text)) < 0)
			break;	/* recipient stays "T": tried again at the next retry */
		markdone(jo, d->mpos);
		jo->numtodo--;
		break;
	default:
		slog("delivery %lu: report mangled, will defer", d->delid);
	}
	buf_free(&safe);
	buf_free(&text);
	d->used = 0;
	sched.used[c]--;
	job_close(d->job, time(NULL));
	sched_status();
}

/* sched_busy - are deliveries running on a live channel? */
int
sched_busy(void)
{
	for (int c = 0; c < CHANNELS; c++)
		if (send_spawn_alive[c] && sched.used[c] > 0)
			return 1;
	return 0;
}
