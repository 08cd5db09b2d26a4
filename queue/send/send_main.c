/* SPDX-License-Identifier: MIT
 * send_main.c - qmail-send's loop: poll on the trigger, the spawns' report pipes
 * and a self-pipe for signals; todo batches, deliveries and cleanups in turn.
 *
 * Runs as:    qmail-send (qmails), started by qmail-start with fds 0-6 wired.
 * Hostile:    spawn reports (bounded); bytes written to lock/trigger (ignored).
 * Trusted:    the queue, control files, the environment systemd set (NOTIFY_SOCKET).
 * May touch:  queue/ (cwd), fds 0-6, the systemd notification socket.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "mail/exitcode.h"
#include "send.h"

static volatile sig_atomic_t flag_term, flag_alrm, flag_hup;
static int sig_pipe[2] = { -1, -1 };
static int trigger_fd = -1;
static time_t trigger_retry;
static const int chan_in[CHANNELS] = { FD_LSPAWN_IN, FD_RSPAWN_IN };
static const int chan_out[CHANNELS] = { FD_LSPAWN_OUT, FD_RSPAWN_OUT };
static int chan_closed[CHANNELS];
static struct report reports[CHANNELS];

static void
on_signal(int sig)
{
	int saved = errno;

	if (sig == SIGTERM)
		flag_term = 1;
	else if (sig == SIGALRM)
		flag_alrm = 1;
	else if (sig == SIGHUP)
		flag_hup = 1;
	if (write(sig_pipe[1], "", 1) < 0) {
		/* the pipe is full: a wakeup is pending anyway */
	}
	errno = saved;
}

static void
signals_init(void)
{
	struct sigaction sa;

	if (pipe2(sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		log_fatal(EXIT_TEMP, "alert: cannot start: unable to create pipe: %m");
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGCHLD, &sa, NULL);
}

/* trigger_open - (re)open lock/trigger for reading without blocking */
static void
trigger_open(void)
{
	if (trigger_fd >= 0)
		close(trigger_fd);
	trigger_fd = open("lock/trigger", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (trigger_fd < 0)
		slog_warn("unable to open lock/trigger: %s", strerror(errno));
}

/* trigger_drain - read what writers left; reopen after EOF (no writer left) */
static void
trigger_drain(short revents)
{
	char b[256];
	ssize_t n;
	int eof = (revents & POLLHUP) != 0;

	while ((n = read(trigger_fd, b, sizeof(b))) > 0)
		;
	if (n == 0 || eof)
		trigger_open();
	todo_trigger();
}

/* spawn_input - reports from chan's spawn */
static void
spawn_input(int c)
{
	char b[4096];
	ssize_t n = read(chan_in[c], b, sizeof(b));
	size_t pos = 0, used;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		spawn_dead(c);
		return;
	}
	while (pos < (size_t)n) {
		if (spawn_report_feed(&reports[c], b + pos, (size_t)n - pos, &used)) {
			sched_report(c, reports[c].line.s, reports[c].line.len - 1);
			buf_reset(&reports[c].line);
		}
		pos += used;
	}
}

/* send_startup - lock, learn the spawns' slot counts, scan the queue */
static void
send_startup(void)
{
	unsigned int slots[CHANNELS];
	int fd;

	umask(077);
	signals_init();
	fd = open("lock/sendmutex", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		log_fatal(EXIT_TEMP, "alert: cannot start: unable to open mutex");
	if (flock(fd, LOCK_EX | LOCK_NB) < 0)
		log_fatal(EXIT_TEMP, "alert: cannot start: qmail-send is already running");
	for (int c = 0; c < CHANNELS; c++) {
		unsigned char ch;
		ssize_t r;
		do
			r = read(chan_in[c], &ch, 1);
		while (r < 0 && errno == EINTR);
		if (r < 1)
			log_fatal(EXIT_TEMP, "alert: cannot start: hath the daemon spawn no fire?");
		slots[c] = ch;
		if (fcntl(chan_out[c], F_SETFL, O_NONBLOCK) < 0)
			spawn_dead(c);
		buf_init(&reports[c].line, SEND_REPORT_MAX + 1);
	}
	/* children (qmail-queue for bounces) must not hold our pipes */
	for (fd = FD_LSPAWN_OUT; fd <= FD_CLEAN_IN; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	sched_init(slots);
	sched_scan();
	todo_init();
	trigger_open();
	notify_init();
}

static void
send_flags(time_t now)
{
	if (flag_term) {
		flag_term = 0;
		if (!send_exiting) {
			send_exiting = 1;
			sd_notify(0, "STOPPING=1");
			sched_status();
		}
	}
	if (flag_alrm) {
		flag_alrm = 0;
		sched_runasap(now);
	}
	if (flag_hup) {
		flag_hup = 0;
		struct timespec mono;
		clock_gettime(CLOCK_MONOTONIC, &mono);
		sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu",
		    (unsigned long long)mono.tv_sec * 1000000ULL +
		    (unsigned long long)mono.tv_nsec / 1000);
		if (send_conf_reload(&send_conf) < 0)
			slog_alert("unable to reread controls");
		sd_notify(0, "READY=1");
		notify_status(1);
	}
	/* at exit, the spawns learn by EOF that no more requests come */
	for (int c = 0; c < CHANNELS && send_exiting; c++)
		if (!chan_closed[c] && !comm_pending(c)) {
			close(chan_out[c]);
			chan_closed[c] = 1;
		}
}

static int
send_timeout(time_t now)
{
	long long ms, w = sched_wakeup(now);
	struct timespec ts;

	if (!send_exiting) {
		if (todo_pending())
			w = now;
		if (todo_wakeup() < w)
			w = todo_wakeup();
		if (cleanup_wakeup() < w)
			w = cleanup_wakeup();
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	ms = w * 1000LL - ((long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
	if (ms < 0)
		ms = 0;
	if (ms > 86400000LL)
		ms = 86400000LL;
	if (notify_wakeup_ms() >= 0 && notify_wakeup_ms() < ms)
		ms = notify_wakeup_ms();
	return (int)ms;
}

static void
send_poll(int timeout)
{
	struct pollfd p[8];
	int n = 0, itrig = -1, iin[CHANNELS], iout[CHANNELS];
	char b[64];

	p[n++] = (struct pollfd){ .fd = sig_pipe[0], .events = POLLIN };
	if (!send_exiting && trigger_fd >= 0) {
		itrig = n;
		p[n++] = (struct pollfd){ .fd = trigger_fd, .events = POLLIN };
	}
	for (int c = 0; c < CHANNELS; c++) {
		iin[c] = iout[c] = -1;
		if (!send_spawn_alive[c])
			continue;
		iin[c] = n;
		p[n++] = (struct pollfd){ .fd = chan_in[c], .events = POLLIN };
		if (comm_pending(c) && !chan_closed[c]) {
			iout[c] = n;
			p[n++] = (struct pollfd){ .fd = chan_out[c], .events = POLLOUT };
		}
	}
	if (poll(p, (nfds_t)n, timeout) < 0) {
		if (errno != EINTR)
			slog_warn("trouble in poll");
		return;
	}
	if (p[0].revents)
		while (read(sig_pipe[0], b, sizeof(b)) > 0)
			;
	if (itrig >= 0 && p[itrig].revents)
		trigger_drain(p[itrig].revents);
	for (int c = 0; c < CHANNELS; c++) {
		if (iout[c] >= 0 && p[iout[c]].revents)
			comm_flush(c);
		if (iin[c] >= 0 && p[iin[c]].revents)
			spawn_input(c);
	}
}

/* send_run - qmail-send's life: start, loop until told to stop and idle */
int
send_run(void)
{
	time_t now;

	send_startup();
	while (!send_exiting || sched_busy()) {
		now = time(NULL);
		send_flags(now);
		if (send_exiting && !sched_busy())
			break;
		if (trigger_fd < 0 && now >= trigger_retry) {
			trigger_open();		/* lock/trigger was missing: try again */
			trigger_retry = now + 60;
		}
		send_poll(send_timeout(now));
		now = time(NULL);
		send_flags(now);
		todo_run(now);
		sched_run(now);
		cleanup_run(now);
		sched_sync();
		notify_status(0);
		notify_watchdog();
	}
	sched_finish();
	slog("status: exiting");
	return 0;
}
