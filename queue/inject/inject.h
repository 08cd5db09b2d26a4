/* SPDX-License-Identifier: MIT */
#ifndef SQ_INJECT_H
#define SQ_INJECT_H

#include <stddef.h>

#include "buf.h"

#define INJECT_HEADER_MAX (8UL * 1024 * 1024)	/* the whole header block */
#define INJECT_ADDR_MAX 1000			/* qmail-queue's limit per address */

/* Where the recipients come from (qmail-inject -a / -h; default: args if any). */
enum inject_rcpts { INJECT_RCPT_DEFAULT, INJECT_RCPT_ARGS, INJECT_RCPT_HEADER };

struct inject_opts {
	const char *sender;	/* -f: envelope sender ("" or "<>": null sender) */
	const char *from_addr;	/* sendmail -f: also the From: address if one is added */
	const char *fullname;	/* sendmail -F: the From: name */
	enum inject_rcpts mode;
	int print;		/* qmail-inject -n: print the message, queue nothing */
	char **args;		/* recipient arguments */
	int nargs;
	const char *prog;	/* for messages: "qmail-inject" or "sendmail" */
};

/* Names used to complete addresses (control files, environment overrides). */
struct inject_names {
	struct buf me, defaulthost, defaultdomain, idhost;
};

/* inject_names_load - control/me, defaulthost, defaultdomain, idhost (qmail's defaults) */
int inject_names_load(struct inject_names *n);
/* inject_qualify - addr with @defaulthost added if it has no @, and .defaultdomain
 * if its host has no dot (qmail-inject's rules); -1 if too long */
int inject_qualify(struct buf *out, const char *addr, const struct inject_names *n);

/* inject_addrlist - call fn for every address of an RFC 5322 address list
 * ("a@b, Name <c@d> (comment), group: e@f;"); -1 on bad syntax (unbalanced
 * quotes, brackets or comments) */
int inject_addrlist(const char *s, size_t len, void (*fn)(void *, const char *), void *arg);

/* The header block as read, with the facts injection needs. */
struct inject_hdr {
	struct buf text;	/* fields kept (Bcc and Resent-Bcc removed), LF line ends */
	struct buf to, resent_to;	/* NUL-separated To/Cc/Bcc (and Resent-) addresses */
	int has_date, has_msgid, has_from, has_resent;
	int bad;		/* an address field with bad syntax */
	struct buf pending;	/* first body line when the header ended without a blank line */
};

/* Line reader on a plain fd (stdin), CRLF turned into LF. */
struct inject_in {
	int fd;
	size_t pos, len;
	int eof, err;
	char buf[65536];
};

/* inject_hdr_read - read the header block; 0, or -1 (read error or too large) */
int inject_hdr_read(struct inject_in *in, struct inject_hdr *h);
/* inject_hdr_free - release a header */
void inject_hdr_free(struct inject_hdr *h);
/* inject_getline - one line, LF included (CRLF read as LF): 1, 0 at EOF, -1 error */
int inject_getline(struct inject_in *in, struct buf *line);

/* inject_run - compose and queue one message read from fd: an exit code (0/100/111) */
int inject_run(const struct inject_opts *o, int fd);

#endif
