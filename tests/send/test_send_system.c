/* SPDX-License-Identifier: MIT
 * test_send_system.c - qmail-send under a fake systemd (NOTIFY_SOCKET,
 * WATCHDOG_USEC), and the whole chain: qmail-queue -> qmail-start -> Maildir.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

static struct fx f;
static int nsock = -1;

static void
setup(void)
{
	fx_home(&f);
}

static void
teardown(void)
{
	fx_stop(&f);
	if (nsock >= 0)
		close(nsock);
	nsock = -1;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
}

TestSuite(system, .init = setup, .fini = teardown, .timeout = 30);

/* collect - notification datagrams for ms, joined with '|' */
static void
collect(char *out, size_t size, int ms)
{
	size_t n = strlen(out);
	struct pollfd p = { .fd = nsock, .events = POLLIN };
	struct timespec ts;
	long long end;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + ms;
	for (;;) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ms = (int)(end - (ts.tv_sec * 1000LL + ts.tv_nsec / 1000000));
		if (ms <= 0 || poll(&p, 1, ms) != 1)
			break;
		char b[512];
		ssize_t r = recv(nsock, b, sizeof(b) - 1, 0);
		if (r <= 0)
			break;
		b[r] = '\0';
		n += (size_t)snprintf(out + n, size - n, "%s|", b);
		if (n >= size)
			break;
	}
}

Test(system, sd_notify_ready_status_watchdog_reload_stop)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	static char got[16384];

	cr_assert_lt(strlen(f.home) + 8, sizeof(sa.sun_path));
	memcpy(sa.sun_path, f.home, strlen(f.home));
	memcpy(sa.sun_path + strlen(f.home), "/notify", 8);
	nsock = socket(AF_UNIX, SOCK_DGRAM, 0);
	cr_assert(nsock >= 0 && bind(nsock, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	setenv("WATCHDOG_USEC", "400000", 1);
	fx_start(&f, 10, 20);
	got[0] = '\0';
	collect(got, sizeof(got), 1100);
	cr_expect(strstr(got, "READY=1|") != NULL, "%s", got);
	cr_expect(strstr(got, "STATUS=queue: 0 messages, local 0/10, remote 0/20|") != NULL,
	    "%s", got);
	{
		int wd = 0;
		for (char *p = got; (p = strstr(p, "WATCHDOG=1")) != NULL; p++)
			wd++;
		cr_expect_geq(wd, 3, "%d watchdog pings in 1.1 s at WATCHDOG_USEC=400ms", wd);
	}
	got[0] = '\0';
	kill(f.send, SIGHUP);
	collect(got, sizeof(got), 300);
	cr_expect(strstr(got, "RELOADING=1\nMONOTONIC_USEC=") != NULL, "%s", got);
	cr_expect(strstr(got, "|READY=1|") != NULL, "%s", got);
	got[0] = '\0';
	kill(f.send, SIGTERM);
	collect(got, sizeof(got), 300);
	cr_expect(strstr(got, "STOPPING=1") != NULL, "%s", got);
	cr_expect_eq(fx_wait_exit(&f, 3000), 0);
}

static int
count_new(const char *home, const char *user)
{
	char path[512];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(path, sizeof(path), "%s/home/%s/Maildir/new", home, user);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int
queue_msg(const char *home, const char *env, size_t envlen)
{
	static const char msg[] = "Subject: chain\n\nthrough qmail-start\n";
	char prog[512];
	int mp[2], ep[2], st;
	pid_t pid;

	snprintf(prog, sizeof(prog), "%s/bin/qmail-queue", home);
	cr_assert(pipe(mp) == 0 && pipe(ep) == 0);
	if ((pid = fork()) == 0) {
		dup2(mp[0], 0);
		dup2(ep[0], 1);
		close(mp[1]);
		close(ep[1]);
		execl(prog, "qmail-queue", (char *)NULL);
		_exit(127);
	}
	close(mp[0]);
	close(ep[0]);
	cr_assert_eq(write(mp[1], msg, sizeof(msg) - 1), (ssize_t)sizeof(msg) - 1);
	close(mp[1]);
	cr_assert_eq(write(ep[1], env, envlen), (ssize_t)envlen);
	close(ep[1]);
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(system, qmail_queue_to_maildir_through_qmail_start)
{
	static const char env[] = "Fs@sender.test\0Talice@example.test\0Tbob@example.test\0";
	char prog[512];
	int logfd;

	if (geteuid() == 0 && getpwnam("qmails") != NULL)
		cr_skip_test("root with qmail's users: qmail-start would drop to them");
	snprintf(prog, sizeof(prog), "%s/bin/qmail-lspawn", f.home);
	if (access(prog, X_OK) != 0)
		cr_skip_test("qmail-lspawn not built");
	snprintf(prog, sizeof(prog), "%s/bin/qmail-start", f.home);
	logfd = open(f.logfn, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if ((f.send = fork()) == 0) {
		dup2(logfd, 1);
		dup2(logfd, 2);
		if (chdir(f.home) < 0)
			_exit(127);
		execl(prog, "qmail-start", "./Maildir/", (char *)NULL);
		_exit(127);
	}
	close(logfd);
	cr_assert(fx_wait_log(&f, "status: local 0/", 5000), "qmail-send did not start");
	cr_assert_eq(queue_msg(f.home, env, sizeof(env)), 0, "qmail-queue failed");
	cr_assert(fx_wait_log(&f, "end msg ", 10000), "message not delivered");
	cr_expect_eq(count_new(f.home, "alice"), 1);
	cr_expect_eq(count_new(f.home, "bob"), 1);
	cr_expect_eq(fx_log_count(&f, ": success: "), 2);
	kill(f.send, SIGTERM);	/* qmail-start became qmail-send: same pid */
	cr_expect_eq(fx_wait_exit(&f, 5000), 0);
	cr_expect(fx_log_count(&f, "status: exiting") == 1);
}

Test(system, qmail_start_logger_gets_the_log)
{
	char prog[512], cmd[600], out[560];
	size_t len;
	char *s;

	if (geteuid() == 0 && getpwnam("qmails") != NULL)
		cr_skip_test("root with qmail's users: qmail-start would drop to them");
	snprintf(prog, sizeof(prog), "%s/bin/qmail-lspawn", f.home);
	if (access(prog, X_OK) != 0)
		cr_skip_test("qmail-lspawn not built");
	snprintf(prog, sizeof(prog), "%s/bin/qmail-start", f.home);
	snprintf(out, sizeof(out), "%s/logger.out", f.home);
	snprintf(cmd, sizeof(cmd), "exec cat > %s", out);
	if ((f.send = fork()) == 0) {
		if (chdir(f.home) < 0)
			_exit(127);
		execl(prog, "qmail-start", "./Maildir/", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 300; i++) {
		s = fx_read(out, &len);
		if (strstr(s, "status: local 0/10 remote 0/") != NULL) {
			free(s);
			break;
		}
		free(s);
		usleep(10000);
	}
	s = fx_read(out, &len);
	cr_expect(strstr(s, "<6>status: local 0/10 remote 0/") != NULL, "logger got: %s", s);
	free(s);
	kill(f.send, SIGTERM);
	cr_expect_eq(fx_wait_exit(&f, 5000), 0);
}
