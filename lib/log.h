/* SPDX-License-Identifier: MIT */
#ifndef SQ_LOG_H
#define SQ_LOG_H

#include <stdarg.h>

/* One line per call on stderr, with a sd-daemon "<N>" priority prefix.
 * Every byte below 0x20 and 0x7f is escaped by the logger (qmail's logsafe). */
#define LOG_LINE_MAX 2048

void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(int exitcode, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), noreturn));
void log_bug(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

void log_set_cleanup(void (*fn)(void));
void log_set_verbose(int level);
/* log_set_fd - write log lines to fd instead of 2 (qmail-send logs on its own fd) */
void log_set_fd(int fd);
/* log_escape - escape control bytes of p[0..n) into out (always NUL-terminated) */
size_t log_escape(char *out, size_t outsize, const char *p, size_t n);

#endif
