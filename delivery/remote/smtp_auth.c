/* SPDX-License-Identifier: MIT
 * smtp_auth.c - qmail-remote's AUTH client (RFC 4954): CRAM-MD5 (RFC 2195),
 * PLAIN (RFC 4616) and LOGIN, strongest offered first, with the user and
 * password of the route (smtproutes "|user|password" or authsenders).
 * Every failure is a temporary one with its own text, as in s/qmail.
 *
 * Runs as:    qmailr, inside qmail-remote.
 * Trusted:    the credentials (control files).
 * Hostile:    the server's challenges: bounded, base64-checked.
 * May touch:  the connection.
 */
#include <string.h>
#include <strings.h>

#include "io.h"
#include "remote.h"
#include "tls.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* smtp_b64_encode - append base64 of p[0..n) */
void
smtp_b64_encode(struct buf *out, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned)s[i] << 16 | (i + 1 < n ? (unsigned)s[i + 1] << 8 : 0) |
		    (i + 2 < n ? s[i + 2] : 0);

		buf_catc(out, b64[v >> 18 & 63]);
		buf_catc(out, b64[v >> 12 & 63]);
		buf_catc(out, i + 1 < n ? b64[v >> 6 & 63] : '=');
		buf_catc(out, i + 2 < n ? b64[v & 63] : '=');
	}
}

/* smtp_b64_decode - decode s (stops at the first non-base64 byte): 0, or -1 */
int
smtp_b64_decode(struct buf *out, const char *s)
{
	unsigned v = 0;
	int bits = 0;

	for (; *s != '\0' && *s != '=' && *s != '\n'; s++) {
		const char *q = strchr(b64, *s);

		if (q == NULL || *s == '\0')
			return -1;
		v = v << 6 | (unsigned)(q - b64);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_catc(out, (char)(v >> bits & 255)) < 0)
				return -1;
		}
	}
	return 0;
}

static int
smtp_auth_fail(const struct remote_job *job, struct buf *why, const char *what,
    const struct smtp_reply *rp)
{
	buf_reset(why);
	buf_printf(why, "ZAUTH %s at %s failed. (#4.7.0)\n", what, job->peer);
	if (rp != NULL && buf_len(&rp->text) > 0) {
		buf_cats(why, "Remote host said: ");
		buf_cats(why, buf_str(&rp->text));
	}
	return -1;
}

/* smtp_auth_send - one base64 line, then read the reply */
static int
smtp_auth_send(struct io *io, const char *prefix, const void *p, size_t n,
    struct smtp_reply *rp)
{
	struct buf line;
	int code;

	buf_init(&line, 4096);
	buf_cats(&line, prefix);
	smtp_b64_encode(&line, p, n);
	buf_cats(&line, "\r\n");
	io_write(io, buf_str(&line), buf_len(&line));
	buf_free(&line);
	code = smtp_read_reply(io, rp);
	return code;
}

/* smtp_auth_cram - RFC 2195: user SP hex(HMAC-MD5(password, challenge)) */
static int
smtp_auth_cram(struct io *io, const struct remote_job *job, struct smtp_reply *rp,
    struct buf *why)
{
	struct buf chal, resp;
	unsigned char md[16];
	int code;

	io_puts(io, "AUTH CRAM-MD5\r\n");
	if (smtp_read_reply(io, rp) != 334 || buf_len(&rp->text) < 4)
		return smtp_auth_fail(job, why, "CRAM-MD5", rp);
	buf_init(&chal, 4096);
	if (smtp_b64_decode(&chal, buf_str(&rp->text) + 4) < 0 ||
	    tls_hmac_md5(job->route.pass, strlen(job->route.pass), buf_str(&chal),
	    buf_len(&chal), md) < 0) {
		buf_free(&chal);
		io_puts(io, "*\r\n");
		smtp_read_reply(io, rp);
		return smtp_auth_fail(job, why, "CRAM-MD5 (bad challenge)", NULL);
	}
	buf_free(&chal);
	buf_init(&resp, 1024);
	buf_printf(&resp, "%s ", job->route.user);
	for (int i = 0; i < 16; i++)
		buf_printf(&resp, "%02x", md[i]);
	code = smtp_auth_send(io, "", buf_str(&resp), buf_len(&resp), rp);
	buf_free(&resp);
	return code == 235 ? 0 : smtp_auth_fail(job, why, "CRAM-MD5", rp);
}

static int
smtp_auth_plain(struct io *io, const struct remote_job *job, struct smtp_reply *rp,
    struct buf *why)
{
	struct buf cred;
	int code;

	buf_init(&cred, 1024);
	buf_catc(&cred, '\0');
	buf_cats(&cred, job->route.user);
	buf_catc(&cred, '\0');
	buf_cats(&cred, job->route.pass);
	code = smtp_auth_send(io, "AUTH PLAIN ", buf_str(&cred), buf_len(&cred), rp);
	buf_free(&cred);
	return code == 235 ? 0 : smtp_auth_fail(job, why, "PLAIN", rp);
}

static int
smtp_auth_login(struct io *io, const struct remote_job *job, struct smtp_reply *rp,
    struct buf *why)
{
	io_puts(io, "AUTH LOGIN\r\n");
	if (smtp_read_reply(io, rp) != 334)
		return smtp_auth_fail(job, why, "LOGIN", rp);
	if (smtp_auth_send(io, "", job->route.user, strlen(job->route.user), rp) != 334)
		return smtp_auth_fail(job, why, "LOGIN (user)", rp);
	if (smtp_auth_send(io, "", job->route.pass, strlen(job->route.pass), rp) != 235)
		return smtp_auth_fail(job, why, "LOGIN", rp);
	return 0;
}

static int
smtp_auth_has(const char *mechs, const char *m)
{
	size_t n = strlen(m);

	for (const char *p = mechs; *p != '\0'; p += strcspn(p, " ")) {
		p += strspn(p, " ");
		if (strncasecmp(p, m, n) == 0 && (p[n] == ' ' || p[n] == '\0'))
			return 1;
	}
	return 0;
}

/* smtp_auth - the strongest mechanism both sides have */
int
smtp_auth(struct io *io, const struct remote_job *job, const char *mechs,
    struct smtp_reply *rp, struct buf *why)
{
	if (smtp_auth_has(mechs, "CRAM-MD5"))
		return smtp_auth_cram(io, job, rp, why);
	if (smtp_auth_has(mechs, "PLAIN"))
		return smtp_auth_plain(io, job, rp, why);
	if (smtp_auth_has(mechs, "LOGIN"))
		return smtp_auth_login(io, job, rp, why);
	return smtp_auth_fail(job, why, mechs[0] ? "(no common mechanism)" :
	    "(not offered)", NULL);
}
