/* SPDX-License-Identifier: MIT
 * test_tls.c - STARTTLS, SMTPS, submission, AUTH and client certificates of the built
 * qmail-smtpd under tcpserver, with gnutls-cli, openssl s_client, swaks and Python ssl.
 *
 * tls-setup.sh makes the qmail home and the certificates (certtool) in a temp dir;
 * each test starts tcpserver on its own port (37000-37099) and stops it at the end.
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

#include "io.h"
#include "tls.h"

static char dir[256];
static pid_t server = -1;
static int port;

static const char *
builddir(void)
{
	const char *b = getenv("SQ_BUILDDIR");

	return b ? b : ".";
}

static const char *
srcdir(void)
{
	const char *s = getenv("SQ_SRCDIR");

	return s ? s : ".";
}

static int
sh(char *out, size_t size, const char *fmt, ...)
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
	if (mkdtemp(certs) == NULL || sh(NULL, 0, "sh %s/tests/handlers/tls-setup.sh --certs %s "
	    ">/dev/null 2>&1", srcdir(), certs) != 0)
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

static void
setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/sqtls-XXXXXX");
	cr_assert(mkdtemp(dir) != NULL);
	if (system("command -v tcpserver certtool >/dev/null 2>&1") != 0)
		cr_skip_test("tcpserver or certtool missing");
	cr_assert(sh(NULL, 0, "sh %s/tests/handlers/tls-setup.sh %s %s %s %s 2>&1", srcdir(), dir,
	    builddir(), srcdir(), getenv("SQ_TLS_CERTS") ? getenv("SQ_TLS_CERTS") : "") == 0,
	    "tls-setup.sh failed");
}

static void
teardown(void)
{
	char cmd[512];

	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	if (dir[0] && getenv("SQ_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
	}
}

static int
port_open(int p)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
	int fd = socket(AF_INET, SOCK_STREAM, 0), r;

	inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	r = connect(fd, (struct sockaddr *)&s4, sizeof(s4));
	close(fd);
	return r == 0;
}

static char *
readfile(const char *name)
{
	static char b[65536];
	char path[512];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	b[0] = '\0';
	if ((f = fopen(path, "r")) == NULL)
		return b;
	n = fread(b, 1, sizeof(b) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

/* serve - tcpserver on port p running qmail-smtpd with "VAR=val ..." and args */
static void
serve(int p, const char *env, const char *args)
{
	char cmd[4096];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	int i;

	port = p;
	snprintf(cmd, sizeof(cmd), "cd %s && exec env QMAILHOME=%s/home QQREC=%s/rec "
	    "QMAILQUEUE=%s/tests/handlers/tls-qq.sh CREDENTIALS_DIRECTORY=%s/creds "
	    "AUTHSLEEP=0 %s tcpserver -R -H -l localhost 127.0.0.1 %d "
	    "%s/handlers/smtpd/qmail-smtpd %s 2>%s/log", dir, dir, dir, srcdir(), dir,
	    env ? env : "", p, builddir(), args ? args : "", dir);
	server = fork();
	cr_assert(server >= 0);
	if (server == 0) {
		setpgid(0, 0);
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 500 && !port_open(p); i++)
		nanosleep(&ts, NULL);
	cr_assert(port_open(p), "server on %d did not start: %s", p, readfile("log"));
}

static void
py(const char *scenario, const char *arg)
{
	char out[65536];
	int r = sh(out, sizeof(out), "python3 %s/tests/handlers/tls_client.py %s %d %s %s 2>&1",
	    srcdir(), scenario, port, dir, arg ? arg : "");

	cr_assert(r == 0, "%s %s: %s\nserver log:\n%s", scenario, arg ? arg : "", out,
	    readfile("log"));
}

#define CHECKPW "home/bin/qmail-authuser /bin/true"

TestSuite(tls, .init = setup, .fini = teardown, .timeout = 60);

Test(tls, starttls_python_env_and_received)
{
	serve(37001, NULL, NULL);
	py("starttls", NULL);
	cr_assert(strstr(readfile("rec/env"), "SSL_PROTOCOL=TLSv1.3"), "%s", readfile("rec/env"));
	cr_assert(strstr(readfile("rec/env"), "SSL_CIPHER=TLS_"));
	cr_assert(strstr(readfile("rec/msg"), "with ESMTPS (TLSv1.3 TLS_"), "%s",
	    readfile("rec/msg"));
	cr_assert(strstr(readfile("log"), "Info::TLS::Established"));
}

Test(tls, smtps_python_and_resumption_across_processes)
{
	serve(37002, "SMTPS=1", NULL);
	py("implicit", NULL);
	py("resume", NULL);
}

Test(tls, smtps_argv_switch_gnutls_cli)
{
	char out[16384];

	serve(37003, NULL, "--tls=implicit");
	cr_assert(sh(out, sizeof(out), "(sleep 0.5; printf 'EHLO x\\r\\nQUIT\\r\\n'; sleep 0.5) | "
	    "gnutls-cli --x509cafile=%s/ca.pem -p %d localhost 2>&1", dir, port) == 0, "%s", out);
	cr_assert(strstr(out, "220 ") && strstr(out, "221 "), "%s", out);
}

Test(tls, starttls_gnutls_cli_ecdsa_and_rsa)
{
	char out[16384];

	serve(37004, NULL, NULL);
	cr_assert(sh(out, sizeof(out), "(sleep 0.5; printf 'EHLO x\\r\\nQUIT\\r\\n'; sleep 0.5) | "
	    "gnutls-cli --starttls-proto=smtp --priority 'NORMAL:-SIGN-ALL:+SIGN-ECDSA-SECP256R1-SHA256' "
	    "--x509cafile=%s/ca.pem -p %d localhost 2>&1", dir, port) == 0, "%s", out);
	cr_assert(strstr(out, "ECDSA"), "%s", out);
	cr_assert(sh(out, sizeof(out), "(sleep 0.5; printf 'QUIT\\r\\n'; sleep 0.5) | gnutls-cli "
	    "--starttls-proto=smtp --priority 'NORMAL:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256' "
	    "--x509cafile=%s/ca.pem -p %d localhost 2>&1", dir, port) == 0, "%s", out);
	cr_assert(strstr(out, "RSA"), "%s", out);
}

Test(tls, openssl_s_client_and_tls10_refused)
{
	char out[16384];

	if (system("command -v openssl >/dev/null 2>&1") != 0)
		cr_skip_test("openssl missing");
	serve(37005, NULL, NULL);
	cr_assert(sh(out, sizeof(out), "(sleep 0.5; printf 'EHLO x\\r\\nQUIT\\r\\n'; sleep 0.5) | "
	    "openssl s_client -starttls smtp -connect 127.0.0.1:%d -CAfile %s/ca.pem "
	    "-verify_return_error 2>&1", port, dir) == 0, "%s", out);
	cr_assert(strstr(out, "221 2.0.0"), "%s", out);
	/* TLS 1.0 and 1.1: refused whatever the client offers */
	cr_assert(sh(out, sizeof(out), "printf 'QUIT\\r\\n' | gnutls-cli --starttls-proto=smtp "
	    "--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1' --insecure -p %d "
	    "localhost 2>&1", port) != 0, "%s", out);
	cr_assert(sh(out, sizeof(out), "printf 'QUIT\\r\\n' | openssl s_client -tls1 -cipher "
	    "DEFAULT@SECLEVEL=0 -starttls smtp -connect 127.0.0.1:%d 2>&1", port) != 0, "%s", out);
}

Test(tls, swaks_tls_and_tlsc_with_auth)
{
	char out[16384];

	serve(37006, NULL, CHECKPW);
	cr_assert(sh(out, sizeof(out), "swaks --server 127.0.0.1 --port %d --tls "
	    "--auth LOGIN --auth-user alice --auth-password sandbox "
	    "--from alice@example.com --to x@elsewhere.org 2>&1", port) == 0, "%s", out);
	cr_assert(strstr(out, "235 2.7.0") && strstr(out, "250 2.0.0 ok"), "%s", out);
	cr_assert(strstr(readfile("rec/env"), "AUTHUSER=alice"), "%s", readfile("rec/env"));
	cr_assert(strstr(readfile("rec/env"), "TCPREMOTEINFO=alice"));
	cr_assert(strstr(readfile("rec/msg"), "(alice@127.0.0.1)"), "%s", readfile("rec/msg"));
	cr_assert(strstr(readfile("rec/msg"), "with ESMTPSA"), "%s", readfile("rec/msg"));
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	serve(37007, "SMTPS=1", CHECKPW);
	cr_assert(sh(out, sizeof(out), "swaks --server 127.0.0.1 --port %d --tlsc "
	    "--auth PLAIN --auth-user bob --auth-password bobpw "
	    "--from bob@example.com --to x@elsewhere.org 2>&1", port) == 0, "%s", out);
	cr_assert(strstr(out, "235 2.7.0"), "%s", out);
}

Test(tls, starttls_injection_is_refused)
{
	serve(37008, NULL, NULL);
	py("inject", NULL);
	cr_assert(strstr(readfile("log"), "Reject::TLS::Pipelined_Data"), "%s",
	    readfile("log"));
}

Test(tls, auth_each_mechanism)
{
	serve(37009, "SMTPAUTH=+cram", CHECKPW);
	py("auth", "PLAIN:alice:sandbox:235");
	py("auth", "LOGIN:bob:bobpw:235");
	py("auth", "CRAM-MD5:carol:cramsecret:235");
	py("auth", "PLAIN:alice:wrong:535");
	py("auth", "LOGIN:nosuchuser:sandbox:535");
	py("auth", "CRAM-MD5:carol:wrong:535");
	py("auth", "CRAM-MD5:alice:sandbox:535");	/* a hash cannot answer CRAM */
	cr_assert(strstr(readfile("log"), "Accept::AUTH::User"));
	cr_assert(strstr(readfile("log"), "Reject::AUTH::User"));
	cr_assert(strstr(readfile("log"), "sandbox") == NULL, "a password in the log");
	cr_assert(strstr(readfile("log"), "cramsecret") == NULL, "a password in the log");
}

Test(tls, auth_refused_in_cleartext_and_bad_input)
{
	serve(37010, NULL, CHECKPW);
	py("cleartext", NULL);
	py("badauth", NULL);
	cr_assert(strstr(readfile("log"), "Reject::AUTH::Toomany_Failures"), "%s", readfile("log"));
}

Test(tls, client_certificates_and_relaying)
{
	serve(37011, "TLSCLIENTRELAY=", NULL);
	py("cert", "client-good:250");
	cr_assert(strstr(readfile("rec/env"), "SSL_CLIENT_VERIFY=SUCCESS"));
	cr_assert(strstr(readfile("rec/env"), "SSL_CLIENT_S_DN_CN=client.example"));
	cr_assert(strstr(readfile("rec/env"), "SSL_CLIENT_S_DN_Email=alice@example.com"), "%s",
	    readfile("rec/env"));
	py("cert", "client-expired:553");
	py("cert", "client-untrusted:553");
	py("cert", "none:553");
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	/* TLSCLIENTRELAY='=': the certificate must also name the EHLO host */
	serve(37012, "TLSCLIENTRELAY==", NULL);
	py("cert", "client-good:250");
	py("cert", "client-wronghost:553");
}

Test(tls, submission_needs_tls_then_auth)
{
	serve(37013, NULL, "--submission " CHECKPW);
	py("submission", NULL);
	cr_assert(strstr(readfile("rec/env"), "AUTHUSER=alice"));
}

Test(tls, localmfcheck)
{
	serve(37014, "LOCALMFCHECK==", CHECKPW);
	py("mav", "alice@example.com:250");
	py("mav", "bob@example.com:553");
	py("mav", "alice@elsewhere.org:553");
}

Test(tls, stalled_and_garbage_handshakes_are_dropped)
{
	sh(NULL, 0, "echo 2 > %s/home/control/timeoutsmtpd", dir);
	serve(37015, NULL, NULL);
	py("stall", NULL);
	py("stall", "partial");
	kill(server, SIGTERM);
	waitpid(server, NULL, 0);
	serve(37016, "SMTPS=1", NULL);
	py("garbage", NULL);
	py("garbage", "truncated");
	py("idle", NULL);		/* the read timeout inside TLS */
	cr_assert(strstr(readfile("log"), "Reject::TLS::Handshake_Failed"), "%s", readfile("log"));
}

Test(tls, required_tls_without_certificate_is_421)
{
	char out[4096];

	sh(NULL, 0, "rm -f %s/creds/smtpd*", dir);
	serve(37017, "UCSPITLS=!", NULL);
	sh(out, sizeof(out), "printf 'QUIT\\r\\n' | python3 -c 'import socket,sys; "
	    "s=socket.create_connection((\"127.0.0.1\",%d)); print(s.recv(200))'", port);
	cr_assert(strstr(out, "421"), "%s", out);
}

Test(tls, units_verify)
{
	char out[16384];
	const char *u[] = { "qmail-submission.socket", "qmail-submission@.service",
	    "qmail-smtps.socket", "qmail-smtps@.service", "qmail-tlsticket.service",
	    "qmail-tlsticket.timer", NULL };
	int i;

	if (system("command -v systemd-analyze >/dev/null 2>&1") != 0)
		cr_skip_test("systemd-analyze missing");
	for (i = 0; u[i]; i++)
		cr_assert(sh(out, sizeof(out), "sh %s/units/subst.sh %s/home < %s/units/%s.in > "
		    "%s/%s", srcdir(), dir, srcdir(), u[i], dir, u[i]) == 0);
	cr_assert(sh(out, sizeof(out), "cd %s && cp qmail-smtps@.service qmail-smtps@0.service && "
	    "mkdir -p home/control/tls && systemd-analyze verify --man=no ./qmail-submission.socket "
	    "./qmail-submission@.service ./qmail-smtps.socket ./qmail-smtps@.service "
	    "./qmail-smtps@0.service ./qmail-tlsticket.service ./qmail-tlsticket.timer 2>&1",
	    dir) == 0, "%s", out);
	cr_assert(out[0] == '\0', "systemd-analyze verify complained:\n%s", out);
	cr_assert(sh(out, sizeof(out), "grep -c '^LoadCredential=' %s/qmail-smtps@.service",
	    dir) == 0 && atoi(out) == 3, "%s", out);
}

Test(tls, ucspitls_question_mark_requires_a_client_certificate)
{
	serve(37018, "UCSPITLS=?", NULL);
	py("cert", "client-good:553");		/* TLS accepted, but no relaying by itself */
	py("certreq", "none");
	py("certreq", "client-untrusted");
}

static int
client_connect(int p)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)p) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	cr_assert(connect(fd, (struct sockaddr *)&s4, sizeof(s4)) == 0);
	return fd;
}

Test(tls, client_side_for_qmail_remote)
{
	struct tls_client_opts o = { .verify = 1 };
	struct tls_ctx *c;
	struct io io;
	char ca[512], why[128], line[512];
	size_t len;
	int fd;

	serve(37019, "SMTPS=1", NULL);
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	o.cafile = ca;
	cr_assert(tls_client_init(&c, &o) == 0);
	fd = client_connect(port);
	io_init_fd(&io, fd, fd, 10);
	cr_assert(tls_start(c, &io, "localhost", 10, why, sizeof(why)) == 0, "%s", why);
	cr_assert(io_getline(&io, line, sizeof(line), &len) == IO_CRLF);
	cr_assert(strncmp(line, "220 ", 4) == 0, "%s", line);
	tls_end(&io);
	close(fd);
	/* the server's certificate does not name this host: refused */
	fd = client_connect(port);
	io_init_fd(&io, fd, fd, 10);
	cr_assert(tls_start(c, &io, "wrong.example", 10, why, sizeof(why)) < 0);
	close(fd);
	tls_ctx_free(c);
}

Test(tls, sandbox_serves_smtps_and_submission_for_alice)
{
	char out[16384];
	int r;

	if (system("command -v systemd-socket-activate >/dev/null 2>&1") != 0)
		cr_skip_test("systemd-socket-activate missing");
	r = sh(out, sizeof(out), "SMTP_PORT=37030 SMTPS_PORT=37031 SUBMISSION_PORT=37032 "
	    "SANDBOX_IPV6=no sh %s/sandbox-tools/sandbox.sh start %s/sb %s 2>&1", srcdir(), dir,
	    builddir());
	cr_assert(r == 0, "%s", out);
	r = sh(out, sizeof(out), "swaks --server 127.0.0.1:37032 --tls --tls-verify --tls-ca-path "
	    "%s/sb/control/tls/ca.pem --auth PLAIN --auth-user alice --auth-password sandbox "
	    "--from alice@sandbox.test --to bob@sandbox.test --header 'Subject: sub-587' 2>&1 && "
	    "swaks --server 127.0.0.1:37031 --tlsc --auth LOGIN --auth-user alice "
	    "--auth-password sandbox --from alice@sandbox.test --to bob@sandbox.test "
	    "--header 'Subject: smtps-465' 2>&1 && "
	    "! swaks --server 127.0.0.1:37032 --tls --auth PLAIN --auth-user alice "
	    "--auth-password wrong --from alice@sandbox.test --to bob@sandbox.test 2>&1 && "
	    "for i in $(seq 50); do [ $(grep -l -e sub-587 -e smtps-465 %s/sb/home/bob/Maildir/new/* "
	    "2>/dev/null | wc -l) = 2 ] && break; sleep 0.1; done; "
	    "grep -l -e sub-587 -e smtps-465 %s/sb/home/bob/Maildir/new/* | wc -l", dir, dir, dir);
	sh(NULL, 0, "sh %s/sandbox-tools/sandbox.sh stop %s/sb", srcdir(), dir);
	cr_assert(r == 0, "%s", out);
	cr_assert(strstr(out, "\n2\n") || strncmp(out + strlen(out) - 2, "2\n", 2) == 0, "%s", out);
}
