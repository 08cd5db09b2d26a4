/* SPDX-License-Identifier: MIT
 * smtp_harness.c - run the SMTP engine on a socketpair against a scripted client.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "smtp_harness.h"
#include "smtpd.h"

struct harness H;
int harness_socktype = SOCK_STREAM;

void
harness_control(const char *file, const char *content)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/control/%s", H.home, file);
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
harness_setup(void)
{
	const char *src = getenv("SQ_SRCDIR");
	char path[512];

	harness_teardown();	/* a test may start over with a fresh home */
	snprintf(H.home, sizeof(H.home), "/tmp/sq-smtpd-XXXXXX");
	cr_assert_not_null(mkdtemp(H.home));
	snprintf(path, sizeof(path), "%s/control", H.home);
	cr_assert_eq(mkdir(path, 0755), 0);
	snprintf(H.rec, sizeof(H.rec), "%s/rec", H.home);
	cr_assert_eq(mkdir(H.rec, 0755), 0);
	harness_control("me", "test.example\n");
	harness_control("rcpthosts", "# accepted domains\nexample.com\n.wild.example\n");
	snprintf(path, sizeof(path), "%s/tests/handlers/qq-recorder.sh", src ? src : ".");
	setenv("QMAILHOME", H.home, 1);
	setenv("QMAILQUEUE", path, 1);
	setenv("QQREC", H.rec, 1);
	setenv("TCPREMOTEIP", "192.0.2.7", 1);
	unsetenv("QQREC_EXIT");
	unsetenv("RELAYCLIENT");
	unsetenv("DATABYTES");
	unsetenv("TCPREMOTEHOST");
	unsetenv("TCPREMOTEINFO");
	unsetenv("TCPLOCALHOST");
	signal(SIGPIPE, SIG_IGN);
}

void
harness_teardown(void)
{
	char cmd[600];

	if (H.home[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", H.home);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", H.home);
	H.home[0] = '\0';
}

char *
harness_read_rec(const char *name, size_t *len)
{
	char path[512], *p = NULL;
	size_t cap = 0;
	FILE *fp, *mem;
	int c;

	snprintf(path, sizeof(path), "%s/%s", H.rec, name);
	if ((fp = fopen(path, "r")) == NULL)
		return NULL;
	mem = open_memstream(&p, &cap);
	while ((c = getc(fp)) != EOF)
		putc(c, mem);
	fclose(fp);
	fclose(mem);
	if (len)
		*len = cap;
	return p;
}

static void
harness_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;		/* server closed early: fine, we read what it said */
		p += w;
		n -= (size_t)w;
	}
}

void
harness_session(const char *input, size_t n, int keep_open, struct session_result *r)
{
	char buf[4096];
	FILE *mem;
	ssize_t got;
	int sv[2], status;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	cr_assert_eq(socketpair(AF_UNIX, harness_socktype, 0, sv), 0);
	pid = fork();
	cr_assert_neq(pid, -1);
	if (pid == 0) {
		close(sv[0]);
		_exit(smtpd_serve(sv[1], sv[1]));
	}
	close(sv[1]);
	harness_write_all(sv[0], input, n);
	if (!keep_open)
		shutdown(sv[0], SHUT_WR);
	mem = open_memstream(&r->out, &r->outlen);
	while ((got = read(sv[0], buf, sizeof(buf))) > 0 || (got < 0 && errno == EINTR)) {
		if (got > 0) {
			fwrite(buf, 1, (size_t)got, mem);
			r->nreads++;
		}
	}
	fclose(mem);
	close(sv[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	r->exitcode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

char *
harness_crlf(const char *lines)
{
	char *p = NULL;
	size_t cap = 0;
	FILE *mem = open_memstream(&p, &cap);

	for (; *lines; lines++) {
		if (*lines == '\n')
			putc('\r', mem);
		putc(*lines, mem);
	}
	fclose(mem);
	return p;
}

/* harness_norm - "250 2.0.0 ok 1764000000 qp 1234" -> "250 2.0.0 ok N qp N", CRLF -> LF */
char *
harness_norm(const char *out)
{
	char *p = NULL;
	size_t cap = 0;
	FILE *mem = open_memstream(&p, &cap);
	const char *s;
	int bad = 0;

	for (s = out; *s; s++) {
		if (*s == '\r' && s[1] == '\n')
			continue;
		if (*s == '\n' && (s == out || s[-1] != '\r'))
			bad = 1;
		if ((s == out || s[-1] == '\n') && strncmp(s, "250 2.0.0 ok ", 13) == 0 &&
		    s[13] >= '0' && s[13] <= '9') {
			fputs("250 2.0.0 ok N qp N", mem);
			s += strcspn(s, "\r\n") - 1;
			continue;
		}
		putc(*s, mem);
	}
	fclose(mem);
	if (bad) {
		free(p);
		return strdup("<server sent a bare LF>");
	}
	return p;
}
