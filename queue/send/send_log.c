/* SPDX-License-Identifier: MIT
 * send_log.c - qmail-send's activity lines (qmail-log(5)) on its log fd.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    addresses and delivery reports: slog_safe maps them the way qmail's
 *             logsafe does (newline -> '/', other unsafe bytes and '%' -> '_').
 * May touch:  fd 0 (the log), set up with log_set_fd by main.
 */
#include <stdarg.h>
#include <stdio.h>

#include "log.h"
#include "send.h"

/* slog_safe - append s with qmail's logsafe mapping */
void
slog_safe(struct buf *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '\n')
			c = '/';
		else if (c < 33 || c > 126 || c == '%')
			c = '_';
		buf_catc(out, (char)c);
	}
}

#define SLOG_FN(name, logfn, prefix)					\
void								\
name(const char *fmt, ...)					\
{								\
	char line[LOG_LINE_MAX];				\
	va_list ap;						\
	va_start(ap, fmt);					\
	vsnprintf(line, sizeof(line), fmt, ap);			\
	va_end(ap);						\
	logfn("%s%s", prefix, line);					\
}

/* slog - an activity line ("new msg 42") */
SLOG_FN(slog, log_info, "")
/* slog_warn - "warning: ..." */
SLOG_FN(slog_warn, log_warning, "warning: ")
/* slog_alert - "alert: ..." */
SLOG_FN(slog_alert, log_err, "alert: ")
