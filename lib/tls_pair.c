/* SPDX-License-Identifier: MIT
 * tls_pair.c - does a server certificate's key belong to it? Checked once per
 * process, before the first peer byte, without a private-key operation.
 *
 * Runs as:    the network handlers (qmaild), one process per connection.
 * Hostile:    nothing: only the configured credential files.
 * Trusted:    those files.
 * May touch:  nothing but the credentials structure (read only).
 */
#include <string.h>

#include <gnutls/x509.h>

#include "tls_int.h"

/* tls_pair_matches - compare the public key IDs of pair idx's first
 * certificate and of its key: 1 same, 0 different, -1 cannot tell. GnuTLS's
 * own check signs test data with the key: an RSA-2048 private operation, about
 * 4 ms that every per-connection process paid; this costs about 0.1 ms. */
int
tls_pair_matches(gnutls_certificate_credentials_t cred, unsigned idx)
{
	gnutls_x509_crt_t *crts = NULL;
	gnutls_x509_privkey_t key = NULL;
	unsigned char a[64], b[64];
	size_t la = sizeof(a), lb = sizeof(b);
	unsigned n = 0, i;
	int ok = -1;

	if (gnutls_certificate_get_x509_crt(cred, idx, &crts, &n) < 0)
		return -1;
	if (n > 0 && gnutls_certificate_get_x509_key(cred, idx, &key) == 0 &&
	    gnutls_x509_crt_get_key_id(crts[0], 0, a, &la) == 0 &&
	    gnutls_x509_privkey_get_key_id(key, 0, b, &lb) == 0)
		ok = la == lb && memcmp(a, b, la) == 0;
	for (i = 0; i < n; i++)
		gnutls_x509_crt_deinit(crts[i]);
	gnutls_free(crts);
	if (key)
		gnutls_x509_privkey_deinit(key);
	return ok;
}
