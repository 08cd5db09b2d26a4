/* SPDX-License-Identifier: MIT */
#ifndef SQ_LSPAWN_H
#define SQ_LSPAWN_H

#include <sys/types.h>

#include "buf.h"
#include "spawn.h"

#define LSPAWN_REPORT_MAX 3000	/* qmail-lspawn's cap on a report */

struct lspawn_config {
	const char *home;		/* the qmail home: users/cdb, bin/qmail-local */
	const char *defaultdelivery;	/* argv[1], passed to qmail-local */
	int allow_root;			/* deliver as uid 0 (sandbox homes only) */
};

/* lspawn_setup - configuration for lspawn_ops (kept by pointer) */
void lspawn_setup(const struct lspawn_config *cfg);
/* lspawn_report - K/Z/D from qmail-local's exit status, then its output */
void lspawn_report(struct buf *out, int wstat, const char *output, size_t len, int truncated);

extern const struct spawn_ops lspawn_ops;

#endif
