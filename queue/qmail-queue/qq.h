/* SPDX-License-Identifier: MIT */
#ifndef SQ_QQ_H
#define SQ_QQ_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"

/* qmail-queue's limits (qmail-limits(7)). */
#define QQ_ADDR_MAX 1000			/* bytes per envelope address */
#define QQ_ENVELOPE_MAX (64UL * 1024 * 1024)	/* whole envelope */
#define QQ_DEATH 86400				/* seconds before giving up (qmail's DEATH) */

/* Streaming parser of the envelope qmail-queue reads on fd 1:
 * F<sender>\0 T<rcpt>\0 ... \0.  The records (without the final \0) are
 * appended to out exactly as they go into the intd/todo file. */
struct qq_env {
	struct buf *out;
	size_t addrlen;		/* bytes of the current address so far */
	int have_from;		/* the F record was seen */
	unsigned long nrcpt;
	enum { QQ_ENV_TYPE, QQ_ENV_ADDR, QQ_ENV_DONE } state;
};

/* qq_env_init - start parsing into out (which is not reset) */
void qq_env_init(struct qq_env *e, struct buf *out);
/* qq_env_feed - parse p[0..n); *used gets the bytes consumed.
 * Returns 0 (need more), 1 (complete) or an enum qq_exit failure code. */
int qq_env_feed(struct qq_env *e, const char *p, size_t n, size_t *used);
/* qq_env_eof - the verdict when input ends before the record list did */
int qq_env_eof(const struct qq_env *e);
/* qq_env_read - read and parse a whole envelope from fd: 0 or an enum qq_exit code */
int qq_env_read(int fd, struct buf *out);

/* qq_received - qmail's line "Received: (qmail PID invoked ...); DATE\n" into out;
 * who is "by alias", "from network", "for bounce" or NULL for "by uid UID".
 * Returns its length, or 0 if it does not fit. */
size_t qq_received(char *out, size_t size, unsigned long pid, const char *who,
    unsigned long uid, time_t when);
/* qq_date822 - "25 Nov 2026 12:00:00 -0000" (UTC, qmail's date822fmt) */
size_t qq_date822(char *out, size_t size, time_t when);
/* qq_invoker - "by alias"/"from network"/"for bounce" if uid is that qmail user, else NULL */
const char *qq_invoker(uid_t uid);
/* qq_invoker_in - the same, looking in the passwd-format file path */
const char *qq_invoker_in(const char *path, uid_t uid);

/* qq_run - queue the message on msgfd with the envelope on envfd under <home>/queue.
 * Returns QQ_EXIT_OK once the message is durable in todo/, else the exit code;
 * nothing half-written is left behind on failure. */
int qq_run(const char *home, int msgfd, int envfd);

/* Who writes the message (qq_handoff.c). */
enum qq_route { QQ_ROUTE_DIRECT, QQ_ROUTE_WRITER, QQ_ROUTE_PREFER };
/* qq_route - direct when we own <home>/queue, else the writer (path: its socket);
 * QQ_ROUTE_PREFER: we own it but control/queuewriter asks for the writer */
int qq_route(const char *home, char *path, size_t size);
/* qq_handoff_connect - connect to the queue writer at path: the socket or -1 */
int qq_handoff_connect(const char *path);
/* qq_handoff - relay message and envelope to the writer on sock: its exit code */
int qq_handoff(int sock, int msgfd, int envfd);

#endif
