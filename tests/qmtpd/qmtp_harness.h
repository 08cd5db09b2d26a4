/* SPDX-License-Identifier: MIT */
#ifndef SQ_TEST_QMTP_HARNESS_H
#define SQ_TEST_QMTP_HARNESS_H

#include <stddef.h>

/* A temp qmail home (control/me = test.example, rcpthosts = example.com),
 * QMAILQUEUE = tests/handlers/qq-recorder.sh writing into <home>/rec. */
struct qharness {
	char home[256];
	char rec[300];
	int server;		/* pid of the systemd-socket-activate started by qh_serve */
	int port;		/* where it listens */
};

extern struct qharness Q;

void qh_setup(void);
/* qh_serve - systemd-socket-activate --inetd running $SQ_BUILDDIR/relprog on
 * 127.0.0.1:port, or port+50, +100... (ports in our range may be held by
 * someone's ephemeral socket) until one listens: that port. Skips the test
 * without systemd-socket-activate; qh_teardown stops the server. */
int qh_serve(const char *relprog, int port);
/* qh_serve_arg - the same with one argument for the program (NULL: none) and
 * $CREDENTIALS_DIRECTORY passed on, on port .. port+4 (h7q's range 39500-39599) */
int qh_serve_arg(const char *relprog, const char *arg, int port);
/* qh_serve_ip - the same on a fixed port (QMTPS is port 6209) of a loopback
 * address 127.0.95.x picked by pid, so parallel runs do not collide: that address */
const char *qh_serve_ip(const char *relprog, const char *arg, int port);
/* qh_server_log - the server's stderr (malloc'd), NULL if none */
char *qh_server_log(void);
void qh_teardown(void);
void qh_control(const char *file, const char *content);
/* qh_read_rec - <home>/rec/<name> (malloc'd, NUL-terminated, *len), NULL if none */
char *qh_read_rec(const char *name, size_t *len);

struct qh_result {
	char *out;		/* server bytes, NUL-terminated */
	size_t outlen;
	int exitcode;
	double seconds;		/* wall time of the session */
};

/* qh_session - serve(fd, fd) in a child on a socketpair; the client sends input
 * (n bytes), shuts its write side unless keep_open, reads until the server closes;
 * the child's stderr is appended to <home>/session.log */
void qh_session(int (*serve)(int, int), const char *input, size_t n, int keep_open,
    struct qh_result *r);

#endif
