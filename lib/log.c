/* SPDX-License-Identifier: MIT
 * log.c - journal-friendly logging: "<N>text\n" on stderr, control bytes escaped.
 *
 * Runs as:    every program.
 * Hostile:    the formatted arguments may carry client bytes; they are escaped here.
 * May touch:  fd 2 (or the fd set by log_set_fd).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static void (*log_cleanup)(void);
static int log_verbose;
static int log_fd = 2;

void
log_set_cleanup(void (*fn)(void))
{
	log_cleanup = fn;
}

void
log_set_verbose(int level)
{
	log_verbose = level;
}

void
log_set_fd(int fd)
{
	log_fd = fd;
}

/* log_escape - escape control bytes, newline as \n, others as \xNN */
size_t
log_escape(char *out, size_t outsize, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (outsize == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if (c >= 0x20 && c != 0x7f) {
			if (o + 1 >= outsize)
				break;
			out[o++] = (char)c;
		} else if (c == '\n') {
			if (o + 2 >= outsize)
				break;
			out[o++] = '\\';
			out[o++] = 'n';
		} else {
			if (o + 4 >= outsize)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

static void
log_vline(int prio, const char *fmt, va_list ap)
{
	char raw[LOG_LINE_MAX], line[LOG_LINE_MAX + 8];
	int saved_errno = errno;
	int n, len;

	n = vsnprintf(raw, sizeof(raw), fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(raw))
		n = sizeof(raw) - 1;
	len = snprintf(line, sizeof(line), "<%d>", prio);
	len += (int)log_escape(line + len, sizeof(line) - (size_t)len - 1,
	    raw, (size_t)n);
	line[len++] = '\n';
	/* one write per line keeps lines whole when several processes share fd 2 */
	if (write(log_fd, line, (size_t)len) < 0) {
		/* nowhere left to report */
	}
	errno = saved_errno;
}

#define LOG_FN(name, prio, cond)				\
void								\
name(const char *fmt, ...)					\
{								\
	va_list ap;						\
	if (!(cond))						\
		return;						\
	va_start(ap, fmt);					\
	log_vline(prio, fmt, ap);				\
	va_end(ap);						\
}

LOG_FN(log_debug, 7, log_verbose > 0)
LOG_FN(log_info, 6, 1)
LOG_FN(log_notice, 5, 1)
LOG_FN(log_warning, 4, 1)
LOG_FN(log_err, 3, 1)

/* log_fatal - log at <2>, run the cleanup hook, exit with exitcode */
void
log_fatal(int exitcode, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(2, fmt, ap);
	va_end(ap);
	if (log_cleanup) {
		void (*fn)(void) = log_cleanup;
		log_cleanup = NULL;
		fn();
	}
	exit(exitcode);
}

/* log_bug - internal inconsistency: log and abort */
void
log_bug(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vline(2, fmt, ap);
	va_end(ap);
	abort();
}
