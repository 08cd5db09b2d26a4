/* SPDX-License-Identifier: MIT
 * send_notify.c - systemd notifications: READY=1, STATUS= with the queue counts
 * (rate-limited), WATCHDOG=1 from the main loop when the unit asks for it.
 *
 * Runs as:    qmail-send (qmails), the unit's main process (qmail-start execs it).
 * Trusted:    NOTIFY_SOCKET and WATCHDOG_USEC from systemd.
 * Hostile:    nothing; the messages carry only counts.
 * May touch:  the notification socket only (sd_notify); nothing without NOTIFY_SOCKET.
 */
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <time.h>

#include "send.h"

#define STATUS_INTERVAL_MS 1000

static long long wd_interval_ms = -1;	/* half of WATCHDOG_USEC; -1: off */
static long long wd_next, status_next;
static char status_sent[160], status_want[160];

static long long
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* notify_init - READY=1 once the queue is scanned and the lock held */
void
notify_init(void)
{
	uint64_t usec;

	if (sd_watchdog_enabled(0, &usec) > 0 && usec >= 2000) {
		wd_interval_ms = (long long)(usec / 2000);
		wd_next = mono_ms() + wd_interval_ms;
	}
	sd_notify(0, "READY=1");
	notify_status(1);
}

/* notify_status - STATUS=queue: N messages, local L/LMAX, remote R/RMAX */
void
notify_status(int force)
{
	long long now = mono_ms();

	snprintf(status_want, sizeof(status_want),
	    "queue: %zu messages, local %u/%u, remote %u/%u", sched_messages(),
	    sched_used(CH_LOCAL), sched_limit(CH_LOCAL), sched_used(CH_REMOTE),
	    sched_limit(CH_REMOTE));
	if (strcmp(status_want, status_sent) == 0)
		return;
	if (!force && now < status_next)
		return;
	sd_notifyf(0, "STATUS=%s", status_want);
	memcpy(status_sent, status_want, sizeof(status_sent));
	status_next = now + STATUS_INTERVAL_MS;
}

/* notify_watchdog - WATCHDOG=1 when half the watchdog interval has passed */
void
notify_watchdog(void)
{
	long long now;

	if (wd_interval_ms < 0 || (now = mono_ms()) < wd_next)
		return;
	sd_notify(0, "WATCHDOG=1");
	wd_next = now + wd_interval_ms;
}

/* notify_wakeup_ms - how long the loop may sleep for the watchdog or a
 * held-back STATUS update; -1: no limit */
long long
notify_wakeup_ms(void)
{
	long long now = mono_ms(), w = -1;

	if (wd_interval_ms >= 0)
		w = wd_next > now ? wd_next - now : 0;
	if (strcmp(status_want, status_sent) != 0) {
		long long s = status_next > now ? status_next - now : 0;
		if (w < 0 || s < w)
			w = s;
	}
	return w;
}
