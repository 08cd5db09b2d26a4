/* SPDX-License-Identifier: MIT
 * report_exit.c - the last words of a delivery child: one report line on
 * fd 1, then the exit code that carries the verdict.
 *
 * Runs as:    qmail-lspawn's forked child (root or the recipient) and
 *             qmail-local (the recipient).
 * Hostile:    the text may quote the envelope; it goes to qmail-send's
 *             report pipe, which bounds and escapes it before logging.
 * May touch:  fd 1 only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "spawn.h"

/* spawn_report_exit - write the formatted text and a newline on fd 1, _exit */
void
spawn_report_exit(int code, const char *fmt, ...)
{
	char text[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > sizeof(text) - 2)
		n = sizeof(text) - 2;
	text[n++] = '\n';
	if (write(1, text, (size_t)n) < 0) {
		/* the report is lost; the exit code still tells qmail-send */
	}
	_exit(code);
}
