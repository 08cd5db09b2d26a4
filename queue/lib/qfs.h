/* SPDX-License-Identifier: MIT */
#ifndef SQ_QFS_H
#define SQ_QFS_H

#include <stddef.h>

/* The queue on disk is qmail's (s/qmail's big-todo layout): a message id is the
 * inode number of its mess/ file; mess, intd, todo, info, local and remote are
 * split into QFS_SPLIT subdirectories by id % QFS_SPLIT; bounce/ is flat. */
#define QFS_SPLIT 23

enum qfs_dir {
	QFS_MESS, QFS_INTD, QFS_TODO, QFS_INFO, QFS_LOCAL, QFS_REMOTE, QFS_BOUNCE
};

/* qfs_path - "DIR/SPLIT/ID" (or "bounce/ID") relative to the queue directory;
 * -1 if it does not fit */
int qfs_path(char *out, size_t size, enum qfs_dir dir, unsigned long id);
/* qfs_dirname - "mess", "intd", ... */
const char *qfs_dirname(enum qfs_dir dir);
/* qfs_is_split - does dir have the QFS_SPLIT subdirectories? */
int qfs_is_split(enum qfs_dir dir);

#endif
