/* SPDX-License-Identifier: MIT */
#ifndef SQ_CLEAN_H
#define SQ_CLEAN_H

#include <stddef.h>
#include <time.h>

#define CLEAN_REQ_MAX 100	/* longest request qmail-send sends, with its NUL */
#define CLEAN_OSSIFIED 129600	/* 36 h: pid/ files older than this are dead */
#define CLEAN_PID_EVERY 30	/* requests between two pid/ sweeps */

/* Answers on fd 1, one byte per request (qmail's qmail-clean protocol). */
#define CLEAN_DONE '+'
#define CLEAN_FAILED '!'
#define CLEAN_MALFORMED 'x'

/* clean_request - act on one request (req[0..len), without its NUL) relative to the
 * queue directory: "foop/ID" removes intd/S/ID and mess/S/ID, "todo/ID" removes
 * intd/S/ID and todo/S/ID.  Returns the answer byte. */
char clean_request(const char *req, size_t len);
/* clean_pid - remove pid/ files last written before now - CLEAN_OSSIFIED; how many */
int clean_pid(time_t now);
/* clean_run - serve requests from fd in, answer on fd out, until EOF: an exit code */
int clean_run(const char *home, int in, int out);

#endif
