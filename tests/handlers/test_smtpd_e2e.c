/* SPDX-License-Identifier: MIT
 * test_smtpd_e2e.c - the built qmail-smtpd under systemd-socket-activate, real clients.
 *
 * systemd-socket-activate --inetd -a runs one qmail-smtpd per connection with
 * the socket on fd 0/1, as a socket unit with Accept=yes does. Clients: swaks
 * and Python's smtplib over 127.0.0.1 (ports 34020-34029).
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "smtp_harness.h"

#define E2E_PORT 34020

static pid_t server = -1;

static void
stop_server(void)
{
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
		server = -1;
	}
	harness_teardown();
}

/* port_open - does "127.0.0.1:PORT" or "[::1]:PORT" accept connections? */
static int
port_open(const char *listen)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in s4 = { .sin_family = AF_INET };
	const char *colon = strrchr(listen, ':');
	int port = atoi(colon + 1), fd, r;

	if (listen[0] == '[') {
		s6.sin6_port = htons(port);
		inet_pton(AF_INET6, "::1", &s6.sin6_addr);
		fd = socket(AF_INET6, SOCK_STREAM, 0);
		r = connect(fd, (struct sockaddr *)&s6, sizeof(s6));
	} else {
		s4.sin_port = htons(port);
		inet_pton(AF_INET, "127.0.0.1", &s4.sin_addr);
		fd = socket(AF_INET, SOCK_STREAM, 0);
		r = connect(fd, (struct sockaddr *)&s4, sizeof(s4));
	}
	close(fd);
	return r == 0;
}

static int
have(const char *prog)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

/* start_server - systemd-socket-activate on 127.0.0.1:port running qmail-smtpd */
static void
start_server_at(const char *listen)
{
	const char *build = getenv("SQ_BUILDDIR");
	char prog[512], log[512];
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	if (!have("systemd-socket-activate"))
		cr_skip_test("systemd-socket-activate not installed");
	snprintf(prog, sizeof(prog), "%s/handlers/smtpd/qmail-smtpd", build ? build : ".");
	snprintf(log, sizeof(log), "%s/server.log", H.home);
	unsetenv("TCPREMOTEIP");	/* the peer comes from getpeername(0) */
	server = fork();
	cr_assert_neq(server, -1);
	if (server == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		execlp("systemd-socket-activate", "systemd-socket-activate", "--inetd", "-a",
		    "-l", listen, "-E", "QMAILHOME", "-E", "QMAILQUEUE", "-E", "QQREC",
		    prog, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250 && !port_open(listen); i++)
		nanosleep(&ts, NULL);
	cr_assert(port_open(listen), "server did not start on %s", listen);
}

static void
start_server(int port)
{
	char listen[64];

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	start_server_at(listen);
}

TestSuite(e2e, .init = harness_setup, .fini = stop_server, .timeout = 40);

Test(e2e, swaks)
{
	char cmd[1024], *msg, *env;
	size_t envlen;

	if (!have("swaks"))
		cr_skip_test("swaks not installed");
	start_server(E2E_PORT);
	snprintf(cmd, sizeof(cmd), "swaks --server 127.0.0.1:%d --helo swaks.test "
	    "--from sender@b.test --to alice@example.com --header 'Subject: e2e' "
	    "--body 'line one\n.dot line\nend' >%s/swaks.out 2>&1", E2E_PORT, H.home);
	cr_assert_eq(system(cmd), 0, "swaks failed, see %s/swaks.out", H.home);
	msg = harness_read_rec("msg", NULL);
	cr_assert_not_null(msg);
	cr_assert(strncmp(msg, "Received: from unknown (HELO swaks.test) (127.0.0.1)\n"
	    "  by test.example with SMTP; ", 81) == 0, "%s", msg);
	cr_assert_not_null(strstr(msg, "\nSubject: e2e\n"), "%s", msg);
	cr_assert_not_null(strstr(msg, "\n\nline one\n.dot line\nend\n"), "%s", msg);
	cr_assert_null(strchr(msg, '\r'));
	env = harness_read_rec("env", &envlen);
	cr_assert_eq(envlen, sizeof("Fsender@b.test\0Talice@example.com\0"));
	cr_assert(memcmp(env, "Fsender@b.test\0Talice@example.com\0\0", envlen) == 0);
	free(msg);
	free(env);
}

Test(e2e, python_smtplib)
{
	char cmd[4096], *msg;
	static const char script[] =
	    "import smtplib, sys\n"
	    "s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.test')\n"
	    "code, _ = s.ehlo()\n"
	    "assert code == 250\n"
	    "for x in ('pipelining', '8bitmime', 'size', 'enhancedstatuscodes'):\n"
	    "    assert s.has_extn(x), x\n"
	    "assert s.esmtp_features['size'] == '1000000'\n"
	    "try:\n"
	    "    s.sendmail('a@b.test', ['x@relay.test'], 'Subject: no\\r\\n\\r\\nno\\r\\n')\n"
	    "    sys.exit('relayed')\n"
	    "except smtplib.SMTPRecipientsRefused as e:\n"
	    "    assert e.recipients['x@relay.test'][0] == 553\n"
	    "body = 'Subject: py\\r\\n\\r\\n.leading dot\\r\\n..two\\r\\nend\\r\\n'\n"
	    "refused = s.sendmail('a@b.test', ['bob@example.com', 'x@relay.test'], body,\n"
	    "    mail_options=['BODY=8BITMIME'])\n"
	    "assert list(refused) == ['x@relay.test'], refused\n"
	    "try:\n"
	    "    s.sendmail('a@b.test', ['bob@example.com'], 'x' * 1000001)\n"
	    "    sys.exit('databytes not enforced')\n"
	    "except smtplib.SMTPSenderRefused as e:\n"
	    "    assert e.smtp_code == 552, e\n"
	    "s.quit()\n";
	FILE *fp;

	if (!have("python3"))
		cr_skip_test("python3 not installed");
	harness_control("databytes", "1000000\n");
	start_server(E2E_PORT + 1);
	snprintf(cmd, sizeof(cmd), "%s/client.py", H.home);
	fp = fopen(cmd, "w");
	cr_assert_not_null(fp);
	fputs(script, fp);
	fclose(fp);
	snprintf(cmd, sizeof(cmd), "python3 %s/client.py %d >%s/py.out 2>&1",
	    H.home, E2E_PORT + 1, H.home);
	cr_assert_eq(system(cmd), 0, "smtplib client failed, see %s/py.out", H.home);
	msg = harness_read_rec("msg", NULL);
	cr_assert_not_null(msg);
	cr_assert_not_null(strstr(msg, "(HELO py.test) (127.0.0.1)\n"), "%s", msg);
	cr_assert_not_null(strstr(msg, "\nSubject: py\n\n.leading dot\n..two\nend\n"), "%s", msg);
	free(msg);
}

/* over IPv6 the peer comes from getpeername(0) as well */
Test(e2e, ipv6_smtplib)
{
	char cmd[1024], *msg;
	int fd = socket(AF_INET6, SOCK_STREAM, 0);
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6 };

	inet_pton(AF_INET6, "::1", &s6.sin6_addr);
	if (fd < 0 || bind(fd, (struct sockaddr *)&s6, sizeof(s6)) < 0) {
		if (fd >= 0)
			close(fd);
		cr_skip_test("no IPv6 loopback here");
	}
	close(fd);
	if (!have("python3"))
		cr_skip_test("python3 not installed");
	start_server_at("[::1]:34022");
	snprintf(cmd, sizeof(cmd), "python3 -c \"import smtplib; s = smtplib.SMTP('::1', 34022, "
	    "local_hostname='v6.test'); s.sendmail('a@b.test', ['u@example.com'], "
	    "'Subject: v6\\r\\n\\r\\nhi\\r\\n'); s.quit()\" >%s/py6.out 2>&1", H.home);
	cr_assert_eq(system(cmd), 0, "client failed, see %s/py6.out", H.home);
	msg = harness_read_rec("msg", NULL);
	cr_assert_not_null(msg);
	cr_assert(strncmp(msg, "Received: from unknown (HELO v6.test) (::1)\n", 44) == 0, "%s", msg);
	free(msg);
}

/* under ucspi-tcp's tcpserver the peer and local name come from TCP* variables */
Test(e2e, tcpserver)
{
	const char *build = getenv("SQ_BUILDDIR");
	char prog[512], log[512], cmd[1024], *msg;
	struct timespec ts = { 0, 20 * 1000 * 1000 };

	if (!have("tcpserver") || !have("python3"))
		cr_skip_test("tcpserver or python3 not installed");
	snprintf(prog, sizeof(prog), "%s/handlers/smtpd/qmail-smtpd", build ? build : ".");
	snprintf(log, sizeof(log), "%s/server.log", H.home);
	unsetenv("TCPREMOTEIP");
	server = fork();
	cr_assert_neq(server, -1);
	if (server == 0) {
		if (freopen(log, "w", stderr) == NULL)
			_exit(127);
		execlp("tcpserver", "tcpserver", "-q", "-R", "-H", "-l", "mx.local.test",
		    "127.0.0.1", "34023", prog, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 250 && !port_open("127.0.0.1:34023"); i++)
		nanosleep(&ts, NULL);
	cr_assert(port_open("127.0.0.1:34023"), "tcpserver did not start");
	snprintf(cmd, sizeof(cmd), "python3 -c \"import smtplib; s = smtplib.SMTP('127.0.0.1', 34023, "
	    "local_hostname='tcp.test'); s.sendmail('a@b.test', ['u@example.com'], "
	    "'Subject: tcp\\r\\n\\r\\nhi\\r\\n'); s.quit()\" >%s/pytcp.out 2>&1", H.home);
	cr_assert_eq(system(cmd), 0, "client failed, see %s/pytcp.out", H.home);
	msg = harness_read_rec("msg", NULL);
	cr_assert_not_null(msg);
	cr_assert(strncmp(msg, "Received: from unknown (HELO tcp.test) (127.0.0.1)\n"
	    "  by mx.local.test with SMTP; ", 80) == 0, "%s", msg);
	free(msg);
}

/* count_queued - messages the handlers logged as queued (server.log) */
static int
count_queued(void)
{
	char path[512], line[2048];
	FILE *fp;
	int n = 0;

	snprintf(path, sizeof(path), "%s/server.log", H.home);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp))
		if (strstr(line, " Accept::DATA::Queued "))
			n++;
	fclose(fp);
	return n;
}

Test(e2e, msmtp)
{
	char cmd[1024], *msg;

	if (!have("msmtp"))
		cr_skip_test("msmtp not installed");
	start_server(E2E_PORT + 3);
	snprintf(cmd, sizeof(cmd), "printf 'Subject: msmtp\\n\\n.dot\\nbody\\n' | msmtp --host=127.0.0.1 "
	    "--port=%d --domain=msmtp.test --auth=off --tls=off --from=m@b.test "
	    "carol@example.com >%s/msmtp.out 2>&1", E2E_PORT + 3, H.home);
	cr_assert_eq(system(cmd), 0, "msmtp failed, see %s/msmtp.out", H.home);
	msg = harness_read_rec("msg", NULL);
	cr_assert_not_null(msg);
	cr_assert_not_null(strstr(msg, "(HELO msmtp.test) (127.0.0.1)\n"), "%s", msg);
	cr_assert_not_null(strstr(msg, "\nSubject: msmtp\n\n.dot\nbody\n"), "%s", msg);
	/* under systemd nobody sets TCPREMOTEIP: qmail-smtpd does, for queue filters */
	free(msg);
	msg = harness_read_rec("tcpvars", NULL);
	cr_assert_not_null(msg);
	cr_assert_str_eq(msg, "TCPREMOTEIP=127.0.0.1\nTCPLOCALIP=127.0.0.1\n");
	/* a refused recipient makes msmtp fail */
	snprintf(cmd, sizeof(cmd), "printf 'x\\n' | msmtp --host=127.0.0.1 --port=%d --auth=off "
	    "--tls=off --from=m@b.test x@relay.test >%s/msmtp2.out 2>&1", E2E_PORT + 3, H.home);
	cr_assert_neq(system(cmd), 0, "msmtp relayed");
	free(msg);
}

/* Postfix's load generator: 4 parallel sessions, 40 messages, 2 recipients each */
Test(e2e, postfix_smtp_source)
{
	char cmd[1024];

	if (!have("smtp-source") && access("/usr/sbin/smtp-source", X_OK) != 0)
		cr_skip_test("smtp-source (postfix) not installed");
	start_server(E2E_PORT + 4);
	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin smtp-source -s 4 -m 40 -r 2 -l 2000 "
	    "-M src.test -f s@b.test -t rcpt@example.com 127.0.0.1:%d >%s/source.out 2>&1",
	    E2E_PORT + 4, H.home);
	cr_assert_eq(system(cmd), 0, "smtp-source failed, see %s/source.out", H.home);
	cr_assert_eq(count_queued(), 40, "%d queued", count_queued());
	/* pipelined (-d: disconnect after each message is the default; -c counts) */
	snprintf(cmd, sizeof(cmd), "PATH=$PATH:/usr/sbin smtp-source -s 2 -m 10 -N "
	    "-f s@b.test -t rcpt@example.com 127.0.0.1:%d >>%s/source.out 2>&1",
	    E2E_PORT + 4, H.home);
	cr_assert_eq(system(cmd), 0, "smtp-source -N failed, see %s/source.out", H.home);
	cr_assert_eq(count_queued(), 50, "%d queued", count_queued());
}
