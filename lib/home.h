/* SPDX-License-Identifier: MIT */
#ifndef SQ_HOME_H
#define SQ_HOME_H

#include <stddef.h>

/* home_dir - the qmail home: $QMAILHOME unless running with raised
 * privileges (AT_SECURE), else the configure-time default */
const char *home_dir(void);
/* home_path - "<home>/<formatted>" into out; -1 (ENAMETOOLONG) if it does not fit */
int home_path(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
