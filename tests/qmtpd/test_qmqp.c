/* SPDX-License-Identifier: MIT
 * test_qmqp.c - qmail-qmqpd's engine (socketpair), and qmail-qmqpc -> qmail-qmqpd
 * (systemd-socket-activate, ports 39010-39019) -> qmail-queue recorder end to end.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mail/qqueue.h"
#include "qmtp_harness.h"
#include "qmtpd.h"

#define QMQP_PORT 39010


static int
queued(void)
{
	size_t len = 0;
	char *env = qh_read_rec("env", &len);

	free(env);
	return env != NULL && len > 0;
}

TestSuite(qmqpd, .init = qh_setup, .fini = qh_teardown, .timeout = 40);

#define REQ "65:17:Subject: q\n\nbody\n,8:s@b.test,13:a@example.com,12:x@other.test,,"

Test(qmqpd, one_message_relays_anything)
{
	struct qh_result r;
	char *msg, *env;
	size_t envlen;

	setenv("PROTO", "TCP", 1);	/* tcpserver applied its rules */
	qh_session(qmqpd_serve, REQ, sizeof(REQ) - 1, 0, &r);
	cr_assert_eq(r.exitcode, 0, "%d %s", r.exitcode, r.out);
	cr_assert(strstr(r.out, ":Kok ") != NULL && r.out[r.outlen - 1] == ',', "%s", r.out);
	msg = qh_read_rec("msg", NULL);
	cr_assert(strncmp(msg, "Received: from unknown (192.0.2.7)\n  by test.example with QMQP; ",
	    63) == 0, "%s", msg);
	cr_assert_not_null(strstr(msg, "-0000\nSubject: q\n\nbody\n"), "%s", msg);
	env = qh_read_rec("env", &envlen);
	cr_assert(memcmp(env, "Fs@b.test\0Ta@example.com\0Tx@other.test\0\0", envlen) == 0);
	free(msg);
	free(env);
	free(r.out);
}

Test(qmqpd, queue_failure_and_databytes)
{
	struct qh_result r;

	setenv("PROTO", "TCP", 1);
	setenv("QQREC_EXIT", "71", 1);
	qh_session(qmqpd_serve, REQ, sizeof(REQ) - 1, 0, &r);
	cr_assert(strstr(r.out, ":Z") != NULL, "%s", r.out);
	free(r.out);
	unsetenv("QQREC_EXIT");
	setenv("DATABYTES", "5", 1);
	qh_session(qmqpd_serve, REQ, sizeof(REQ) - 1, 0, &r);
	cr_assert(strstr(r.out, ":Dsorry, that message size exceeds") != NULL, "%s", r.out);
	free(r.out);
}

static void
refused(const char *in, const char *why)
{
	struct qh_result r;
	char p[512];

	snprintf(p, sizeof(p), "%s/env", Q.rec);
	unlink(p);
	qh_session(qmqpd_serve, in, strlen(in), 0, &r);
	cr_assert_eq(r.outlen, 0, "%s: answered %s", why, r.out);
	cr_assert_eq(r.exitcode, QMTPD_EXIT_DROP, "%s: exit %d", why, r.exitcode);
	cr_assert(!queued(), "%s: queued", why);
	free(r.out);
}

Test(qmqpd, malformed)
{
	setenv("PROTO", "TCP", 1);
	refused("66:17:Subject: q\n\nbody\n,8:s@b.test,13:a@example.com,12:x@other.test,,",
	    "outer length too long (truncated)");
	refused("64:17:Subject: q\n\nbody\n,8:s@b.test,13:a@example.com,12:x@other.test,,",
	    "outer length too short");
	refused("065:17:Subject: q\n\nbody\n,8:s@b.test,13:a@example.com,12:x@other.test,,",
	    "leading zero");
	refused("65:17:Subject: q\n\nbody\n;8:s@b.test,13:a@example.com,12:x@other.test,,",
	    "missing comma");
	refused("32:17:Subject: q\n\nbody\n,8:s@b.test,,", "no recipient");
	refused("5x:", "non-digit length");
	refused("99999999999999999999:", "absurd length");
}

Test(qmqpd, needs_a_rule)
{
	refused(REQ, "no rules.qmqpd.cdb, not started by tcpserver");
}

static int
have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* start_qmqpd - qmail-qmqpd allowing 127.0.0.1 by rules.qmqpd.cdb; its port */
static int
start_qmqpd(int port)
{
	char cmd[1024];

	if (!have("tcprules"))
		cr_skip_test("tcprules not installed");
	snprintf(cmd, sizeof(cmd), "cd %s/control && printf '127.0.0.1:allow\\n' | "
	    "tcprules rules.qmqpd.cdb rules.tmp", Q.home);
	cr_assert_eq(system(cmd), 0);
	return qh_serve("handlers/qmtpd/qmail-qmqpd", port);
}

/* qmqpc - run the built qmail-qmqpc as qmail-queue is run; its exit code */
static int
qmqpc(const char *msg, const char *env, size_t envlen)
{
	const char *build = getenv("SQ_BUILDDIR");
	char prog[512], path[512];
	int p[2], status, fd;
	FILE *fp;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/handlers/qmtpd/qmail-qmqpc", build ? build : ".");
	snprintf(path, sizeof(path), "%s/message", Q.home);
	fp = fopen(path, "w");
	fputs(msg, fp);
	fclose(fp);
	cr_assert_eq(pipe(p), 0);
	cr_assert_eq(write(p[1], env, envlen), (ssize_t)envlen);
	close(p[1]);
	pid = fork();
	if (pid == 0) {
		fd = open(path, O_RDONLY);
		dup2(fd, 0);
		dup2(p[0], 1);
		execl(prog, "qmail-qmqpc", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define ENV "Fs@b.test\0Ta@example.com\0Tx@other.test\0"

Test(qmqpd, qmqpc_end_to_end)
{
	char *msg, *env;
	size_t envlen;
	char list[128];
	int port;

	unsetenv("QQREC_EXIT");
	port = start_qmqpd(QMQP_PORT);
	/* the first server refuses connections: the next one is tried */
	snprintf(list, sizeof(list), "127.0.0.1:39019\n127.0.0.1:%d\n", port);
	qh_control("qmqpservers", list);
	cr_assert_eq(qmqpc("Subject: via qmqp\n\nhello\n", ENV, sizeof(ENV)), 0);
	msg = qh_read_rec("msg", NULL);
	cr_assert(strncmp(msg, "Received: from unknown (127.0.0.1)\n  by test.example with QMQP; ",
	    63) == 0, "%s", msg);
	cr_assert_not_null(strstr(msg, "-0000\nSubject: via qmqp\n\nhello\n"), "%s", msg);
	env = qh_read_rec("env", &envlen);
	cr_assert_eq(envlen, sizeof(ENV));
	cr_assert(memcmp(env, ENV, envlen) == 0);
	free(msg);
	free(env);
	cr_assert_eq(qmqpc("x\n", "Fs\0\0", 4), QQ_EXIT_FORMAT, "no recipient");
	cr_assert_eq(qmqpc("x\n", "Ts\0\0", 4), QQ_EXIT_FORMAT, "no sender");
	qh_control("qmqpservers", "127.0.0.1:39019\n");
	cr_assert_eq(qmqpc("x\n", ENV, sizeof(ENV)), QQ_EXIT_CONN_REFUSED);
	qh_control("qmqpservers", NULL);
	cr_assert_eq(qmqpc("x\n", ENV, sizeof(ENV)), QQ_EXIT_CONFIG);
}

Test(qmqpd, qmqpc_server_answers)
{
	char list[128];
	int port;

	setenv("QQREC_EXIT", "31", 1);
	port = start_qmqpd(QMQP_PORT + 1);
	snprintf(list, sizeof(list), "127.0.0.1:%d\n", port);
	qh_control("qmqpservers", list);
	cr_assert_eq(qmqpc("x\n", ENV, sizeof(ENV)), QQ_EXIT_PERM_REFUSED, "D -> 31");
	qh_teardown();
	qh_setup();
	setenv("QQREC_EXIT", "71", 1);
	port = start_qmqpd(QMQP_PORT + 2);
	/* Z is final: the second (dead) server is not tried */
	snprintf(list, sizeof(list), "127.0.0.1:%d\n127.0.0.1:39019\n", port);
	qh_control("qmqpservers", list);
	cr_assert_eq(qmqpc("x\n", ENV, sizeof(ENV)), QQ_EXIT_TEMP_REFUSED, "Z -> 71, no retry");
}

Test(qmqpd, hop_count_and_log_line)
{
	char msg[8192], inner[9000], req[9100], *log;
	struct qh_result r;
	size_t mo = 0;
	int n;

	setenv("PROTO", "TCP", 1);
	for (int i = 0; i < 100; i++)
		mo += (size_t)snprintf(msg + mo, sizeof(msg) - mo, "Received: from hop%d\n", i);
	mo += (size_t)snprintf(msg + mo, sizeof(msg) - mo, "\nlooping\n");
	n = snprintf(inner, sizeof(inner), "%zu:%s,8:s@b.test,13:a@example.com,", mo, msg);
	snprintf(req, sizeof(req), "%d:%s,", n, inner);
	qh_session(qmqpd_serve, req, strlen(req), 0, &r);
	cr_assert_str_eq(r.out, "48:Dtoo many hops, this message is looping (#5.4.6),");
	cr_assert(!queued());
	free(r.out);
	log = qh_read_rec("../session.log", NULL);
	cr_assert_not_null(strstr(log, "qmail-qmqpd: pid "), "%s", log);
	cr_assert_not_null(strstr(log, " Reject::DATA::Toomany_Hops P:QMQP S:192.0.2.7:unknown "
	    "F:s@b.test T: 'rcpts 1: Dtoo many hops"), "%s", log);
	free(log);
}
