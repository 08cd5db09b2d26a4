/* SPDX-License-Identifier: MIT */
#ifndef SQ_CDBFILE_H
#define SQ_CDBFILE_H

#include <stddef.h>

struct cdb_make;

/* What a line handler returns besides 0 (the line is taken or skipped). */
#define CDBFILE_BAD	(-1)	/* the line is wrong: exit 100, naming it */
#define CDBFILE_WRITE	(-2)	/* cdb_make_add failed: exit 111 */

/* cdbfile_compile - compile the text file src into a cdb: every line (with
 * its newline, at most linemax bytes) goes to add(cm, line, arg); the cdb is
 * written to tmp, synced and renamed over dst. On any error it logs, removes
 * tmp and exits (100 for a bad or too long line, 111 otherwise), so the old
 * dst stays in force. Returns 0. */
int cdbfile_compile(const char *src, const char *tmp, const char *dst, size_t linemax,
    int (*add)(struct cdb_make *cm, char *line, void *arg), void *arg);

#endif
