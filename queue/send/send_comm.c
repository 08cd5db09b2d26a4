/* SPDX-License-Identifier: MIT
 * send_comm.c - buffered, nonblocking writes of delivery requests to the spawns.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    nothing; a spawn that stops reading only stalls its own channel.
 * May touch:  fds 1 (qmail-lspawn) and 3 (qmail-rspawn).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "send.h"

#define COMM_MAX (64 * 1024)	/* stop starting deliveries while this much waits */

int send_spawn_alive[CHANNELS] = { 1, 1 };
static const int comm_fd[CHANNELS] = { FD_LSPAWN_OUT, FD_RSPAWN_OUT };
static struct buf comm_out[CHANNELS];
static size_t comm_pos[CHANNELS];

/* spawn_dead - a spawn's pipe broke: qmail-send winds down */
void
spawn_dead(int chan)
{
	if (send_spawn_alive[chan] && !send_exiting)
		slog_alert("oh no! lost spawn connection! dying...");
	send_spawn_alive[chan] = 0;
	send_exiting = 1;
}

/* comm_queue - append a request for chan and try to write it at once */
void
comm_queue(int chan, const struct buf *req)
{
	buf_cat(&comm_out[chan], req->s, req->len);
	comm_flush(chan);
}

/* comm_pending - does chan have unwritten request bytes? */
int
comm_pending(int chan)
{
	return comm_out[chan].len > comm_pos[chan];
}

/* comm_canwrite - may another request be queued for chan? */
int
comm_canwrite(int chan)
{
	return send_spawn_alive[chan] && comm_out[chan].len - comm_pos[chan] < COMM_MAX;
}

/* comm_flush - write what the pipe takes now */
void
comm_flush(int chan)
{
	struct buf *b = &comm_out[chan];

	while (send_spawn_alive[chan] && comm_pos[chan] < b->len) {
		ssize_t w = write(comm_fd[chan], b->s + comm_pos[chan], b->len - comm_pos[chan]);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN)
			return;
		if (w <= 0) {
			spawn_dead(chan);
			break;
		}
		comm_pos[chan] += (size_t)w;
	}
	buf_reset(b);
	comm_pos[chan] = 0;
}
