/* SPDX-License-Identifier: MIT */
#ifndef SQ_TEST_REMOTE_SUPPORT_H
#define SQ_TEST_REMOTE_SUPPORT_H

#include <stddef.h>
#include <sys/types.h>

/* Ports of the remote tests: 38000-38999 (38000-38099 here, 38100+ in the
 * namespace tests). */
#define T_PORT 38000

/* A scripted SMTP server in a child process: it accepts connections until
 * stopped and writes what it receives into a transcript file. */
struct fake_smtp {
	const char *greeting;	/* whole reply, "\r\n" ends included; NULL: "220 fake ESMTP\r\n" */
	const char *ehlo;	/* whole EHLO reply; NULL: 500 (client falls back to HELO) */
	const char *mail;	/* reply to MAIL; NULL: 250 */
	const char *data;	/* reply to DATA; NULL: 354 */
	const char *dot;	/* reply after the message; NULL: 250 */
	const char *auth;	/* reply to the last AUTH step; NULL: 235 */
	int drop_in_data;	/* close the connection after 2 lines of message */
	int silent;		/* accept and never answer */
	int drip;		/* a greeting that never ends, one byte per 100 ms */
	int tls;		/* (unused by the plain fake) */
};

/* t_home_new - fresh qmail home (mkhome.sh), removed at exit */
const char *t_home_new(void);
/* t_ctl - write control/NAME in home */
void t_ctl(const char *home, const char *name, const char *text);
/* t_fake_start - serve on 127.0.0.1:*port (or a later free port of the range,
 * stored back), transcript into path */
pid_t t_fake_start(unsigned *port, const struct fake_smtp *f, const char *path);
void t_fake_stop(pid_t pid);
/* t_remote - run qmail-remote host sender rcpt... (NULL-terminated) with the
 * message text on stdin; its output with NULs shown as '|' goes to out */
int t_remote(const char *home, const char *msg, char *out, size_t size, ...);
/* t_slurp - whole file */
char *t_slurp(const char *path);
void t_cleanup(void);

#endif
