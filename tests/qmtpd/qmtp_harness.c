/* SPDX-License-Identifier: MIT
 * qmtp_harness.c - run a QMTP/QMQP engine on a socketpair against a scripted client.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "qmtp_harness.h"

struct qharness Q;

void
qh_control(const char *file, const char *content)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/control/%s", Q.home, file);
	if (content == NULL) {
		unlink(path);
		return;
	}
	fp = fopen(path, "w");
	cr_assert_not_null(fp, "create %s", path);
	fputs(content, fp);
	fclose(fp);
}

void
qh_setup(void)
{
	const char *src = getenv("SQ_SRCDIR");
	char path[512];

	Q.server = 0;
	snprintf(Q.home, sizeof(Q.home), "/tmp/sq-qmtpd-XXXXXX");
	cr_assert_not_null(mkdtemp(Q.home));
	snprintf(path, sizeof(path), "%s/control", Q.home);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(Q.rec, sizeof(Q.rec), "%s/rec", Q.home);
	cr_assert_eq(mkdir(Q.rec, 0755), 0);
	qh_control("me", "test.example\n");
	qh_control("rcpthosts", "example.com\n");
	snprintf(path, sizeof(path), "%s/tests/handlers/qq-recorder.sh", src ? src : ".");
	setenv("QMAILHOME", Q.home, 1);
	setenv("QMAILQUEUE", path, 1);
	setenv("QQREC", Q.rec, 1);
	setenv("TCPREMOTEIP", "192.0.2.7", 1);
	unsetenv("QQREC_EXIT");
	unsetenv("RELAYCLIENT");
	unsetenv("DATABYTES");
	unsetenv("PROTO");
	signal(SIGPIPE, SIG_IGN);
}

static int
qh_listening(const char *log)
{
	char line[256];
	FILE *fp = fopen(log, "r");
	int found = 0;

	if (fp == NULL)
		return 0;
	while (!found && fgets(line, sizeof(line), fp) != NULL)
		found = strncmp(line, "Listening on", 12) == 0;
	fclose(fp);
	return found;
}

/* qh_try_serve - one systemd-socket-activate on ip:port; 1 once it listens */
static int
qh_try_serve(const char *prog, const char *arg, const char *ip, int port)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	char log[512], listen[64];
	pid_t pid;

	snprintf(log, sizeof(log), "%s/server-%d.log", Q.home, port);
	snprintf(listen, sizeof(listen), "%s:%d", ip, port);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		execlp("systemd-socket-activate", "systemd-socket-activate", "--inetd",
		    "-a", "-l", listen, "-E", "QMAILHOME", "-E", "QMAILQUEUE", "-E",
		    "QQREC", "-E", "QQREC_EXIT", "-E", "CREDENTIALS_DIRECTORY", "-E", "QMTPS", prog, arg,
		    (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250; i++) {
		if (qh_listening(log)) {
			Q.server = pid;
			Q.port = port;
			return 1;
		}
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return 0;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	return 0;
}

static const char *
qh_prog(const char *relprog, char *out, size_t size)
{
	const char *build = getenv("SQ_BUILDDIR");

	if (system("command -v systemd-socket-activate >/dev/null 2>&1") != 0)
		cr_skip_test("systemd-socket-activate not installed");
	snprintf(out, size, "%s/%s", build ? build : ".", relprog);
	unsetenv("TCPREMOTEIP");	/* the peer comes from getpeername(0) */
	return out;
}

int
qh_serve(const char *relprog, int port)
{
	char prog[512];

	qh_prog(relprog, prog, sizeof(prog));
	for (; port < 39500; port += 50)
		if (qh_try_serve(prog, NULL, "127.0.0.1", port))
			return port;
	cr_assert_fail("no port of 39000-39499 could be listened on");
	return -1;
}

int
qh_serve_arg(const char *relprog, const char *arg, int port)
{
	char prog[512];
	int last = port + 4;

	qh_prog(relprog, prog, sizeof(prog));
	for (; port <= last; port++)
		if (qh_try_serve(prog, arg, "127.0.0.1", port))
			return port;
	cr_assert_fail("no port up to %d could be listened on", last);
	return -1;
}

const char *
qh_serve_ip(const char *relprog, const char *arg, int port)
{
	static char ip[32];
	char prog[512];

	qh_prog(relprog, prog, sizeof(prog));
	for (int i = 0; i < 5; i++) {
		snprintf(ip, sizeof(ip), "127.0.95.%d", 2 + (int)((getpid() + i * 37) % 250));
		if (qh_try_serve(prog, arg, ip, port))
			return ip;
	}
	cr_assert_fail("no 127.0.95.x:%d could be listened on", port);
	return NULL;
}

char *
qh_server_log(void)
{
	char name[64];

	snprintf(name, sizeof(name), "../server-%d.log", Q.port);
	return qh_read_rec(name, NULL);
}

void
qh_teardown(void)
{
	char cmd[512];

	if (Q.server > 0) {
		kill(Q.server, SIGTERM);
		waitpid(Q.server, NULL, 0);
		Q.server = 0;
	}
	if (Q.home[0] && getenv("SQ_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", Q.home);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", Q.home);
	}
	Q.home[0] = '\0';
}

char *
qh_read_rec(const char *name, size_t *len)
{
	char path[512], *p;
	FILE *fp;
	long n;

	snprintf(path, sizeof(path), "%s/%s", Q.rec, name);
	fp = fopen(path, "r");
	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	p = malloc((size_t)n + 1);
	cr_assert_not_null(p);
	cr_assert_eq(fread(p, 1, (size_t)n, fp), (size_t)n);
	p[n] = '\0';
	fclose(fp);
	if (len)
		*len = (size_t)n;
	return p;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
qh_session(int (*serve)(int, int), const char *input, size_t n, int keep_open,
    struct qh_result *r)
{
	int sv[2], status;
	size_t cap = 4096, off = 0;
	double t0 = now();
	ssize_t k;
	pid_t pid;

	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		char log[512];

		close(sv[0]);
		snprintf(log, sizeof(log), "%s/session.log", Q.home);
		if (freopen(log, "a", stderr) == NULL)
			_exit(127);
		_exit(serve(sv[1], sv[1]));
	}
	close(sv[1]);
	while (off < n) {
		k = write(sv[0], input + off, n - off);
		if (k <= 0)
			break;		/* the server closed early */
		off += (size_t)k;
	}
	if (!keep_open)
		shutdown(sv[0], SHUT_WR);
	r->out = malloc(cap);
	r->outlen = 0;
	for (;;) {
		if (r->outlen + 1 >= cap)
			r->out = realloc(r->out, cap *= 2);
		k = read(sv[0], r->out + r->outlen, cap - r->outlen - 1);
		if (k <= 0)
			break;
		r->outlen += (size_t)k;
	}
	r->out[r->outlen] = '\0';
	close(sv[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	r->exitcode = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	r->seconds = now() - t0;
}
