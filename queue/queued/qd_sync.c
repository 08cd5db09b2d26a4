/* SPDX-License-Identifier: MIT
 * qd_sync.c - fsync many files at once, so that they share a journal commit.
 *
 * Runs as:    qmail-queued, the queue owner.
 * Hostile:    nothing: only descriptors of files this process wrote.
 * May touch:  the given descriptors (fsync only).
 *
 * Why threads: on ext4 (and XFS) an fsync that starts while the journal
 * transaction holding its inode is still open waits for that one commit and
 * its single cache flush; an fsync that starts after that transaction has
 * committed pays a cache flush of its own.  fsyncs called one after another
 * therefore cost one device flush each, even when the first commit already made
 * the others' data durable; fsyncs started together cost about one in all.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "qd.h"

#define QD_SYNC_THREADS 32	/* per batch; several batches may sync at once */

struct qd_job {
	const int *fd;
	int *err;
	size_t n;
	atomic_size_t next;
};

/* qd_sync_worker - take the next descriptor until none is left */
static void *
qd_sync_worker(void *arg)
{
	struct qd_job *job = arg;
	size_t i;

	while ((i = atomic_fetch_add(&job->next, 1)) < job->n)
		job->err[i] = fsync(job->fd[i]) < 0 ? errno : 0;
	return NULL;
}

/* qd_fsync_all - fsync fd[0..n) together; err[i] gets 0 or the errno of fd[i] */
void
qd_fsync_all(const int *fd, int *err, size_t n)
{
	pthread_t tid[QD_SYNC_THREADS];
	struct qd_job job = { .fd = fd, .err = err, .n = n };
	size_t started = 0;

	atomic_init(&job.next, 0);
	/* the calling thread is one of the workers */
	while (started + 1 < n && started < QD_SYNC_THREADS &&
	    pthread_create(&tid[started], NULL, qd_sync_worker, &job) == 0)
		started++;
	qd_sync_worker(&job);
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
}
