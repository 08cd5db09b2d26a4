/* SPDX-License-Identifier: MIT
 * e2e.h - end-to-end test helpers: a complete sqmail instance in a temp dir,
 * started and stopped with the scripts `make run` uses (sandbox-tools/sandbox.sh). */
#ifndef SQ_TESTS_E2E_H
#define SQ_TESTS_E2E_H

#include <limits.h>
#include <stddef.h>

#include "buf.h"

/* Ports of this test binary: the integ range of TEAM.md. */
#define E2E_PORT_FIRST	35000
#define E2E_PORT_LAST	35999

struct e2e {
	char dir[PATH_MAX];	/* the qmail home, a mkdtemp directory */
	int port;		/* SMTP on 127.0.0.1 (and [::1]) */
	int up;			/* started, so e2e_down must stop it */
};

/* e2e_srcdir, e2e_builddir - $SQ_SRCDIR and $SQ_BUILDDIR (set by make check) */
const char *e2e_srcdir(void);
const char *e2e_builddir(void);
/* e2e_sh - run a /bin/sh command line; stdout+stderr into out (may be NULL);
 * the exit status, or -1 if it did not exit normally */
int e2e_sh(struct buf *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* e2e_have - is PROGRAM on $PATH? */
int e2e_have(const char *program);
/* e2e_up - lay out and start an instance (asserts on failure, a program
 * that is not built included: sandbox.sh start names it) */
void e2e_up(struct e2e *e);
/* e2e_up_wrapped - the same, sandbox.sh run under the shell prefix wrap */
void e2e_up_wrapped(struct e2e *e, const char *wrap);
/* e2e_down - stop it (every process it started) and remove its directory */
void e2e_down(struct e2e *e);
/* e2e_wait_mail - wait up to tenths/10 s for a file in home/USER/Maildir/new
 * holding token; its content into content and its path into path: 0 or -1 */
int e2e_wait_mail(const struct e2e *e, const char *user, const char *token,
    int tenths, struct buf *content, struct buf *path);
/* e2e_token - a string unique to this test run, for finding its mail */
void e2e_token(char *out, size_t size, const char *label);
/* e2e_header - the first header line (with continuations) of msg starting with name */
int e2e_header(const char *msg, const char *name, struct buf *out);

#endif
