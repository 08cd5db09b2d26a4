/* SPDX-License-Identifier: MIT
 * home.c - where the qmail home is (control/, queue/, bin/, users/, alias/).
 *
 * Runs as:    every program.
 * Trusted:    QMAILHOME only when the process did not gain privileges at exec.
 * Hostile:    $QMAILHOME in a process that gained privileges at exec (AT_SECURE):
 *             ignored there.
 * May touch:  nothing.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/auxv.h>

#include "home.h"

const char *
home_dir(void)
{
	const char *env;

	if (getauxval(AT_SECURE) == 0 && (env = getenv("QMAILHOME")) && *env == '/')
		return env;
	return QMAIL_HOME;
}

int
home_path(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n, m;

	n = snprintf(out, size, "%s/", home_dir());
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	va_start(ap, fmt);
	m = vsnprintf(out + n, size - (size_t)n, fmt, ap);
	va_end(ap);
	if (m < 0 || (size_t)m >= size - (size_t)n) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}
