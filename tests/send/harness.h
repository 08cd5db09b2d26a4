/* SPDX-License-Identifier: MIT */
#ifndef SQ_TEST_SEND_HARNESS_H
#define SQ_TEST_SEND_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

/* A temp qmail home with the real qmail-send on fds 0-6: the test plays
 * qmail-lspawn and qmail-rspawn, a forked helper plays qmail-clean. */
struct fx {
	char home[256], queue[300], logfn[300], cleanlog[300], qqdir[300];
	pid_t send, clean;
	int req[2], rep[2];	/* per channel: read requests, write reports */
};

struct sreq {
	int slot;
	char mess[64], sender[1024], recip[1024];
};

void fx_home(struct fx *f);
void fx_control(struct fx *f, const char *file, const char *text);
void fx_start(struct fx *f, int lslots, int rslots);
void fx_stop(struct fx *f);
unsigned long fx_inject(struct fx *f, unsigned long id, const char *sender,
    const char *const *rcpts, int flat);
void fx_trigger(struct fx *f);
int fx_wait_log(struct fx *f, const char *needle, int ms);
int fx_log_count(struct fx *f, const char *needle);
int fx_request(struct fx *f, int chan, struct sreq *r, int ms);
void fx_report(struct fx *f, int chan, int slot, const char *text);
int fx_exists(struct fx *f, const char *rel);
char *fx_read(const char *path, size_t *len);
int fx_wait_exit(struct fx *f, int ms);

void fx_recorder(struct fx *f);
char *fx_recorded(struct fx *f, int ms, char **env, size_t *envlen);
long fx_ctxt(pid_t pid);

#endif
