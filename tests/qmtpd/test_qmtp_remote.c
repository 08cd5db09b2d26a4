/* SPDX-License-Identifier: MIT
 * test_qmtp_remote.c - qmail-remote with control/qmtproutes -> qmail-qmtpd
 * (systemd-socket-activate, ports 39030-39039; QMTPS on 127.0.95.x:6209)
 * -> qmail-queue recorder.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "qmtp_harness.h"

#define RPORT 39030

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

TestSuite(qmtp_remote, .init = qh_setup, .fini = qh_teardown, .timeout = 40);

Test(qmtp_remote, per_recipient_results)
{
	char out[4096], *msg, *env;
	size_t envlen;
	int port;

	unsetenv("QQREC_EXIT");
	port = qh_serve("handlers/qmtpd/qmail-qmtpd", RPORT);
	snprintf(out, sizeof(out), "example.com:[127.0.0.1]:%d\n", port);
	qh_control("qmtproutes", out);
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
	int port;

	setenv("QQREC_EXIT", "71", 1);
	port = qh_serve("handlers/qmtpd/qmail-qmtpd", RPORT + 1);
	snprintf(out, sizeof(out), ":[127.0.0.1]:%d\n", port);
	qh_control("qmtproutes", out);
	remote("x\n", out, sizeof(out), "alice@example.com", "bob@example.com");
	cr_assert(strncmp(out, "s127.0.0.1 does not like recipient.\n", 36) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "|s127.0.0.1 does not like recipient."), "%s", out);
	cr_assert_not_null(strstr(out, "Remote host said: mail server temporarily rejected"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "|DGiving up on 127.0.0.1.\n|"), "%s", out);
	qh_control("qmtproutes", ":[127.0.0.1]:39039\n");
	remote("x\n", out, sizeof(out), "alice@example.com", "bob@example.com");
	cr_assert(out[0] == 'Z', "no server: %s", out);
}

/* qmtps_files - qmtproutes to the QMTPS server at ip, tlsdestinations with ca
 * (NULL: none), domaincerts with the client certificate cert (NULL: none) */
static void
qmtps_files(const char *ip, const char *ca, const char *cert)
{
	const char *c = getenv("SQ_QMTPS_CERTS");
	char line[1024];

	snprintf(line, sizeof(line), "example.com:[%s]:6209\n", ip);
	qh_control("qmtproutes", line);
	snprintf(line, sizeof(line), "*:%s/%s.pem\n", c, ca ? ca : "");
	qh_control("tlsdestinations", ca ? line : NULL);
	snprintf(line, sizeof(line), "b.test:%s/%s.pem|%s/%s.key\n", c, cert ? cert : "", c,
	    cert ? cert : "");
	qh_control("domaincerts", cert ? line : NULL);
}

Test(qmtp_remote, qmtps_with_and_without_client_certificate)
{
	char out[4096], want[1024], *msg, *log;
	const char *c = getenv("SQ_QMTPS_CERTS"), *ip;

	if (c == NULL)
		cr_skip_test("no certificates (certtool missing?)");
	snprintf(out, sizeof(out), "%s/creds", c);
	setenv("CREDENTIALS_DIRECTORY", out, 1);
	ip = qh_serve_ip("handlers/qmtpd/qmail-qmtpd", "--tls=implicit", 6209);
	/* the sender's domain has a certificate: the server lets it relay */
	qmtps_files(ip, "ca", "client-good");
	remote("Subject: by qmtps\n\nbody\n", out, sizeof(out), "alice@example.com",
	    "x@elsewhere.test");
	snprintf(want, sizeof(want), "r|r|K%s accepted message.\nTLS: TLSv1.3 TLS_", ip);
	cr_assert(strncmp(out, want, strlen(want)) == 0, "%s\n%s", out, qh_server_log());
	cr_assert_not_null(strstr(out, " verified=yes clientcert=yes (verify).\n|"), "%s", out);
	msg = qh_read_rec("msg", NULL);
	cr_assert_not_null(strstr(msg, " with QMTPS (TLSv1.3 "), "%s", msg);
	cr_assert_not_null(strstr(msg, "verified client DN=CN=relay.example)"), "%s", msg);
	cr_assert_not_null(strstr(msg, "-0000\nSubject: by qmtps\n\nbody\n"), "%s", msg);
	free(msg);
	log = qh_server_log();
	cr_assert_not_null(strstr(log, "Accept::RCPT::Client_Cert P:QMTPS"), "%s", log);
	free(log);
	/* no certificate, or one the server's CA did not sign: no relaying */
	qmtps_files(ip, NULL, NULL);
	remote("x\n", out, sizeof(out), "alice@example.com", "x@elsewhere.test");
	snprintf(want, sizeof(want), "r|h%s does not like recipient.\nRemote host said: sorry, "
	    "that domain isn't in my list of allowed rcpthosts (#5.7.1)|K%s accepted message.\n"
	    "TLS: TLSv1.3 ", ip, ip);
	cr_assert(strncmp(out, want, strlen(want)) == 0, "%s", out);
	cr_assert_not_null(strstr(out, " verified=no clientcert=no (opportunistic).\n|"), "%s",
	    out);
	qmtps_files(ip, NULL, "client-untrusted");
	remote("x\n", out, sizeof(out), "x@elsewhere.test", "y@elsewhere.test");
	snprintf(want, sizeof(want), "h%s does not like recipient.\n", ip);
	cr_assert(strncmp(out, want, strlen(want)) == 0, "%s", out);
	cr_assert_not_null(strstr(out, "|DGiving up on "), "%s", out);
	cr_assert_not_null(strstr(out, "clientcert=yes"), "%s", out);
	/* the server's certificate does not verify against tlsdestinations' CA */
	qmtps_files(ip, "otherca", "client-good");
	remote("x\n", out, sizeof(out), "alice@example.com", "x@elsewhere.test");
	snprintf(want, sizeof(want), "ZTLS connection to %s failed: ", ip);
	cr_assert(strncmp(out, want, strlen(want)) == 0, "%s", out);
}
