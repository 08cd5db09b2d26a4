/* SPDX-License-Identifier: MIT */
#ifndef SQ_SEND_H
#define SQ_SEND_H

#include <stddef.h>
#include <time.h>

#include "buf.h"
#include "cfg.h"

/* qmail-send's two delivery channels, in qmail's order (chanfdout 1/3, chanfdin 2/4). */
enum { CH_LOCAL = 0, CH_REMOTE = 1, CHANNELS = 2 };

/* File descriptors qmail-start hands to qmail-send (qmail's layout). */
enum {
	FD_LOG = 0, FD_LSPAWN_OUT = 1, FD_LSPAWN_IN = 2, FD_RSPAWN_OUT = 3,
	FD_RSPAWN_IN = 4, FD_CLEAN_OUT = 5, FD_CLEAN_IN = 6
};

#define SEND_SPAWN_MAX 255		/* the spawn's slot count is one byte */
#define SEND_OSSIFIED 129600		/* 36 h: must exceed qmail-queue's 24 h DEATH */
#define SEND_SLEEP_TODO 1500		/* rescan todo/ every 25 minutes in any case */
#define SEND_SLEEP_CLEANUP 76431	/* seconds between scans of mess/ for debris */
#define SEND_SLEEP_SYSFAIL 123		/* retry after a failed stat/unlink */
#define SEND_REPORT_MAX 10000		/* longest report accepted from a spawn */

/* send_rewrite.c - locals, virtualdomains, percenthack (qmail's constmaps) */
struct rw_ent {
	char *key;			/* lowercased */
	size_t keylen;
	char *val;			/* NULL for plain lists */
};
struct rw_map {
	struct rw_ent *e;		/* sorted by key */
	size_t n;
};
struct rw_tables {
	struct rw_map locals, vdoms, percent;
	struct buf envnoathost;
};
int rw_map_build(struct rw_map *m, const struct cfg_list *l, int split);
void rw_map_free(struct rw_map *m);
const char *rw_map_get(const struct rw_map *m, const char *key, size_t n);
int rw_rewrite(const struct rw_tables *t, const char *recip, struct buf *out);
const char *rw_strip_vdom(const struct rw_tables *t, const char *recip);
void rw_sender_verp(struct buf *out, const char *sender, const char *recip);

/* send_conf.c - control files */
struct send_conf {
	unsigned long lifetime;
	unsigned long concurrency[CHANNELS];
	struct buf me, bouncefrom, bouncehost, doublebounceto;
	int doublebounce_discard;	/* s/qmail: doublebounceto empty or "@..." */
	size_t bouncemaxbytes;		/* 0: unlimited */
	struct rw_tables rw;
};
extern struct send_conf send_conf;
int send_conf_load(struct send_conf *c);
int send_conf_reload(struct send_conf *c);

/* send_retry.c - qmail's retry schedule */
unsigned long retry_isqrt(unsigned long x);
time_t retry_next(time_t birth, time_t now, int chan);

/* send_log.c - qmail's activity lines on fd 0 */
void slog_safe(struct buf *out, const char *s);
void slog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void slog_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void slog_alert(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* send_pq.c - min-heaps of (time, id) */
struct pq_elt {
	time_t dt;
	unsigned long id;
};
struct pq {
	struct pq_elt *p;
	size_t len, cap;
};
void pq_insert(struct pq *q, time_t dt, unsigned long id);
int pq_min(const struct pq *q, struct pq_elt *out);
void pq_delmin(struct pq *q);

/* send_spawn.c - the spawn and clean protocols */
struct report {
	struct buf line;		/* slot byte, code, text, NUL */
};
void spawn_request(struct buf *out, int slot, unsigned long id,
    const char *sender, const char *recip);
int spawn_report_feed(struct report *r, const char *p, size_t n, size_t *used);
int clean_request(const char *kind, unsigned long id);
int clean_batch(const char *kind, const unsigned long *ids, size_t n, char *answers);
void clean_dead(void);
extern int send_clean_alive;

/* send_bounce.c - QSBMF */
void bounce_paragraph(struct buf *out, const char *recip, const char *report);
int bounce_add(unsigned long id, const char *recip, const char *report);
void bounce_head(struct buf *out, const char *recip, int dbl, time_t now);
void bounce_quote2(struct buf *out, const char *addr);
int bounce_inject(unsigned long id);

/* send_info.c - the info/ file */
int info_read(unsigned long id, struct buf *sender, time_t *birth);
int send_slurp(int fd, char **data, size_t *len);

/* send_todo.c - todo/ preprocessing, one bounded batch per loop */
void todo_init(void);
void todo_trigger(void);
int todo_pending(void);
void todo_run(time_t now);
time_t todo_wakeup(void);

/* send_sched.c - jobs, passes, deliveries */
void sched_init(const unsigned int slots[CHANNELS]);
void sched_scan(void);
void sched_queued(unsigned long id, int haschan[CHANNELS], time_t now);
void sched_run(time_t now);
void sched_report(int chan, const char *line, size_t len);
void sched_runasap(time_t now);
void sched_finish(void);
void sched_sync(void);
time_t sched_wakeup(time_t now);
int sched_busy(void);
unsigned int sched_used(int chan);
unsigned int sched_limit(int chan);
size_t sched_messages(void);
void sched_status(void);
extern int send_exiting;

/* send_comm.c - nonblocking request buffers towards the spawns */
void comm_queue(int chan, const struct buf *req);
void spawn_dead(int chan);
int comm_pending(int chan);
void comm_flush(int chan);
int comm_canwrite(int chan);
extern int send_spawn_alive[CHANNELS];

/* send_cleanup.c - debris in mess/ */
void cleanup_run(time_t now);
int send_run(void);
void notify_init(void);
void notify_status(int force);
void notify_watchdog(void);
long long notify_wakeup_ms(void);
time_t cleanup_wakeup(void);

#endif
