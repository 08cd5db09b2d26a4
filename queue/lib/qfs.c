/* SPDX-License-Identifier: MIT
 * qfs.c - names of queue files (qmail's layout with split subdirectories).
 *
 * Runs as:    qmail-queue, qmail-send, qmail-clean, queue tools.
 * Hostile:    nothing; ids come from inode numbers and queue file names.
 * May touch:  nothing (names only).
 */
#include <stdio.h>

#include "qfs.h"

static const char *const qfs_names[] = {
	[QFS_MESS] = "mess", [QFS_INTD] = "intd", [QFS_TODO] = "todo",
	[QFS_INFO] = "info", [QFS_LOCAL] = "local", [QFS_REMOTE] = "remote",
	[QFS_BOUNCE] = "bounce",
};

const char *
qfs_dirname(enum qfs_dir dir)
{
	return qfs_names[dir];
}

int
qfs_is_split(enum qfs_dir dir)
{
	return dir != QFS_BOUNCE;
}

/* qfs_path - queue-relative name of message id's file in dir */
int
qfs_path(char *out, size_t size, enum qfs_dir dir, unsigned long id)
{
	int n;

	if (qfs_is_split(dir))
		n = snprintf(out, size, "%s/%lu/%lu", qfs_names[dir], id % QFS_SPLIT, id);
	else
		n = snprintf(out, size, "%s/%lu", qfs_names[dir], id);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}
