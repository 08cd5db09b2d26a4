/* SPDX-License-Identifier: MIT
 * test_smtpd_hostile.c - the built qmail-smtpd against hostile clients: memory
 * stays bounded (VmHWM read from /proc while the session is open), the next good
 * message is delivered; SIGTERM and the session bound answer 421; no DNS traffic
 * on the accept path (strace).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smtp_harness.h"

#define HWM_MAX_KB 8192		/* a handler must stay below this, whatever it is sent */

struct conn {
	pid_t pid;
	int fd;
};

static void
conn_open(struct conn *c, const char *wrapper)
{
	const char *build = getenv("SQ_BUILDDIR");
	char prog[512];
	int sv[2];

	snprintf(prog, sizeof(prog), "%s/handlers/smtpd/qmail-smtpd", build ? build : ".");
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	c->pid = fork();
	cr_assert_neq(c->pid, -1);
	if (c->pid == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		close(sv[0]);
		close(sv[1]);
		if (wrapper)
			execl("/bin/sh", "sh", "-c", wrapper, "sh", prog, (char *)NULL);
		else
			execl(prog, "qmail-smtpd", (char *)NULL);
		_exit(127);
	}
	close(sv[1]);
	c->fd = sv[0];
}

static int
conn_close(struct conn *c)
{
	int status;

	close(c->fd);
	cr_assert_eq(waitpid(c->pid, &status, 0), c->pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		cr_assert_gt(w, 0, "write: %s", strerror(errno));
		p += w;
		n -= (size_t)w;
	}
}

static void
send_str(int fd, const char *s)
{
	send_all(fd, s, strlen(s));
}

/* reply - read until a final reply line ("NNN "); its text (static), "" at EOF */
static const char *
reply(int fd, int timeout_ms)
{
	static char line[8192];
	size_t n = 0;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		char ch;

		if (poll(&p, 1, timeout_ms) <= 0)
			cr_assert_fail("no reply within %d ms (got \"%.*s\")", timeout_ms, (int)n, line);
		if (read(fd, &ch, 1) != 1) {
			line[n] = '\0';
			return line;
		}
		if (n < sizeof(line) - 1)
			line[n++] = ch;
		if (ch == '\n') {
			line[n] = '\0';
			if (n >= 4 && line[3] == ' ')
				return line;
			n = 0;
		}
	}
}

static void
expect(int fd, const char *prefix)
{
	const char *r = reply(fd, 20000);

	cr_assert(strncmp(r, prefix, strlen(prefix)) == 0, "want \"%s\", got \"%s\"", prefix, r);
}

static long
vmhwm_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
			break;
	fclose(fp);
	return kb;
}

static int
count_messages(void)
{
	size_t len = 0;
	char *all = harness_read_rec("all", &len), *p = all;
	int n = 0;

	while (p && (p = memmem(p, len - (size_t)(p - all), "Received: from ", 15)) != NULL) {
		n++;
		p++;
	}
	free(all);
	return n;
}

/* good_message - a fresh connection still delivers */
static void
good_message(int want_total)
{
	struct conn c;

	conn_open(&c, NULL);
	expect(c.fd, "220 ");
	send_str(c.fd, "HELO ok.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\n"
	    "DATA\r\n");
	expect(c.fd, "250 ");
	expect(c.fd, "250 ");
	expect(c.fd, "250 ");
	expect(c.fd, "354 ");
	send_str(c.fd, "good\r\n.\r\nQUIT\r\n");
	expect(c.fd, "250 2.0.0 ok");
	expect(c.fd, "221 ");
	cr_assert_eq(conn_close(&c), 0);
	cr_assert_eq(count_messages(), want_total);
}

static void
check_hwm(struct conn *c, const char *what)
{
	long kb = vmhwm_kb(c->pid);

	cr_assert_gt(kb, 0, "no VmHWM for %s", what);
	cr_assert_lt(kb, HWM_MAX_KB, "%s: VmHWM %ld kB", what, kb);
	fprintf(stderr, "# hostile: %s: VmHWM %ld kB\n", what, kb);
}

TestSuite(hostile, .init = harness_setup, .fini = harness_teardown, .timeout = 90);

Test(hostile, ten_megabyte_line)
{
	size_t big = 10 * 1024 * 1024;
	char *line = malloc(big);
	struct conn c;

	memset(line, 'A', big);
	conn_open(&c, NULL);
	expect(c.fd, "220 ");
	send_str(c.fd, "NOOP ");
	send_all(c.fd, line, big);
	send_str(c.fd, "\r\nNOOP\r\n");
	expect(c.fd, "500 5.5.2");
	expect(c.fd, "250 ");
	check_hwm(&c, "10 MB line");
	send_str(c.fd, "QUIT\r\n");
	expect(c.fd, "221 ");
	cr_assert_eq(conn_close(&c), 0);
	free(line);
	good_message(1);
}

Test(hostile, thousand_recipients)
{
	struct conn c;
	char cmd[512];
	int n;

	conn_open(&c, NULL);
	expect(c.fd, "220 ");
	send_str(c.fd, "MAIL FROM:<a@b.test>\r\n");
	expect(c.fd, "250 ");
	for (int i = 0; i < 1001; i++) {
		n = snprintf(cmd, sizeof(cmd), "RCPT TO:<user%d-%0400d@example.com>\r\n", i, 0);
		send_all(c.fd, cmd, (size_t)n);
		expect(c.fd, i < 1000 ? "250 " : "452 4.5.3");
	}
	check_hwm(&c, "1001 recipients of 420 bytes");
	send_str(c.fd, "DATA\r\nx\r\n.\r\nQUIT\r\n");
	expect(c.fd, "354 ");
	expect(c.fd, "250 2.0.0 ok");
	expect(c.fd, "221 ");
	cr_assert_eq(conn_close(&c), 0);
	good_message(2);
}

Test(hostile, garbage_nul_and_flood_in_data)
{
	struct conn c;
	static const char garbage[] = "\x01garbage\0line\r\n";

	conn_open(&c, NULL);
	expect(c.fd, "220 ");
	for (int i = 0; i < 9; i++) {
		send_all(c.fd, "NO\0OP\r\n", 7);
		expect(c.fd, "500 5.5.2");
	}
	send_str(c.fd, "MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\nDATA\r\n");
	expect(c.fd, "250 ");
	expect(c.fd, "250 ");
	expect(c.fd, "354 ");
	for (int i = 0; i < 100000; i++) {
		send_all(c.fd, garbage, sizeof(garbage) - 1);
	}
	send_str(c.fd, ".\r\n");
	expect(c.fd, "250 2.0.0 ok");
	check_hwm(&c, "100000 garbage lines with NULs in DATA");
	send_str(c.fd, "QUIT\r\n");
	expect(c.fd, "221 ");
	cr_assert_eq(conn_close(&c), 0);
	good_message(2);
}

Test(hostile, silent_client_times_out)
{
	struct conn c;

	harness_control("timeoutsmtpd", "1\n");
	conn_open(&c, NULL);
	expect(c.fd, "220 ");
	send_str(c.fd, "MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\nDATA\r\nhalf");
	expect(c.fd, "250 ");
	expect(c.fd, "250 ");
	expect(c.fd, "354 ");
	expect(c.fd, "451 4.4.2");
	cr_assert_eq(conn_close(&c), 1);
	cr_assert_eq(count_messages(), 0, "a half message was queued");
	good_message(1);
}

Test(hostile, sigterm_says_421)
{
	struct conn c;

	conn_open(&c, NULL);
	expect(c.fd, "220 ");
	send_str(c.fd, "MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\nDATA\r\nhalf\r\n");
	expect(c.fd, "250 ");
	expect(c.fd, "250 ");
	expect(c.fd, "354 ");
	kill(c.pid, SIGTERM);
	expect(c.fd, "421 4.3.2");
	cr_assert_eq(conn_close(&c), 1);
	cr_assert_eq(count_messages(), 0, "a half message was queued");
}

Test(hostile, session_bound)
{
	struct conn c;

	harness_control("timeoutsession", "2\n");
	conn_open(&c, NULL);
	expect(c.fd, "220 ");
	for (int i = 0; i < 5; i++) {
		send_str(c.fd, "NOOP\r\n");
		expect(c.fd, "250 ");
		usleep(300 * 1000);
	}
	expect(c.fd, "421 4.4.2 session too long");
	cr_assert_eq(conn_close(&c), 1);
}

/* strace_session - one session under strace with every check that needs no DNS
 * on; the client sends script and reads nreplies replies; the trace (malloc'd) */
static char *
strace_session(const char *script, int nreplies)
{
	char wrap[1024], path[512], *trace;
	struct conn c;

	snprintf(path, sizeof(path), "%s/strace.out", H.home);
	snprintf(wrap, sizeof(wrap), "exec strace -f -qq -o %s -e trace=connect,sendto,sendmsg "
	    "\"$1\"", path);
	harness_control("badmailfrom", "spam@evil.test\n");
	harness_control("badrcptto", "nobody@example.com\n");
	harness_control("badhelo", "localhost\n");
	conn_open(&c, wrap);
	expect(c.fd, "220 ");
	send_all(c.fd, script, strlen(script));
	for (int i = 0; i < nreplies; i++)
		reply(c.fd, 30000);
	conn_close(&c);
	trace = harness_read_rec("../strace.out", NULL);
	cr_assert_not_null(trace, "no strace output");
	return trace;
}

Test(hostile, no_dns_on_accept_path)
{
	char *trace;

	if (system("command -v strace >/dev/null 2>&1") != 0)
		cr_skip_test("strace not installed");
	setenv("HELOCHECK", "", 1);
	trace = strace_session("EHLO client.test\r\nMAIL FROM:<a@b.test>\r\n"
	    "RCPT TO:<u@example.com>\r\nDATA\r\nhi\r\n.\r\nQUIT\r\n", 6);
	cr_assert_not_null(strstr(harness_read_rec("msg", NULL), "\nhi\n"), "not delivered");
	cr_assert_null(strstr(trace, "htons(53)"), "DNS traffic:\n%s", trace);
	free(trace);
	/* the test can fail: MFDNSCHECK makes qmail-smtpd ask the resolver */
	harness_teardown();
	harness_setup();
	setenv("MFDNSCHECK", "1", 1);
	trace = strace_session("EHLO client.test\r\nMAIL FROM:<a@b.test>\r\nQUIT\r\n", 3);
	unsetenv("MFDNSCHECK");
	unsetenv("HELOCHECK");
	if (strstr(trace, "htons(53)") == NULL && strstr(trace, "connect(") == NULL)
		cr_skip_test("no resolver reachable to prove the positive case");
	cr_assert_not_null(strstr(trace, "htons(53)"), "no DNS traffic seen:\n%s", trace);
	free(trace);
}
