/* SPDX-License-Identifier: MIT
 * send_cleanup.c - debris: mess/ files older than 36 hours with neither info/ nor
 * todo/ (a qmail-queue that died, or a crash between states) go via qmail-clean.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    nothing.
 * May touch:  queue/mess/, info/, todo/ (stat only); qmail-clean ("foop/ID").
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <sys/stat.h>

#include "num.h"
#include "qfs.h"
#include "send.h"

#define CLEANUP_BATCH 256	/* directory entries looked at per loop round */

static DIR *cleanup_dir;
static int cleanup_split;
static time_t cleanup_time;	/* next scan; 0 until the first round */

static int
cleanup_exists(enum qfs_dir dir, unsigned long id)
{
	char fn[64];
	struct stat st;

	qfs_path(fn, sizeof(fn), dir, id);
	return stat(fn, &st) == 0 || errno != ENOENT;
}

static void
cleanup_one(unsigned long id, time_t now)
{
	char fn[64];
	struct stat st;

	qfs_path(fn, sizeof(fn), QFS_MESS, id);
	if (stat(fn, &st) < 0 || now <= st.st_atime + SEND_OSSIFIED)
		return;
	if (cleanup_exists(QFS_INFO, id) || cleanup_exists(QFS_TODO, id))
		return;
	snprintf(fn, sizeof(fn), "todo/%lu", id);
	if (stat(fn, &st) == 0)
		return;
	clean_request("foop", id);
}

/* cleanup_run - look at the next CLEANUP_BATCH entries of mess/ when a scan is due */
void
cleanup_run(time_t now)
{
	char dn[32];
	struct dirent *de;
	unsigned long id;

	if (cleanup_dir == NULL && now < cleanup_time)
		return;
	for (int n = 0; n < CLEANUP_BATCH && send_clean_alive && !send_exiting;) {
		if (cleanup_dir == NULL) {
			if (cleanup_split >= QFS_SPLIT) {
				cleanup_split = 0;
				cleanup_time = now + SEND_SLEEP_CLEANUP;
				return;
			}
			snprintf(dn, sizeof(dn), "mess/%d", cleanup_split++);
			if ((cleanup_dir = opendir(dn)) == NULL)
				continue;
		}
		if ((de = readdir(cleanup_dir)) == NULL) {
			closedir(cleanup_dir);
			cleanup_dir = NULL;
			continue;
		}
		n++;
		if (num_parse_uint(de->d_name, 1, (unsigned long)-1, &id) == 0)
			cleanup_one(id, now);
	}
}

/* cleanup_wakeup - when the next scan of mess/ is due (now while one runs) */
time_t
cleanup_wakeup(void)
{
	return cleanup_dir ? 0 : cleanup_time;
}
