/* SPDX-License-Identifier: MIT */
#ifndef SQ_EXITCODE_H
#define SQ_EXITCODE_H

/* Exit codes of delivery programs and .qmail commands (qmail-command(8)). */
#define EXIT_OK_STOP 99		/* success, skip the rest of .qmail */
#define EXIT_PERM 100		/* permanent failure */
#define EXIT_TEMP 111		/* temporary failure */

#endif
