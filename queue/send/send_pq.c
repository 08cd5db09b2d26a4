/* SPDX-License-Identifier: MIT
 * send_pq.c - binary min-heaps of (due time, message id) for qmail-send.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    nothing.
 * May touch:  memory only; running out of it is fatal (temporary, 111).
 */
#include <stdlib.h>

#include "log.h"
#include "mail/exitcode.h"
#include "send.h"

/* pq_insert - add (dt, id) */
void
pq_insert(struct pq *q, time_t dt, unsigned long id)
{
	size_t i;

	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct pq_elt *p = reallocarray(q->p, cap, sizeof(*p));
		if (p == NULL)
			log_fatal(EXIT_TEMP, "alert: out of memory");
		q->p = p;
		q->cap = cap;
	}
	i = q->len++;
	while (i > 0 && q->p[(i - 1) / 2].dt > dt) {
		q->p[i] = q->p[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	q->p[i].dt = dt;
	q->p[i].id = id;
}

/* pq_min - the earliest element, if any */
int
pq_min(const struct pq *q, struct pq_elt *out)
{
	if (q->len == 0)
		return 0;
	*out = q->p[0];
	return 1;
}

/* pq_delmin - remove the earliest element */
void
pq_delmin(struct pq *q)
{
	struct pq_elt last;
	size_t i = 0, c;

	if (q->len == 0)
		return;
	last = q->p[--q->len];
	while ((c = 2 * i + 1) < q->len) {
		if (c + 1 < q->len && q->p[c + 1].dt < q->p[c].dt)
			c++;
		if (q->p[c].dt >= last.dt)
			break;
		q->p[i] = q->p[c];
		i = c;
	}
	if (q->len > 0)
		q->p[i] = last;
}
