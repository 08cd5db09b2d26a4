/* SPDX-License-Identifier: MIT
 * test_qmail_queue.c - the real qmail-queue in a temp home: files, bytes, exit codes. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <regex.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mail/qqueue.h"
#include "qtest.h"

#define S(s) s, sizeof(s) - 1

static char home[256];

static void
setup(void)
{
	qt_mkhome(home, sizeof(home));
}

static void
teardown(void)
{
	qt_rmhome(home);
}

/* nothing of a refused message may stay behind */
static void
expect_empty(const char *label)
{
	static const char *const dirs[] = { "pid", "mess", "intd", "todo" };

	for (size_t i = 0; i < 4; i++)
		cr_expect_eq(qt_count(home, dirs[i]), 0, "%s: files left in %s/",
		    label, dirs[i]);
}

static char *
queue_file(const char *dir, const char *splitid, size_t *len)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/queue/%s/%s", home, dir, splitid);
	return qt_slurp(path, len);
}

Test(qmail_queue, queued_layout, .init = setup, .fini = teardown, .timeout = 20)
{
	static const char msg[] = "Subject: hi\n\nbody\n";
	char name[64], path[4096], want[256];
	unsigned long split, id, qpid;
	size_t len, wantlen;
	struct stat mst, ist, tst;
	regmatch_t m[3];
	regex_t re;
	char *mess, *intd, *todo;

	cr_assert_eq(qt_qq(home, S(msg), S("Fa@b.example\0Tc@d.example\0Te@f\0\0"), NULL), 0);
	cr_assert_eq(qt_count(home, "todo"), 1);
	cr_expect_eq(qt_count(home, "pid"), 0, "pid/ file must be gone");
	cr_assert_eq(qt_first(home, "todo", name, sizeof(name)), 0);
	cr_assert_eq(sscanf(name, "%lu/%lu", &split, &id), 2);
	cr_expect_eq(split, id % 23, "todo split dir");

	mess = queue_file("mess", name, &len);
	cr_assert_not_null(mess, "mess/%s missing", name);
	cr_assert_eq(regcomp(&re, "^Received: \\(qmail ([0-9]+) invoked by uid ([0-9]+)\\); "
	    "[1-9][0-9]? [A-Z][a-z][a-z] 2[0-9]{3} [0-9]{2}:[0-9]{2}:[0-9]{2} -0000\n",
	    REG_EXTENDED), 0);
	cr_assert_eq(regexec(&re, mess, 3, m, 0), 0, "Received line: %.80s", mess);
	regfree(&re);
	cr_expect_eq(strtoul(mess + m[2].rm_so, NULL, 10), (unsigned long)getuid());
	qpid = strtoul(mess + m[1].rm_so, NULL, 10);
	cr_expect_eq(len, (size_t)m[0].rm_eo + sizeof(msg) - 1, "message length");
	cr_expect_str_eq(mess + m[0].rm_eo, msg, "message bytes after Received");

	wantlen = (size_t)snprintf(want, sizeof(want), "u%lu%cp%lu%cFa@b.example%cTc@d.example%cTe@f%c",
	    (unsigned long)getuid(), 0, qpid, 0, 0, 0, 0);
	intd = queue_file("intd", name, &len);
	cr_assert_not_null(intd, "intd/%s missing", name);
	cr_expect_eq(len, wantlen, "intd length");
	cr_expect(memcmp(intd, want, wantlen) == 0, "intd bytes");
	todo = queue_file("todo", name, &len);
	cr_assert_not_null(todo);
	cr_expect_eq(len, wantlen);
	cr_expect(memcmp(todo, want, wantlen) == 0, "todo bytes");

	snprintf(path, sizeof(path), "%s/queue/mess/%s", home, name);
	cr_assert_eq(stat(path, &mst), 0);
	cr_expect_eq((unsigned long)mst.st_ino, id, "message id is the mess inode");
	snprintf(path, sizeof(path), "%s/queue/intd/%s", home, name);
	cr_assert_eq(stat(path, &ist), 0);
	snprintf(path, sizeof(path), "%s/queue/todo/%s", home, name);
	cr_assert_eq(stat(path, &tst), 0);
	cr_expect_eq(ist.st_ino, tst.st_ino, "todo is a link of intd");
	cr_expect_eq(mst.st_mode & 0777, 0644);
	free(mess);
	free(intd);
	free(todo);
}

/* the line of log at or after from holding both a and b, or NULL */
static const char *
find_line(const char *from, const char *end, const char *a, const char *b)
{
	while (from && *from && (end == NULL || from < end)) {
		const char *nl = strchr(from, '\n');
		size_t len = nl ? (size_t)(nl - from) : strlen(from);

		if (memmem(from, len, a, strlen(a)) && memmem(from, len, b, strlen(b)))
			return from;
		from = nl ? nl + 1 : NULL;
	}
	return NULL;
}

/* qmail's crash-safe order, seen in the system calls: everything the todo/ entry
 * points to is durable before the link, the link is durable before the trigger */
Test(qmail_queue, crash_safe_order, .init = setup, .fini = teardown, .timeout = 30)
{
	char log[300];
	struct qt_opts o = { .msgfd = -1, .strace = log };
	const char *t, *link_mess, *link_todo, *sync_todo, *unlink_pid, *trigger;
	static const char *const before_todo[][2] = {
		{ "fsync(", "/queue/pid/" },	/* the message, through its pid/ name */
		{ "fsync(", "/queue/intd/" },	/* the envelope */
		{ "fsync(", "/queue/mess/" },	/* the mess/S directory */
	};

	if (qt_sh("strace -V >/dev/null 2>&1") != 0)
		cr_skip_test("strace is not installed");
	snprintf(log, sizeof(log), "%s/strace.log", home);
	cr_assert_eq(qt_qq(home, S("Subject: x\n\nbody\n"), S("Fa\0Tb\0\0"), &o), 0);
	t = qt_slurp(log, NULL);
	cr_assert_not_null(t);
	link_mess = find_line(t, NULL, "link(\"pid/", "\"mess/");
	link_todo = find_line(t, NULL, "link(\"intd/", "\"todo/");
	cr_assert(link_mess && link_todo && link_mess < link_todo, "links:\n%s", t);
	for (size_t i = 0; i < 3; i++)
		cr_expect_not_null(find_line(link_mess, link_todo, before_todo[i][0],
		    before_todo[i][1]), "no %s%s before the todo link:\n%s",
		    before_todo[i][0], before_todo[i][1], t);
	sync_todo = find_line(link_todo, NULL, "fsync(", "/queue/todo/");
	unlink_pid = find_line(link_todo, NULL, "unlink(\"pid/", "");
	trigger = find_line(link_todo, NULL, "lock/trigger", "");
	cr_expect(sync_todo && unlink_pid && trigger, "after the todo link:\n%s", t);
	cr_expect(sync_todo < unlink_pid && unlink_pid < trigger,
	    "todo/S synced, then pid/ removed, then the trigger:\n%s", t);
	free((char *)t);
}

/* control/queuesync syncfs: one syncfs between the links instead of three fsyncs */
Test(qmail_queue, queuesync_syncfs, .init = setup, .fini = teardown, .timeout = 30)
{
	char log[300];
	struct qt_opts o = { .msgfd = -1, .strace = log };
	const char *t, *link_mess, *link_todo;

	if (qt_sh("strace -V >/dev/null 2>&1") != 0)
		cr_skip_test("strace is not installed");
	cr_assert_eq(qt_sh("echo syncfs > '%s/control/queuesync'", home), 0);
	snprintf(log, sizeof(log), "%s/strace.log", home);
	cr_assert_eq(qt_qq(home, S("Subject: x\n\nbody\n"), S("Fa\0Tb\0\0"), &o), 0);
	t = qt_slurp(log, NULL);
	cr_assert_not_null(t);
	link_mess = find_line(t, NULL, "link(\"pid/", "\"mess/");
	link_todo = find_line(t, NULL, "link(\"intd/", "\"todo/");
	cr_assert(link_mess && link_todo && link_mess < link_todo, "links:\n%s", t);
	cr_expect_not_null(find_line(link_mess, link_todo, "syncfs(", "/queue/pid/"),
	    "no syncfs before the todo link:\n%s", t);
	cr_expect_null(find_line(link_mess, link_todo, "fsync(", ""),
	    "fsync calls with syncfs:\n%s", t);
	cr_expect_not_null(find_line(link_todo, NULL, "fsync(", "/queue/todo/"),
	    "todo/S must still be synced after the link:\n%s", t);
	cr_expect_eq(qt_count(home, "todo"), 1);
	free((char *)t);
}

Test(qmail_queue, queuesync_bad, .init = setup, .fini = teardown, .timeout = 20)
{
	cr_assert_eq(qt_sh("echo sometimes > '%s/control/queuesync'", home), 0);
	cr_expect_eq(qt_qq(home, S("x\n"), S("Fa\0Tb\0\0"), NULL), QQ_EXIT_CONFIG);
	expect_empty("bad queuesync");
	cr_assert_eq(qt_sh("echo fsync > '%s/control/queuesync'", home), 0);
	cr_expect_eq(qt_qq(home, S("x\n"), S("Fa\0Tb\0\0"), NULL), 0);
}

Test(qmail_queue, binary_message_exact, .init = setup, .fini = teardown, .timeout = 20)
{
	size_t n = 300000, len;
	char *msg = malloc(n), *mess, name[64];

	for (size_t i = 0; i < n; i++)
		msg[i] = (char)(i * 7 + i / 251);
	cr_assert_eq(qt_qq(home, msg, n, S("F\0Tx@y\0\0"), NULL), 0);
	cr_assert_eq(qt_first(home, "mess", name, sizeof(name)), 0);
	mess = queue_file("mess", name, &len);
	cr_assert_not_null(mess);
	char *body = strchr(mess, '\n') + 1;
	cr_expect_eq(len - (size_t)(body - mess), n);
	cr_expect(memcmp(body, msg, n) == 0, "message bytes changed");
	free(mess);
	free(msg);
}

Test(qmail_queue, trigger_pulled, .init = setup, .fini = teardown, .timeout = 20)
{
	char path[4096], c;
	int fd;

	snprintf(path, sizeof(path), "%s/queue/lock/trigger", home);
	fd = open(path, O_RDONLY | O_NONBLOCK);
	cr_assert_geq(fd, 0);
	cr_expect_leq(read(fd, &c, 1), 0, "trigger must be empty before");
	cr_assert_eq(qt_qq(home, S("x\n"), S("Fa\0Tb\0\0"), NULL), 0);
	cr_expect_eq(read(fd, &c, 1), 1, "qmail-queue must write one byte to lock/trigger");
	close(fd);
	/* without a reader, qmail-queue still succeeds */
	cr_expect_eq(qt_qq(home, S("x\n"), S("Fa\0Tb\0\0"), NULL), 0);
}

Test(qmail_queue, envelope_errors, .init = setup, .fini = teardown, .timeout = 30)
{
	static char longenv[1100];
	const struct { const char *label; const char *env; size_t len; int want; } cases[] = {
		{ "empty envelope", S(""), QQ_EXIT_READ },
		{ "cut short", S("Fa@b\0Tc"), QQ_EXIT_READ },
		{ "no final NUL", S("Fa@b\0Tc@d\0"), QQ_EXIT_READ },
		{ "T first", S("Tc@d\0\0"), QQ_EXIT_FORMAT },
		{ "no recipients", S("Fa@b\0\0"), QQ_EXIT_FORMAT },
		{ "bad record", S("Fa@b\0Tc@d\0Zx\0\0"), QQ_EXIT_FORMAT },
		{ "long address", longenv, 1002 + 5, QQ_EXIT_ADDR_TOO_LONG },
	};

	longenv[0] = 'F';
	memset(longenv + 1, 'a', 1001);
	memcpy(longenv + 1002, "\0Tb\0", 5);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int r = qt_qq(home, S("Subject: x\n\nbody\n"), cases[i].env, cases[i].len, NULL);

		cr_expect_eq(r, cases[i].want, "%s: exit %d", cases[i].label, r);
		expect_empty(cases[i].label);
	}
}

/* a missing piece of the queue gives qmail's 61..66, and leaves nothing */
Test(qmail_queue, queue_dir_errors, .init = setup, .fini = teardown, .timeout = 30)
{
	const struct { const char *rm; int want; } cases[] = {
		{ "todo", QQ_EXIT_QUEUE_TODO },
		{ "intd", QQ_EXIT_QUEUE_INTD },
		{ "mess", QQ_EXIT_QUEUE_MESS },
		{ "pid", QQ_EXIT_QUEUE_PID },
		{ "", QQ_EXIT_QUEUE_DIR },
	};
	char nohome[300];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(qt_sh("rm -rf '%s/queue/%s'", home, cases[i].rm), 0);
		int r = qt_qq(home, S("x\n"), S("Fa\0Tb\0\0"), NULL);
		cr_expect_eq(r, cases[i].want, "without queue/%s: exit %d", cases[i].rm, r);
		expect_empty(cases[i].rm);
	}
	snprintf(nohome, sizeof(nohome), "%s/nonexistent", home);
	cr_expect_eq(qt_qq(nohome, S("x\n"), S("Fa\0Tb\0\0"), NULL), QQ_EXIT_HOME);
}

Test(qmail_queue, unreadable_message, .init = setup, .fini = teardown, .timeout = 20)
{
	struct qt_opts o = { .msgfd = open("/", O_RDONLY | O_DIRECTORY) };

	cr_assert_geq(o.msgfd, 0);
	cr_expect_eq(qt_qq(home, "", 0, S("Fa\0Tb\0\0"), &o), QQ_EXIT_READ);
	expect_empty("unreadable message");
}

Test(qmail_queue, file_too_big, .init = setup, .fini = teardown, .timeout = 20)
{
	struct qt_opts o = { .msgfd = -1, .fsize = 100000 };
	size_t n = 400000;
	char *msg = malloc(n);

	memset(msg, 'm', n);
	cr_expect_eq(qt_qq(home, msg, n, S("Fa\0Tb\0\0"), &o), QQ_EXIT_WRITE);
	expect_empty("RLIMIT_FSIZE");
	free(msg);
}

Test(qmail_queue, timeout_cleans_up, .init = setup, .fini = teardown, .timeout = 20)
{
	struct qt_opts o = { .msgfd = -1, .hang = SIGALRM };

	cr_expect_eq(qt_qq(home, S("partial message"), S("Fa\0Tb\0\0"), &o), QQ_EXIT_TIMEOUT);
	expect_empty("timeout");
}

/* qqueue_abort's SIGTERM: killed by it, and nothing left behind */
Test(qmail_queue, sigterm_cleans_up, .init = setup, .fini = teardown, .timeout = 20)
{
	struct qt_opts o = { .msgfd = -1, .hang = SIGTERM };

	cr_expect_eq(qt_qq(home, S("partial message"), S("Fa\0Tb\0\0"), &o), 128 + SIGTERM);
	expect_empty("SIGTERM");
	/* SIGINT (a terminal's ^C) is ignored: the message still gets queued */
	o.hang = SIGINT;
	cr_expect_eq(qt_qq(home, S("partial message"), S("Fa\0Tb\0\0"), &o), 0);
	cr_expect_eq(qt_count(home, "todo"), 1);
}

/* a full filesystem: 53, nothing left, and queueing works again once space returns */
Test(qmail_queue, disk_full, .timeout = 30)
{
	size_t n = 3 * 1024 * 1024;
	char *msg;

	if (geteuid() != 0)
		cr_skip_test("needs root to mount a tmpfs");
	cr_assert_eq(unshare(CLONE_NEWNS), 0);
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	snprintf(home, sizeof(home), "/tmp/sq-queue-full-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	cr_assert_eq(mount("tmpfs", home, "tmpfs", 0, "size=2m"), 0);
	cr_assert_eq(qt_sh("sh '%s/sandbox-tools/mkhome.sh' '%s' '%s' >/dev/null",
	    getenv("SQ_SRCDIR"), home, getenv("SQ_BUILDDIR")), 0);
	msg = malloc(n);
	memset(msg, 'z', n);
	cr_expect_eq(qt_qq(home, msg, n, S("Fa\0Tb\0\0"), NULL), QQ_EXIT_WRITE);
	expect_empty("disk full");
	cr_expect_eq(qt_qq(home, S("small\n"), S("Fa\0Tb\0\0"), NULL), 0,
	    "queueing must work again after the failed message was removed");
	cr_expect_eq(qt_count(home, "todo"), 1);
	umount2(home, MNT_DETACH);
	rmdir(home);
	free(msg);
}
