/* SPDX-License-Identifier: MIT */
#ifndef SQ_TLS_INT_H
#define SQ_TLS_INT_H

/* Private to lib/tls.c and lib/tls_peer.c (the only GnuTLS users): one
 * session type and one transport for both roles. */

#include <gnutls/gnutls.h>

#include "tls.h"

#define TLS_PIN_MAX 128		/* hex digits of a SHA-512 */
/* TLS 1.2 and 1.3 only: appended to any priority string */
#define TLS_PRIO_VERSIONS ":-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

struct tls_ctx {
	int server;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_datum_t ticket;		/* shared ticket key, or size 0 */
	int has_ca;
	enum tls_clientcert cc;
	int verify;			/* client: enum tls_verify */
	char pin[TLS_PIN_MAX + 1];	/* client: pinned digest, or "" */
};

/* tls_ctx_new - an empty context (server or client) with its credentials */
struct tls_ctx *tls_ctx_new(int server);

struct tls_conn {
	gnutls_session_t s;
	int rfd, wfd;
	int server;
	int verified;		/* client: the server passed verify or pin */
};

/* tls_peer_check - the client's verdict on the server certificate after the
 * handshake (verify mode, pin): 0, or -1 with the reason in why */
int tls_peer_check(struct tls_conn *t, int verify, const char *pin, const char *host,
    char *why, size_t whysize);
/* tls_peer_info - the server's view of the client certificate, into i */
void tls_peer_info(const struct tls_conn *t, struct tls_info *i);
/* tls_pair_matches - does credential pair idx's key belong to its certificate?
 * 1 yes, 0 no, -1 cannot tell (tls_pair.c) */
int tls_pair_matches(gnutls_certificate_credentials_t cred, unsigned idx);
/* tls_peer_names - the peer certificate's DNS names or CN match host */
int tls_peer_names(const struct tls_conn *t, const char *host);

#endif
