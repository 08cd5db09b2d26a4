/* SPDX-License-Identifier: MIT
 * smtp_auth.c - SMTP AUTH (RFC 4954): PLAIN, LOGIN, CRAM-MD5 checked by a checkpassword program.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    every AUTH line (base64, lengths, NULs); the checkprogram's exit only.
 * Trusted:    the checkprogram command line and SMTPAUTH from the unit.
 * May touch:  fork/exec of the checkprogram with the credentials on fd 3.
 * Must not:   log a password or response; tell an unknown user from a wrong password.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "smtp_reply.h"
#include "smtpd.h"

#define AUTH_FAIL_MAX	3	/* failures before the connection is closed */
#define AUTH_CRED_MAX	512	/* user\0secret\0challenge\0, as s/qmail */
#define AUTH_CHECK_SECS	60	/* the checkprogram's time */

struct auth_cred {
	char user[256];
	char secret[256];
	char challenge[256];
	const char *mech;
};

/* smtp_auth_offered - AUTH is configured and allowed on this connection now */
int
smtp_auth_offered(const struct smtp_session *s)
{
	return smtp_sec_conf.auth_mechs && (s->sec.has_tls || smtp_sec_conf.auth_clear);
}

/* smtp_auth_ehlo - "250-AUTH LOGIN PLAIN CRAM-MD5" as configured */
void
smtp_auth_ehlo(struct smtp_session *s)
{
	int m = smtp_sec_conf.auth_mechs;

	if (!smtp_auth_offered(s) || s->sec.authuser[0])
		return;
	smtp_outf(s, "250-AUTH%s%s%s", m & SMTP_AUTH_M_LOGIN ? " LOGIN" : "",
	    m & SMTP_AUTH_M_PLAIN ? " PLAIN" : "", m & SMTP_AUTH_M_CRAM ? " CRAM-MD5" : "");
}

/* auth_read - one continuation line, base64-decoded: length, -1 (reply sent), -2 (gone) */
static long
auth_read(struct smtp_session *s, const char *prompt, unsigned char *out, size_t max)
{
	size_t len;
	long n;
	int r;

	smtp_outf(s, "334 %s", prompt);
	r = io_getline(s->io, s->line, sizeof(s->line), &len);
	if (r < 0) {
		smtp_log(s, r == IO_TIMEOUT ? "Info::AUTH::Timeout" : "Info::AUTH::Closed", NULL);
		if (r == IO_TIMEOUT)
			smtp_drop(s, SMTP_R_TIMEOUT);
		s->done = 1;
		s->exitcode = SMTPD_EXIT_DROP;
		return -2;
	}
	if (strcmp(s->line, "*") == 0) {
		smtp_out(s, SMTP_R_AUTH_CANCEL);
		return -1;
	}
	n = r == IO_TOOLONG ? -1 : smtp_b64_decode(s->line, out, max);
	explicit_bzero(s->line, sizeof(s->line));
	if (n < 0)
		smtp_out(s, SMTP_R_AUTH_B64);
	return n;
}

/* auth_decode - a decoded initial response or continuation; -1: reply sent */
static long
auth_get(struct smtp_session *s, const char *initial, const char *prompt,
    unsigned char *out, size_t max)
{
	long n;

	if (initial == NULL)
		return auth_read(s, prompt, out, max);
	if (strcmp(initial, "=") == 0)
		return 0;
	if ((n = smtp_b64_decode(initial, out, max)) < 0)
		smtp_out(s, SMTP_R_AUTH_B64);
	return n;
}

static int
auth_copy(char *dst, size_t size, const unsigned char *p, size_t n)
{
	if (n >= size || memchr(p, '\0', n))
		return -1;
	memcpy(dst, p, n);
	dst[n] = '\0';
	return 0;
}

/* auth_plain - RFC 4616: [authzid] NUL authcid NUL passwd; 0, -1 reply sent, 1 bad */
static int
auth_plain(struct smtp_session *s, const char *initial, struct auth_cred *c)
{
	unsigned char b[AUTH_CRED_MAX + 8];
	unsigned char *u, *p;
	long n = auth_get(s, initial, "", b, sizeof(b));

	if (n < 0)
		return -1;
	if ((u = memchr(b, '\0', (size_t)n)) == NULL ||
	    (p = memchr(u + 1, '\0', (size_t)n - (size_t)(u + 1 - b))) == NULL) {
		explicit_bzero(b, sizeof(b));
		return 1;
	}
	u++;
	n = auth_copy(c->user, sizeof(c->user), u, (size_t)(p - u)) < 0 ||
	    auth_copy(c->secret, sizeof(c->secret), p + 1, (size_t)(b + n - p - 1)) < 0;
	explicit_bzero(b, sizeof(b));
	return n ? 1 : 0;
}

/* auth_login - "Username:", "Password:" (draft-murchison-sasl-login) */
static int
auth_login(struct smtp_session *s, const char *initial, struct auth_cred *c)
{
	unsigned char b[AUTH_CRED_MAX + 8];
	long n;
	int bad;

	if ((n = auth_get(s, initial, "VXNlcm5hbWU6", b, sizeof(b))) < 0)
		return -1;
	bad = auth_copy(c->user, sizeof(c->user), b, (size_t)n) < 0;
	if ((n = auth_read(s, "UGFzc3dvcmQ6", b, sizeof(b))) < 0)
		return -1;
	bad |= auth_copy(c->secret, sizeof(c->secret), b, (size_t)n) < 0;
	explicit_bzero(b, sizeof(b));
	return bad;
}

/* auth_cram - RFC 2195: challenge <random.time@me>, answer "user hexdigest" */
static int
auth_cram(struct smtp_session *s, const char *initial, struct auth_cred *c)
{
	unsigned char b[AUTH_CRED_MAX + 8];
	char prompt[400], *sp;
	unsigned long long rnd = 0;
	long n;

	if (initial != NULL) {
		smtp_out(s, SMTP_R_AUTH_B64);
		return -1;
	}
	if (getrandom(&rnd, sizeof(rnd), 0) < 0)
		rnd = (unsigned long long)getpid();
	snprintf(c->challenge, sizeof(c->challenge), "<%llu.%lld@%s>", rnd,
	    (long long)time(NULL), buf_str(&s->conf->me));
	if (smtp_b64_encode((const unsigned char *)c->challenge, strlen(c->challenge),
	    prompt, sizeof(prompt)) < 0)
		return 1;
	if ((n = auth_read(s, prompt, b, sizeof(b) - 1)) < 0)
		return -1;
	b[n] = '\0';
	if ((sp = strrchr((char *)b, ' ')) == NULL || memchr(b, '\0', (size_t)n))
		return 1;
	*sp = '\0';
	return auth_copy(c->user, sizeof(c->user), b, (size_t)(sp - (char *)b)) < 0 ||
	    auth_copy(c->secret, sizeof(c->secret), (unsigned char *)sp + 1, strlen(sp + 1)) < 0;
}

static void
auth_child(int rfd)
{
	int null = open("/dev/null", O_RDWR);

	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
	}
	if (rfd != 3) {
		dup2(rfd, 3);
		close(rfd);
	}
	signal(SIGPIPE, SIG_DFL);
	execv(smtp_sec_conf.checkpw[0], smtp_sec_conf.checkpw);
	_exit(111);
}

/* auth_check - run the checkprogram: 0 yes, 1 no, 2 temporary failure */
static int
auth_check(const struct auth_cred *c)
{
	char b[AUTH_CRED_MAX];
	size_t n = 0, l;
	int pi[2], st, i;
	pid_t pid, w;

	const char *f[3] = { c->user, c->secret, c->challenge };
	for (i = 0; i < 3; i++) {
		if ((l = strlen(f[i]) + 1) > sizeof(b) - n)
			return 1;
		memcpy(b + n, f[i], l);
		n += l;
	}
	if (pipe(pi) < 0 || (pid = fork()) < 0) {
		explicit_bzero(b, sizeof(b));
		return 2;
	}
	if (pid == 0) {
		close(pi[1]);
		auth_child(pi[0]);
	}
	close(pi[0]);
	if (write(pi[1], b, n) != (ssize_t)n)
		log_warning("auth: checkprogram did not read the credentials");
	close(pi[1]);
	explicit_bzero(b, sizeof(b));
	for (i = 0; i < AUTH_CHECK_SECS * 100; i++) {
		if ((w = waitpid(pid, &st, WNOHANG)) == pid)
			break;
		if (w < 0 && errno != EINTR)
			return 2;
		usleep(10000);
	}
	if (i == AUTH_CHECK_SECS * 100) {
		kill(pid, SIGKILL);
		waitpid(pid, &st, 0);
		return 2;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) == 111)
		return 2;
	return WEXITSTATUS(st) == 0 ? 0 : 1;
}

static void
auth_result(struct smtp_session *s, struct auth_cred *c, int r)
{
	char d[400];

	snprintf(d, sizeof(d), "%s user=%.64s%s", c->mech, c->user,
	    r == 2 ? " temporary failure" : "");
	if (r == 0) {
		snprintf(s->sec.authuser, sizeof(s->sec.authuser), "%s", c->user);
		s->sec.authproto = c->mech;
		setenv("AUTHUSER", c->user, 1);
		setenv("AUTHPROTOCOL", c->mech, 1);
		setenv("TCPREMOTEINFO", c->user, 1);
		smtp_log(s, "Accept::AUTH::User", d);
		smtp_out(s, SMTP_R_AUTH_OK);
		return;
	}
	smtp_log(s, "Reject::AUTH::User", d);
	if (r == 2) {
		smtp_out(s, SMTP_R_AUTH_TEMP);
		return;
	}
	io_flush(s->io);
	if (smtp_sec_conf.authsleep)
		sleep(smtp_sec_conf.authsleep);
	if (++s->sec.authfail >= AUTH_FAIL_MAX) {
		smtp_log(s, "Reject::AUTH::Toomany_Failures", NULL);
		smtp_drop(s, SMTP_R_AUTH_TOOMANY);
		return;
	}
	smtp_out(s, SMTP_R_AUTH_FAIL);
}

static const char *
auth_refuse(const struct smtp_session *s)
{
	if (smtp_sec_conf.auth_mechs == 0)
		return SMTP_R_UNIMPL;
	if (s->sec.authuser[0])
		return SMTP_R_AUTH_AGAIN;
	if (s->seenmail)
		return SMTP_R_AUTH_INMAIL;
	if (!smtp_auth_offered(s))
		return SMTP_R_AUTH_NEEDTLS;
	return NULL;
}

/* smtp_auth - AUTH mechanism [initial-response] */
void
smtp_auth(struct smtp_session *s, const char *arg)
{
	struct auth_cred c;
	const char *refuse = auth_refuse(s), *ir;
	char mech[32];
	size_t n = strcspn(arg, " ");
	int m = smtp_sec_conf.auth_mechs, r;

	if (refuse) {
		smtp_out(s, refuse);
		return;
	}
	memset(&c, 0, sizeof(c));
	snprintf(mech, sizeof(mech), "%.*s", n < sizeof(mech) ? (int)n : 0, arg);
	ir = arg[n] ? arg + n + 1 : NULL;
	if ((m & SMTP_AUTH_M_PLAIN) && strcasecmp(mech, "PLAIN") == 0) {
		c.mech = "PLAIN";
		r = auth_plain(s, ir, &c);
	} else if ((m & SMTP_AUTH_M_LOGIN) && strcasecmp(mech, "LOGIN") == 0) {
		c.mech = "LOGIN";
		r = auth_login(s, ir, &c);
	} else if ((m & SMTP_AUTH_M_CRAM) && strcasecmp(mech, "CRAM-MD5") == 0) {
		c.mech = "CRAM-MD5";
		r = auth_cram(s, ir, &c);
	} else {
		smtp_out(s, SMTP_R_AUTH_MECH);
		return;
	}
	if (r == 0 && (c.user[0] == '\0' || c.secret[0] == '\0'))
		r = 1;				/* empty: a failure like any other */
	if (r >= 0)
		auth_result(s, &c, r == 0 ? auth_check(&c) : 1);
	explicit_bzero(&c, sizeof(c));
}
