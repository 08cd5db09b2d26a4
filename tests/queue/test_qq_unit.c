/* SPDX-License-Identifier: MIT
 * test_qq_unit.c - qmail-queue's envelope parser, date and Received line. */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "mail/qqueue.h"
#include "qq.h"

struct env_case {
	const char *label;
	const char *in;
	size_t len;
	int want;		/* 0: complete, else the exit code */
	const char *out;	/* records written when complete */
	size_t outlen;
};

#define S(s) s, sizeof(s) - 1

static int
run_env(const struct env_case *c, int bytewise, struct buf *out)
{
	struct qq_env e;
	size_t used, off = 0;
	int r = 0;

	qq_env_init(&e, out);
	while (off < c->len) {
		size_t n = bytewise ? 1 : c->len - off;

		r = qq_env_feed(&e, c->in + off, n, &used);
		off += used;
		if (r != 0)
			break;
	}
	if (r == 0)
		r = qq_env_eof(&e);
	return r == 1 ? 0 : r;
}

Test(qq_envelope, table)
{
	const struct env_case cases[] = {
		{ "one rcpt", S("Fa@b\0Tc@d\0\0"), 0, S("Fa@b\0Tc@d\0") },
		{ "two rcpts", S("Fa@b\0Tc@d\0Te@f\0\0"), 0, S("Fa@b\0Tc@d\0Te@f\0") },
		{ "null sender", S("F\0Tc@d\0\0"), 0, S("F\0Tc@d\0") },
		{ "trailing junk ignored", S("Fa\0Tb\0\0garbage"), 0, S("Fa\0Tb\0") },
		{ "empty", S(""), QQ_EXIT_READ, NULL, 0 },
		{ "T first", S("Tc@d\0\0"), QQ_EXIT_FORMAT, NULL, 0 },
		{ "NUL first", S("\0"), QQ_EXIT_FORMAT, NULL, 0 },
		{ "no recipient", S("Fa@b\0\0"), QQ_EXIT_FORMAT, NULL, 0 },
		{ "bad type", S("Fa@b\0Xc@d\0\0"), QQ_EXIT_FORMAT, NULL, 0 },
		{ "second F", S("Fa@b\0Fc@d\0\0"), QQ_EXIT_FORMAT, NULL, 0 },
		{ "cut in address", S("Fa@b\0Tc@"), QQ_EXIT_READ, NULL, 0 },
		{ "no terminator", S("Fa@b\0Tc@d\0"), QQ_EXIT_READ, NULL, 0 },
	};
	struct buf out;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct env_case *c = &cases[i];

		for (int bytewise = 0; bytewise <= 1; bytewise++) {
			buf_init(&out, QQ_ENVELOPE_MAX);
			int r = run_env(c, bytewise, &out);
			cr_expect_eq(r, c->want, "%s (bytewise %d): got %d", c->label, bytewise, r);
			if (r == 0 && c->want == 0) {
				cr_expect_eq(out.len, c->outlen, "%s: length", c->label);
				cr_expect(memcmp(out.s, c->out, c->outlen) == 0, "%s: bytes", c->label);
			}
			buf_free(&out);
		}
	}
}

/* addresses of exactly QQ_ADDR_MAX bytes pass, one more is exit 11 */
Test(qq_envelope, address_length)
{
	char env[3000];
	struct buf out;
	struct env_case c = { "len", env, 0, 0, NULL, 0 };

	for (int who = 0; who < 2; who++) {
		for (int extra = 0; extra <= 1; extra++) {
			size_t n = 0, alen = QQ_ADDR_MAX + (size_t)extra;

			env[n++] = 'F';
			if (who == 0) {
				memset(env + n, 'a', alen);
				n += alen;
			}
			env[n++] = '\0';
			env[n++] = 'T';
			if (who == 1) {
				memset(env + n, 'b', alen);
				n += alen;
			} else {
				env[n++] = 'x';
			}
			env[n++] = '\0';
			env[n++] = '\0';
			c.len = n;
			for (int bytewise = 0; bytewise <= 1; bytewise++) {
				buf_init(&out, QQ_ENVELOPE_MAX);
				int r = run_env(&c, bytewise, &out);
				cr_expect_eq(r, extra ? QQ_EXIT_ADDR_TOO_LONG : 0,
				    "%s address of %zu bytes (bytewise %d): %d",
				    who ? "recipient" : "sender", alen, bytewise, r);
				buf_free(&out);
			}
		}
	}
}

Test(qq_received, format)
{
	char line[256], date[64];

	/* 1795608000 is Wed, 25 Nov 2026 12:00:00 UTC */
	cr_assert_gt(qq_date822(date, sizeof(date), 1795608000), 0);
	cr_expect_str_eq(date, "25 Nov 2026 12:00:00 -0000");
	cr_assert_gt(qq_date822(date, sizeof(date), 1772323209), 0);
	cr_expect_str_eq(date, "1 Mar 2026 00:00:09 -0000");
	cr_assert_gt(qq_received(line, sizeof(line), 4242, NULL, 1000, 1795608000), 0);
	cr_expect_str_eq(line, "Received: (qmail 4242 invoked by uid 1000); 25 Nov 2026 12:00:00 -0000\n");
	cr_assert_gt(qq_received(line, sizeof(line), 7, "from network", 64, 1795608000), 0);
	cr_expect_str_eq(line, "Received: (qmail 7 invoked from network); 25 Nov 2026 12:00:00 -0000\n");
	cr_expect_eq(qq_received(line, 20, 7, NULL, 64, 1795608000), 0, "too small must fail");
}

Test(qq_received, invoker_names)
{
	char path[] = "/tmp/sq-passwd-XXXXXX";
	int fd = mkstemp(path);
	const char text[] = "root:x:0:0:root:/root:/bin/sh\n"
	    "alias:x:7790:2108::/var/qmail/alias:/usr/sbin/nologin\n"
	    "qmaild:x:7791:2108::/var/qmail:/usr/sbin/nologin\n"
	    "qmails:x:7796:2107::/var/qmail:/usr/sbin/nologin\n"
	    "qmailq:x:7795:2107::/var/qmail:/usr/sbin/nologin\n";

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, text, sizeof(text) - 1), (ssize_t)sizeof(text) - 1);
	close(fd);
	cr_expect_str_eq(qq_invoker_in(path, 7790), "by alias");
	cr_expect_str_eq(qq_invoker_in(path, 7791), "from network");
	cr_expect_str_eq(qq_invoker_in(path, 7796), "for bounce");
	cr_expect_null(qq_invoker_in(path, 7795), "qmailq is not named");
	cr_expect_null(qq_invoker_in(path, 0));
	cr_expect_null(qq_invoker_in("/nonexistent/passwd", 7790));
	unlink(path);
}

Test(qq_received, invoker)
{
	/* uid 0 is root, never one of qmail's named callers; an unknown uid is "by uid" */
	cr_expect_null(qq_invoker(0));
	cr_expect_null(qq_invoker(4000000000U));
}
