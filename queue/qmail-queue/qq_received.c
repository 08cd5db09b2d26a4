/* SPDX-License-Identifier: MIT
 * qq_received.c - qmail-queue's own Received line.
 *
 * Runs as:    qmail-queue.
 * Hostile:    nothing: the line holds only our pid, the caller's uid and the time.
 * May touch:  the passwd database (one lookup of the caller's uid).
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
 * One reverse lookup of our uid gives the same answer as qmail's three forward
 * lookups (unless two of those users share a uid) at a third of the cost. */
const char *
qq_invoker(uid_t uid)
{
	const struct passwd *pw = getpwuid(uid);

	if (pw == NULL)
		return NULL;
	if (strcmp(pw->pw_name, "alias") == 0)
		return "by alias";
	if (strcmp(pw->pw_name, "qmaild") == 0)
		return "from network";
	if (strcmp(pw->pw_name, "qmails") == 0)
		return "for bounce";
	return NULL;
}
