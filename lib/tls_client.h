/* SPDX-License-Identifier: MIT */
#ifndef SQ_TLS_CLIENT_H
#define SQ_TLS_CLIENT_H

#include <stddef.h>

#include "io.h"

/* The client side of TLS for qmail-remote (STARTTLS and SMTPS).  Written
 * beside lib/tls.c (the server side, issue 5) because its client entry
 * points were not there yet; when they are, this file can shrink into it. */

enum tls_client_verify {
	TLS_VERIFY_NONE = 0,	/* encrypt only */
	TLS_VERIFY_CHAIN,	/* chain to a trusted CA */
	TLS_VERIFY_WILDCARD,	/* chain and host name, wildcards allowed (RFC 6125) */
	TLS_VERIFY_NAME		/* chain and host name, exact match only */
};

struct tls_client_params {
	const char *servername;	/* SNI and name checks; NULL: none */
	const char *cafile;	/* PEM bundle; NULL or "": the system trust store */
	const char *priority;	/* GnuTLS priority string; NULL or "": default */
	const char *certfile;	/* client certificate (PEM); NULL: none */
	const char *keyfile;	/* its key; NULL: in certfile */
	const char *keypass;	/* password of an encrypted key, or NULL */
	enum tls_client_verify verify;
	const char *pin;	/* hex digest of the server certificate, or NULL */
};

/* tls_client_start - handshake on io's descriptors and switch io to TLS:
 * 0, or -1 with a reason in err (handshake, verification or pin failure) */
int tls_client_start(struct io *io, const struct tls_client_params *o, char *err, size_t errsize);
/* tls_client_info - "TLSv1.3 cipher=... verified=yes" for the log */
void tls_client_info(const struct io *io, char *out, size_t size);
/* tls_client_end - send close_notify (best effort) and free the session */
void tls_client_end(struct io *io);
/* tls_client_hmac_md5 - HMAC-MD5 of msg under key, as 32 hex digits (CRAM-MD5) */
int tls_client_hmac_md5(const char *key, size_t keylen, const char *msg, size_t msglen,
    char hex[33]);

#endif
