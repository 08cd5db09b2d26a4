/* SPDX-License-Identifier: MIT
 * inject.c - compose a message (Date, Message-ID, From if missing), find its
 * envelope, and hand it to qmail-queue.
 *
 * Runs as:    qmail-inject / sendmail, as the local user who sends.
 * Hostile:    the message and the arguments are the user's own; they reach
 *             qmail-queue unchanged apart from the fields named in qmail-inject(8).
 * Trusted:    control files, QMAILQUEUE and the QMAIL* names in the environment.
 * May touch:  fd 0 (read), fd 1 (only with -n), fd 2, the qmail-queue child.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mail/exitcode.h"
#include "mail/qqueue.h"
#include "qq.h"
#include "inject.h"

/* Where composed text goes: qmail-queue, or stdout for -n. */
struct sink {
	struct qqueue *q;
	int err;
};

static void
sink_put(struct sink *k, const char *p, size_t n)
{
	if (k->q) {
		qqueue_put(k->q, p, n);
		return;
	}
	while (n > 0 && !k->err) {
		ssize_t w = write(1, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			k->err = 1;
		else
			p += w, n -= (size_t)w;
	}
}

static int
fail(const struct inject_opts *o, int code, const char *what)
{
	dprintf(2, "%s: fatal: %s\n", o->prog, what);
	return code;
}

static const char *
env_first(const char *a, const char *b, const char *c, const char *d)
{
	const char *v;

	if ((v = getenv(a)) || (b && (v = getenv(b))) || (c && (v = getenv(c))) ||
	    (d && (v = getenv(d))))
		return v;
	return NULL;
}

/* strip_angle - "<addr>" as addr; *len gets its length */
static const char *
strip_angle(const char *s, size_t *len)
{
	*len = strlen(s);
	if (*len >= 2 && s[0] == '<' && s[*len - 1] == '>') {
		*len -= 2;
		return s + 1;
	}
	return s;
}

/* inject_user - the From: local part and host (qmail-inject's environment chain) */
static void
inject_user(const struct inject_opts *o, const struct inject_names *n,
    struct buf *user, struct buf *host)
{
	const char *u, *h, *a, *at;
	const struct passwd *pw;
	size_t len = 0;

	a = o->from_addr ? strip_angle(o->from_addr, &len) : NULL;
	if (len > 0) {
		at = memrchr(a, '@', len);
		buf_cpy(user, a, at ? (size_t)(at - a) : len);
		if (at)
			buf_cpy(host, at + 1, len - (size_t)(at + 1 - a));
		else
			buf_cpys(host, buf_str(&n->defaulthost));
		return;
	}
	u = env_first("QMAILUSER", "MAILUSER", "USER", "LOGNAME");
	if (u == NULL && (pw = getpwuid(getuid())) != NULL)
		u = pw->pw_name;
	buf_cpys(user, u ? u : "anonymous");
	h = env_first("QMAILHOST", "MAILHOST", NULL, NULL);
	buf_cpys(host, h ? h : buf_str(&n->defaulthost));
}

/* inject_phrase - a display name, quoted unless it is plain words */
static void
inject_phrase(struct buf *b, const char *name)
{
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789 !#$%&'*+-/=?^_`{|}~") == strlen(name)) {
		buf_cats(b, name);
		return;
	}
	buf_catc(b, '"');
	for (; *name; name++) {
		if (*name == '\n' || *name == '\r')
			continue;
		if (*name == '"' || *name == '\\')
			buf_catc(b, '\\');
		buf_catc(b, *name);
	}
	buf_catc(b, '"');
}

/* inject_added - the fields qmail-inject adds when the message lacks them */
static void
inject_added(const struct inject_opts *o, const struct inject_names *n,
    const struct inject_hdr *h, const struct buf *user, const struct buf *host,
    struct buf *out)
{
	char date[64], stamp[32];
	time_t now = time(NULL);
	const char *name = o->fullname ? o->fullname :
	    env_first("QMAILNAME", "MAILNAME", "NAME", NULL);
	struct tm tm;

	if (!h->has_date && qq_date822(date, sizeof(date), now) > 0)
		buf_printf(out, "Date: %s\n", date);
	if (!h->has_msgid) {
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm);
		buf_printf(out, "Message-ID: <%s.%ld.qmail@%s>\n", stamp, (long)getpid(),
		    buf_str(&n->idhost));
	}
	if (!h->has_from) {
		buf_cats(out, "From: ");
		if (name && *name) {
			inject_phrase(out, name);
			buf_printf(out, " <%s@%s>\n", buf_str(user), buf_str(host));
		} else {
			buf_printf(out, "%s@%s\n", buf_str(user), buf_str(host));
		}
	}
}

/* Recipients as qualified, NUL-separated addresses. */
struct rcpts {
	const struct inject_names *names;
	struct buf list, tmp;
	unsigned long n;
	int bad;
};

static void
rcpt_add(void *arg, const char *addr)
{
	struct rcpts *r = arg;

	if (inject_qualify(&r->tmp, addr, r->names) < 0 ||
	    buf_cat(&r->list, r->tmp.s, r->tmp.len + 1) < 0) {
		r->bad = 1;
		return;
	}
	r->n++;
}

/* inject_rcpts - from the arguments or from the header, as -a/-h/default say */
static int
inject_rcpts(const struct inject_opts *o, const struct inject_hdr *h, struct rcpts *r)
{
	const struct buf *from;
	enum inject_rcpts mode = o->mode;

	if (mode == INJECT_RCPT_DEFAULT)
		mode = o->nargs > 0 ? INJECT_RCPT_ARGS : INJECT_RCPT_HEADER;
	if (mode == INJECT_RCPT_ARGS) {
		for (int i = 0; i < o->nargs; i++)
			if (inject_addrlist(o->args[i], strlen(o->args[i]), rcpt_add, r) < 0)
				r->bad = 1;
	} else {
		if (h->bad)
			r->bad = 1;
		/* a resent message goes to its Resent- recipients (qmail-inject -h) */
		from = h->has_resent ? &h->resent_to : &h->to;
		for (size_t i = 0; i < from->len; i += strlen(from->s + i) + 1)
			rcpt_add(r, from->s + i);
	}
	return r->bad ? -1 : 0;
}

/* inject_sender - -f, else QMAILSUSER@QMAILSHOST defaulting to the From: user/host */
static int
inject_sender(const struct inject_opts *o, const struct inject_names *n,
    const struct buf *user, const struct buf *host, struct buf *out)
{
	const char *s = o->sender;
	const char *su = getenv("QMAILSUSER"), *sh = getenv("QMAILSHOST");
	struct buf tmp;

	if (s) {
		size_t len;
		const char *a = strip_angle(s, &len);

		buf_cpy(out, a, len);
		if (buf_len(out) == 0)
			return 0;	/* the null sender */
		buf_init(&tmp, INJECT_ADDR_MAX + 1);
		buf_cpys(&tmp, buf_str(out));
		int r = inject_qualify(out, buf_str(&tmp), n);
		buf_free(&tmp);
		return r;
	}
	buf_printf(out, "%s@%s", su ? su : buf_str(user), sh ? sh : buf_str(host));
	return buf_len(out) > INJECT_ADDR_MAX ? -1 : 0;
}

/* inject_body - the rest of fd 0, CRLF stored as LF like every queued message */
static int
inject_body(struct inject_in *in, struct sink *k)
{
	int cr = 0;

	for (;;) {
		if (in->pos == in->len) {
			ssize_t m;

			if (in->eof)
				break;
			while ((m = read(in->fd, in->buf, sizeof(in->buf))) < 0 && errno == EINTR)
				;
			if (m < 0)
				return -1;
			if (m == 0)
				break;
			in->pos = 0;
			in->len = (size_t)m;
		}
		char *p = in->buf + in->pos, *end = in->buf + in->len, *w = p;

		for (char *r = p; r < end; r++) {
			if (cr && *r != '\n')
				*w++ = '\r';
			cr = *r == '\r';
			if (!cr)
				*w++ = *r;
		}
		sink_put(k, p, (size_t)(w - p));
		in->pos = in->len;
	}
	if (cr)
		sink_put(k, "\r", 1);
	return 0;
}

/* inject_send - header, added fields, blank line, body; then the envelope */
static int
inject_send(const struct inject_opts *o, struct inject_in *in, const struct inject_hdr *h,
    const struct buf *added, const struct buf *sender, const struct rcpts *r)
{
	struct qqueue q;
	struct sink k = { NULL, 0 };
	int code;

	if (!o->print) {
		if (qqueue_start(&q) < 0)
			return fail(o, EXIT_TEMP, "unable to run qmail-queue");
		k.q = &q;
	}
	sink_put(&k, h->text.s, h->text.len);
	sink_put(&k, added->s, added->len);
	sink_put(&k, "\n", 1);
	sink_put(&k, h->pending.s, h->pending.len);
	if (inject_body(in, &k) < 0) {
		if (k.q)
			qqueue_abort(k.q);
		return fail(o, EXIT_TEMP, "read error");
	}
	if (o->print)
		return k.err ? fail(o, EXIT_TEMP, "write error") : 0;
	qqueue_from(&q, buf_str(sender));
	for (size_t i = 0; i < r->list.len; i += strlen(r->list.s + i) + 1)
		qqueue_to(&q, r->list.s + i);
	code = qqueue_finish(&q);
	if (code == QQ_EXIT_OK)
		return 0;
	dprintf(2, "%s: fatal: %s (qmail-queue exit %d)\n", o->prog, qq_exit_text(code) + 1, code);
	return qq_exit_is_perm(code) ? EXIT_PERM : EXIT_TEMP;
}

/* inject_run - qmail-inject's whole job for one message on fd */
int
inject_run(const struct inject_opts *o, int fd)
{
	static struct inject_in in;
	struct inject_names names;
	struct inject_hdr h;
	struct rcpts r = { .names = &names };
	struct buf user, host, sender, added;
	int code;

	if (inject_names_load(&names) < 0)
		return fail(o, EXIT_TEMP, "unable to read controls");
	in.fd = fd;
	if (inject_hdr_read(&in, &h) < 0)
		return fail(o, in.err ? EXIT_TEMP : EXIT_PERM,
		    in.err ? "read error" : "header too large");
	buf_init(&r.list, 64UL * 1024 * 1024);
	buf_init(&r.tmp, INJECT_ADDR_MAX + 1);
	buf_init(&user, INJECT_ADDR_MAX);
	buf_init(&host, INJECT_ADDR_MAX);
	buf_init(&sender, INJECT_ADDR_MAX + 1);
	buf_init(&added, 8192);
	if (inject_rcpts(o, &h, &r) < 0)
		return fail(o, EXIT_PERM, "unable to parse recipient address");
	if (r.n == 0)
		return fail(o, EXIT_PERM, "no recipients");
	inject_user(o, &names, &user, &host);
	if (inject_sender(o, &names, &user, &host, &sender) < 0)
		return fail(o, EXIT_PERM, "sender address too long");
	inject_added(o, &names, &h, &user, &host, &added);
	code = inject_send(o, &in, &h, &added, &sender, &r);
	inject_hdr_free(&h);
	buf_free(&r.list);
	buf_free(&r.tmp);
	buf_free(&user);
	buf_free(&host);
	buf_free(&sender);
	buf_free(&added);
	return code;
}
