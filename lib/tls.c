/* SPDX-License-Identifier: MIT
 * tls.c - TLS sessions (server and client) on a struct io, on GnuTLS: credentials,
 * the record transport, HMAC-MD5. With tls_peer.c (the client's context and
 * certificate checks) the only gnutls user.
 *
 * Runs as:    the network handlers (qmaild), one process per connection; qmail-remote.
 * Hostile:    every byte from the peer, its certificates.
 * Trusted:    the credential and control files named in tls.h, read before any peer byte.
 * May touch:  the io's two descriptors; those files (read only).
 * Must not:   log key material, passwords or raw peer bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>

#include "buf.h"
#include "cfg.h"
#include "home.h"
#include "log.h"
#include "tls_int.h"

#define TLS_PRIO_DEFAULT "NORMAL:%SERVER_PRECEDENCE"
#define TLS_TICKET_KEY_SIZE 64

static int
tls_file(char *out, size_t size, const char *credname, const char *ctlname)
{
	const char *cd = getenv("CREDENTIALS_DIRECTORY");
	struct stat st;

	if (cd && *cd && credname) {
		snprintf(out, size, "%s/%s", cd, credname);
		/* one byte ("-", the port-25 unit's SetCredential= default for a
		 * missing file) is no credential: the control files are tried */
		if (stat(out, &st) == 0 && st.st_size > 1)
			return 1;
	}
	if (ctlname == NULL || home_path(out, size, "control/%s", ctlname) < 0)
		return 0;
	return access(out, F_OK) == 0;
}

static int
tls_prio(struct tls_ctx *c)
{
	struct buf p;
	const char *err = NULL;
	int r;

	buf_init(&p, 4096);
	if ((r = cfg_read_line("tlspriorities", &p)) < 0)
		log_err("read control/tlspriorities: %m");
	if (r <= 0 || buf_len(&p) == 0)
		buf_cpys(&p, TLS_PRIO_DEFAULT);
	if (r >= 0)
		r = buf_cats(&p, TLS_PRIO_VERSIONS);
	if (r >= 0 && (r = gnutls_priority_init(&c->prio, buf_str(&p), &err)) < 0)
		log_err("control/tlspriorities: %s near \"%.20s\"", gnutls_strerror(r),
		    err ? err : "");
	buf_free(&p);
	return r < 0 ? -1 : 0;
}

static int
tls_pair(struct tls_ctx *c, const char *name, const char *suffix, const char *ctl)
{
	char cn[256], kn[256], cert[4096], key[4096];
	int r;

	snprintf(cn, sizeof(cn), "%s%s.pem", name, suffix);
	snprintf(kn, sizeof(kn), "%s%s.key", name, suffix);
	if (tls_file(cert, sizeof(cert), cn, NULL)) {
		if (!tls_file(key, sizeof(key), kn, NULL)) {
			log_err("credential %s without %s", cn, kn);
			return -1;
		}
	} else if (tls_file(cert, sizeof(cert), NULL, ctl))
		memcpy(key, cert, sizeof(key));		/* chain and key in one file */
	else
		return 0;
	r = gnutls_certificate_set_x509_key_file(c->cred, cert, key, GNUTLS_X509_FMT_PEM);
	if (r < 0) {
		log_err("load %s: %s", cert, gnutls_strerror(r));
		return -1;
	}
	if (tls_pair_matches(c->cred, (unsigned)r) != 1) {
		log_err("load %s: the key does not belong to the certificate", cert);
		return -1;
	}
	return 1;
}

static int
tls_ticket_key(struct tls_ctx *c)
{
	char path[4096];
	unsigned char k[TLS_TICKET_KEY_SIZE + 1];
	ssize_t n;
	int fd;

	if (!tls_file(path, sizeof(path), "tls-ticket.key", "tlsticketkey"))
		return 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		log_err("open %s: %m", path);
		return -1;
	}
	n = read(fd, k, sizeof(k));
	close(fd);
	if (n != TLS_TICKET_KEY_SIZE) {
		log_err("%s: want exactly %d bytes (head -c %d /dev/urandom)", path,
		    TLS_TICKET_KEY_SIZE, TLS_TICKET_KEY_SIZE);
		return -1;
	}
	c->ticket.data = gnutls_malloc(TLS_TICKET_KEY_SIZE);
	if (c->ticket.data == NULL)
		return -1;
	memcpy(c->ticket.data, k, TLS_TICKET_KEY_SIZE);
	c->ticket.size = TLS_TICKET_KEY_SIZE;
	explicit_bzero(k, sizeof(k));
	return 0;
}

/* tls_ctx_new - an empty context with its credentials object */
struct tls_ctx *
tls_ctx_new(int server)
{
	struct tls_ctx *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->server = server;
	if (gnutls_certificate_allocate_credentials(&c->cred) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

/* tls_server_init - certificates (RSA and ECDSA side by side), CA, priorities, ticket key */
int
tls_server_init(struct tls_ctx **out, const char *name, enum tls_clientcert cc)
{
	struct tls_ctx *c;
	char ca[4096];
	int a, b, r;

	*out = NULL;
	if ((c = tls_ctx_new(1)) == NULL)
		return -1;
	c->cc = cc;
	/* API_V2: the key file functions return the pair's index for
	 * tls_pair_matches(), which replaces GnuTLS's costly match check */
	gnutls_certificate_set_flags(c->cred, GNUTLS_CERTIFICATE_SKIP_KEY_CERT_MATCH |
	    GNUTLS_CERTIFICATE_API_V2);
	/* GnuTLS serves the first loaded pair the client can verify: ECDSA first
	 * (a P-256 signature costs the server ~0.1 ms, an RSA-2048 one ~1.5 ms) */
	b = tls_pair(c, name, "-ecdsa", "servercert-ecdsa.pem");
	a = b < 0 ? -1 : tls_pair(c, name, "", "servercert.pem");
	if (a < 0 || b < 0 || (a == 0 && b == 0)) {
		tls_ctx_free(c);
		return a < 0 || b < 0 ? -1 : 0;
	}
	if (cc != TLS_CC_NONE && tls_file(ca, sizeof(ca), "clientca.pem", "clientca.pem")) {
		r = gnutls_certificate_set_x509_trust_file(c->cred, ca, GNUTLS_X509_FMT_PEM);
		if (r < 0) {
			log_err("load %s: %s", ca, gnutls_strerror(r));
			tls_ctx_free(c);
			return -1;
		}
		c->has_ca = 1;
	}
	if (tls_prio(c) < 0 || tls_ticket_key(c) < 0) {
		tls_ctx_free(c);
		return -1;
	}
	*out = c;
	return 1;
}

/* tls_server_has_ca - client certificates can be verified */
int
tls_server_has_ca(const struct tls_ctx *c)
{
	return c && c->has_ca;
}

static int
tls_timeout_ms(int ms)
{
	return ms < 0 ? (int)GNUTLS_INDEFINITE_TIMEOUT : ms;
}

static ssize_t
tls_read(struct io *io, void *p, size_t n, int timeout_ms)
{
	struct tls_conn *t = io->ctx;
	ssize_t r;

	gnutls_record_set_timeout(t->s, (unsigned)tls_timeout_ms(timeout_ms));
	for (;;) {
		r = gnutls_record_recv(t->s, p, n);
		if (r >= 0)
			return r;
		if (r == GNUTLS_E_AGAIN || r == GNUTLS_E_INTERRUPTED || r == GNUTLS_E_REHANDSHAKE)
			continue;
		if (r == GNUTLS_E_PREMATURE_TERMINATION)
			return 0;
		errno = r == GNUTLS_E_TIMEDOUT ? ETIMEDOUT : EPROTO;
		return -1;
	}
}

static ssize_t
tls_write(struct io *io, const void *p, size_t n, int timeout_ms)
{
	struct tls_conn *t = io->ctx;
	struct pollfd pfd = { .fd = t->wfd, .events = POLLOUT };
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

static const struct io_transport tls_transport = { tls_read, tls_write };

/* tls_is_literal - an address, not a name: no SNI for it (RFC 6066 section 3) */
static int
tls_is_literal(const char *host)
{
	unsigned char a[16];

	return *host == '[' || inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

static int
tls_session(struct tls_ctx *c, struct tls_conn *t, const char *host)
{
	if (gnutls_init(&t->s, c->server ? GNUTLS_SERVER : GNUTLS_CLIENT) < 0)
		return -1;
	if (gnutls_priority_set(t->s, c->prio) < 0 ||
	    gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, c->cred) < 0)
		return -1;
	if (c->server) {
		if (c->cc != TLS_CC_NONE && c->has_ca)
			gnutls_certificate_server_set_request(t->s, c->cc == TLS_CC_REQUIRE ?
			    GNUTLS_CERT_REQUIRE : GNUTLS_CERT_REQUEST);
		if (c->ticket.size && gnutls_session_ticket_enable_server(t->s, &c->ticket) < 0)
			return -1;
	} else if (host && *host && !tls_is_literal(host))
		gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, host, strlen(host));
	gnutls_transport_set_int2(t->s, t->rfd, t->wfd);
	return 0;
}

static void
tls_conn_free(struct tls_conn *t)
{
	if (t->s)
		gnutls_deinit(t->s);
	free(t);
}

/* tls_start - the handshake within timeout seconds, the client's checks; then io speaks TLS */
int
tls_start(struct tls_ctx *c, struct io *io, const char *hostname, unsigned timeout,
    char *why, size_t whysize)
{
	struct tls_conn *t;
	int r;

	if (io_pending(io) > 0) {
		/* plaintext that arrived before the handshake must not count as TLS */
		snprintf(why, whysize, "peer sent data before the TLS handshake");
		return -1;
	}
	snprintf(why, whysize, "out of memory");
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->rfd = io->rfd;
	t->wfd = io->wfd;
	t->server = c->server;
	if (tls_session(c, t, hostname) < 0) {
		tls_conn_free(t);
		return -1;
	}
	gnutls_handshake_set_timeout(t->s, timeout ? timeout * 1000 : GNUTLS_INDEFINITE_TIMEOUT);
	do
		r = gnutls_handshake(t->s);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		snprintf(why, whysize, "%s%s", c->server ? "" : "handshake failed: ",
		    r == GNUTLS_E_TIMEDOUT ? "timeout" : gnutls_strerror(r));
		tls_conn_free(t);
		return -1;
	}
	if (!c->server && tls_peer_check(t, c->verify, c->pin, hostname, why, whysize) < 0) {
		gnutls_alert_send(t->s, GNUTLS_AL_FATAL, GNUTLS_A_BAD_CERTIFICATE);
		tls_conn_free(t);
		return -1;
	}
	io_set_transport(io, &tls_transport, t);
	return 0;
}

/* tls_get_info - protocol, cipher; the client certificate (server side) or
 * the verdict on the server (client side) */
int
tls_get_info(const struct io *io, struct tls_info *i)
{
	const struct tls_conn *t = io->ctx;
	const char *cs;

	memset(i, 0, sizeof(*i));
	if (io->tr != &tls_transport || t == NULL)
		return -1;
	snprintf(i->protocol, sizeof(i->protocol), "%s",
	    gnutls_protocol_get_version(t->s) == GNUTLS_TLS1_3 ? "TLSv1.3" : "TLSv1.2");
	cs = gnutls_ciphersuite_get(t->s);
	snprintf(i->cipher, sizeof(i->cipher), "%s", cs ? cs : "unknown");
	i->keybits = 8 * (unsigned)gnutls_cipher_get_key_size(gnutls_cipher_get(t->s));
	i->resumed = gnutls_session_is_resumed(t->s) != 0;
	if (t->server)
		tls_peer_info(t, i);
	else
		i->server_verified = t->verified;
	return 0;
}

/* tls_client_cert_names - the peer certificate's DNS names or CN match host */
int
tls_client_cert_names(const struct io *io, const char *host)
{
	if (io->tr != &tls_transport || io->ctx == NULL)
		return 0;
	return tls_peer_names(io->ctx, host);
}

/* tls_end - say goodbye without waiting for the peer's answer */
void
tls_end(struct io *io)
{
	struct tls_conn *t = io->ctx;

	if (io->tr != &tls_transport || t == NULL)
		return;
	gnutls_record_set_timeout(t->s, 1000);
	gnutls_bye(t->s, GNUTLS_SHUT_WR);
	tls_conn_free(t);
	io->ctx = NULL;
}

/* tls_ctx_free - release credentials, priorities, the ticket key */
void
tls_ctx_free(struct tls_ctx *c)
{
	if (c == NULL)
		return;
	if (c->ticket.data) {
		explicit_bzero(c->ticket.data, c->ticket.size);
		gnutls_free(c->ticket.data);
	}
	if (c->prio)
		gnutls_priority_deinit(c->prio);
	gnutls_certificate_free_credentials(c->cred);
	free(c);
}

/* tls_hmac_md5 - RFC 2104 with MD5 */
int
tls_hmac_md5(const void *key, size_t klen, const void *msg, size_t mlen,
    unsigned char out[16])
{
	return gnutls_hmac_fast(GNUTLS_MAC_MD5, key, klen, msg, mlen, out) < 0 ? -1 : 0;
}
