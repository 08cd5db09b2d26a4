/* SPDX-License-Identifier: MIT
 * test_qmtpd_e2e.c - the built qmail-qmtpd under systemd-socket-activate with a
 * real QMTP client (tests/qmtpd/qmtp-client.py) over 127.0.0.1 (ports 39000-39019),
 * and the client rules file (tcprules).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "qmtp_harness.h"

#define E2E_PORT 39000

static int
have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* client - run qmtp-client.py; its exit status (0: every answer K) */
static int
client(int port, int count, const char *args, const char *body)
{
	const char *src = getenv("SQ_SRCDIR");
	char cmd[2048];

	snprintf(cmd, sizeof(cmd), "printf '%s' | python3 %s/tests/qmtpd/qmtp-client.py "
	    "127.0.0.1 %d %d %s >%s/client.out 2>&1", body, src ? src : ".", port, count,
	    args, Q.home);
	return system(cmd);
}

static char *
client_out(void)
{
	char path[512], *p = malloc(65536);
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/client.out", Q.home);
	fp = fopen(path, "r");
	cr_assert_not_null(fp);
	n = fread(p, 1, 65535, fp);
	p[n] = '\0';
	fclose(fp);
	return p;
}

TestSuite(qmtpd_e2e, .init = qh_setup, .fini = qh_teardown, .timeout = 40);

Test(qmtpd_e2e, python_client)
{
	char *msg, *env, *out, *all, *p;
	size_t envlen, n = 0;
	int port;

	if (!have("python3"))
		cr_skip_test("python3 not installed");
	port = qh_serve("handlers/qmtpd/qmail-qmtpd", E2E_PORT);
	cr_assert_eq(client(port, 1, "s@b.test alice@example.com bob@example.com",
	    "Subject: e2e\\n\\nline one\\n"), 0, "%s", client_out());
	msg = qh_read_rec("msg", NULL);
	cr_assert(strncmp(msg, "Received: from unknown (127.0.0.1)\n"
	    "  by test.example with QMTP; ", 62) == 0, "%s", msg);
	cr_assert_not_null(strstr(msg, "-0000\nSubject: e2e\n\nline one\n"), "%s", msg);
	env = qh_read_rec("env", &envlen);
	cr_assert(memcmp(env, "Fs@b.test\0Talice@example.com\0Tbob@example.com\0\0",
	    envlen) == 0);
	free(msg);
	free(env);
	/* socket-activated: the peer's address reaches queue filters */
	msg = qh_read_rec("tcpvars", NULL);
	cr_assert_not_null(strstr(msg, "TCPREMOTEIP=127.0.0.1\n"), "%s", msg);
	free(msg);
	/* CRLF form, five messages on one connection */
	cr_assert_eq(client(port, 5, "--crlf s@b.test alice@example.com",
	    "Subject: crlf\\n\\nbody\\n"), 0, "%s", client_out());
	all = qh_read_rec("all", NULL);
	for (p = all; (p = strstr(p, "Subject: crlf\n\nbody\n")) != NULL; p++)
		n++;
	cr_assert_eq(n, 5, "%s", all);
	cr_assert_null(strchr(all, '\r'));
	free(all);
	/* a refused domain: D, and the client says so */
	cr_assert_neq(client(port, 1, "s@b.test x@elsewhere.test", "x\\n"), 0);
	out = client_out();
	cr_assert(strncmp(out, "Dsorry, that domain", 19) == 0, "%s", out);
	free(out);
}

Test(qmtpd_e2e, rules_file)
{
	char cmd[1024], *out;
	int port;

	if (!have("tcprules") || !have("python3"))
		cr_skip_test("tcprules not installed");
	snprintf(cmd, sizeof(cmd), "cd %s/control && printf '127.0.0.1:allow,RELAYCLIENT=\"\"\\n"
	    ":deny\\n' | tcprules rules.qmtpd.cdb rules.tmp", Q.home);
	cr_assert_eq(system(cmd), 0);
	port = qh_serve("handlers/qmtpd/qmail-qmtpd", E2E_PORT + 1);
	cr_assert_eq(client(port, 1, "s@b.test x@elsewhere.test", "relay\\n"), 0,
	    "RELAYCLIENT from the rules: %s", client_out());
	snprintf(cmd, sizeof(cmd), "cd %s/control && printf ':deny\\n' | "
	    "tcprules rules.qmtpd.cdb rules.tmp", Q.home);
	cr_assert_eq(system(cmd), 0);
	snprintf(cmd, sizeof(cmd), "%s/env", Q.rec);
	unlink(cmd);
	cr_assert_neq(client(port, 1, "s@b.test alice@example.com", "x\\n"), 0);
	out = client_out();
	/* closed at once: EOF or a reset, depending on what was already sent */
	cr_assert(strstr(out, "Kok") == NULL && (strstr(out, "connection closed") != NULL ||
	    strstr(out, "ConnectionReset") != NULL), "denied: %s", out);
	cr_assert_null(qh_read_rec("env", NULL), "nothing queued");
	free(out);
}
