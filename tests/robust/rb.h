/* SPDX-License-Identifier: MIT
 * rb.h - helpers of the robustness tests (crash test, full disk).
 *
 * The tests run the real built programs in a temporary qmail home made by
 * sandbox-tools/mkhome.sh. Every process they start lives in the test's own
 * session (rb_world_init calls setsid), so the killer and the cleanup touch
 * nothing else on the machine: a process is ours only if its session id is
 * ours and its executable lies in $SQ_BUILDDIR.
 */
#ifndef SQ_TESTS_RB_H
#define SQ_TESTS_RB_H

#include <stddef.h>
#include <sys/types.h>

#define RB_PATH_MAX 512

struct rb_home {
	char dir[RB_PATH_MAX];		/* the qmail home */
	char build[RB_PATH_MAX];	/* realpath of $SQ_BUILDDIR */
	char log[RB_PATH_MAX];		/* the daemons' stderr, HOME/daemons.log */
	pid_t start_pid;		/* qmail-start we started (0 if none) */
	int starts;			/* how many times qmail-start was started */
	pid_t smtp_pid;			/* systemd-socket-activate, 0 if none */
	int smtp_port;
};

/* rb_world_init - own session + child subreaper; -1 if setsid failed */
int rb_world_init(void);
/* rb_world_kill - SIGKILL every other process of our session, reap them */
void rb_world_kill(void);

/* rb_home_make - mkdtemp under TMPDIR, run mkhome.sh, export QMAILHOME */
int rb_home_make(struct rb_home *h, const char *tag, int before_mkhome(struct rb_home *));
/* rb_home_remove - rm -rf the home (after rb_world_kill) */
void rb_home_remove(struct rb_home *h);
/* rb_have - does HOME/bin/NAME exist (is the program built)? */
int rb_have(const struct rb_home *h, const char *name);
/* rb_path - "HOME/fmt..." into out */
void rb_path(const struct rb_home *h, char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* rb_start - run "qmail-start ./Maildir/" in HOME, stderr to h->log */
pid_t rb_start(struct rb_home *h);
/* rb_stop - SIGTERM qmail-send, wait up to ms, then SIGKILL all daemons */
void rb_stop(struct rb_home *h, int ms);
/* rb_reap - reap exited children; clears start_pid/smtp_pid when they die.
 * Returns how many children other than those two were reaped; each of their
 * pids and statuses is stored in pids/sts (up to max). */
size_t rb_reap(struct rb_home *h, pid_t *pids, int *sts, size_t max);
/* rb_poke - write the trigger and SIGALRM qmail-send: "retry everything now" */
void rb_poke(struct rb_home *h);

/* rb_fill - write max bytes (or until ENOSPC) into a new file path; bytes or -1 */
long rb_fill(const char *path, size_t max);

/* rb_count - regular files below HOME/queue/SUB (recursive) */
size_t rb_count(const struct rb_home *h, const char *sub);
/* rb_queue_busy - files in todo/ + info/ + local/ */
size_t rb_queue_busy(const struct rb_home *h);
/* rb_snapshot - sorted list of the files in pid/ mess/ intd/ todo/, one per line */
char *rb_snapshot(const struct rb_home *h);

/* Our processes (session + build tree), by program name. */
struct rb_proc {
	pid_t pid;
	char name[32];
};
size_t rb_procs(const struct rb_home *h, struct rb_proc *out, size_t max);
/* rb_children - pid's children that are our programs called name */
size_t rb_children(const struct rb_home *h, pid_t pid, const char *name, pid_t *out,
    size_t max);
/* rb_find - first of our processes called name, 0 if none */
pid_t rb_find(const struct rb_home *h, const char *name);

/* Messages: deterministic text for an id, so delivered files can be checked.
 * Ids from RB_ID_BIG get about 60 KB, ids from RB_ID_TINY 300 bytes; below
 * that most are 300..3800 bytes and one in 25 is 70..220 KB. */
#define RB_ID_BIG	10000
#define RB_ID_TINY	20000
#define RB_ID_MAX	30000
char *rb_msg(unsigned id, size_t size, size_t *len);
/* rb_msg_size - the size used for id in the tests (mostly small, some large) */
size_t rb_msg_size(unsigned id);
/* rb_qq - inject through HOME/bin/qmail-queue; exit code, 128+sig if killed, -1 */
int rb_qq(const struct rb_home *h, const char *msg, size_t len,
    const char *from, const char *to);
/* rb_qq_raw - the same with the envelope given as raw bytes */
int rb_qq_raw(const struct rb_home *h, const char *msg, size_t len, const char *env,
    size_t envlen);

/* SMTP through qmail-smtpd under systemd-socket-activate. */
int rb_smtp_start(struct rb_home *h);
/* rb_smtp_send - one message; the reply code to the final dot (or earlier failure), -1 if the
 * connection broke */
int rb_smtp_send(const struct rb_home *h, const char *msg, size_t len,
    const char *from, const char *to, char *reply, size_t rsize);
/* rb_smtp_cut - send only cut bytes of DATA, then hang up; 354 if DATA was reached */
int rb_smtp_cut(const struct rb_home *h, const char *msg, size_t len,
    const char *from, const char *to, size_t cut);

/* Maildir check: what was delivered, and was it whole? */
struct rb_box {
	unsigned *count;	/* deliveries per id, size n */
	unsigned n;
	unsigned files;		/* files in new/ and cur/ */
	unsigned foreign;	/* files without a robust id */
	unsigned wrapped;	/* a message inside another (a bounce): not a delivery */
	unsigned bad;		/* files whose text differs from what was sent */
	unsigned tmp;		/* files left in tmp/ */
	int prefix_ok;		/* bounces: the copy may be cut short */
	char badlist[1024];	/* the first bad ones: "file:id ..." */
};
/* rb_box_scan - what maildir holds; prefix_ok for bounces (a copy may be cut) */
int rb_box_scan(const char *maildir, unsigned n, int prefix_ok, struct rb_box *box);
void rb_box_free(struct rb_box *box);

/* rb_note - "# TAG: text" into the TAP stream, stderr and BUILDDIR/tests/robust/TAG.report */
void rb_note(const char *tag, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* rb_note_log - the last lines of HOME/daemons.log as notes */
void rb_note_log(const struct rb_home *h, const char *tag, int lines);

/* rb_now_ms - monotonic milliseconds */
long long rb_now_ms(void);
void rb_sleep_ms(long ms);

#endif
