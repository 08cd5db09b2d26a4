/* SPDX-License-Identifier: MIT */
#ifndef SQ_SEND_SCHED_H
#define SQ_SEND_SCHED_H

#include <sys/types.h>

#include "send.h"

/* Private to send_sched.c and send_pass.c. */
struct job {
	int refs;		/* 0: free; the pass and each running delivery hold one */
	unsigned long id;
	int chan;
	time_t retry;		/* when to try again if something was deferred */
	struct buf sender;
	int numtodo;		/* "T" records seen and not yet done */
	int hiteof;		/* the pass read the whole list */
	int dying;		/* older than queuelifetime: deferrals become failures */
	int fd;			/* the list, open for "D" marks */
	int dirty;		/* marks written since the last fdatasync */
};

struct del {
	int used;
	int job;
	unsigned long delid;
	off_t mpos;		/* offset of the recipient's record */
	struct buf recip;
};

struct pass {
	unsigned long id;	/* 0: no pass on this channel */
	int job;
	char *data;		/* the whole list, read at the start of the pass */
	size_t len, pos;
};

struct sched {
	struct job *jobs;
	size_t njobs;
	struct del *del[CHANNELS];
	unsigned int slots[CHANNELS], used[CHANNELS];
	unsigned long masterdelid;
	struct pq pqchan[CHANNELS], pqdone, pqfail;
	struct pass pass[CHANNELS];
	size_t messages;
};
extern struct sched sched;

void sched_chanfile(char *fn, size_t size, unsigned long id, int chan);
int job_avail(void);
int job_open(unsigned long id, int chan);
void job_close(int j, time_t now);
int del_avail(int chan);
void del_start(int j, off_t mpos, const char *recip);

#endif
