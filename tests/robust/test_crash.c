/* SPDX-License-Identifier: MIT
 * test_crash.c - crash test: inject >= 1,000 messages while a killer SIGKILLs
 * qmail-send, its children and qmail-queue at random moments; qmail-start is
 * restarted whenever it dies. Then every acknowledged message must be in
 * alice's Maildir, whole; duplicates (allowed by qmail's guarantee) are counted
 * and reported, not failed on.
 *
 * Runs as:    the Criterion worker (root in CI, any user elsewhere), in its own
 *             session: the killer only signals processes of that session whose
 *             executable is in $SQ_BUILDDIR (rb_proc.c).
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rb.h"

#define CRASH_ACK_QQ	1100	/* acknowledged qmail-queue injections wanted */
#define CRASH_ACK_SMTP	150	/* acknowledged SMTP injections wanted (if qmail-smtpd exists) */
#define CRASH_QQ_JOBS	4
#define CRASH_SMTP_JOBS	2
#define CRASH_MAXID	RB_ID_BIG
#define INJECT_MS	150000	/* bound on the injection phase */
#define FIRE_MS		12000	/* the killer goes on this long while the queue drains */
#define DRAIN_MS	100000	/* bound on the final delivery phase */

enum via { VIA_NONE, VIA_QQ, VIA_SMTP };

struct shared {
	unsigned next;			/* next message id */
	unsigned acked[3];		/* by via */
	unsigned tried[3];
	unsigned finished;		/* injectors done (rb_reap may reap them anywhere) */
	int rc[CRASH_MAXID];		/* qmail-queue exit code or SMTP reply code */
	unsigned char via[CRASH_MAXID];
};

/* Who the killer picks, and how often relative to the others. */
static const struct target {
	const char *name;
	int weight;
	int daemon;		/* part of the qmail-start instance */
} targets[] = {
	{ "qmail-queue", 25, 0 }, { "qmail-send", 12, 1 }, { "qmail-local", 40, 0 },
	{ "qmail-lspawn", 10, 1 }, { "qmail-clean", 10, 1 }, { "qmail-rspawn", 5, 1 },
	{ "qmail-smtpd", 10, 0 }, { "qmail-start", 8, 1 }, { NULL, 0, 0 },
};

static struct rb_home home;
static struct shared *sh;
static unsigned kills[16], restarts, stalls;
static long long inject_start, inject_ms, fire_ms;
static long long grace_until;	/* a new instance's daemons are spared until then */

static void
setup(void)
{
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	cr_assert(sh != MAP_FAILED);
	memset(sh, 0, sizeof(*sh));
	cr_assert_eq(rb_world_init(), 0, "cannot get a session of our own");
	cr_assert_eq(rb_home_make(&home, "crash", NULL), 0, "mkhome.sh failed");
}

static void
teardown(void)
{
	rb_world_kill();
	rb_home_remove(&home);
}

/* skip - Criterion runs no .fini after cr_skip_test: clean up first */
#define skip(...) do {							\
		teardown();						\
		cr_skip_test(__VA_ARGS__);				\
	} while (0)

/* rcpt - one small message in 20 goes to an unknown user: its bounce must reach
 * the sender, bob, through qmail-send's bounce injection (killed too) */
static const char *
rcpt(unsigned id)
{
	if (id % 20 == 7 && rb_msg_size(id) < 4000)
		return "nobody@sandbox.test";
	return "alice@sandbox.test";
}

/* injector - one child: inject new ids until the shared quota is reached */
static void
injector(enum via via, unsigned quota, long long deadline)
{
	char reply[256];

	srandom((unsigned)getpid());
	while (__atomic_load_n(&sh->acked[via], __ATOMIC_SEQ_CST) < quota &&
	    rb_now_ms() < deadline) {
		unsigned id = __atomic_fetch_add(&sh->next, 1, __ATOMIC_SEQ_CST);
		size_t len;
		char *m;
		int rc;

		if (id >= CRASH_MAXID)
			break;
		m = rb_msg(id, rb_msg_size(id), &len);
		sh->via[id] = (unsigned char)via;
		__atomic_fetch_add(&sh->tried[via], 1, __ATOMIC_SEQ_CST);
		if (via == VIA_QQ)
			rc = rb_qq(&home, m, len, "bob@sandbox.test", rcpt(id));
		else
			rc = rb_smtp_send(&home, m, len, "bob@sandbox.test", rcpt(id),
			    reply, sizeof(reply));
		sh->rc[id] = rc;
		if (rc == (via == VIA_QQ ? 0 : 250))
			__atomic_fetch_add(&sh->acked[via], 1, __ATOMIC_SEQ_CST);
		free(m);
	}
	__atomic_fetch_add(&sh->finished, 1, __ATOMIC_SEQ_CST);
	_exit(0);
}

/* kill_one - SIGKILL one of our qmail processes: a program chosen by weight
 * among those running, then one of its processes at random */
static void
kill_one(void)
{
	struct rb_proc p[256];
	size_t n = rb_procs(&home, p, 256), i, cand[256], nc = 0;
	int total = 0, r, j, have[16] = { 0 };

	for (i = 0; i < n; i++)
		for (j = 0; targets[j].name != NULL; j++)
			if (strcmp(p[i].name, targets[j].name) == 0)
				have[j] = !(targets[j].daemon && rb_now_ms() < grace_until);
	for (j = 0; targets[j].name != NULL; j++)
		total += have[j] ? targets[j].weight : 0;
	if (total == 0)
		return;
	for (r = (int)(random() % total), j = 0; targets[j].name != NULL; j++) {
		if (!have[j])
			continue;
		if (r < targets[j].weight)
			break;
		r -= targets[j].weight;
	}
	for (i = 0; i < n; i++)
		if (strcmp(p[i].name, targets[j].name) == 0)
			cand[nc++] = i;
	if (nc > 0 && kill(p[cand[random() % nc]].pid, SIGKILL) == 0)
		kills[j]++;
}

/* snipe_local - qmail-local lives a few milliseconds: watch qmail-lspawn's
 * children on every round and kill one now and then (at most every 40 ms) */
static void
snipe_local(void)
{
	static pid_t lspawn;
	static long long next_look, next_shot;
	long long now = rb_now_ms();
	pid_t kids[16];
	size_t n;
	int j;

	if (now < next_shot)
		return;
	n = lspawn > 0 ? rb_children(&home, lspawn, "qmail-local", kids, 16) : 0;
	if (n == 0 && now >= next_look) {
		lspawn = rb_find(&home, "qmail-lspawn");	/* a new instance? */
		next_look = now + 200;
		return;
	}
	if (n == 0 || random() % 3 != 0)
		return;
	if (kill(kids[random() % n], SIGKILL) == 0)
		for (j = 0; targets[j].name != NULL; j++)
			if (strcmp(targets[j].name, "qmail-local") == 0)
				kills[j]++;
	next_shot = now + 40;
}

/* supervise - restart qmail-start when it died or qmail-send is missing */
static void
supervise(long long *send_seen)
{
	long long now = rb_now_ms();

	if (home.start_pid != 0 && rb_find(&home, "qmail-send") != 0)
		*send_seen = now;
	if (home.start_pid != 0 && now - *send_seen > 1500) {
		/* qmail-start alive but no qmail-send: treat as a crash */
		stalls++;
		kill(home.start_pid, SIGKILL);
		*send_seen = now;
		return;		/* reaped and restarted on the next round */
	}
	if (home.start_pid == 0) {
		rb_stop(&home, 0);	/* leftover children of the dead instance */
		cr_assert_gt(rb_start(&home), 0, "cannot run qmail-start");
		restarts++;
		*send_seen = now;
		/* let the new instance get to delivering before it is hit again */
		grace_until = now + 200 + random() % 600;
	}
}

/* fire_over - after the injectors: keep killing while qmail-send delivers, until
 * the queue is empty or FIRE_MS passed; poke qmail-send so that deliveries
 * deferred by a kill are retried at once */
static int
fire_over(long long *fire_end, long long *next_check)
{
	long long now = rb_now_ms();

	if (*fire_end == 0) {
		inject_ms = now - inject_start;
		*fire_end = now + FIRE_MS;
	}
	if (now >= *fire_end)
		return 1;
	if (now < *next_check)
		return 0;
	*next_check = now + 500;
	rb_poke(&home);
	return rb_queue_busy(&home) == 0;
}

/* inject_phase - injectors plus killer plus supervisor, until quotas are met,
 * then the killer goes on while the queue drains */
static int
inject_phase(int smtp)
{
	pid_t jobs[CRASH_QQ_JOBS + CRASH_SMTP_JOBS], pids[64];
	long long deadline = rb_now_ms() + INJECT_MS, next_kill = 0, seen = rb_now_ms();
	long long fire_end = 0, next_check = 0;
	int njobs = 0, alive, sts[64], i;

	inject_start = rb_now_ms();
	for (i = 0; i < CRASH_QQ_JOBS + (smtp ? CRASH_SMTP_JOBS : 0); i++) {
		enum via via = i < CRASH_QQ_JOBS ? VIA_QQ : VIA_SMTP;

		jobs[njobs] = fork();
		cr_assert_geq(jobs[njobs], 0);
		if (jobs[njobs] == 0)
			injector(via, via == VIA_QQ ? CRASH_ACK_QQ : CRASH_ACK_SMTP, deadline);
		njobs++;
	}
	for (;;) {
		alive = njobs - (int)__atomic_load_n(&sh->finished, __ATOMIC_SEQ_CST);
		if (alive <= 0 && fire_over(&fire_end, &next_check))
			break;
		if (alive > 0 && rb_now_ms() > deadline + 10000) {
			/* injectors check the deadline themselves: one is stuck */
			for (i = 0; i < njobs; i++)
				kill(jobs[i], SIGKILL);
			inject_ms = INJECT_MS;
			return 0;
		}
		rb_reap(&home, pids, sts, 64);
		supervise(&seen);
		if (smtp && home.smtp_pid == 0)
			cr_assert_eq(rb_smtp_start(&home), 0, "systemd-socket-activate died");
		if (rb_now_ms() >= next_kill) {
			kill_one();
			next_kill = rb_now_ms() + 5 + random() % 55;
		}
		snipe_local();
		rb_sleep_ms(2);
	}
	fire_ms = rb_now_ms() - inject_start - inject_ms;
	return inject_ms < INJECT_MS;
}

/* drain_phase - clean restart, then poke qmail-send until the queue is empty */
static long long
drain_phase(void)
{
	long long start = rb_now_ms(), seen = start;
	pid_t pids[64];
	int sts[64];

	rb_stop(&home, 5000);
	cr_assert_gt(rb_start(&home), 0, "cannot run qmail-start");
	while (rb_now_ms() - start < DRAIN_MS) {
		rb_sleep_ms(500);
		rb_reap(&home, pids, sts, 64);
		supervise(&seen);
		if (rb_queue_busy(&home) == 0)
			break;
		rb_poke(&home);
	}
	return rb_now_ms() - start;
}

/* What reached the Maildirs, against what was acknowledged. */
struct tally {
	struct rb_box alice, bob;	/* deliveries; bounces (to the sender) */
	unsigned dups, unacked, lost, bounced, misplaced;
	char lostlist[2048], misplist[512];
};

/* tally_up - every acknowledged message must be in alice's Maildir, or for
 * nobody@ as a bounce in bob's */
static void
tally_up(struct tally *t)
{
	char path[RB_PATH_MAX + 32];
	unsigned id;

	rb_path(&home, path, sizeof(path), "home/alice/Maildir");
	cr_assert_eq(rb_box_scan(path, CRASH_MAXID, 0, &t->alice), 0);
	rb_path(&home, path, sizeof(path), "home/bob/Maildir");
	cr_assert_eq(rb_box_scan(path, CRASH_MAXID, 1, &t->bob), 0);
	for (id = 0; id < sh->next && id < CRASH_MAXID; id++) {
		int acked = sh->rc[id] == (sh->via[id] == VIA_QQ ? 0 : 250);
		int bounce = strcmp(rcpt(id), "alice@sandbox.test") != 0;
		unsigned got = bounce ? t->bob.count[id] : t->alice.count[id];

		if ((bounce ? t->alice.count[id] : t->bob.count[id]) > 0) {
			size_t l = strlen(t->misplist);

			t->misplaced += bounce ? t->alice.count[id] : t->bob.count[id];
			if (l + 16 < sizeof(t->misplist))
				snprintf(t->misplist + l, sizeof(t->misplist) - l, " %u", id);
		}
		t->bounced += bounce && got > 0;
		if (got > 1)
			t->dups += got - 1;
		if (!acked && got > 0)
			t->unacked++;
		if (acked && got == 0) {
			size_t l = strlen(t->lostlist);

			t->lost++;
			if (l + 16 < sizeof(t->lostlist))
				snprintf(t->lostlist + l, sizeof(t->lostlist) - l, " %u%s",
				    id, bounce ? "(bounce)" : "");
		}
	}
}

/* report - the numbers, into the test log and BUILDDIR/tests/robust/crash.report */
static void
report(const struct tally *t, long long drain_ms)
{
	char k[512];
	size_t l = 0;
	int j;

	rb_note("crash", "injections %u (qmail-queue %u, smtp %u), acknowledged %u "
	    "(qmail-queue %u, smtp %u)", sh->tried[VIA_QQ] + sh->tried[VIA_SMTP],
	    sh->tried[VIA_QQ], sh->tried[VIA_SMTP], sh->acked[VIA_QQ] + sh->acked[VIA_SMTP],
	    sh->acked[VIA_QQ], sh->acked[VIA_SMTP]);
	k[0] = '\0';
	for (j = 0; targets[j].name != NULL && l + 40 < sizeof(k); j++)
		l += (size_t)snprintf(k + l, sizeof(k) - l, " %s=%u", targets[j].name, kills[j]);
	rb_note("crash", "kills%s; qmail-start runs %d (restarts after a kill %u, stalls %u)",
	    k, home.starts, restarts, stalls);
	rb_note("crash", "delivered files %u + bounces %u (for %u messages to nobody@), "
	    "duplicates %u, delivered but not acknowledged %u, lost %u, broken %u, "
	    "misplaced %u, inside a double bounce %u, foreign %u, left in Maildir tmp/ %u",
	    t->alice.files, t->bob.files, t->bounced, t->dups, t->unacked, t->lost,
	    t->alice.bad + t->bob.bad, t->misplaced, t->alice.wrapped,
	    t->alice.foreign + t->bob.foreign,
	    t->alice.tmp + t->bob.tmp);
	rb_note("crash", "injection %lld ms, killing on while delivering %lld ms, clean "
	    "drain %lld ms; queue left: todo %zu info %zu local %zu "
	    "remote %zu mess %zu intd %zu pid %zu bounce %zu", inject_ms, fire_ms, drain_ms,
	    rb_count(&home, "todo"), rb_count(&home, "info"), rb_count(&home, "local"),
	    rb_count(&home, "remote"), rb_count(&home, "mess"), rb_count(&home, "intd"),
	    rb_count(&home, "pid"), rb_count(&home, "bounce"));
}

Test(robust, crash, .init = setup, .fini = teardown, .timeout = 290)
{
	unsigned restarts_before;
	struct tally t;
	long long drain_ms;
	int smtp;

	if (!rb_have(&home, "qmail-queue") || !rb_have(&home, "qmail-start"))
		skip("qmail-queue or qmail-start not built yet");
	smtp = rb_have(&home, "qmail-smtpd");
	if (smtp)
		cr_assert_eq(rb_smtp_start(&home), 0, "cannot start qmail-smtpd");
	srandom((unsigned)getpid());
	cr_assert_gt(rb_start(&home), 0, "cannot run qmail-start");
	/* a slow machine may not reach the quotas in time: 1,000 is the minimum */
	if (!inject_phase(smtp))
		rb_note("crash", "injection stopped by its %d s bound", INJECT_MS / 1000);
	restarts_before = restarts;
	drain_ms = drain_phase();
	rb_stop(&home, 5000);

	memset(&t, 0, sizeof(t));
	tally_up(&t);
	report(&t, drain_ms);
	if (t.lost + t.misplaced + t.alice.wrapped + t.alice.bad + t.bob.bad > 0)
		rb_note_log(&home, "crash", 30);
	cr_expect_geq(sh->acked[VIA_QQ], 1000, "fewer than 1,000 injections acknowledged");
	cr_expect_eq(restarts, restarts_before, "qmail-send died %u times with no killer",
	    restarts - restarts_before);
	cr_expect_eq(t.alice.bad + t.bob.bad, 0, "delivered files differ from what was "
	    "sent: %s %s", t.alice.badlist, t.bob.badlist);
	cr_expect_eq(t.alice.wrapped, 0, "%u messages reached alice inside a (double) bounce",
	    t.alice.wrapped);
	cr_expect_eq(t.misplaced, 0, "%u messages reached the wrong Maildir:%s", t.misplaced,
	    t.misplist);
	cr_expect_eq(rb_queue_busy(&home), 0, "queue not empty after %lld ms", drain_ms);
	cr_assert_eq(t.lost, 0, "%u acknowledged messages lost:%s", t.lost, t.lostlist);
	rb_box_free(&t.alice);
	rb_box_free(&t.bob);
}
