/* SPDX-License-Identifier: MIT */
#ifndef SQ_TEST_SMTP_HARNESS_H
#define SQ_TEST_SMTP_HARNESS_H

#include <stddef.h>

/* A temp qmail home (control/me = test.example, rcpthosts = example.com and
 * .wild.example), QMAILQUEUE = qq-recorder.sh writing into <home>/rec. */
struct harness {
	char home[256];
	char rec[300];
};

extern struct harness H;
/* SOCK_STREAM, or SOCK_SEQPACKET to see each server write as one client read */
extern int harness_socktype;

void harness_setup(void);
void harness_teardown(void);
/* harness_control - write control/<file> (NULL content: remove it) */
void harness_control(const char *file, const char *content);
/* harness_read_rec - contents of <home>/rec/<name> (malloc'd, *len), NULL if none */
char *harness_read_rec(const char *name, size_t *len);

/* One session: the engine runs in a child on a socketpair; the client sends
 * all of input (then shuts down its write side unless keep_open), and reads
 * every reply until the server closes. */
struct session_result {
	char *out;		/* server bytes, NUL-terminated */
	size_t outlen;
	int exitcode;		/* engine's return (or 111: control error) */
	unsigned long nreads;	/* client reads that returned data */
};

void harness_session(const char *input, size_t n, int keep_open, struct session_result *r);
/* harness_crlf - client lines: every "\n" becomes CRLF (malloc'd) */
char *harness_crlf(const char *lines);
/* harness_norm - server output with CRLF -> LF, qp/time numbers -> N; -1 on a bare LF */
char *harness_norm(const char *out);

#endif
