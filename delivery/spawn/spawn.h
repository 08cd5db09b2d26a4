/* SPDX-License-Identifier: MIT */
#ifndef SQ_SPAWN_H
#define SQ_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "buf.h"

/* qmail's spawn protocol, the spawn side (qmail-lspawn, qmail-rspawn).
 *
 * At start the spawn writes one byte: SPAWN_MAX, its maximum number of
 * concurrent deliveries.  Each request from qmail-send on fd 0 is
 *	slot (1 byte) | message file (relative to queue/mess: "SPLIT/ID") \0
 *	| sender \0 | recipient \0
 * and each answer on fd 1 is
 *	slot (1 byte) | report \0
 * where the report's first byte is K (delivered), Z (deferred) or D (failed)
 * and the rest is text for the log and the bounce.  Answers come in the order
 * deliveries finish. */
#define SPAWN_MAX 120
#define SPAWN_MESSID_MAX 100	/* longest message file name accepted */
#define SPAWN_ADDR_MAX 16384	/* longest sender or recipient accepted */

/* One delivery to start: the child gets fdmess as fd 0 and fdout as fd 1 and 2. */
struct spawn_request {
	int fdmess;
	int fdout;
	const char *sender;
	char *recipient;	/* writable; recipient[at] is the last '@' */
	size_t at;
};

struct spawn_ops {
	size_t output_max;	/* child output kept for the report */
	/* start - fork the delivery child; -1 with *why = "Z..."/"D..." text */
	pid_t (*start)(const struct spawn_request *req, const char **why);
	/* report - append K/Z/D + text for a finished child (wstat from waitpid) */
	void (*report)(struct buf *out, int wstat, const char *output, size_t len,
	    int truncated);
};

/* spawn_run - serve requests on infd, answers on outfd, until EOF and all
 * children are done; the cwd must be queue/mess; message files must be owned
 * by queue_uid.  Returns the exit code. */
int spawn_run(const struct spawn_ops *ops, int infd, int outfd, uid_t queue_uid);

/* spawn_report_exit - a delivery child's report line on fd 1, then _exit(code)
 * (code is 0, EXIT_PERM or EXIT_TEMP) */
void spawn_report_exit(int code, const char *fmt, ...)
    __attribute__((noreturn, format(printf, 2, 3)));

#endif
