/* SPDX-License-Identifier: MIT
 * tls_peer.c - the client's context (trust store, client certificate,
 * priorities, policy) and its checks of the server's certificate (CA chain,
 * host name with or without wildcards, pinned digest); the server's view of
 * a client certificate (names, verification).
 *
 * Runs as:    the network handlers (qmaild); qmail-remote (qmailr).
 * Hostile:    the peer's certificates.
 * Trusted:    the CA, certificate and key files and the pin the caller configured.
 * May touch:  those files (read only), the TLS session.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "log.h"
#include "tls_int.h"

/* tls_client_fail - "what object: reason" into the log and o->why; -1 */
static int
tls_client_fail(const struct tls_client_opts *o, const char *what, const char *object, int r)
{
	if (o->why != NULL && o->whysize > 0)
		snprintf(o->why, o->whysize, "%s %s: %s", what, object, gnutls_strerror(r));
	log_err("%s %s: %s", what, object, gnutls_strerror(r));
	return -1;
}

/* tls_client_creds - trust store (needed only to verify) and client certificate */
static int
tls_client_creds(struct tls_ctx *c, const struct tls_client_opts *o)
{
	const char *key = o->keyfile && *o->keyfile ? o->keyfile : o->certfile;
	int r;

	if (o->cafile && *o->cafile)
		r = gnutls_certificate_set_x509_trust_file(c->cred, o->cafile, GNUTLS_X509_FMT_PEM);
	else if (o->verify != TLS_VERIFY_NONE)
		r = gnutls_certificate_set_x509_system_trust(c->cred);
	else
		r = 0;	/* encrypt only: no chain is checked, so the system store
			 * (~150 CAs, ~9 ms of CPU per process) is not read */
	if (r < 0 && o->verify != TLS_VERIFY_NONE)
		return tls_client_fail(o, "cannot load CA", o->cafile && *o->cafile ?
		    o->cafile : "(system)", r);
	if (o->certfile && *o->certfile && (r = gnutls_certificate_set_x509_key_file2(c->cred,
	    o->certfile, key, GNUTLS_X509_FMT_PEM, o->keypass, 0)) < 0)
		return tls_client_fail(o, "cannot load client certificate", o->certfile, r);
	return 0;
}

/* tls_client_init - trust store, optional client certificate, priorities, policy */
int
tls_client_init(struct tls_ctx **out, const struct tls_client_opts *o)
{
	struct tls_ctx *c;
	char prio[1024];
	int r;

	*out = NULL;
	if ((c = tls_ctx_new(0)) == NULL)
		return tls_client_fail(o, "set up", "TLS client", GNUTLS_E_MEMORY_ERROR);
	c->verify = o->verify;
	if (o->pin && snprintf(c->pin, sizeof(c->pin), "%s", o->pin) >= (int)sizeof(c->pin))
		c->pin[0] = '?';	/* too long: never matches */
	r = tls_client_creds(c, o);
	if (r == 0) {
		snprintf(prio, sizeof(prio), "%s%s", o->priorities && *o->priorities ?
		    o->priorities : "NORMAL", TLS_PRIO_VERSIONS);
		if ((r = gnutls_priority_init(&c->prio, prio, NULL)) < 0)
			r = tls_client_fail(o, "bad TLS priorities", prio, r);
	}
	if (r < 0) {
		tls_ctx_free(c);
		return -1;
	}
	*out = c;
	return 0;
}

static gnutls_x509_crt_t
tls_peer_crt(gnutls_session_t s)
{
	const gnutls_datum_t *d;
	gnutls_x509_crt_t crt;
	unsigned n = 0;

	d = gnutls_certificate_get_peers(s, &n);
	if (d == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &d[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
}

/* tls_peer_pin - the hex digest of the first certificate equals pin (its
 * length picks the hash: 40 SHA-1, 56 SHA-224, 64 SHA-256, 128 SHA-512) */
static int
tls_peer_pin(gnutls_session_t s, const char *pin)
{
	unsigned n = 0;
	const gnutls_datum_t *der = gnutls_certificate_get_peers(s, &n);
	size_t pl = strlen(pin);
	gnutls_digest_algorithm_t alg;
	unsigned char md[64];
	char hex[TLS_PIN_MAX + 1];

	switch (pl) {
	case 40: alg = GNUTLS_DIG_SHA1; break;
	case 56: alg = GNUTLS_DIG_SHA224; break;
	case 64: alg = GNUTLS_DIG_SHA256; break;
	case 128: alg = GNUTLS_DIG_SHA512; break;
	default: return 0;
	}
	if (der == NULL || n == 0 || gnutls_hash_fast(alg, der[0].data, der[0].size, md) < 0)
		return 0;
	for (size_t i = 0; i < pl / 2; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	return strncasecmp(hex, pin, pl) == 0;
}

/* tls_peer_exact - the first certificate names host, wildcards not counted */
static int
tls_peer_exact(gnutls_session_t s, const char *host)
{
	gnutls_x509_crt_t crt = tls_peer_crt(s);
	int ok;

	if (crt == NULL)
		return 0;
	ok = gnutls_x509_crt_check_hostname2(crt, host, GNUTLS_VERIFY_DO_NOT_ALLOW_WILDCARDS) != 0;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* tls_peer_check - verify (enum tls_verify) or pin, after the handshake */
int
tls_peer_check(struct tls_conn *t, int verify, const char *pin, const char *host,
    char *why, size_t whysize)
{
	const char *name = verify == TLS_VERIFY_HOST || verify == TLS_VERIFY_NAME ? host : NULL;
	gnutls_datum_t txt = { NULL, 0 };
	unsigned status = 0;

	if (pin != NULL && *pin != '\0') {
		if (!tls_peer_pin(t->s, pin)) {
			snprintf(why, whysize, "server certificate does not match the pinned fingerprint");
			return -1;
		}
		t->verified = 1;
		return 0;
	}
	if (verify == TLS_VERIFY_NONE)
		return 0;
	if (name != NULL && *name == '\0')
		name = NULL;
	if (gnutls_certificate_verify_peers3(t->s, name, &status) < 0)
		status = GNUTLS_CERT_INVALID;
	if (status != 0) {
		if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
		    &txt, 0) >= 0) {
			snprintf(why, whysize, "certificate not accepted: %s", (char *)txt.data);
			gnutls_free(txt.data);
		} else
			snprintf(why, whysize, "certificate not accepted");
		return -1;
	}
	if (verify == TLS_VERIFY_NAME && (name == NULL || !tls_peer_exact(t->s, name))) {
		snprintf(why, whysize, "certificate does not name %s exactly", host ? host : "");
		return -1;
	}
	t->verified = 1;
	return 0;
}

static void
tls_crt_names(gnutls_x509_crt_t crt, struct tls_info *i)
{
	gnutls_datum_t dn = { NULL, 0 };
	size_t n;
	int r;

	if (gnutls_x509_crt_get_dn3(crt, &dn, 0) >= 0) {
		snprintf(i->client_dn, sizeof(i->client_dn), "%.*s", (int)dn.size, dn.data);
		gnutls_free(dn.data);
	}
	n = sizeof(i->client_cn);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
	    i->client_cn, &n) < 0)
		i->client_cn[0] = '\0';
	n = sizeof(i->client_email);
	if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_PKCS9_EMAIL, 0, 0,
	    i->client_email, &n) >= 0)
		return;
	i->client_email[0] = '\0';
	/* else the first rfc822Name of the subject alternative names */
	for (unsigned k = 0; k < 16; k++) {
		n = sizeof(i->client_email) - 1;
		r = gnutls_x509_crt_get_subject_alt_name(crt, k, i->client_email, &n, NULL);
		if (r == GNUTLS_SAN_RFC822NAME) {
			i->client_email[n] = '\0';
			return;
		}
		if (r < 0 && r != GNUTLS_E_SHORT_MEMORY_BUFFER)
			break;
	}
	i->client_email[0] = '\0';
}

static void
tls_verify_client(const struct tls_conn *t, struct tls_info *i)
{
	gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
	    .data = (void *)GNUTLS_KP_TLS_WWW_CLIENT };
	gnutls_datum_t txt = { NULL, 0 };
	unsigned status = 0;

	if (gnutls_certificate_verify_peers(t->s, &purpose, 1, &status) < 0) {
		snprintf(i->verify_why, sizeof(i->verify_why), "verification error");
		return;
	}
	if (status == 0) {
		i->client_verified = 1;
		return;
	}
	if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &txt, 0) >= 0) {
		snprintf(i->verify_why, sizeof(i->verify_why), "%s", (char *)txt.data);
		gnutls_free(txt.data);
	}
}

/* tls_peer_info - the client certificate's names and verification */
void
tls_peer_info(const struct tls_conn *t, struct tls_info *i)
{
	gnutls_x509_crt_t crt = tls_peer_crt(t->s);

	if (crt == NULL)
		return;
	i->has_client_cert = 1;
	tls_crt_names(crt, i);
	gnutls_x509_crt_deinit(crt);
	tls_verify_client(t, i);
}

/* tls_peer_names - the peer certificate's DNS names or CN match host */
int
tls_peer_names(const struct tls_conn *t, const char *host)
{
	gnutls_x509_crt_t crt = tls_peer_crt(t->s);
	int ok;

	if (crt == NULL)
		return 0;
	ok = gnutls_x509_crt_check_hostname2(crt, host, 0) != 0;
	gnutls_x509_crt_deinit(crt);
	return ok;
}

/* tls_info_setenv - sslserver's SSL_* variables for queue filters and
 * checkpassword programs */
void
tls_info_setenv(const struct tls_info *i)
{
	char n[32];

	setenv("SSL_PROTOCOL", i->protocol, 1);
	setenv("SSL_CIPHER", i->cipher, 1);
	snprintf(n, sizeof(n), "%u", i->keybits);
	setenv("SSL_CIPHER_USEKEYSIZE", n, 1);
	setenv("SSL_CIPHER_ALGKEYSIZE", n, 1);
	setenv("SSL_CLIENT_VERIFY", !i->has_client_cert ? "NONE" :
	    i->client_verified ? "SUCCESS" : "FAILED", 1);
	if (i->has_client_cert) {
		setenv("SSL_CLIENT_S_DN", i->client_dn, 1);
		setenv("SSL_CLIENT_S_DN_CN", i->client_cn, 1);
		setenv("SSL_CLIENT_S_DN_Email", i->client_email, 1);
	}
}
