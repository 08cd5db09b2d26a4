/* SPDX-License-Identifier: MIT
 * tcpto.c - qmail's table of addresses whose connections time out
 * (queue/lock/tcpto), with qmail 1.03's rules: a timeout counts when it comes
 * at least two minutes after the last counted one (at most 10 are counted);
 * after two, the address is skipped for 64 to 97 minutes (the span depends
 * on the pid, so that not every qmail-remote retries at once); a connection
 * that works or is refused clears the count.  qmail-tcpto lists the table,
 * qmail-tcpok empties it.  The records are ours (IPv6 too), not qmail's.
 *
 * Runs as:    qmailr (qmail-remote), root or qmailr (qmail-tcpto, qmail-tcpok).
 * Trusted:    the table file (only qmailr writes it).
 * Hostile:    nothing; a short or odd file is read as far as it makes sense.
 * May touch:  queue/lock/tcpto (read, write under an fcntl lock).
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "remote.h"

#define TCPTO_AGAIN 120		/* a second timeout counts after this many seconds */
#define TCPTO_MAXFLAG 10	/* timeouts counted at most */

/* tcpto_period - how long a twice-timed-out address is skipped: qmail's
 * (60 + pid % 32) * 64 seconds, 3840 to 5824 */
static long
tcpto_period(void)
{
	return (60L + (getpid() & 31)) << 6;
}

struct tcpto_entry {
	uint8_t family;		/* 0: free */
	uint8_t flag;		/* consecutive timeouts */
	uint8_t pad[6];
	int64_t when;		/* time of the last counted timeout */
	unsigned char ip[16];
};

static int
tcpto_open(const char *path, int flags, struct tcpto_entry *t)
{
	struct flock fl = { .l_type = (short)(flags == O_RDONLY ? F_RDLCK : F_WRLCK),
	    .l_whence = SEEK_SET };
	int fd = open(path, flags | O_CLOEXEC, 0644);
	ssize_t n;

	memset(t, 0, sizeof(*t) * TCPTO_SIZE);
	if (fd < 0)
		return -1;
	if (fcntl(fd, F_SETLKW, &fl) < 0) {
		close(fd);
		return -1;
	}
	n = pread(fd, t, sizeof(*t) * TCPTO_SIZE, 0);
	if (n < 0)
		n = 0;
	memset((char *)t + n, 0, sizeof(*t) * TCPTO_SIZE - (size_t)n);
	return fd;
}

static int
tcpto_match(const struct tcpto_entry *e, const struct remote_addr *a)
{
	return e->family == a->family &&
	    memcmp(e->ip, a->ip, a->family == AF_INET ? 4 : 16) == 0;
}

/* tcpto_is_dead - skip this address? */
int
tcpto_is_dead(const char *path, const struct remote_addr *a, long now)
{
	struct tcpto_entry t[TCPTO_SIZE];
	int fd = tcpto_open(path, O_RDONLY, t), dead = 0;

	if (fd < 0)
		return 0;
	close(fd);
	for (int i = 0; i < TCPTO_SIZE; i++)
		if (tcpto_match(&t[i], a) && t[i].flag >= 2 && now - t[i].when < tcpto_period())
			dead = 1;
	return dead;
}

/* tcpto_err - record a connection outcome: timedout counts, anything else clears */
void
tcpto_err(const char *path, const struct remote_addr *a, int timedout, long now)
{
	struct tcpto_entry t[TCPTO_SIZE];
	int fd = tcpto_open(path, O_RDWR | O_CREAT, t), slot = -1, oldest = 0;

	if (fd < 0)
		return;
	for (int i = 0; i < TCPTO_SIZE; i++) {
		if (tcpto_match(&t[i], a))
			slot = i;
		/* qmail's choice for a new address: a free record, else the one
		 * whose last timeout plus 1024 s per counted timeout is oldest */
		if (t[oldest].family != 0 && t[oldest].flag != 0 && (t[i].family == 0 ||
		    t[i].flag == 0 || t[i].when + (t[i].flag << 10) <
		    t[oldest].when + (t[oldest].flag << 10)))
			oldest = i;
	}
	if (slot < 0 && !timedout) {
		close(fd);
		return;
	}
	if (!timedout)
		memset(&t[slot], 0, sizeof(t[slot]));
	else if (slot < 0 || t[slot].flag == 0) {
		slot = slot < 0 ? oldest : slot;
		memset(&t[slot], 0, sizeof(t[slot]));
		t[slot].family = (uint8_t)a->family;
		memcpy(t[slot].ip, a->ip, a->family == AF_INET ? 4 : 16);
		t[slot].flag = 1;
		t[slot].when = now;
	} else if (now - t[slot].when >= TCPTO_AGAIN) {
		if (t[slot].flag < TCPTO_MAXFLAG)
			t[slot].flag++;
		t[slot].when = now;
	} else {
		close(fd);	/* within two minutes of the last one: not counted */
		return;
	}
	(void)!pwrite(fd, &t[slot], sizeof(t[slot]), (off_t)(sizeof(t[0]) * (size_t)slot));
	close(fd);
}

/* tcpto_list - one line per recorded address */
int
tcpto_list(const char *path, struct buf *out, long now)
{
	struct tcpto_entry t[TCPTO_SIZE];
	int fd = tcpto_open(path, O_RDONLY, t);

	if (fd < 0)
		return -1;
	close(fd);
	for (int i = 0; i < TCPTO_SIZE; i++) {
		char ip[INET6_ADDRSTRLEN];
		struct remote_addr a = { .family = t[i].family };

		if ((t[i].family != AF_INET && t[i].family != AF_INET6) || t[i].flag == 0)
			continue;
		memcpy(a.ip, t[i].ip, 16);
		remote_addr_fmt(&a, ip, sizeof(ip));
		buf_printf(out, "%s timed out %lld seconds ago; # recent timeouts: %u\n",
		    ip, (long long)(now - t[i].when), t[i].flag);
	}
	return 0;
}

/* tcpto_clear - forget every address */
int
tcpto_clear(const char *path)
{
	struct tcpto_entry t[TCPTO_SIZE];
	int fd = tcpto_open(path, O_RDWR | O_CREAT, t), r;

	if (fd < 0)
		return -1;
	memset(t, 0, sizeof(t));
	r = pwrite(fd, t, sizeof(t), 0) == (ssize_t)sizeof(t) ? 0 : -1;
	close(fd);
	return r;
}
