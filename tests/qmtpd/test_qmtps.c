/* SPDX-License-Identifier: MIT
 * test_qmtps.c - QMTPS: the built qmail-qmtpd --tls=implicit under
 * systemd-socket-activate (ports 39500-39549) with Python ssl and gnutls-cli
 * clients: a verified client certificate relays, any other cannot; hostile and
 * stalled handshakes are closed in time.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "qmtp_harness.h"

#define QMTPS_PORT 39500
#define QMTPD "handlers/qmtpd/qmail-qmtpd"

static char certs[256];

/* once per run, in the runner: the certificates every test reads */
ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	const char *src = getenv("SQ_SRCDIR");
	char cmd[1024];

	(void)set;
	snprintf(certs, sizeof(certs), "/tmp/sq-qmtps-certs-XXXXXX");
	if (mkdtemp(certs) == NULL)
		certs[0] = '\0';
	snprintf(cmd, sizeof(cmd), "sh %s/tests/qmtpd/qmtps-certs.sh %s >/dev/null 2>&1",
	    src ? src : ".", certs);
	if (certs[0] && system(cmd) == 0)
		setenv("SQ_QMTPS_CERTS", certs, 1);
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	char cmd[512];

	(void)stats;
	if (certs[0] && getenv("SQ_KEEP") == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", certs);
		if (system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", certs);
	}
}

static const char *
cdir(void)
{
	const char *c = getenv("SQ_QMTPS_CERTS");

	if (c == NULL || system("command -v certtool python3 >/dev/null 2>&1") != 0)
		cr_skip_test("certtool or python3 missing (no certificates)");
	return c;
}

static void
setup(void)
{
	char creds[512];

	qh_setup();
	snprintf(creds, sizeof(creds), "%s/creds", cdir());
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
}

static void
teardown(void)
{
	unsetenv("CREDENTIALS_DIRECTORY");
	qh_teardown();
}

/* client - qmtp-client.py over TLS with certificate cert ("" none): its output
 * into *out (malloc'd); the exit status (0: every answer K) */
static int
client(int port, const char *cert, const char *rcpts, char **out)
{
	const char *src = getenv("SQ_SRCDIR");
	char cmd[2048], certopt[512] = "";
	int r;

	if (*cert)
		snprintf(certopt, sizeof(certopt), "--cert=%s/%s.pem", cdir(), cert);
	snprintf(cmd, sizeof(cmd), "printf 'Subject: qmtps\\n\\nbody\\n' | python3 "
	    "%s/tests/qmtpd/qmtp-client.py 127.0.0.1 %d 1 --tls=%s/ca.pem %s s@b.test %s "
	    ">%s/rec/client.out 2>&1", src ? src : ".", port, cdir(), certopt, rcpts, Q.home);
	r = system(cmd);
	*out = qh_read_rec("client.out", NULL);
	return r;
}

TestSuite(qmtps, .init = setup, .fini = teardown, .timeout = 60);

Test(qmtps, verified_certificate_relays)
{
	char *out, *msg, *log;
	int port = qh_serve_arg(QMTPD, "--tls=implicit", QMTPS_PORT);

	cr_assert_eq(client(port, "client-good", "alice@example.com x@elsewhere.test", &out), 0,
	    "%s\n%s", out, qh_server_log());
	cr_assert(strncmp(out, "-- TLSv1.3 ", 11) == 0, "%s", out);
	msg = qh_read_rec("msg", NULL);
	cr_assert_not_null(strstr(msg, "\n  by test.example with QMTPS (TLSv1.3 TLS_"), "%s", msg);
	cr_assert_not_null(strstr(msg, " encrypted, verified client DN=CN=relay.example)"),
	    "%s", msg);
	log = qh_server_log();
	cr_assert_not_null(strstr(log, "Info::TLS::Established P:QMTPS S:127.0.0.1:unknown"),
	    "%s", log);
	cr_assert_not_null(strstr(log, "cert=verified dn=CN=relay.example"), "%s", log);
	cr_assert_not_null(strstr(log, "Accept::RCPT::Client_Cert P:QMTPS S:127.0.0.1:unknown "
	    "F:s@b.test T:x@elsewhere.test"), "%s", log);
	free(out);
	free(msg);
	free(log);
}

/* refused - cert may deliver to rcpthosts, not relay: one K then one D */
static void
refused(int port, const char *cert, const char *why)
{
	char *out, *log;

	cr_assert_neq(client(port, cert, "alice@example.com x@elsewhere.test", &out), 0,
	    "%s relayed", cert);
	cr_assert_not_null(strstr(out, "\nKok "), "%s: %s", cert, out);
	cr_assert_not_null(strstr(out, "\nDsorry, that domain isn't in my list of allowed "
	    "rcpthosts (#5.7.1)"), "%s: %s", cert, out);
	log = qh_server_log();
	cr_assert_not_null(strstr(log, why), "%s: %s", cert, log);
	cr_assert_not_null(strstr(log, "Reject::SNDR::Invalid_Relay P:QMTPS"), "%s", log);
	free(out);
	free(log);
}

Test(qmtps, no_or_bad_certificate_cannot_relay)
{
	int port = qh_serve_arg(QMTPD, "--tls=implicit", QMTPS_PORT + 5);

	refused(port, "", "cert=none");
	refused(port, "client-untrusted", "issuer is unknown");
	refused(port, "client-expired", "expired");
	refused(port, "client-server-only", "cert=unverified dn=CN=relay.example");
}

Test(qmtps, without_client_ca_no_certificate_relays)
{
	char creds[512], cmd[2048], *out;
	int port;

	/* a private copy of the credentials without clientca.pem */
	snprintf(creds, sizeof(creds), "%s/creds", Q.home);
	snprintf(cmd, sizeof(cmd), "mkdir %s && cp %s/creds/qmtpd.* %s", creds, cdir(), creds);
	cr_assert_eq(system(cmd), 0);
	setenv("CREDENTIALS_DIRECTORY", creds, 1);
	port = qh_serve_arg(QMTPD, "--tls=implicit", QMTPS_PORT + 10);
	cr_assert_neq(client(port, "client-good", "x@elsewhere.test", &out), 0, "%s", out);
	cr_assert_not_null(strstr(out, "\nDsorry, that domain"), "%s", out);
	free(out);
}

Test(qmtps, gnutls_cli_with_client_certificate)
{
	char cmd[2048], *out;
	const char *c = cdir();
	int port;

	if (system("command -v gnutls-cli >/dev/null 2>&1") != 0)
		cr_skip_test("gnutls-cli missing");
	port = qh_serve_arg(QMTPD, "--tls=implicit", QMTPS_PORT + 15);
	snprintf(cmd, sizeof(cmd), "(printf '15:\\nSubject: g\\n\\nx\\n,8:s@b.test,20:16:"
	    "x@elsewhere.test,,'; sleep 1) | gnutls-cli --x509cafile=%s/ca.pem "
	    "--x509certfile=%s/client-good.pem --x509keyfile=%s/client-good.key -p %d "
	    "localhost >%s/rec/client.out 2>&1", c, c, c, port, Q.home);
	cr_assert_eq(system(cmd), 0, "%s", qh_read_rec("client.out", NULL));
	out = qh_read_rec("client.out", NULL);
	cr_assert_not_null(strstr(out, ":Kok "), "%s\n%s", out, qh_server_log());
	free(out);
	out = qh_server_log();
	cr_assert_not_null(strstr(out, "Accept::RCPT::Client_Cert P:QMTPS S:127.0.0.1:unknown "
	    "F:s@b.test T:x@elsewhere.test"), "%s", out);
	free(out);
}

static int
connect_port(int port)
{
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
	cr_assert_eq(connect(fd, (struct sockaddr *)&s4, sizeof(s4)), 0);
	return fd;
}

/* closed_after - send p (n bytes), then seconds until the server closes (-1: not in 15 s) */
static double
closed_after(int port, const char *p, size_t n)
{
	struct timespec t0, t1;
	struct pollfd pfd;
	char b[4096];
	int fd = connect_port(port);
	ssize_t k;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (n)
		cr_assert_eq(write(fd, p, n), (ssize_t)n);
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (poll(&pfd, 1, 15000) <= 0) {
			close(fd);
			return -1;
		}
		k = read(fd, b, sizeof(b));
		if (k <= 0)
			break;		/* a TLS alert may come first */
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	close(fd);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

Test(qmtps, garbage_and_stalled_handshakes_are_closed)
{
	/* the start of a TLS 1.2 ClientHello record, then nothing */
	static const char partial[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	const char *qmtp = "15:\nSubject: g\n\nx\n,8:s@b.test,17:13:a@example.com,,";
	double t;
	char *log;
	int port;

	/* bounds with room for a loaded machine: closed at once means well
	 * before the 4 s timeout, on time means not before it */
	qh_control("timeoutqmtpd", "4\n");
	port = qh_serve_arg(QMTPD, "--tls=implicit", QMTPS_PORT + 20);
	t = closed_after(port, qmtp, strlen(qmtp));
	cr_assert(t >= 0 && t < 3.5, "plain QMTP on QMTPS: closed after %.2f s", t);
	t = closed_after(port, "GET / HTTP/1.0\r\n\r\n", 18);
	cr_assert(t >= 0 && t < 3.5, "garbage: closed after %.2f s", t);
	t = closed_after(port, "", 0);
	cr_assert(t >= 3.5 && t < 12, "silent client: closed after %.2f s", t);
	t = closed_after(port, partial, sizeof(partial) - 1);
	cr_assert(t >= 3.5 && t < 12, "stalled handshake: closed after %.2f s", t);
	cr_assert_null(qh_read_rec("env", NULL), "nothing queued");
	log = qh_server_log();
	cr_assert_not_null(strstr(log, "Reject::TLS::Handshake_Failed P:QMTPS"), "%s", log);
	cr_assert_not_null(strstr(log, "'timeout'"), "%s", log);
	free(log);
}

Test(qmtps, without_certificate_qmtps_refuses_to_start)
{
	char *log;
	int port;

	setenv("CREDENTIALS_DIRECTORY", Q.home, 1);	/* holds no qmtpd.pem */
	port = qh_serve_arg(QMTPD, "--tls=implicit", QMTPS_PORT + 25);
	cr_assert(closed_after(port, "x", 1) >= 0);
	log = qh_server_log();
	cr_assert_not_null(strstr(log, "QMTPS without a certificate"), "%s", log);
	free(log);
	cr_assert_null(qh_read_rec("env", NULL), "nothing queued");
}

Test(qmtps, env_switch_and_unknown_argument)
{
	char *out, *log;
	int port;

	setenv("QMTPS", "1", 1);
	port = qh_serve_arg(QMTPD, NULL, QMTPS_PORT + 30);
	unsetenv("QMTPS");
	cr_assert_eq(client(port, "", "alice@example.com", &out), 0, "%s\n%s", out,
	    qh_server_log());
	free(out);
	qh_teardown();
	qh_setup();
	port = qh_serve_arg(QMTPD, "--tls=bogus", QMTPS_PORT + 35);
	cr_assert(closed_after(port, "x", 1) >= 0);
	log = qh_server_log();
	cr_assert_not_null(strstr(log, "unknown argument --tls=bogus"), "%s", log);
	free(log);
}

Test(qmtps, sandbox_serves_qmtps)
{
	const char *src = getenv("SQ_SRCDIR"), *b = getenv("SQ_BUILDDIR");
	char cmd[4096], *out;
	int r;

	cdir();
	snprintf(cmd, sizeof(cmd), "SMTP_PORT=39545 QMTPS_PORT=39546 SANDBOX_IPV6=no "
	    "sh %s/sandbox-tools/sandbox.sh start %s/sb %s >%s/rec/sb.out 2>&1", src ? src : ".",
	    Q.home, b ? b : ".", Q.home);
	r = system(cmd);
	cr_assert_eq(r, 0, "%s", qh_read_rec("sb.out", NULL));
	/* with the sandbox's client certificate to bob; without one, no relaying */
	snprintf(cmd, sizeof(cmd), "(t=%s/sb/control/tls; q=%s/tests/qmtpd/qmtp-client.py; "
	    "printf 'Subject: over qmtps\\n\\nhi\\n' | python3 $q 127.0.0.1 39546 1 "
	    "--tls=$t/ca.pem --cert=$t/qmtp-client.pem a@sandbox.test bob@sandbox.test && "
	    "printf 'x\\n' | python3 $q 127.0.0.1 39546 1 --tls=$t/ca.pem a@sandbox.test "
	    "x@elsewhere.test; for i in $(seq 50); do grep -l 'over qmtps' "
	    "%s/sb/home/bob/Maildir/new/* 2>/dev/null && break; sleep 0.1; done; "
	    "cat %s/sb/home/bob/Maildir/new/*; sh %s/sandbox-tools/sandbox.sh info %s/sb",
	    Q.home, src ? src : ".", Q.home, Q.home, src ? src : ".", Q.home);
	snprintf(cmd + strlen(cmd), sizeof(cmd) - strlen(cmd), ") >%s/rec/sb.out 2>&1", Q.home);
	r = system(cmd);
	snprintf(cmd, sizeof(cmd), "sh %s/sandbox-tools/sandbox.sh stop %s/sb >/dev/null 2>&1",
	    src ? src : ".", Q.home);
	cr_assert_eq(system(cmd), 0);
	out = qh_read_rec("sb.out", NULL);
	cr_assert_not_null(strstr(out, "\nKok "), "%s", out);
	cr_assert_not_null(strstr(out, "\nDsorry, that domain isn't in my list"), "%s", out);
	cr_assert_not_null(strstr(out, " with QMTPS (TLSv1.3 "), "%s", out);
	cr_assert_not_null(strstr(out, "verified client DN=CN=relay.sandbox.test"), "%s", out);
	cr_assert_not_null(strstr(out, "  QMTPS        127.0.0.1:39546 (implicit TLS"), "%s", out);
	free(out);
}
