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
#include "tls_harness.h"

#define CHECKPW "home/bin/qmail-authuser /bin/true"

TestSuite(tls, .init = tls_setup, .fini = tls_teardown, .timeout = 60);

Test(tls, starttls_python_env_and_received)
{
	tls_serve(37001, NULL, NULL);
	tls_py("starttls", NULL);
	cr_assert(strstr(tls_readfile("rec/env"), "SSL_PROTOCOL=TLSv1.3"), "%s", tls_readfile("rec/env"));
	cr_assert(strstr(tls_readfile("rec/env"), "SSL_CIPHER=TLS_"));
	cr_assert(strstr(tls_readfile("rec/msg"), "with ESMTPS (TLSv1.3 TLS_"), "%s",
	    tls_readfile("rec/msg"));
	cr_assert(strstr(tls_readfile("log"), "Info::TLS::Established"));
}

Test(tls, smtps_python_and_resumption_across_processes)
{
	tls_serve(37002, "SMTPS=1", NULL);
	tls_py("implicit", NULL);
	tls_py("resume", NULL);
}

Test(tls, smtps_argv_switch_gnutls_cli)
{
	char out[16384];

	tls_serve(37003, NULL, "--tls=implicit");
	cr_assert(tls_sh(out, sizeof(out), "(sleep 0.5; printf 'EHLO x\\r\\nQUIT\\r\\n'; sleep 0.5) | "
	    "gnutls-cli --x509cafile=%s/ca.pem -p %d localhost 2>&1", tls_dir, tls_port) == 0, "%s", out);
	cr_assert(strstr(out, "220 ") && strstr(out, "221 "), "%s", out);
}

Test(tls, starttls_gnutls_cli_ecdsa_and_rsa)
{
	char out[16384];

	tls_serve(37004, NULL, NULL);
	cr_assert(tls_sh(out, sizeof(out), "(sleep 0.5; printf 'EHLO x\\r\\nQUIT\\r\\n'; sleep 0.5) | "
	    "gnutls-cli --starttls-proto=smtp --priority 'NORMAL:-SIGN-ALL:+SIGN-ECDSA-SECP256R1-SHA256' "
	    "--x509cafile=%s/ca.pem -p %d localhost 2>&1", tls_dir, tls_port) == 0, "%s", out);
	cr_assert(strstr(out, "ECDSA"), "%s", out);
	cr_assert(tls_sh(out, sizeof(out), "(sleep 0.5; printf 'QUIT\\r\\n'; sleep 0.5) | gnutls-cli "
	    "--starttls-proto=smtp --priority 'NORMAL:-SIGN-ALL:+SIGN-RSA-PSS-RSAE-SHA256' "
	    "--x509cafile=%s/ca.pem -p %d localhost 2>&1", tls_dir, tls_port) == 0, "%s", out);
	cr_assert(strstr(out, "RSA"), "%s", out);
}

Test(tls, openssl_s_client_and_tls10_refused)
{
	char out[16384];

	if (system("command -v openssl >/dev/null 2>&1") != 0)
		cr_skip_test("openssl missing");
	tls_serve(37005, NULL, NULL);
	cr_assert(tls_sh(out, sizeof(out), "(sleep 0.5; printf 'EHLO x\\r\\nQUIT\\r\\n'; sleep 0.5) | "
	    "openssl s_client -starttls smtp -connect 127.0.0.1:%d -CAfile %s/ca.pem "
	    "-verify_return_error 2>&1", tls_port, tls_dir) == 0, "%s", out);
	cr_assert(strstr(out, "221 2.0.0"), "%s", out);
	/* TLS 1.0 and 1.1: refused whatever the client offers */
	cr_assert(tls_sh(out, sizeof(out), "printf 'QUIT\\r\\n' | gnutls-cli --starttls-proto=smtp "
	    "--priority 'NORMAL:-VERS-ALL:+VERS-TLS1.0:+VERS-TLS1.1' --insecure -p %d "
	    "localhost 2>&1", tls_port) != 0, "%s", out);
	cr_assert(tls_sh(out, sizeof(out), "printf 'QUIT\\r\\n' | openssl s_client -tls1 -cipher "
	    "DEFAULT@SECLEVEL=0 -starttls smtp -connect 127.0.0.1:%d 2>&1", tls_port) != 0, "%s", out);
}

Test(tls, swaks_tls_and_tlsc_with_auth)
{
	char out[16384];

	tls_serve(37006, NULL, CHECKPW);
	cr_assert(tls_sh(out, sizeof(out), "swaks --server 127.0.0.1 --port %d --tls "
	    "--auth LOGIN --auth-user alice --auth-password sandbox "
	    "--from alice@example.com --to x@elsewhere.org 2>&1", tls_port) == 0, "%s", out);
	cr_assert(strstr(out, "235 2.7.0") && strstr(out, "250 2.0.0 ok"), "%s", out);
	cr_assert(strstr(tls_readfile("rec/env"), "AUTHUSER=alice"), "%s", tls_readfile("rec/env"));
	cr_assert(strstr(tls_readfile("rec/env"), "TCPREMOTEINFO=alice"));
	cr_assert(strstr(tls_readfile("rec/msg"), "(alice@127.0.0.1)"), "%s", tls_readfile("rec/msg"));
	cr_assert(strstr(tls_readfile("rec/msg"), "with ESMTPSA"), "%s", tls_readfile("rec/msg"));
	tls_stop();
	tls_serve(37007, "SMTPS=1", CHECKPW);
	cr_assert(tls_sh(out, sizeof(out), "swaks --server 127.0.0.1 --port %d --tlsc "
	    "--auth PLAIN --auth-user bob --auth-password bobpw "
	    "--from bob@example.com --to x@elsewhere.org 2>&1", tls_port) == 0, "%s", out);
	cr_assert(strstr(out, "235 2.7.0"), "%s", out);
}

Test(tls, starttls_injection_is_refused)
{
	tls_serve(37008, NULL, NULL);
	tls_py("inject", NULL);
	cr_assert(strstr(tls_readfile("log"), "Reject::TLS::Pipelined_Data"), "%s",
	    tls_readfile("log"));
}

Test(tls, auth_each_mechanism)
{
	tls_serve(37009, "SMTPAUTH=+cram", CHECKPW);
	tls_py("auth", "PLAIN:alice:sandbox:235");
	tls_py("auth", "LOGIN:bob:bobpw:235");
	tls_py("auth", "CRAM-MD5:carol:cramsecret:235");
	tls_py("auth", "PLAIN:alice:wrong:535");
	tls_py("auth", "LOGIN:nosuchuser:sandbox:535");
	tls_py("auth", "CRAM-MD5:carol:wrong:535");
	tls_py("auth", "CRAM-MD5:alice:sandbox:535");	/* a hash cannot answer CRAM */
	cr_assert(strstr(tls_readfile("log"), "Accept::AUTH::User"));
	cr_assert(strstr(tls_readfile("log"), "Reject::AUTH::User"));
	cr_assert(strstr(tls_readfile("log"), "sandbox") == NULL, "a password in the log");
	cr_assert(strstr(tls_readfile("log"), "cramsecret") == NULL, "a password in the log");
}

Test(tls, auth_refused_in_cleartext_and_bad_input)
{
	tls_serve(37010, NULL, CHECKPW);
	tls_py("cleartext", NULL);
	tls_py("badauth", NULL);
	cr_assert(strstr(tls_readfile("log"), "Reject::AUTH::Toomany_Failures"), "%s", tls_readfile("log"));
}

Test(tls, client_certificates_and_relaying)
{
	tls_serve(37011, "TLSCLIENTRELAY=", NULL);
	tls_py("cert", "client-good:250");
	cr_assert(strstr(tls_readfile("rec/env"), "SSL_CLIENT_VERIFY=SUCCESS"));
	cr_assert(strstr(tls_readfile("rec/env"), "SSL_CLIENT_S_DN_CN=client.example"));
	cr_assert(strstr(tls_readfile("rec/env"), "SSL_CLIENT_S_DN_Email=alice@example.com"), "%s",
	    tls_readfile("rec/env"));
	tls_py("cert", "client-expired:553");
	tls_py("cert", "client-untrusted:553");
	tls_py("cert", "none:553");
	tls_stop();
	/* TLSCLIENTRELAY='=': the certificate must also name the EHLO host */
	tls_serve(37012, "TLSCLIENTRELAY==", NULL);
	tls_py("cert", "client-good:250");
	tls_py("cert", "client-wronghost:553");
}

Test(tls, submission_needs_tls_then_auth)
{
	tls_serve(37013, NULL, "--submission " CHECKPW);
	tls_py("submission", NULL);
	cr_assert(strstr(tls_readfile("rec/env"), "AUTHUSER=alice"));
}

Test(tls, localmfcheck)
{
	tls_serve(37014, "LOCALMFCHECK==", CHECKPW);
	tls_py("mav", "alice@example.com:250");
	tls_py("mav", "bob@example.com:553");
	tls_py("mav", "alice@elsewhere.org:553");
}

Test(tls, stalled_and_garbage_handshakes_are_dropped)
{
	tls_sh(NULL, 0, "echo 2 > %s/home/control/timeoutsmtpd", tls_dir);
	tls_serve(37015, NULL, NULL);
	tls_py("stall", NULL);
	tls_py("stall", "partial");
	tls_stop();
	tls_serve(37016, "SMTPS=1", NULL);
	tls_py("garbage", NULL);
	tls_py("garbage", "truncated");
	tls_py("idle", NULL);		/* the read timeout inside TLS */
	cr_assert(strstr(tls_readfile("log"), "Reject::TLS::Handshake_Failed"), "%s", tls_readfile("log"));
}

Test(tls, required_tls_without_certificate_is_421)
{
	char out[4096];

	tls_sh(NULL, 0, "rm -f %s/creds/smtpd*", tls_dir);
	tls_serve(37017, "UCSPITLS=!", NULL);
	tls_sh(out, sizeof(out), "printf 'QUIT\\r\\n' | python3 -c 'import socket,sys; "
	    "s=socket.create_connection((\"127.0.0.1\",%d)); print(s.recv(200))'", tls_port);
	cr_assert(strstr(out, "421"), "%s", out);
}

Test(tls, units_verify)
{
	char out[16384];
	const char *u[] = { "qmail-smtpd.socket", "qmail-smtpd@.service",
	    "qmail-submission.socket", "qmail-submission@.service",
	    "qmail-smtps.socket", "qmail-smtps@.service", "qmail-tlsticket.service",
	    "qmail-tlsticket.timer", NULL };
	int i;

	if (system("command -v systemd-analyze >/dev/null 2>&1") != 0)
		cr_skip_test("systemd-analyze missing");
	for (i = 0; u[i]; i++)
		cr_assert(tls_sh(out, sizeof(out), "sh %s/units/subst.sh %s/home < %s/units/%s.in > "
		    "%s/%s", tls_srcdir(), tls_dir, tls_srcdir(), u[i], tls_dir, u[i]) == 0);
	cr_assert(tls_sh(out, sizeof(out), "cd %s && cp qmail-smtps@.service qmail-smtps@0.service && "
	    "mkdir -p home/control/tls && systemd-analyze verify --man=no ./qmail-smtpd.socket "
	    "./qmail-smtpd@.service ./qmail-submission.socket "
	    "./qmail-submission@.service ./qmail-smtps.socket ./qmail-smtps@.service "
	    "./qmail-smtps@0.service ./qmail-tlsticket.service ./qmail-tlsticket.timer 2>&1",
	    tls_dir) == 0, "%s", out);
	cr_assert(out[0] == '\0', "systemd-analyze verify complained:\n%s", out);
	cr_assert(tls_sh(out, sizeof(out), "grep -c '^LoadCredential=' %s/qmail-smtps@.service",
	    tls_dir) == 0 && atoi(out) == 3, "%s", out);
	/* port 25: the same three, each with a "-" default (TLS is optional there) */
	cr_assert(tls_sh(out, sizeof(out), "grep -c '^LoadCredential=' %s/qmail-smtpd@.service",
	    tls_dir) == 0 && atoi(out) == 3, "%s", out);
	cr_assert(tls_sh(out, sizeof(out), "grep -c '^SetCredential=[a-z.-]*:-$' "
	    "%s/qmail-smtpd@.service", tls_dir) == 0 && atoi(out) == 3, "%s", out);
}

Test(tls, ucspitls_question_mark_requires_a_client_certificate)
{
	tls_serve(37018, "UCSPITLS=?", NULL);
	tls_py("cert", "client-good:553");		/* TLS accepted, but no relaying by itself */
	tls_py("certreq", "none");
	tls_py("certreq", "client-untrusted");
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

	tls_serve(37019, "SMTPS=1", NULL);
	snprintf(ca, sizeof(ca), "%s/ca.pem", tls_dir);
	o.cafile = ca;
	cr_assert(tls_client_init(&c, &o) == 0);
	fd = client_connect(tls_port);
	io_init_fd(&io, fd, fd, 10);
	cr_assert(tls_start(c, &io, "localhost", 10, why, sizeof(why)) == 0, "%s", why);
	cr_assert(io_getline(&io, line, sizeof(line), &len) == IO_CRLF);
	cr_assert(strncmp(line, "220 ", 4) == 0, "%s", line);
	tls_end(&io);
	close(fd);
	/* the server's certificate does not name this host: refused */
	fd = client_connect(tls_port);
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
	r = tls_sh(out, sizeof(out), "SMTP_PORT=37030 SMTPS_PORT=37031 SUBMISSION_PORT=37032 "
	    "SANDBOX_IPV6=no sh %s/sandbox-tools/sandbox.sh start %s/sb %s 2>&1", tls_srcdir(), tls_dir,
	    tls_builddir());
	cr_assert(r == 0, "%s", out);
	r = tls_sh(out, sizeof(out), "swaks --server 127.0.0.1:37032 --tls --tls-verify --tls-ca-path "
	    "%s/sb/control/tls/ca.pem --auth PLAIN --auth-user alice --auth-password sandbox "
	    "--from alice@sandbox.test --to bob@sandbox.test --header 'Subject: sub-587' 2>&1 && "
	    "swaks --server 127.0.0.1:37031 --tlsc --auth LOGIN --auth-user alice "
	    "--auth-password sandbox --from alice@sandbox.test --to bob@sandbox.test "
	    "--header 'Subject: smtps-465' 2>&1 && "
	    "! swaks --server 127.0.0.1:37032 --tls --auth PLAIN --auth-user alice "
	    "--auth-password wrong --from alice@sandbox.test --to bob@sandbox.test 2>&1 && "
	    "for i in $(seq 50); do [ $(grep -l -e sub-587 -e smtps-465 %s/sb/home/bob/Maildir/new/* "
	    "2>/dev/null | wc -l) = 2 ] && break; sleep 0.1; done; "
	    "grep -l -e sub-587 -e smtps-465 %s/sb/home/bob/Maildir/new/* | wc -l", tls_dir, tls_dir, tls_dir);
	tls_sh(NULL, 0, "sh %s/sandbox-tools/sandbox.sh stop %s/sb", tls_srcdir(), tls_dir);
	cr_assert(r == 0, "%s", out);
	cr_assert(strstr(out, "\n2\n") || strncmp(out + strlen(out) - 2, "2\n", 2) == 0, "%s", out);
}
