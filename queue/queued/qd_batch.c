/* SPDX-License-Identifier: MIT
 * qd_batch.c - run group commits in threads, so that the next batch gathers
 * and starts syncing while the last one still waits for the disk.
 *
 * Runs as:    qmail-queued, the queue owner.
 * Hostile:    nothing: the clients handed over are complete messages.
 * May touch:  the queue through qd_commit.c; one eventfd.
 *
 * A batch's clients belong to its thread from QC_COMMIT until the thread sets
 * QC_DONE (release); the main loop reads the state with acquire, answers the
 * client and frees the slot.  Nothing else is shared.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "qd.h"

struct qd_batch {
	struct qd_client **c;
	size_t n;
	int use_syncfs;
};

static int qd_efd = -1;
static atomic_size_t qd_inflight;

/* qd_batch_init - the eventfd the main loop polls for finished batches */
int
qd_batch_init(void)
{
	qd_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (qd_efd < 0)
		log_err("qmail-queued: eventfd: %m");
	return qd_efd;
}

/* qd_batch_run - one batch's thread: commit, hand the clients back */
static void *
qd_batch_run(void *arg)
{
	struct qd_batch *b = arg;
	uint64_t one = 1;

	qd_commit(b->c, b->n, b->use_syncfs);
	for (size_t k = 0; k < b->n; k++)
		__atomic_store_n(&b->c[k]->state, QC_DONE, __ATOMIC_RELEASE);
	atomic_fetch_sub(&qd_inflight, 1);
	if (write(qd_efd, &one, sizeof(one)) < 0) {
		/* the counter cannot overflow with one write per batch */
	}
	free(b->c);
	free(b);
	return NULL;
}

/* qd_batch_start - commit c[0..n) (already QC_COMMIT) in a new thread; if no
 * thread can be made, commit here: either way the clients end QC_DONE */
void
qd_batch_start(struct qd_client **c, size_t n, int use_syncfs)
{
	struct qd_batch *b = malloc(sizeof(*b));
	pthread_attr_t attr;
	pthread_t tid;
	int r = -1;

	if (b != NULL && (b->c = malloc(n * sizeof(*c))) != NULL) {
		for (size_t k = 0; k < n; k++)
			b->c[k] = c[k];
		b->n = n;
		b->use_syncfs = use_syncfs;
		atomic_fetch_add(&qd_inflight, 1);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		r = pthread_create(&tid, &attr, qd_batch_run, b);
		pthread_attr_destroy(&attr);
		if (r == 0)
			return;
		atomic_fetch_sub(&qd_inflight, 1);
		free(b->c);
	}
	free(b);
	log_warning("qmail-queued: no thread for a batch, committing in line");
	qd_commit(c, n, use_syncfs);
	for (size_t k = 0; k < n; k++)
		__atomic_store_n(&c[k]->state, QC_DONE, __ATOMIC_RELEASE);
}

/* qd_batch_inflight - batches whose threads have not finished */
size_t
qd_batch_inflight(void)
{
	return atomic_load(&qd_inflight);
}

/* qd_batch_drain - reset the eventfd after it polled readable */
void
qd_batch_drain(void)
{
	uint64_t v;

	if (read(qd_efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_warning("qmail-queued: read eventfd: %m");
}
