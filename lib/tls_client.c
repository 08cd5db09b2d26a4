/* SPDX-License-Identifier: MIT
 * tls_client.c - TLS client on a struct io for qmail-remote (STARTTLS,
 * SMTPS): trust store or CA file, host name checks with or without
 * wildcards, certificate pinning, client certificates.  Besides lib/tls.c
 * this is the only file that includes GnuTLS headers.
 *
 * Runs as:    qmailr, inside qmail-remote.
 * Trusted:    the caller's options (control files).
 * Hostile:    the server and everything it sends (certificates, records).
 * May touch:  the CA, certificate and key files named in the options.
 */
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_client.h"

struct tls_client_conn {
	gnutls_session_t s;
	gnutls_certificate_credentials_t cred;
	int verified;
};

static ssize_t
tls_client_read(struct io *io, void *p, size_t n, int timeout_ms)
{
	struct tls_client_conn *t = io->ctx;
	ssize_t r;

	gnutls_record_set_timeout(t->s, timeout_ms < 0 ? GNUTLS_INDEFINITE_TIMEOUT :
	    (unsigned)timeout_ms);
	for (;;) {
		r = gnutls_record_recv(t->s, p, n);
		if (r >= 0)
			return r;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED)
			continue;
		if (r == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		errno = r == GNUTLS_E_TIMEDOUT ? ETIMEDOUT : EPROTO;
		return -1;
	}
}

static ssize_t
tls_client_write(struct io *io, const void *p, size_t n, int timeout_ms)
{
	struct tls_client_conn *t = io->ctx;
	struct pollfd pfd = { .fd = io->wfd, .events = POLLOUT };
	ssize_t r;
	int pr;

	for (;;) {
		do
			pr = poll(&pfd, 1, timeout_ms);
		while (pr < 0 && errno == EINTR);
		if (pr == 0)
			errno = ETIMEDOUT;
		if (pr <= 0)
			return -1;
		r = gnutls_record_send(t->s, p, n);
		if (r >= 0)
			return r;
		if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
			errno = EPIPE;
			return -1;
		}
	}
}

static const struct io_transport tls_client_transport = { tls_client_read, tls_client_write };

/* tls_client_pin - does the server certificate's digest equal the hex pin? */
static int
tls_client_pin(gnutls_session_t s, const char *pin)
{
	unsigned n = 0;
	const gnutls_datum_t *der = gnutls_certificate_get_peers(s, &n);
	size_t pl = strlen(pin);
	gnutls_digest_algorithm_t alg = pl == 40 ? GNUTLS_DIG_SHA1 : pl == 56 ?
	    GNUTLS_DIG_SHA224 : pl == 64 ? GNUTLS_DIG_SHA256 : GNUTLS_DIG_SHA512;
	unsigned char md[64];
	char hex[129];

	if (der == NULL || n == 0 || (pl != 40 && pl != 56 && pl != 64 && pl != 128))
		return 0;
	if (gnutls_hash_fast(alg, der[0].data, der[0].size, md) < 0)
		return 0;
	for (size_t i = 0; i < pl / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return strncmp(hex, pin, pl) == 0;
}

/* tls_client_exact_name - the first certificate names host without wildcards */
static int
tls_client_exact_name(gnutls_session_t s, const char *host)
{
	unsigned n = 0;
	const gnutls_datum_t *der = gnutls_certificate_get_peers(s, &n);
	gnutls_x509_crt_t crt;
	int ok;

	if (der == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return 0;
	ok = gnutls_x509_crt_import(crt, &der[0], GNUTLS_X509_FMT_DER) >= 0 &&
	    gnutls_x509_crt_check_hostname2(crt, host, GNUTLS_VERIFY_DO_NOT_ALLOW_WILDCARDS);
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* tls_client_verify - apply the policy after the handshake: 0 or -1 (err set) */
static int
tls_client_verify(struct tls_client_conn *t, const struct tls_client_params *o,
    char *err, size_t errsize)
{
	unsigned status = 0;
	const char *name = o->verify >= TLS_VERIFY_WILDCARD ? o->servername : NULL;
	gnutls_datum_t txt;

	if (o->pin != NULL && *o->pin != '\0') {
		if (!tls_client_pin(t->s, o->pin)) {
			snprintf(err, errsize, "server certificate does not match the pinned fingerprint");
			return -1;
		}
		t->verified = 1;
		return 0;
	}
	if (o->verify == TLS_VERIFY_NONE)
		return 0;
	if (gnutls_certificate_verify_peers3(t->s, name, &status) < 0)
		status = GNUTLS_CERT_INVALID;
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status,
		    GNUTLS_CRT_X509, &txt, 0) >= 0) {
			snprintf(err, errsize, "certificate not accepted: %s", txt.data);
			gnutls_free(txt.data);
		} else
			snprintf(err, errsize, "certificate not accepted");
		return -1;
	}
	if (o->verify == TLS_VERIFY_NAME && !tls_client_exact_name(t->s, o->servername)) {
		snprintf(err, errsize, "certificate does not name %s exactly", o->servername);
		return -1;
	}
	t->verified = 1;
	return 0;
}

static int
tls_client_setup(struct tls_client_conn *t, const struct tls_client_params *o,
    char *err, size_t errsize)
{
	const char *prio = o->priority && *o->priority ? o->priority :
	    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
	int r;

	if (gnutls_certificate_allocate_credentials(&t->cred) < 0 ||
	    gnutls_init(&t->s, GNUTLS_CLIENT) < 0) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	if (o->cafile != NULL && *o->cafile != '\0')
		r = gnutls_certificate_set_x509_trust_file(t->cred, o->cafile, GNUTLS_X509_FMT_PEM);
	else
		r = gnutls_certificate_set_x509_system_trust(t->cred);
	if (r < 0 && o->verify != TLS_VERIFY_NONE) {
		snprintf(err, errsize, "cannot load CA %s: %s", o->cafile ? o->cafile : "(system)",
		    gnutls_strerror(r));
		return -1;
	}
	if (o->certfile != NULL && *o->certfile != '\0' &&
	    (r = gnutls_certificate_set_x509_key_file2(t->cred, o->certfile,
	    o->keyfile && *o->keyfile ? o->keyfile : o->certfile, GNUTLS_X509_FMT_PEM,
	    o->keypass, 0)) < 0) {
		snprintf(err, errsize, "cannot load client certificate %s: %s", o->certfile,
		    gnutls_strerror(r));
		return -1;
	}
	if ((r = gnutls_priority_set_direct(t->s, prio, NULL)) < 0 ||
	    (r = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred)) < 0) {
		snprintf(err, errsize, "bad TLS priorities %s: %s", prio, gnutls_strerror(r));
		return -1;
	}
	if (o->servername != NULL && *o->servername != '\0' && o->servername[0] != '[')
		gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, o->servername, strlen(o->servername));
	return 0;
}

static void
tls_client_free(struct tls_client_conn *t)
{
	if (t->s)
		gnutls_deinit(t->s);
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t);
}

/* tls_client_start - handshake within io's timeout, then the policy checks */
int
tls_client_start(struct io *io, const struct tls_client_params *o, char *err, size_t errsize)
{
	struct tls_client_conn *t = calloc(1, sizeof(*t));
	int r;

	if (t == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	if (io_pending(io) > 0) {
		snprintf(err, errsize, "server sent data before the TLS handshake");
		free(t);
		return -1;
	}
	if (tls_client_setup(t, o, err, errsize) < 0) {
		tls_client_free(t);
		return -1;
	}
	gnutls_transport_set_int2(t->s, io->rfd, io->wfd);
	gnutls_handshake_set_timeout(t->s, io->timeout ? io->timeout * 1000 : 0);
	do
		r = gnutls_handshake(t->s);
	while (r < 0 && gnutls_error_is_fatal(r) == 0);
	if (r < 0) {
		snprintf(err, errsize, "TLS handshake failed: %s", gnutls_strerror(r));
		tls_client_free(t);
		return -1;
	}
	if (tls_client_verify(t, o, err, errsize) < 0) {
		gnutls_alert_send(t->s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
		tls_client_free(t);
		return -1;
	}
	io_set_transport(io, &tls_client_transport, t);
	return 0;
}

/* tls_client_info - protocol, cipher suite and whether the peer was verified */
void
tls_client_info(const struct io *io, char *out, size_t size)
{
	struct tls_client_conn *t = io->ctx;
	char *desc;

	if (t == NULL || io->tr != &tls_client_transport) {
		snprintf(out, size, "no TLS");
		return;
	}
	desc = gnutls_session_get_desc(t->s);
	snprintf(out, size, "%s %s verified=%s",
	    gnutls_protocol_get_name(gnutls_protocol_get_version(t->s)),
	    desc ? desc : "?", t->verified ? "yes" : "no");
	gnutls_free(desc);
}

/* tls_client_end - close_notify without waiting for the answer */
void
tls_client_end(struct io *io)
{
	struct tls_client_conn *t = io->ctx;

	if (t == NULL || io->tr != &tls_client_transport)
		return;
	gnutls_bye(t->s, GNUTLS_SHUT_WR);
	tls_client_free(t);
	io->ctx = NULL;
}

/* tls_client_hmac_md5 - RFC 2195's digest, lower-case hex */
int
tls_client_hmac_md5(const char *key, size_t keylen, const char *msg, size_t msglen,
    char hex[33])
{
	unsigned char md[16];

	if (gnutls_hmac_fast(GNUTLS_MAC_MD5, key, keylen, msg, msglen, md) < 0)
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return 0;
}
