/* SPDX-License-Identifier: MIT */
#ifndef SQ_TLS_HARNESS_H
#define SQ_TLS_HARNESS_H

#include <stddef.h>
#include <sys/types.h>

/* Shared by the tls_run tests: a temp dir with a qmail home and certificates
 * (tls-setup.sh), one server per test, and the real clients. */

extern char tls_dir[256];	/* the test's temp dir */
extern pid_t tls_server;	/* the running tcpserver, or -1 */
extern int tls_port;		/* its port */

const char *tls_builddir(void);
const char *tls_srcdir(void);
/* tls_sh - run a shell command (printf format); its stdout in out; exit status */
int tls_sh(char *out, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* tls_setup, tls_teardown - .init and .fini of every tls test */
void tls_setup(void);
void tls_teardown(void);
/* tls_readfile - DIR/name (at most 64 KB), "" if missing; a static buffer */
char *tls_readfile(const char *name);
/* tls_port_open - does 127.0.0.1:p accept? */
int tls_port_open(int p);
/* tls_serve - tcpserver on p running qmail-smtpd with "VAR=val ..." and args */
void tls_serve(int p, const char *env, const char *args);
/* tls_serve_sa - the same under systemd-socket-activate; eopts: "-E VAR=val ..." */
void tls_serve_sa(int p, const char *eopts, const char *args);
/* tls_stop - stop the server tls_serve started */
void tls_stop(void);
/* tls_py - run tls_client.py SCENARIO [ARG] against tls_port; asserts exit 0 */
void tls_py(const char *scenario, const char *arg);

#endif
