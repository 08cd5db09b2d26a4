/* SPDX-License-Identifier: MIT
 * qmtp_rcpt.c - the recipient list of a QMTP message: netstrings, rcpthosts policy.
 *
 * Runs as:    qmaild, one process per connection (handlers/qmtpd).
 * Hostile:    the whole list.
 * Trusted:    rcpthosts, morercpthosts.cdb, RELAYCLIENT (through conf).
 * May touch:  nothing: no I/O (a fuzz target).
 */
#include <string.h>

#include "netstring.h"
#include "qmtpd.h"

/* qmtp_rcpts_init - an empty list */
void
qmtp_rcpts_init(struct qmtp_rcpts *r)
{
	buf_init(&r->addrs, QMTP_RCPTLIST_MAX * 2);
	buf_init(&r->ok, QMTP_RCPT_MAX);
	r->n = 0;
}

/* qmtp_rcpts_free - release the list */
void
qmtp_rcpts_free(struct qmtp_rcpts *r)
{
	buf_free(&r->addrs);
	buf_free(&r->ok);
	r->n = 0;
}

static int
qmtp_rcpt_add(struct qmtp_rcpts *r, const char *a, size_t n,
    const struct qmtpd_conf *conf)
{
	size_t start = buf_len(&r->addrs);
	char ok = 1;

	if (memchr(a, '\0', n) != NULL)
		return NS_SYNTAX;
	if (r->n >= QMTP_RCPT_MAX)
		return NS_TOOBIG;
	if (buf_cat(&r->addrs, a, n) < 0)
		return NS_TOOBIG;
	if (conf != NULL && !conf->relay_all) {
		if (conf->relayclient != NULL) {
			if (buf_cats(&r->addrs, conf->relayclient) < 0)
				return NS_TOOBIG;
		} else if (!smtp_rcpthosts(&conf->relay, r->addrs.s + start)) {
			ok = 0;
		}
	}
	if (buf_catc(&r->addrs, '\0') < 0 || buf_catc(&r->ok, ok) < 0)
		return NS_TOOBIG;
	r->n++;
	return NS_DONE;
}

/* qmtp_rcpts_parse - netstring(addr) netstring(addr) ... filling r */
int
qmtp_rcpts_parse(struct qmtp_rcpts *r, const char *p, size_t n,
    const struct qmtpd_conf *conf)
{
	const char *data;
	size_t len, used;
	int rc;

	buf_reset(&r->addrs);
	buf_reset(&r->ok);
	r->n = 0;
	while (n > 0) {
		rc = ns_parse(p, n, QMTP_ADDR_MAX, &data, &len, &used);
		if (rc == NS_MORE)
			return NS_SYNTAX;	/* truncated inside the list */
		if (rc != NS_DONE)
			return rc;
		rc = qmtp_rcpt_add(r, data, len, conf);
		if (rc != NS_DONE)
			return rc;
		p += used;
		n -= used;
	}
	return r->n > 0 ? NS_DONE : NS_SYNTAX;
}
