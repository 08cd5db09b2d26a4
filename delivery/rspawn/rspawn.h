/* SPDX-License-Identifier: MIT */
#ifndef SQ_RSPAWN_H
#define SQ_RSPAWN_H

#include "buf.h"
#include "spawn.h"

#define RSPAWN_OUTPUT_MAX 65536	/* qmail-remote output kept per delivery */

struct rspawn_config {
	const char *remote;	/* path of qmail-remote ($QMAILREMOTE or <home>/bin/qmail-remote) */
};

void rspawn_setup(const struct rspawn_config *cfg);
/* rspawn_report - qmail-remote's recipient report (r/h/s) and message report
 * (K/Z/D), NUL-separated, turned into one K/Z/D report for qmail-send */
void rspawn_report(struct buf *out, int wstat, const char *output, size_t len, int truncated);

extern const struct spawn_ops rspawn_ops;

#endif
