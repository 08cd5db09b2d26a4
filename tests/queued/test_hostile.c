/* SPDX-License-Identifier: MIT
 * test_hostile.c - clients of qmail-queued that break the protocol, stall, come
 * in too large or too many; a writer killed while it works. */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "mail/qqueue.h"
#include "qtest.h"
#include "qdtest.h"

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

/* raw - send len bytes of frames, half-close, the writer's answer */
static int
raw(const void *p, size_t len)
{
	int fd = qdt_connect(&t), code;

	qdt_write(fd, p, len);
	shutdown(fd, SHUT_WR);
	code = qdt_answer(fd, 10);
	close(fd);
	return code;
}

/* settle - the writer has dropped what it had: pid/ mess/ intd/ todo/ empty */
static int
settle(void)
{
	for (int i = 0; i < 100; i++) {
		if (qdt_queue_empty(&t))
			return 1;
		usleep(20000);
	}
	return 0;
}

#define F(type, len) type "\0\0\0" len

Test(queued, bad_frames, .init = setup, .fini = teardown, .timeout = 40)
{
	char big[1100];
	const struct {
		const char *label;
		const char *bytes;
		size_t len;
		int want;
	} cases[] = {
		{ "truncated header", "M\0\0", 3, QQ_EXIT_READ },
		{ "truncated payload", F("M", "\x05") "ab", 7, QQ_EXIT_READ },
		{ "no envelope", F("M", "\x02") "x\n", 7, QQ_EXIT_READ },
		{ "envelope cut short", F("M", "\x02") "x\n" F("E", "\x03") "Fa\0", 15, QQ_EXIT_READ },
		{ "zero length", F("M", "\x00"), 5, QQ_EXIT_READ },
		{ "length over 64 KiB", "M\0\x01\0\x01", 5, QQ_EXIT_READ },
		{ "unknown type", F("X", "\x01") "x", 6, QQ_EXIT_READ },
		{ "message after envelope", F("E", "\x01") "F" F("M", "\x01") "x", 12, QQ_EXIT_READ },
		{ "envelope not F first", F("E", "\x05") "Tb\0\0\0", 10, QQ_EXIT_FORMAT },
		{ "envelope bad record", F("E", "\x08") "Fa\0Xb\0\0\0", 13, QQ_EXIT_FORMAT },
		{ "no recipient", F("E", "\x04") "Fa\0\0", 9, QQ_EXIT_FORMAT },
		{ "bytes after envelope", F("E", "\x08") "Fa\0Tb\0\0z", 13, QQ_EXIT_FORMAT },
		{ "frame after envelope", F("E", "\x07") "Fa\0Tb\0\0" F("E", "\x01") "z", 18,
		  QQ_EXIT_FORMAT },
	};

	qdt_start(&t);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int code = raw(cases[i].bytes, cases[i].len);

		cr_expect_eq(code, cases[i].want, "%s: answer %d", cases[i].label, code);
		cr_expect(settle(), "%s: files left in the queue", cases[i].label);
	}
	/* an address over 1000 bytes: qmail-queue's 11 */
	memcpy(big, "E\0\0\x04\x3e" "Fa", 7);
	big[7] = '\0';
	big[8] = 'T';
	memset(big + 9, 'x', 1080);
	memcpy(big + 1089, "\0\0", 2);
	cr_expect_eq(raw(big, 5 + 1086), QQ_EXIT_ADDR_TOO_LONG);
	cr_expect(settle(), "long address: files left");
	/* the writer is still fine */
	cr_expect_eq(raw(F("M", "\x02") "x\n" F("E", "\x07") "Fa\0Tb\0\0", 19), 0);
	cr_expect_eq(qt_count(t.home, "todo"), 1);
}

Test(queued, oversized, .init = setup, .fini = teardown, .timeout = 30)
{
	char *msg = malloc(300000);

	qdt_control(&t, "queuedbytes", "100000");
	qdt_start(&t);
	memset(msg, 'a', 300000);
	for (size_t i = 99; i < 300000; i += 100)
		msg[i] = '\n';
	msg[299999] = '\0';
	/* through qmail-queue: it exits with the writer's code, 31 (permanent) */
	cr_expect_eq(qdt_qq(&t, t.client, msg, "Fa\0Tb\0", 7), QQ_EXIT_PERM_REFUSED);
	cr_expect(settle(), "oversized: files left");
	msg[90000] = '\0';
	cr_expect_eq(qdt_qq(&t, t.client, msg, "Fa\0Tb\0", 7), 0, "under the cap");
	free(msg);
}

Test(queued, stall_times_out, .init = setup, .fini = teardown, .timeout = 30)
{
	int fd, code;

	qdt_control(&t, "timeoutqueued", "1");
	qdt_start(&t);
	fd = qdt_connect(&t);
	qdt_write(fd, F("M", "\x04") "ab", 7);
	code = qdt_answer(fd, 10);
	close(fd);
	cr_expect_eq(code, QQ_EXIT_TIMEOUT);
	cr_expect(settle(), "stalled client: files left");
}

Test(queued, too_many_clients, .init = setup, .fini = teardown, .timeout = 30)
{
	int a, b, c;

	qdt_control(&t, "concurrencyqueued", "2");
	qdt_start(&t);
	a = qdt_connect(&t);
	b = qdt_connect(&t);
	c = qdt_connect(&t);
	cr_expect_eq(qdt_answer(c, 10), QQ_EXIT_TEMP_REFUSED);
	close(c);
	close(a);
	cr_expect_eq(qdt_answer(b, 0), -1, "a waiting client got an answer");
	close(b);
	cr_expect(settle(), "files left");
}

Test(queued, idle_exit, .init = setup, .fini = teardown, .timeout = 30)
{
	int st;

	qdt_control(&t, "idlequeued", "1");
	qdt_start(&t);
	cr_expect_eq(raw(F("M", "\x02") "x\n" F("E", "\x07") "Fa\0Tb\0\0", 19), 0);
	st = qdt_stop(&t, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 0, "status %d", st);
}

Test(queued, refuses_wrong_owner, .init = setup, .fini = teardown, .timeout = 30)
{
	int st;

	if (!t.root)
		cr_skip_test("needs root to own the queue as another uid");
	t.owner = 0;	/* the writer runs as root, the queue is QDT_OWNER's */
	qdt_start(&t);
	st = qdt_stop(&t, 0);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 111, "status %d", st);
	cr_expect(qdt_log_count(&t, "queue/mess belongs to uid") == 1);
}

/* A writer killed at any moment: what it acknowledged is queued, whole; the
 * others heard a temporary failure. */
Test(queued, sigkill_mid_batch, .init = setup, .fini = teardown, .timeout = 60)
{
	enum { N = 30 };
	struct qdt_client c[N];
	char msg[128], env[64], grep[600];
	int code[N], acked = 0, len;

	for (int round = 0; round < 4; round++) {
		qdt_start(&t);
		for (int i = 0; i < N; i++) {
			qdt_spawn(&t, t.client, &c[i]);
			len = snprintf(msg, sizeof(msg), "Subject: k\n\nkill-%d-%02d-end\n", round, i);
			qdt_write(c[i].msgfd, msg, (size_t)len);
			close(c[i].msgfd);
			c[i].msgfd = -1;
			len = snprintf(env, sizeof(env), "Fa@b%cTr@c%c%c", 0, 0, 0);
			qdt_write(c[i].envfd, env, (size_t)len);
		}
		usleep(2000 + round * 4000);
		qdt_stop(&t, SIGKILL);
		for (int i = 0; i < N; i++) {
			code[i] = qdt_wait(&c[i]);
			cr_expect(code[i] == 0 || code[i] == QQ_EXIT_CONN_FAILED,
			    "round %d client %d: exit %d", round, i, code[i]);
			if (code[i] != 0)
				continue;
			acked++;
			snprintf(grep, sizeof(grep), "id=$(grep -rl 'kill-%d-%02d-end' '%s/queue/mess' "
			    "| sed 's,.*/mess/,,') && test -n \"$id\" && test -s '%s/queue/todo/'$id",
			    round, i, t.home, t.home);
			cr_expect_eq(qt_sh("%s", grep), 0, "acknowledged %d/%d is not in todo/", round, i);
		}
	}
	cr_log_info("%d of %d acknowledged before SIGKILL", acked, 4 * N);
}
