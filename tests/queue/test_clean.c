/* SPDX-License-Identifier: MIT
 * test_clean.c - qmail-clean: requests, answers, malformed input, stale pid/ files. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clean.h"
#include "qtest.h"

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

static void
put(const char *rel, time_t age)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof(path), "%s/queue/%s", home, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "create %s", path);
	cr_assert_eq(write(fd, "x", 1), 1);
	close(fd);
	if (age) {
		struct timespec ts[2] = { { time(NULL) - age, 0 }, { time(NULL) - age, 0 } };
		cr_assert_eq(utimensat(AT_FDCWD, path, ts, 0), 0);
	}
}

static int
exists(const char *rel)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/queue/%s", home, rel);
	return access(path, F_OK) == 0;
}

/* run the real qmail-clean over pipes; answers into out (NUL-terminated) */
static int
run_clean(const char *in, size_t inlen, char *out, size_t outsize)
{
	int ip[2], op[2], st;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(pipe(ip), 0);
	cr_assert_eq(pipe(op), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		dup2(ip[0], 0);
		dup2(op[1], 1);
		close(ip[1]);
		close(op[0]);
		setenv("QMAILHOME", home, 1);
		execl(qt_prog("queue/clean/qmail-clean"), "qmail-clean", (char *)NULL);
		_exit(127);
	}
	close(ip[0]);
	close(op[1]);
	/* qmail-clean may exit before it reads (no queue): then the write
	 * fails with EPIPE, and its answers and exit code tell the story */
	if (write(ip[1], in, inlen) != (ssize_t)inlen)
		cr_log_info("qmail-clean did not take all %zu bytes", inlen);
	close(ip[1]);
	while (got + 1 < outsize && (n = read(op[0], out + got, outsize - 1 - got)) > 0)
		got += (size_t)n;
	out[got] = '\0';
	close(op[0]);
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

#define S(s) s, sizeof(s) - 1

Test(qmail_clean, requests, .init = setup, .fini = teardown, .timeout = 20)
{
	char out[64];

	/* 1234 % 23 = 15, 47 % 23 = 1 */
	put("mess/15/1234", 0);
	put("intd/15/1234", 0);
	put("todo/1/47", 0);
	put("intd/1/47", 0);
	put("mess/1/47", 0);
	cr_assert_eq(run_clean(S("foop/1234\0todo/47\0todo/99\0"), out, sizeof(out)), 0);
	cr_expect_str_eq(out, "+++");
	cr_expect(!exists("mess/15/1234") && !exists("intd/15/1234"), "foop removes mess and intd");
	cr_expect(!exists("todo/1/47") && !exists("intd/1/47"), "todo removes todo and intd");
	cr_expect(exists("mess/1/47"), "todo must not remove mess");
}

/* a queue from qmail 1.03 has flat intd/ID and todo/ID: picked up as it is */
Test(qmail_clean, flat_todo_of_qmail_103, .init = setup, .fini = teardown, .timeout = 20)
{
	char out[64];

	put("todo/1234", 0);
	put("intd/1234", 0);
	put("todo/15/1234", 0);
	put("mess/15/1234", 0);
	put("intd/99", 0);
	put("mess/7/99", 0);
	cr_assert_eq(run_clean(S("todo/1234\0foop/99\0todo/7\0"), out, sizeof(out)), 0);
	cr_expect_str_eq(out, "+++");
	cr_expect(!exists("todo/1234") && !exists("intd/1234"), "flat todo and intd removed");
	cr_expect(!exists("todo/15/1234"), "split todo removed too");
	cr_expect(exists("mess/15/1234"), "todo must not remove mess");
	cr_expect(!exists("intd/99") && !exists("mess/7/99"), "foop removes flat intd");
	cr_expect(exists("todo/7") , "todo/7 is a split directory, never removed");
}

Test(qmail_clean, malformed, .init = setup, .fini = teardown, .timeout = 20)
{
	char in[512], out[64];
	size_t n = 0;
	const char *bad[] = { "todo/", "foop/", "x", "", "todo/12a", "foo/123",
	    "bogus/1", "TODO/1", "todo/-1", "todo/1 ", "foop/99999999999999999999999" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(in + n, bad[i], strlen(bad[i]) + 1);
		n += strlen(bad[i]) + 1;
	}
	/* an over-long request is skipped to its NUL, and the next one still works */
	memset(in + n, '1', 300);
	memcpy(in + n, "todo/", 5);
	n += 300;
	in[n++] = '\0';
	put("intd/5/5", 0);
	put("todo/5/5", 0);
	memcpy(in + n, "todo/5", 7);
	n += 7;
	cr_assert_eq(run_clean(in, n, out, sizeof(out)), 0);
	cr_expect_str_eq(out, "xxxxxxxxxxxx+");
	cr_expect(!exists("todo/5/5"));
}

Test(qmail_clean, failure, .init = setup, .fini = teardown, .timeout = 20)
{
	char path[4096], out[8];

	/* a non-empty directory where mess/S/ID should be: unlink fails, not ENOENT */
	snprintf(path, sizeof(path), "%s/queue/mess/0/23", home);
	cr_assert_eq(mkdir(path, 0755), 0);
	put("mess/0/23/keep", 0);
	cr_assert_eq(run_clean(S("foop/23\0"), out, sizeof(out)), 0);
	cr_expect_str_eq(out, "!");
}

Test(qmail_clean, stale_pid_files, .init = setup, .fini = teardown, .timeout = 20)
{
	char out[8];

	put("pid/111.1.1", 37 * 3600);
	put("pid/222.2.1", 3600);
	cr_assert_eq(run_clean(S("todo/7\0"), out, sizeof(out)), 0);
	cr_expect_str_eq(out, "+");
	cr_expect(!exists("pid/111.1.1"), "pid file older than 36 h must go");
	cr_expect(exists("pid/222.2.1"), "a recent pid file belongs to a running qmail-queue");
}

Test(qmail_clean, unit_request, .init = setup, .fini = teardown)
{
	char q[300];

	snprintf(q, sizeof(q), "%s/queue", home);
	cr_assert_eq(chdir(q), 0);
	put("intd/2/25", 0);
	put("mess/2/25", 0);
	cr_expect_eq(clean_request(S("foop/25")), CLEAN_DONE);
	cr_expect(!exists("mess/2/25"));
	cr_expect_eq(clean_request(S("foop/25")), CLEAN_DONE, "already gone counts as done");
	cr_expect_eq(clean_request(S("todo/")), CLEAN_MALFORMED);
	cr_expect_eq(clean_request(S("info/25")), CLEAN_MALFORMED);
}

Test(qmail_clean, no_queue, .init = setup, .fini = teardown, .timeout = 20)
{
	char out[8];

	cr_assert_eq(qt_sh("rm -rf '%s/queue'", home), 0);
	cr_expect_eq(run_clean(S("todo/1\0"), out, sizeof(out)), 111);
}

/* qmail-send pipelines requests: many at once, answered in order, across reads */
Test(qmail_clean, pipelined, .init = setup, .fini = teardown, .timeout = 20)
{
	static char in[20000], out[2000], want[2000];
	size_t n = 0;

	for (int i = 0; i < 1500; i++) {
		n += (size_t)snprintf(in + n, sizeof(in) - n, "%s/%d",
		    i % 7 == 3 ? "junk" : "todo", 100000 + i) + 1;
		want[i] = i % 7 == 3 ? 'x' : '+';
	}
	put("todo/22/100003", 0);	/* 100003 % 23 == 22, a junk request: must stay */
	put("todo/0/100004", 0);	/* 100004 % 23 == 0: removed */
	cr_assert_eq(run_clean(in, n, out, sizeof(out)), 0);
	cr_expect_str_eq(out, want);
	cr_expect(exists("todo/22/100003"));
	cr_expect(!exists("todo/0/100004"));
}
