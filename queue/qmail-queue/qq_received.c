/* SPDX-License-Identifier: MIT
 * qq_received.c - qmail-queue's own Received line.
 *
 * Runs as:    qmail-queue.
 * Hostile:    nothing: the line holds only our pid, the caller's uid and the time.
 * May touch:  /etc/passwd (read, to name the caller's uid).
 */
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "qq.h"

/* qq_date822 - qmail's date822fmt: day month year hh:mm:ss, always UTC as -0000 */
size_t
qq_date822(char *out, size_t size, time_t when)
{
	static const char month[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun",
		"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
	};
	struct tm tm;
	int n;

	if (gmtime_r(&when, &tm) == NULL)
		return 0;
	n = snprintf(out, size, "%d %s %d %02d:%02d:%02d -0000", tm.tm_mday,
	    month[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* qq_received - "Received: (qmail PID invoked WHO); DATE\n" */
size_t
qq_received(char *out, size_t size, unsigned long pid, const char *who,
    unsigned long uid, time_t when)
{
	char date[64], by[64];
	int n;

	if (qq_date822(date, sizeof(date), when) == 0)
		return 0;
	if (who == NULL)
		snprintf(by, sizeof(by), "by uid %lu", uid);
	n = snprintf(out, size, "Received: (qmail %lu invoked %s); %s\n", pid,
	    who ? who : by, date);
	return n < 0 || (size_t)n >= size ? 0 : (size_t)n;
}

/* qq_invoker - qmail names three callers by their user: alias, qmaild, qmails.
 * One pass over /etc/passwd for our uid gives the answer of qmail's three
 * getpwnam() calls (unless two of those users share a uid) without NSS, so that
 * qmail-queue can be linked statically: qmail's users are system users, which
 * sysusers.d puts into /etc/passwd. */
const char *
qq_invoker(uid_t uid)
{
	return qq_invoker_in("/etc/passwd", uid);
}

/* qq_invoker_in - the same check against the passwd-format file path */
const char *
qq_invoker_in(const char *path, uid_t uid)
{
	static const char *const names[][2] = {
		{ "alias", "by alias" }, { "qmaild", "from network" }, { "qmails", "for bounce" },
	};
	const struct passwd *pw;
	const char *who = NULL;
	FILE *fp = fopen(path, "re");

	if (fp == NULL)
		return NULL;
	while (who == NULL && (pw = fgetpwent(fp)) != NULL) {
		if (pw->pw_uid != uid)
			continue;
		for (size_t i = 0; i < 3; i++)
			if (strcmp(pw->pw_name, names[i][0]) == 0)
				who = names[i][1];
	}
	fclose(fp);
	return who;
}
