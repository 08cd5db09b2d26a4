/* SPDX-License-Identifier: MIT
 * tls.c - TLS sessions (server and client) on a struct io, on GnuTLS; the only gnutls user.
 *
 * Runs as:    the network handlers (qmaild), one process per connection; qmail-remote.
 * Hostile:    every byte from the peer, its certificates.
 * Trusted:    the credential and control files named in tls.h, read before any peer byte.
 * May touch:  the io's two descriptors; those files (read only).
 * Must not:   log key material, passwords or raw peer bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "buf.h"
#include "cfg.h"
#include "home.h"
#include "log.h"
#include "tls.h"

/* TLS 1.2 and 1.3 only: appended to any priority string */
#define TLS_PRIO_VERSIONS ":-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define TLS_PRIO_DEFAULT "NORMAL:%SERVER_PRECEDENCE"
#define TLS_TICKET_KEY_SIZE 64

struct tls_ctx {
	int server;
	gnutls_certificate_credentials_t cred;
	gnutls_priority_t prio;
	gnutls_datum_t ticket;		/* shared ticket key, or size 0 */
	int has_ca, verify;
	enum tls_clientcert cc;
};

struct tls_conn {
	gnutls_session_t s;
	int rfd, wfd;
};

static int
tls_file(char *out, size_t size, const char *credname, const char *ctlname)
{
	const char *cd = getenv("CREDENTIALS_DIRECTORY");

	if (cd && *cd && credname) {
		snprintf(out, size, "%s/%s", cd, credname);
		if (access(out, F_OK) == 0)
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

static struct tls_ctx *
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
	a = tls_pair(c, name, "", "servercert.pem");
	b = a < 0 ? -1 : tls_pair(c, name, "-ecdsa", "servercert-ecdsa.pem");
	if (a < 0 || b < 0 || (a == 0 && b == 0)) {
		tls_ctx_free(c);
		return a < 0 || b < 0 ? -1 : 0;
	}
	if (tls_file(ca, sizeof(ca), "clientca.pem", "clientca.pem")) {
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

/* tls_client_init - trust store, optional client certificate, priorities */
int
tls_client_init(struct tls_ctx **out, const struct tls_client_opts *o)
{
	struct tls_ctx *c;
	const char *err = NULL;
	char prio[1024];
	int r;

	*out = NULL;
	if ((c = tls_ctx_new(0)) == NULL)
		return -1;
	c->verify = o->verify;
	r = o->cafile ? gnutls_certificate_set_x509_trust_file(c->cred, o->cafile,
	    GNUTLS_X509_FMT_PEM) : gnutls_certificate_set_x509_system_trust(c->cred);
	if (r < 0 && o->verify)
		log_err("load CA %s: %s", o->cafile ? o->cafile : "(system)", gnutls_strerror(r));
	else if (o->certfile && (r = gnutls_certificate_set_x509_key_file(c->cred,
	    o->certfile, o->keyfile ? o->keyfile : o->certfile, GNUTLS_X509_FMT_PEM)) < 0)
		log_err("load %s: %s", o->certfile, gnutls_strerror(r));
	else {
		snprintf(prio, sizeof(prio), "%s%s", o->priorities ? o->priorities : "NORMAL",
		    TLS_PRIO_VERSIONS);
		if ((r = gnutls_priority_init(&c->prio, prio, &err)) < 0)
			log_err("TLS priorities: %s", gnutls_strerror(r));
	}
	if (r < 0 && (o->verify || c->prio == NULL)) {
		tls_ctx_free(c);
		return -1;
	}
	*out = c;
	return 0;
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
	} else if (host && *host) {
		gnutls_server_name_set(t->s, GNUTLS_NAME_DNS, host, strlen(host));
		if (c->verify)
			gnutls_session_set_verify_cert(t->s, host, 0);
	}
	gnutls_transport_set_int2(t->s, t->rfd, t->wfd);
	return 0;
}

/* tls_start - the handshake within timeout seconds; then io speaks TLS */
int
tls_start(struct tls_ctx *c, struct io *io, const char *hostname, unsigned timeout,
    char *why, size_t whysize)
{
	struct tls_conn *t = calloc(1, sizeof(*t));
	int r;

	snprintf(why, whysize, "out of memory");
	if (t == NULL)
		return -1;
	t->rfd = io->rfd;
	t->wfd = io->wfd;
	if (tls_session(c, t, hostname) < 0) {
		if (t->s)
			gnutls_deinit(t->s);
		free(t);
		return -1;
	}
	gnutls_handshake_set_timeout(t->s, timeout ? timeout * 1000 : GNUTLS_INDEFINITE_TIMEOUT);
	do
		r = gnutls_handshake(t->s);
	while (r < 0 && !gnutls_error_is_fatal(r));
	if (r < 0) {
		snprintf(why, whysize, "%s", r == GNUTLS_E_TIMEDOUT ? "timeout" :
		    gnutls_strerror(r));
		gnutls_deinit(t->s);
		free(t);
		return -1;
	}
	io_set_transport(io, &tls_transport, t);
	return 0;
}

static gnutls_x509_crt_t
tls_peer_crt(const struct tls_conn *t)
{
	const gnutls_datum_t *d;
	gnutls_x509_crt_t crt;
	unsigned n = 0;

	d = gnutls_certificate_get_peers(t->s, &n);
	if (d == NULL || n == 0 || gnutls_x509_crt_init(&crt) < 0)
		return NULL;
	if (gnutls_x509_crt_import(crt, &d[0], GNUTLS_X509_FMT_DER) < 0) {
		gnutls_x509_crt_deinit(crt);
		return NULL;
	}
	return crt;
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
tls_verify_peer(const struct tls_conn *t, struct tls_info *i)
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

/* tls_get_info - protocol, cipher, the peer's certificate and its verification */
int
tls_get_info(const struct io *io, struct tls_info *i)
{
	const struct tls_conn *t = io->ctx;
	gnutls_x509_crt_t crt;
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
	if ((crt = tls_peer_crt(t)) != NULL) {
		i->has_client_cert = 1;
		tls_crt_names(crt, i);
		gnutls_x509_crt_deinit(crt);
		tls_verify_peer(t, i);
	}
	return 0;
}

/* tls_client_cert_names - the peer certificate's DNS names or CN match host */
int
tls_client_cert_names(const struct io *io, const char *host)
{
	gnutls_x509_crt_t crt;
	int ok;

	if (io->tr != &tls_transport || (crt = tls_peer_crt(io->ctx)) == NULL)
		return 0;
	ok = gnutls_x509_crt_check_hostname2(crt, host, 0) != 0;
	gnutls_x509_crt_deinit(crt);
	return ok;
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
	gnutls_deinit(t->s);
	free(t);
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
