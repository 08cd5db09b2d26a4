/* SPDX-License-Identifier: MIT
 * test_qmtp_remote.c - qmail-remote with control/qmtproutes -> qmail-qmtpd
 * (systemd-socket-activate, ports 39030-39039) -> qmail-queue recorder.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qmtp_harness.h"

#define RPORT 39030

static pid_t server = -1;

static void
stop(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	qh_teardown();
}

static int
port_open(int port)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	int fd, r;

	s4.sin_port = htons((unsigned short)port);
	inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	r = connect(fd, (struct sockaddr *)&s4, sizeof(s4));
	close(fd);
	return r == 0;
}

static void
start_qmtpd(int port)
{
	const char *build = getenv("SQ_BUILDDIR");
	char prog[512], log[512], listen[64];
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	if (system("command -v systemd-socket-activate >/dev/null 2>&1") != 0)
		cr_skip_test("systemd-socket-activate not installed");
	snprintf(prog, sizeof(prog), "%s/handlers/qmtpd/qmail-qmtpd", build ? build : ".");
	snprintf(log, sizeof(log), "%s/server.log", Q.home);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	unsetenv("TCPREMOTEIP");
	server = fork();
	cr_assert_neq(server, -1);
	if (server == 0) {
		if (freopen(log, "a", stderr) == NULL)
			_exit(127);
		execlp("systemd-socket-activate", "systemd-socket-activate", "--inetd", "-a",
		    "-l", listen, "-E", "QMAILHOME", "-E", "QMAILQUEUE", "-E", "QQREC",
		    "-E", "QQREC_EXIT", prog, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250 && !port_open(port); i++)
		nanosleep(&ts, NULL);
	cr_assert(port_open(port), "server did not start on %s", listen);
}

/* remote - run the built qmail-remote HOST SENDER RCPT...; its report, NULs as '|' */
static void
remote(const char *msg, char *out, size_t size, const char *rcpt1, const char *rcpt2)
{
	const char *b = getenv("SQ_BUILDDIR");
	int in[2], o[2];
	size_t len = 0;
	char prog[512];
	ssize_t r;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/qmail-remote", b ? b : ".");
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(o), 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(o[1], 1);
		close(in[1]);
		close(o[0]);
		execl(prog, "qmail-remote", "example.com", "s@b.test", rcpt1, rcpt2, (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(o[1]);
	(void)!write(in[1], msg, strlen(msg));
	close(in[1]);
	while (len < size - 1 && (r = read(o[0], out + len, size - 1 - len)) > 0)
		len += (size_t)r;
	close(o[0]);
	for (size_t i = 0; i < len; i++)
		if (out[i] == '\0')
			out[i] = '|';
	out[len] = '\0';
	waitpid(pid, NULL, 0);
}

TestSuite(qmtp_remote, .init = qh_setup, .fini = stop, .timeout = 40);

Test(qmtp_remote, per_recipient_results)
{
	char out[4096], *msg, *env;
	size_t envlen;

	unsetenv("QQREC_EXIT");
	start_qmtpd(RPORT);
	qh_control("qmtproutes", "example.com:[127.0.0.1]:39030\n");
	qh_control("smtproutes", ":[127.0.0.1]:39039\n");	/* must lose to qmtproutes */
	remote("Subject: by qmtp\n\nbody\n", out, sizeof(out), "alice@example.com",
	    "x@elsewhere.test");
	cr_assert_str_eq(out, "r|h127.0.0.1 does not like recipient.\nRemote host said: "
	    "sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)|"
	    "K127.0.0.1 accepted message.\n|");
	msg = qh_read_rec("msg", NULL);
	cr_assert_not_null(strstr(msg, "with QMTP; "), "%s", msg);
	cr_assert_not_null(strstr(msg, "-0000\nSubject: by qmtp\n\nbody\n"), "%s", msg);
	env = qh_read_rec("env", &envlen);
	cr_assert(memcmp(env, "Fs@b.test\0Talice@example.com\0\0", envlen) == 0);
	free(msg);
	free(env);
}

Test(qmtp_remote, temporary_failure_and_no_server)
{
	char out[4096];

	setenv("QQREC_EXIT", "71", 1);
	start_qmtpd(RPORT + 1);
	qh_control("qmtproutes", ":[127.0.0.1]:39031\n");
	remote("x\n", out, sizeof(out), "alice@example.com", "bob@example.com");
	cr_assert(strncmp(out, "s127.0.0.1 does not like recipient.\n", 36) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "|s127.0.0.1 does not like recipient."), "%s", out);
	cr_assert_not_null(strstr(out, "Remote host said: mail server temporarily rejected"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "|DGiving up on 127.0.0.1.\n|"), "%s", out);
	qh_control("qmtproutes", ":[127.0.0.1]:39039\n");
	remote("x\n", out, sizeof(out), "alice@example.com", "bob@example.com");
	cr_assert(out[0] == 'Z', "no server: %s", out);
	qh_control("qmtproutes", ":[127.0.0.1]:6209\n");
	remote("x\n", out, sizeof(out), "alice@example.com", "bob@example.com");
	cr_assert(strncmp(out, "ZQMTPS", 6) == 0, "%s", out);
}
