/* SPDX-License-Identifier: MIT
 * tls_harness.c - what the tls_run tests share: temp qmail home and certificates
 * (tls-setup.sh), a tcpserver running the built qmail-smtpd, the Python client.
 *
 * The certificates are made once per run (PRE_ALL) and copied into each test's dir.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tls_harness.h"

char tls_dir[256];
pid_t tls_server = -1;
int tls_port;

/* tls_builddir - $SQ_BUILDDIR, else "." */
const char *
tls_builddir(void)
{
	const char *b = getenv("SQ_BUILDDIR");

	return b ? b : ".";
}

/* tls_srcdir - $SQ_SRCDIR, else "." */
const char *
tls_srcdir(void)
{
	const char *s = getenv("SQ_SRCDIR");

	return s ? s : ".";
}

/* tls_sh - popen the command, collect its stdout */
int
tls_sh(char *out, size_t size, const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	cr_assert(p != NULL);
	if (out) {
		while (n + 1 < size && fgets(out + n, (int)(size - n), p))
			n += strlen(out + n);
		out[n] = '\0';
	} else
		while (fgetc(p) != EOF)
			;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 255;
}

static char certs[256];

/* once per run, in the runner: the certificates every test copies */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	snprintf(certs, sizeof(certs), "/tmp/sqtls-certs-XXXXXX");
	if (mkdtemp(certs) == NULL || tls_sh(NULL, 0, "sh %s/tests/handlers/tls-setup.sh "
	    "--certs %s >/dev/null 2>&1", tls_srcdir(), certs) != 0)
		certs[0] = '\0';
	else
		setenv("SQ_TLS_CERTS", certs, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char cmd[512];

	(void)stats;
	if (certs[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", certs);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", certs);
	}
}

/* tls_setup - a fresh temp dir with home, credentials and certificates */
void
tls_setup(void)
{
	snprintf(tls_dir, sizeof(tls_dir), "/tmp/sqtls-XXXXXX");
	cr_assert(mkdtemp(tls_dir) != NULL);
	if (system("command -v tcpserver certtool >/dev/null 2>&1") != 0)
		cr_skip_test("tcpserver or certtool missing");
	cr_assert(tls_sh(NULL, 0, "sh %s/tests/handlers/tls-setup.sh %s %s %s %s 2>&1",
	    tls_srcdir(), tls_dir, tls_builddir(), tls_srcdir(),
	    getenv("SQ_TLS_CERTS") ? getenv("SQ_TLS_CERTS") : "") == 0, "tls-setup.sh failed");
}

/* tls_stop - SIGTERM to the server's process group, then reap it */
void
tls_stop(void)
{
	if (tls_server > 0) {
		kill(-tls_server, SIGTERM);
		kill(tls_server, SIGTERM);
		waitpid(tls_server, NULL, 0);
		tls_server = -1;
	}
}

/* tls_teardown - stop the server, remove the dir (unless $SQ_KEEP) */
void
tls_teardown(void)
{
	char cmd[512];

	tls_stop();
	if (tls_dir[0] && getenv("SQ_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", tls_dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", tls_dir);
	}
}

/* tls_port_open - connect and close */
int
tls_port_open(int p)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), r;

	inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	r = connect(fd, (struct sockaddr *)&s4, sizeof(s4));
	close(fd);
	return r == 0;
}

/* tls_readfile - a file of the test dir into a static buffer */
char *
tls_readfile(const char *name)
{
	static char b[65536];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", tls_dir, name);
	b[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return b;
	n = fread(b, 1, sizeof(b) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* tls_free_port - p, or the first of p + 50, p + 100, ... that nothing holds:
 * the test ports lie in the ephemeral range, where a client socket may sit */
static int
tls_free_port(int p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	for (int k = 0; k < 18; k++) {
		int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

		cr_assert(s >= 0);
		setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_port = htons((unsigned short)(p + 50 * k));
		r = bind(s, (struct sockaddr *)&sa, sizeof(sa));
		close(s);
		if (r == 0)
			return p + 50 * k;
	}
	return p;
}

static void
tls_spawn(int p, const char *cmd)
{
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	tls_port = p;
	tls_server = fork();
	cr_assert(tls_server >= 0);
	if (tls_server == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && !tls_port_open(p); i++)
		nanosleep(&ts, NULL);
	cr_assert(tls_port_open(p), "server on %d did not start: %s", p, tls_readfile("log"));
}

/* tls_serve - tcpserver on port p running qmail-smtpd with "VAR=val ..." and args */
void
tls_serve(int p, const char *env, const char *args)
{
	char cmd[4096];

	p = tls_free_port(p);
	snprintf(cmd, sizeof(cmd), "cd %s && exec env QMAILHOME=%s/home QQREC=%s/rec "
	    "QMAILQUEUE=%s/tests/handlers/tls-qq.sh CREDENTIALS_DIRECTORY=%s/creds "
	    "AUTHSLEEP=0 %s tcpserver -R -H -l localhost 127.0.0.1 %d "
	    "%s/handlers/smtpd/qmail-smtpd %s 2>%s/log", tls_dir, tls_dir, tls_dir,
	    tls_srcdir(), tls_dir, env ? env : "", p, tls_builddir(), args ? args : "",
	    tls_dir);
	tls_spawn(p, cmd);
}

/* tls_serve_sa - the same under systemd-socket-activate --inetd (as a unit with
 * Accept=yes would run it); eopts are more "-E VAR=val" options */
void
tls_serve_sa(int p, const char *eopts, const char *args)
{
	char cmd[4096];

	p = tls_free_port(p);
	snprintf(cmd, sizeof(cmd), "cd %s && exec systemd-socket-activate --inetd -a "
	    "-l 127.0.0.1:%d -E QMAILHOME=%s/home -E QQREC=%s/rec "
	    "-E QMAILQUEUE=%s/tests/handlers/tls-qq.sh -E CREDENTIALS_DIRECTORY=%s/creds "
	    "-E AUTHSLEEP=0 %s %s/handlers/smtpd/qmail-smtpd %s 2>%s/log", tls_dir, p,
	    tls_dir, tls_dir, tls_srcdir(), tls_dir, eopts ? eopts : "", tls_builddir(),
	    args ? args : "", tls_dir);
	tls_spawn(p, cmd);
}

/* tls_py - one tls_client.py scenario; its output and the server log on failure */
void
tls_py(const char *scenario, const char *arg)
{
	char out[65536];
	int r = tls_sh(out, sizeof(out), "python3 %s/tests/handlers/tls_client.py %s %d %s "
	    "'%s' 2>&1", tls_srcdir(), scenario, tls_port, tls_dir, arg ? arg : "");

	cr_assert(r == 0, "%s %s: %s\nserver log:\n%s", scenario, arg ? arg : "", out,
	    tls_readfile("log"));
}
