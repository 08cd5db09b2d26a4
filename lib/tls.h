/* SPDX-License-Identifier: MIT */
#ifndef SQ_TLS_H
#define SQ_TLS_H

#include <stddef.h>

#include "io.h"

/* TLS on a struct io, GnuTLS in process (DESIGN.md decision 6). A tls_ctx holds
 * what is read before any peer byte (certificates, key, CA, priorities, the
 * session ticket key); tls_start() runs the handshake on the io's descriptors
 * and switches the io to TLS (the io's input buffer must be empty then).
 * TLS 1.2 and 1.3 only, whatever the priority string says.
 *
 * Server files (names documented in qmail-smtpd(8) and qmail-control(5)):
 *   $CREDENTIALS_DIRECTORY/NAME.pem + NAME.key         RSA (or any) chain + key
 *   $CREDENTIALS_DIRECTORY/NAME-ecdsa.pem + NAME-ecdsa.key   a second pair
 *   $CREDENTIALS_DIRECTORY/tls-ticket.key              64 random bytes, shared
 *   else control/servercert.pem (chain and key in one file, the qmail TLS
 *   patch's name), control/servercert-ecdsa.pem, control/tlsticketkey;
 *   control/clientca.pem (client CAs), control/tlspriorities (GnuTLS string). */

struct tls_ctx;

enum tls_clientcert {
	TLS_CC_NONE,		/* do not ask */
	TLS_CC_REQUEST,		/* ask (if a CA is configured); verify later */
	TLS_CC_REQUIRE		/* the handshake fails without a certificate */
};

struct tls_info {
	char protocol[16];	/* "TLSv1.3" (OpenSSL's names, as SSL_PROTOCOL had) */
	char cipher[96];	/* "TLS_AES_256_GCM_SHA384" (IANA name) */
	unsigned keybits;	/* symmetric key size */
	int resumed;		/* session resumed from a ticket */
	int has_client_cert;	/* the peer sent a certificate */
	int client_verified;	/* ... and it verified against the CA (time, chain, purpose) */
	char verify_why[96];	/* why not, for the log */
	char client_dn[512];	/* RFC 4514 subject DN */
	char client_cn[256];
	char client_email[256];
	int server_verified;	/* client side: the server passed verify or pin */
};

/* tls_server_init - load NAME's credentials: 1 ready, 0 no certificate
 * configured (*out NULL), -1 error (logged) */
int tls_server_init(struct tls_ctx **out, const char *name, enum tls_clientcert cc);
/* tls_server_has_ca - is a client CA file configured? */
int tls_server_has_ca(const struct tls_ctx *c);

/* Client side (qmail-remote's STARTTLS and SMTPS). The server's certificate
 * is checked after the handshake, by verify; a pin replaces the CA check. */
enum tls_verify {
	TLS_VERIFY_NONE = 0,	/* encrypt only */
	TLS_VERIFY_HOST,	/* chain and host name, wildcards allowed (RFC 6125) */
	TLS_VERIFY_CHAIN,	/* chain to a trusted CA, any name */
	TLS_VERIFY_NAME		/* chain and host name, exact match only */
};

struct tls_client_opts {
	const char *cafile;	/* PEM bundle; NULL or "": the system trust store */
	const char *priorities;	/* GnuTLS string; NULL or "": "NORMAL" */
	const char *certfile;	/* client certificate (PEM), or NULL */
	const char *keyfile;	/* its key; NULL: in certfile */
	const char *keypass;	/* password of an encrypted key, or NULL */
	int verify;		/* enum tls_verify */
	const char *pin;	/* hex SHA-1/224/256/512 of the server certificate, or NULL */
	char *why;		/* if not NULL: why tls_client_init failed */
	size_t whysize;
};
/* tls_client_init - a client context: 0, or -1 (logged, and in o->why) */
int tls_client_init(struct tls_ctx **out, const struct tls_client_opts *o);

/* tls_start - handshake on io (server or client by ctx; hostname for SNI and
 * verification on the client side), within timeout seconds. 0: io now speaks
 * TLS; -1: failed, reason in why (no secret in it), the io must be closed.
 * Bytes already buffered on io (sent before the handshake) make it fail. */
int tls_start(struct tls_ctx *c, struct io *io, const char *hostname, unsigned timeout,
    char *why, size_t whysize);
/* tls_get_info - details of the io's TLS session: 0, or -1 if it has none
 * (the client_* fields describe the peer's certificate on the server side) */
int tls_get_info(const struct io *io, struct tls_info *i);
/* tls_info_setenv - set SSL_PROTOCOL, SSL_CIPHER, SSL_CLIENT_VERIFY,
 * SSL_CLIENT_S_DN... as ucspi-ssl's sslserver does */
void tls_info_setenv(const struct tls_info *i);
/* tls_client_cert_names - does the peer's certificate name host? */
int tls_client_cert_names(const struct io *io, const char *host);
/* tls_end - close_notify (best effort) and free the session */
void tls_end(struct io *io);
/* tls_ctx_free - release a context */
void tls_ctx_free(struct tls_ctx *c);

/* tls_hmac_md5 - HMAC-MD5 (CRAM-MD5, RFC 2195): 0, or -1 */
int tls_hmac_md5(const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char out[16]);

#endif
