/* SPDX-License-Identifier: MIT
 * support.c - helpers for the qmail-remote tests: homes, a scripted SMTP
 * server, running qmail-remote. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

static char t_dirs[8][256];
static int t_ndirs;

static int
t_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
t_cleanup(void)
{
	for (int i = 0; i < t_ndirs; i++)
		nftw(t_dirs[i], t_rm, 16, FTW_DEPTH | FTW_PHYS);
	t_ndirs = 0;
}

const char *
t_home_new(void)
{
	static char home[256];
	char cmd[2048];
	const char *src = getenv("SQ_SRCDIR"), *b = getenv("SQ_BUILDDIR");

	snprintf(home, sizeof(home), "/tmp/sq-remote-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	if (t_ndirs < 8)
		snprintf(t_dirs[t_ndirs++], sizeof(t_dirs[0]), "%s", home);
	snprintf(cmd, sizeof(cmd), "sh %s/sandbox-tools/mkhome.sh %s %s example.org >/dev/null",
	    src ? src : ".", home, b ? b : ".");
	cr_assert_eq(system(cmd), 0, "mkhome.sh failed");
	return home;
}

void
t_ctl(const char *home, const char *name, const char *text)
{
	char path[1024];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/control/%s", home, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

char *
t_slurp(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 1 << 20);
	size_t n = 0;

	cr_assert_not_null(s);
	if (fp != NULL) {
		n = fread(s, 1, (1 << 20) - 1, fp);
		fclose(fp);
	}
	s[n] = '\0';
	return s;
}

static void
fake_say(int fd, const char *s, const char *def)
{
	const char *t = s ? s : def;

	(void)!write(fd, t, strlen(t));
}

/* fake_session - line by line: answer by verb, record everything */
static void
fake_session(int fd, const struct fake_smtp *f, FILE *log)
{
	char line[4096];
	FILE *in = fdopen(dup(fd), "r");
	int indata = 0, nlines = 0, auth = 0;

	if (f->silent) {
		sleep(60);
		return;
	}
	if (f->drip) {
		(void)!write(fd, "220-", 4);
		for (int i = 0; i < 600 && write(fd, "x", 1) == 1; i++)
			usleep(100000);
		return;
	}
	fake_say(fd, f->greeting, "220 fake ESMTP\r\n");
	while (in != NULL && fgets(line, sizeof(line), in) != NULL) {
		fputs(line, log);
		fflush(log);
		if (indata) {
			if (strcmp(line, ".\r\n") == 0) {
				indata = 0;
				fake_say(fd, f->dot, "250 ok queued\r\n");
			} else if (f->drop_in_data && ++nlines == 2)
				break;
			continue;
		}
		if (auth) {
			auth = 0;
			if (strncmp(line, "dXNlcg", 6) == 0) {	/* LOGIN user */
				fake_say(fd, "334 UGFzc3dvcmQ6\r\n", NULL);
				auth = 1;
			} else
				fake_say(fd, f->auth, "235 ok\r\n");
		} else if (strncasecmp(line, "EHLO", 4) == 0)
			fake_say(fd, f->ehlo, "500 no EHLO here\r\n");
		else if (strncasecmp(line, "HELO", 4) == 0)
			fake_say(fd, "250 fake\r\n", NULL);
		else if (strncasecmp(line, "AUTH PLAIN ", 11) == 0)
			fake_say(fd, f->auth, "235 ok\r\n");
		else if (strncasecmp(line, "AUTH LOGIN", 10) == 0) {
			fake_say(fd, "334 VXNlcm5hbWU6\r\n", NULL);
			auth = 1;
		} else if (strncasecmp(line, "AUTH CRAM-MD5", 13) == 0) {
			/* the challenge of RFC 2195's example */
			fake_say(fd, "334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n", NULL);
			auth = 1;
		} else if (strncasecmp(line, "STARTTLS", 8) == 0) {
			fake_say(fd, "220 go ahead\r\n", NULL);
			fake_say(fd, "this is not TLS\r\n", NULL);
			break;
		} else if (strncasecmp(line, "MAIL", 4) == 0)
			fake_say(fd, f->mail, "250 ok\r\n");
		else if (strncasecmp(line, "RCPT", 4) == 0)
			fake_say(fd, strstr(line, "bad") ? "550 no such user\r\n" :
			    strstr(line, "later") ? "451 try later\r\n" : "250 ok\r\n", NULL);
		else if (strncasecmp(line, "DATA", 4) == 0) {
			fake_say(fd, f->data, "354 go\r\n");
			indata = f->data == NULL || f->data[0] == '3';
		} else if (strncasecmp(line, "QUIT", 4) == 0) {
			fake_say(fd, "221 bye\r\n", NULL);
			break;
		} else
			fake_say(fd, "502 unknown\r\n", NULL);
	}
	if (in != NULL)
		fclose(in);
}

pid_t
t_fake_start(unsigned *port, const struct fake_smtp *f, const char *path)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1, s = socket(AF_INET, SOCK_STREAM, 0), r = -1;
	pid_t pid;

	cr_assert(s >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* our range is inside the ephemeral one: a client socket may hold the
	 * port, so step through the range by 50 */
	for (int k = 0; k < 18 && r < 0; k++) {
		sa.sin_port = htons((unsigned short)(*port + 50 * k));
		r = bind(s, (struct sockaddr *)&sa, sizeof(sa));
	}
	cr_assert_eq(r, 0, "bind port %u", *port);
	*port = ntohs(sa.sin_port);
	cr_assert_eq(listen(s, 16), 0);
	pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		FILE *log = fopen(path, "a");

		signal(SIGPIPE, SIG_IGN);
		for (;;) {
			int c = accept(s, NULL, NULL);

			if (c < 0)
				continue;
			fake_session(c, f, log);
			close(c);
		}
	}
	close(s);
	return pid;
}

void
t_fake_stop(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int
t_remote(const char *home, const char *msg, char *out, size_t size, ...)
{
	const char *argv[16];
	int in[2], outp[2], st, n = 0;
	size_t len = 0;
	va_list ap;
	pid_t pid;
	char prog[1024];
	const char *b = getenv("SQ_BUILDDIR");

	snprintf(prog, sizeof(prog), "%s/qmail-remote", b ? b : ".");
	argv[n++] = prog;
	va_start(ap, size);
	while (n < 15 && (argv[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	argv[n] = NULL;
	cr_assert_eq(pipe(in), 0);
	cr_assert_eq(pipe(outp), 0);
	pid = fork();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(outp[1], 1);
		close(in[1]);
		close(outp[0]);
		setenv("QMAILHOME", home, 1);
		execv(prog, (char **)argv);
		_exit(127);
	}
	close(in[0]);
	close(outp[1]);
	signal(SIGPIPE, SIG_IGN);
	(void)!write(in[1], msg, strlen(msg));
	close(in[1]);
	for (;;) {
		ssize_t r = read(outp[0], out + len, size - 1 - len);

		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(outp[0]);
	for (size_t i = 0; i < len; i++)
		if (out[i] == '\0')
			out[i] = '|';
	out[len] = '\0';
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
