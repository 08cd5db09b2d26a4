/* SPDX-License-Identifier: MIT */
#ifndef SQ_LOCAL_H
#define SQ_LOCAL_H

#include <sys/types.h>

#include "buf.h"
#include "spawn.h"	/* spawn_report_exit */

/* qmail-local [-nN] user homedir local dash ext domain sender defaultdelivery
 * The message is fd 0 (seekable).  The report goes to stdout: on success
 * "did F+W+P\n" (files, forwards, programs) and "qp N\n" after a forward;
 * on failure one line of text; exit 0, 100 (permanent) or 111 (temporary). */
struct local_ctx {
	int doit;			/* 0 with -n: print what would be done */
	const char *user, *homedir, *local, *dash, *ext, *host, *sender;
	const char *defaultdelivery;
	struct buf dtline;		/* "Delivered-To: local@host\n" */
	struct buf rpline;		/* "Return-Path: <sender>\n" */
	struct buf ufline;		/* "From sender date\n" for mbox */
	struct buf newsender;		/* sender of forwards (NEWSENDER) */
	struct buf safeext;		/* ext lowercased, '.' -> ':' */
	struct buf qmail;		/* .qmail file name found, for -n */
	int stop;			/* a program exited 99 */
	unsigned long nfile, nforward, nprogram;
	unsigned long forward_qp;
};

#define LOCAL_LINE_MAX 1000
#define LOCAL_ADDR_MAX 16384

/* local_rewind - seek the message (fd 0) back to its start, or die 111 */
void local_rewind(void);
/* local_run - do the delivery; returns only on success (exit 0 follows) */
void local_run(struct local_ctx *c);
/* local_quote - "Return-Path" form of an address: local part quoted if needed */
int local_quote(struct buf *out, const char *addr);
/* local_setup - build dtline, rpline, ufline, safeext and the environment */
void local_setup(struct local_ctx *c);

/* dot_qmail.c: find the .qmail file for dash+ext (qmail's -default cascade);
 * returns an open fd or -1 (none); sets DEFAULT; *forward_only from mode 0100 */
int dot_qmail_search(struct local_ctx *c, int *forward_only);
/* dot_qmail_exists - is there a .qmail<dash><ext><suffix>? (for -owner) */
int dot_qmail_exists(struct local_ctx *c, const char *suffix);
/* dot_qmail_lines - run every line of the .qmail text (NUL-free, LF-ended) */
void dot_qmail_lines(struct local_ctx *c, char *text, size_t len, int forward_only);

/* maildir.c */
/* maildir_deliver - tmp/ -> fsync -> link new/ -> fsync new/ -> unlink tmp/;
 * 0 or -1 with *why set to a qmail-style text */
int maildir_deliver(const char *dir, const struct buf *hdr, int msgfd,
    char *name, size_t namesize, const char **why);

/* mbox.c */
int mbox_deliver(const char *path, const struct buf *hdr, int msgfd, struct buf *why);

/* program.c: run |command with /bin/sh; returns the exit-code class */
void program_deliver(struct local_ctx *c, const char *command);
/* forward.c: all forward addresses at once through qmail-queue */
void forward_deliver(struct local_ctx *c, char **recips, size_t n);

#endif
