/* SPDX-License-Identifier: MIT
 * mdwatch.c - run a load client and time how long a Maildir takes to fill.
 *
 * Runs as:    the bench driver (bench/run), never installed, never in make check.
 * Hostile:    nothing; argv comes from bench/run.
 * Trusted:    argv, the watched directory.
 * May touch:  reads one directory; starts and may SIGKILL the client's group.
 *
 * usage: mdwatch NEWDIR COUNT TIMEOUT_S -- CLIENT [ARG...]
 * Starts CLIENT in its own process group and watches NEWDIR with inotify
 * (every link or rename into new/ is one event; a full recount each second
 * corrects any drift). Prints one line on stdout:
 *   client_s=T client_rc=N e2e_s=T delivered=N client_cpu_s=T
 * e2e_s is -1 when COUNT files were not there within TIMEOUT_S; a client
 * still running then is killed and client_s is negative. SIGTERM or SIGINT
 * ends the wait the same way at once.
 */
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MDWATCH_EVBUF	65536

static volatile sig_atomic_t mdwatch_stop;	/* SIGTERM or SIGINT seen */

struct mdwatch {
	const char	*dir;		/* the Maildir's new/ */
	long		 target;	/* files to wait for */
	double		 timeout;	/* seconds, client + delivery */
	long		 count;		/* files now in dir */
	double		 t_client;	/* client exit, -1 while running */
	double		 t_full;	/* target reached, -1 before */
	int		 client_rc;
};

/* mdwatch_onsignal - note a request to stop */
static void
mdwatch_onsignal(int sig)
{
	(void)sig;
	mdwatch_stop = 1;
}

/* mdwatch_now - monotonic seconds */
static double
mdwatch_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* mdwatch_count - entries in dir that do not start with a dot */
static long
mdwatch_count(const char *dir)
{
	DIR *d;
	struct dirent *e;
	long n = 0;

	if ((d = opendir(dir)) == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* mdwatch_drain - apply pending inotify events to the count */
static void
mdwatch_drain(struct mdwatch *w, int ifd)
{
	static char ev[MDWATCH_EVBUF] __attribute__((aligned(8)));
	const struct inotify_event *e;
	ssize_t r, off;

	while ((r = read(ifd, ev, sizeof(ev))) > 0) {
		for (off = 0; off < r; off += sizeof(*e) + e->len) {
			e = (const struct inotify_event *)(ev + off);
			if (e->mask & IN_Q_OVERFLOW)
				w->count = mdwatch_count(w->dir);
			else if (e->len > 0 && e->name[0] != '.') {
				if (e->mask & (IN_CREATE | IN_MOVED_TO))
					w->count++;
				else
					w->count--;
			}
		}
	}
}

/* mdwatch_reap - note the client's exit, if it has exited */
static void
mdwatch_reap(struct mdwatch *w, pid_t pid, double t0)
{
	int status;

	if (w->t_client >= 0 || waitpid(pid, &status, WNOHANG) != pid)
		return;
	w->t_client = mdwatch_now() - t0;
	w->client_rc = WIFEXITED(status) ? WEXITSTATUS(status) :
	    128 + WTERMSIG(status);
}

/* mdwatch_loop - wait for the client and for the Maildir to fill */
static int
mdwatch_loop(struct mdwatch *w, int ifd, pid_t pid, double t0)
{
	struct pollfd pfd = { .fd = ifd, .events = POLLIN };
	double last_recount = t0;
	int status;

	for (;;) {
		mdwatch_reap(w, pid, t0);
		if (w->t_full < 0) {
			mdwatch_drain(w, ifd);
			if (mdwatch_now() - last_recount > 1.0) {
				w->count = mdwatch_count(w->dir);
				last_recount = mdwatch_now();
			}
			/* events may be counted twice around the first
			 * count: only a full recount may end the wait */
			if (w->count >= w->target) {
				w->count = mdwatch_count(w->dir);
				last_recount = mdwatch_now();
				if (w->count >= w->target)
					w->t_full = last_recount - t0;
			}
		}
		if (w->t_client >= 0 && w->t_full >= 0)
			return 0;
		if (mdwatch_stop || mdwatch_now() - t0 > w->timeout)
			break;
		(void)poll(&pfd, 1, w->t_full < 0 ? 10 : 50);
	}
	if (w->t_client < 0) {
		(void)kill(-pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		w->t_client = -(mdwatch_now() - t0);
		w->client_rc = 128 + SIGKILL;
	}
	return 1;
}

/* mdwatch_cpu - user+system seconds of the reaped client and of mdwatch */
static double
mdwatch_cpu(void)
{
	struct rusage ch, self;

	getrusage(RUSAGE_CHILDREN, &ch);
	getrusage(RUSAGE_SELF, &self);
	return ch.ru_utime.tv_sec + ch.ru_utime.tv_usec / 1e6 +
	    ch.ru_stime.tv_sec + ch.ru_stime.tv_usec / 1e6 +
	    self.ru_utime.tv_sec + self.ru_utime.tv_usec / 1e6 +
	    self.ru_stime.tv_sec + self.ru_stime.tv_usec / 1e6;
}

int
main(int argc, char **argv)
{
	struct mdwatch w = { .t_client = -1, .t_full = -1, .client_rc = -1 };
	struct sigaction sa = { .sa_handler = mdwatch_onsignal };
	char *end;
	double t0;
	pid_t pid;
	int ifd;

	if (argc < 6 || strcmp(argv[4], "--") != 0) {
		fprintf(stderr, "usage: mdwatch NEWDIR COUNT TIMEOUT_S -- CLIENT [ARG...]\n");
		return 2;
	}
	w.dir = argv[1];
	w.target = strtol(argv[2], &end, 10);
	if (*end != '\0' || w.target < 0)
		return 2;
	w.timeout = strtod(argv[3], &end);
	if (*end != '\0' || w.timeout <= 0)
		return 2;
	ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0 || inotify_add_watch(ifd, w.dir, IN_CREATE | IN_MOVED_TO |
	    IN_DELETE | IN_MOVED_FROM) < 0) {
		fprintf(stderr, "mdwatch: inotify %s: %s\n", w.dir, strerror(errno));
		return 1;
	}
	w.count = mdwatch_count(w.dir);
	t0 = mdwatch_now();
	if ((pid = fork()) < 0) {
		fprintf(stderr, "mdwatch: fork: %s\n", strerror(errno));
		return 1;
	}
	if (pid == 0) {
		(void)setpgid(0, 0);
		execvp(argv[5], argv + 5);
		fprintf(stderr, "mdwatch: exec %s: %s\n", argv[5], strerror(errno));
		_exit(127);
	}
	(void)setpgid(pid, pid);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	(void)mdwatch_loop(&w, ifd, pid, t0);
	printf("client_s=%.3f client_rc=%d e2e_s=%.3f delivered=%ld client_cpu_s=%.3f\n",
	    w.t_client, w.client_rc, w.t_full, mdwatch_count(w.dir), mdwatch_cpu());
	return 0;
}
