/* SPDX-License-Identifier: MIT
 * test_queued.c - the queue writer end to end: qmail-queue as another uid hands
 * over to qmail-queued (the queue owner), group commit, crash, hostile clients. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/qqueue.h"
#include "qtest.h"
#include "qdtest.h"

#define S(s) s, sizeof(s) - 1
static struct qdt t;

static void
setup(void)
{
	qdt_setup(&t);
}

static void
teardown(void)
{
	qdt_teardown(&t);
}

/* first_file - home/queue/sub's first file, slurped */
static char *
first_file(const char *sub, struct stat *st)
{
	char name[64], path[400];
	size_t len;

	cr_assert_eq(qt_first(t.home, sub, name, sizeof(name)), 0, "nothing in %s/", sub);
	snprintf(path, sizeof(path), "%s/queue/%s/%s", t.home, sub, name);
	cr_assert_eq(stat(path, st), 0);
	return qt_slurp(path, &len);
}

Test(queued, other_uid_delivered, .init = setup, .fini = teardown, .timeout = 40)
{
	char want[64], path[400], logpath[128], *mess, *intd;
	size_t len;
	struct stat st;
	pid_t send;
	int found = 0;

	if (!t.root)
		cr_skip_test("needs root to run the client and the writer as two other uids");
	qdt_start(&t);
	cr_assert_eq(qdt_qq(&t, QDT_NOBODY, "Subject: handed over\n\nfrom nobody\n",
	    S("Fbob@sandbox.test\0Talice@sandbox.test\0\0")), 0);
	cr_expect_eq(qdt_log_count(&t, "commit: 1 messages, 1 queued"), 1);
	mess = first_file("mess", &st);
	cr_expect_eq(st.st_uid, QDT_OWNER, "mess/ file owned by %lu", (unsigned long)st.st_uid);
	snprintf(want, sizeof(want), " invoked by uid %d); ", QDT_NOBODY);
	cr_expect(strncmp(mess, "Received: (qmail ", 17) == 0 && strstr(mess, want) != NULL &&
	    strstr(mess, "\nSubject: handed over\n\nfrom nobody\n") != NULL, "mess: %s", mess);
	intd = first_file("intd", &st);
	cr_expect_str_eq(intd, "u65534", "intd starts with the caller's uid");
	free(mess);
	free(intd);
	cr_expect_eq(qt_count(t.home, "todo"), 1);
	cr_expect_eq(qt_count(t.home, "pid"), 0);
	/* qmail-send delivers it: files owned by the queue owner pass lspawn's check */
	snprintf(logpath, sizeof(logpath), "%s/run/send.log", t.home);
	send = fork();
	if (send == 0) {
		int fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		dup2(fd, 2);
		dup2(fd, 1);
		setenv("QMAILHOME", t.home, 1);
		if (chdir(t.home) == 0)
			execl("bin/qmail-start", "qmail-start", "./Maildir/",
			    (char *)NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "grep -l 'from nobody' '%s'/home/alice/Maildir/new/* "
	    ">/dev/null 2>&1", t.home);
	for (int i = 0; i < 150 && !found; i++) {
		found = qt_sh("%s", path) == 0;
		if (!found)
			usleep(100000);
	}
	kill(send, SIGTERM);
	waitpid(send, NULL, 0);
	cr_expect(found, "not delivered to alice: %s", qt_slurp(logpath, &len));
}

Test(queued, unreachable_writer, .init = setup, .fini = teardown, .timeout = 20)
{
	/* the queue owner falls back to writing itself; anyone else gets 74 */
	cr_expect_eq(qdt_qq(&t, t.owner, "x\n", S("Fa\0Tb\0\0")), 0);
	if (!t.root)
		return;
	cr_expect_eq(qdt_qq(&t, QDT_NOBODY, "x\n", S("Fa\0Tb\0\0")), QQ_EXIT_CONN_FAILED);
}

Test(queued, group_commit_50, .init = setup, .fini = teardown, .timeout = 60)
{
	enum { N = 50 };
	struct qdt_client c[N];
	char msg[128], env[128], grep[600];
	int len, commits;

	qdt_start(&t);
	for (int i = 0; i < N; i++) {
		qdt_spawn(&t, t.client, &c[i]);
		len = snprintf(msg, sizeof(msg), "Subject: m\n\ntoken-%03d-end\n", i);
		qdt_write(c[i].msgfd, msg, (size_t)len);
		close(c[i].msgfd);
		c[i].msgfd = -1;
	}
	for (int i = 0; i < N; i++) {
		len = snprintf(env, sizeof(env), "Fa@b%cTr%d@c%c%c", 0, i, 0, 0);
		qdt_write(c[i].envfd, env, (size_t)len);
	}
	for (int i = 0; i < N; i++)
		cr_expect_eq(qdt_wait(&c[i]), 0, "client %d", i);
	cr_expect_eq(qt_count(t.home, "todo"), N);
	cr_expect_eq(qt_count(t.home, "mess"), N);
	cr_expect_eq(qt_count(t.home, "pid"), 0);
	for (int i = 0; i < N; i++) {
		snprintf(grep, sizeof(grep), "test \"$(grep -rl 'token-%03d-end' '%s/queue/mess' | "
		    "wc -l)\" = 1", i, t.home);
		cr_expect_eq(qt_sh("%s", grep), 0, "message %d not there exactly once", i);
	}
	commits = qdt_log_count(&t, "commit: ");
	cr_expect(commits >= 1 && commits < N, "%d commit rounds for %d messages", commits, N);
	cr_log_info("%d commit rounds for %d messages", commits, N);
}

/* commit_order - in the writer's system calls, every answer comes after the
 * todo/ link of its message and after an fsync that follows that link.  The
 * clients go one after another, so that batches do not overlap in the trace. */
Test(queued, commit_order, .init = setup, .fini = teardown, .timeout = 60)
{
	enum { N = 6 };
	char trace[128], *log, *line, *save;
	size_t len;
	int last_link = -1, last_sync = -1, answers = 0, bad = 0, n = 0;

	if (qt_sh("command -v strace >/dev/null") != 0)
		cr_skip_test("strace is not installed");
	snprintf(trace, sizeof(trace), "%s/run/strace.log", t.home);
	cr_assert_eq(qt_sh("chmod 1777 '%s/run'", t.home), 0);	/* the owner writes it */
	t.strace = trace;
	qdt_start(&t);
	usleep(300000);	/* strace attached and the writer listening */
	for (int i = 0; i < N; i++)
		cr_expect_eq(qdt_qq(&t, t.client, "Subject: o\n\nx\n", "Fa\0Tb\0", 7), 0);
	qdt_stop(&t, SIGTERM);
	/* strace -D outlives the writer for a moment: read until every answer is in */
	for (int tries = 0; tries < 50 && answers < N; tries++, usleep(100000)) {
		log = qt_slurp(trace, &len);
		cr_assert_not_null(log);
		last_link = last_sync = -1;
		answers = bad = n = 0;
		/* threads split calls into "<unfinished ...>" and "<... resumed>" lines:
		 * a link or an answer counts where it starts, an fsync where it ends */
		for (line = strtok_r(log, "\n", &save); line;
		    line = strtok_r(NULL, "\n", &save), n++) {
			if (strstr(line, "link(\"intd/"))
				last_link = n;
			else if ((strstr(line, "fsync(") || strstr(line, "fsync resumed>") ||
			    strstr(line, "syncfs(") || strstr(line, "syncfs resumed>")) &&
			    strstr(line, "= 0"))
				last_sync = n;
			else if (strstr(line, "sendto(") && strstr(line, "\"\\0\", 1")) {
				answers++;
				if (last_link < 0 || last_sync < last_link)
					bad++;
			}
		}
		free(log);
	}
	cr_expect_eq(answers, N, "%d answers of 0 in the trace", answers);
	cr_expect_eq(bad, 0, "%d answers before the todo/ entry was synced", bad);
}
