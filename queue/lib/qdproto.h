/* SPDX-License-Identifier: MIT */
#ifndef SQ_QDPROTO_H
#define SQ_QDPROTO_H

/* The wire format between qmail-queue and the queue writer qmail-queued
 * (doc/INTERNALS.md, "The queue writer").  Over an AF_UNIX stream socket the
 * client sends frames: one type byte, a 4-byte big-endian payload length
 * (1..QD_FRAME_MAX), the payload.  'M' frames carry the message bytes as
 * qmail-queue reads them on fd 0; then 'E' frames carry the envelope as it
 * reads it on fd 1, F<sender>\0T<rcpt>\0...\0, ending with the final \0.
 * The writer answers with one byte, qmail-queue's exit code, and closes. */
#define QD_FRAME_MESSAGE 'M'
#define QD_FRAME_ENVELOPE 'E'
#define QD_HEADER_LEN 5
#define QD_FRAME_MAX 65536

/* where the writer listens unless control/queuewriter names another path */
#define QD_SOCKET_DEFAULT "/run/sqmail/queue"

#endif
