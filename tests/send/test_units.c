/* SPDX-License-Identifier: MIT
 * test_units.c - qmail-send's pure parts: retry schedule, rewriting tables,
 * spawn request/report encoding, QSBMF paragraphs and headers.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "send.h"

Test(retry, isqrt)
{
	static const struct { unsigned long x, want; } t[] = {
		{ 0, 0 }, { 1, 1 }, { 3, 1 }, { 4, 2 }, { 99, 9 }, { 100, 10 },
		{ 604800, 777 }, { 4294967295UL, 65535 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_expect_eq(retry_isqrt(t[i].x), t[i].want, "isqrt(%lu)", t[i].x);
}

Test(retry, schedule)
{
	/* birth + (floor(sqrt(age)) + c)^2: local c = 10, remote c = 20 */
	static const struct { long age; int chan; long want; } t[] = {
		{ 0, CH_LOCAL, 100 }, { 100, CH_LOCAL, 400 }, { 399, CH_LOCAL, 841 },
		{ 400, CH_LOCAL, 900 }, { 0, CH_REMOTE, 400 }, { 400, CH_REMOTE, 1600 },
		{ 1600, CH_REMOTE, 3600 }, { -5, CH_REMOTE, 400 },
	};
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		cr_expect_eq(retry_next(1000, 1000 + t[i].age, t[i].chan), 1000 + t[i].want,
		    "age %ld chan %d", t[i].age, t[i].chan);
}

static void
tables(struct rw_tables *t)
{
	struct cfg_list locals, vd, ph;
	static const char *const l[] = { "example.org", "LocalHost" };
	static const char *const v[] = { "virt.test:vu", "joe@virt2.test:joe",
	    "virt2.test:v2", ".wild.test:wild", "x.wild.test:", ":catchall",
	    "nocolon" };

	cfg_list_init(&locals);
	cfg_list_init(&vd);
	cfg_list_init(&ph);
	for (size_t i = 0; i < 2; i++)
		cfg_list_add(&locals, l[i], strlen(l[i]));
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		cfg_list_add(&vd, v[i], strlen(v[i]));
	cfg_list_add(&ph, "example.org", 11);
	cr_assert_eq(rw_map_build(&t->locals, &locals, 0), 0);
	cr_assert_eq(rw_map_build(&t->vdoms, &vd, 1), 0);
	cr_assert_eq(rw_map_build(&t->percent, &ph, 0), 0);
	buf_init(&t->envnoathost, 0);
	buf_cpys(&t->envnoathost, "example.org");
}

Test(rewrite, table)
{
	static const struct { const char *in, *want; int chan; } t[] = {
		{ "alice@example.org", "alice@example.org", CH_LOCAL },
		{ "Alice@EXAMPLE.org", "Alice@EXAMPLE.org", CH_LOCAL },
		{ "bob", "bob@example.org", CH_LOCAL },
		{ "root@localhost", "root@localhost", CH_LOCAL },
		{ "u%other.net@example.org", "catchall-u@other.net", CH_LOCAL },
		{ "a%b%virt.test@example.org", "vu-a%b@virt.test", CH_LOCAL },
		{ "x@virt.test", "vu-x@virt.test", CH_LOCAL },
		{ "joe@virt2.test", "joe-joe@virt2.test", CH_LOCAL },
		{ "ann@virt2.test", "v2-ann@virt2.test", CH_LOCAL },
		{ "p@a.b.wild.test", "wild-p@a.b.wild.test", CH_LOCAL },
		{ "p@x.wild.test", "p@x.wild.test", CH_REMOTE },
		{ "p@wild.test", "catchall-p@wild.test", CH_LOCAL },
		{ "q@far.away", "catchall-q@far.away", CH_LOCAL },
	};
	struct rw_tables tb;
	struct buf out;

	tables(&tb);
	buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int c = rw_rewrite(&tb, t[i].in, &out);
		cr_expect_eq(c, t[i].chan, "%s: channel %d", t[i].in, c);
		cr_expect_str_eq(buf_str(&out), t[i].want, "%s", t[i].in);
	}
	cr_expect_str_eq(rw_strip_vdom(&tb, "vu-x@virt.test"), "x@virt.test");
	/* qmail looks at domain entries only: a user@domain prepend stays */
	cr_expect_str_eq(rw_strip_vdom(&tb, "joe-joe@virt2.test"), "joe-joe@virt2.test");
	cr_expect_str_eq(rw_strip_vdom(&tb, "v2-ann@virt2.test"), "ann@virt2.test");
	cr_expect_str_eq(rw_strip_vdom(&tb, "zz-x@virt.test"), "zz-x@virt.test");
	cr_expect_str_eq(rw_strip_vdom(&tb, "alice@example.org"), "alice@example.org");
}

Test(rewrite, no_catchall_remote)
{
	struct rw_tables tb;
	struct cfg_list none;
	struct buf out;

	cfg_list_init(&none);
	memset(&tb, 0, sizeof(tb));
	rw_map_build(&tb.locals, &none, 0);
	buf_init(&tb.envnoathost, 0);
	buf_cpys(&tb.envnoathost, "me.test");
	buf_init(&out, 0);
	cr_expect_eq(rw_rewrite(&tb, "x@far.away", &out), CH_REMOTE);
	cr_expect_eq(rw_rewrite(&tb, "x", &out), CH_REMOTE);
	cr_expect_str_eq(buf_str(&out), "x@me.test");
}

Test(rewrite, verp)
{
	static const struct { const char *s, *r, *want; } t[] = {
		{ "owner-@list.test-@[]", "bob@b.test", "owner-bob=b.test@list.test" },
		{ "plain@x.test", "bob@b.test", "plain@x.test" },
		{ "", "bob@b.test", "" },
		{ "-@[]", "bob@b.test", "-@[]" },
		{ "#@[]", "bob@b.test", "#@[]" },
	};
	struct buf out;

	buf_init(&out, 0);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		buf_reset(&out);
		rw_sender_verp(&out, t[i].s, t[i].r);
		cr_expect_str_eq(buf_str(&out), t[i].want, "%s", t[i].s);
	}
}

Test(spawn, request_bytes)
{
	static const char want[] = "\x05" "12/58\0" "a@b.test\0" "c@d.test";
	struct buf b;

	buf_init(&b, 0);
	spawn_request(&b, 5, 58, "a@b.test", "c@d.test");
	cr_assert_eq(b.len, sizeof(want));	/* includes the final NUL */
	cr_expect(memcmp(b.s, want, sizeof(want)) == 0);
}

Test(spawn, report_feed)
{
	/* slot 0 is a NUL byte: it must not end the report */
	static const char in[] = "\0Kok\0\x03Zlater\n\0";
	struct report r;
	size_t used, pos = 0, n = sizeof(in) - 1;
	int got = 0;

	buf_init(&r.line, SEND_REPORT_MAX + 1);
	while (pos < n) {
		if (spawn_report_feed(&r, in + pos, n - pos, &used)) {
			if (got == 0)
				cr_expect(r.line.len == 5 && memcmp(r.line.s, "\0Kok\0", 5) == 0);
			else
				cr_expect(r.line.len == 9 && r.line.s[0] == 3 && r.line.s[1] == 'Z');
			got++;
			buf_reset(&r.line);
		}
		pos += used;
	}
	cr_expect_eq(got, 2);
}

Test(bounce, paragraph)
{
	struct buf b;

	memset(&send_conf, 0, sizeof(send_conf));
	buf_init(&b, 0);
	bounce_paragraph(&b, "x@y.test", "Sorry, no mailbox here by that name.\n\nmore");
	cr_expect_str_eq(buf_str(&b),
	    "<x@y.test>:\nSorry, no mailbox here by that name.\n/more\n\n");
	buf_reset(&b);
	bounce_paragraph(&b, "a\nb@y.test", "");
	cr_expect_str_eq(buf_str(&b), "<a_b@y.test>:\n\n");
}

Test(bounce, head)
{
	struct buf b;

	memset(&send_conf, 0, sizeof(send_conf));
	buf_cpys(&send_conf.bouncefrom, "MAILER-DAEMON");
	buf_cpys(&send_conf.bouncehost, "mx.test");
	buf_init(&b, 0);
	bounce_head(&b, "we ird@x.test", 0, 0);
	cr_expect_str_eq(buf_str(&b), "Date: 1 Jan 1970 00:00:00 -0000\n"
	    "From: MAILER-DAEMON@mx.test\nTo: \"we ird\"@x.test\n"
	    "Subject: failure notice\n\nHi. This is the qmail-send program at mx.test.\n"
	    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
	    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n");
	buf_reset(&b);
	bounce_head(&b, "postmaster@mx.test", 1, 0);
	cr_expect(strstr(buf_str(&b), "but the bounce bounced!\n\n") != NULL);
}

Test(slog, safe)
{
	struct buf b;

	buf_init(&b, 0);
	slog_safe(&b, "ok 100%\ndone\t\x7f\xc3");
	cr_expect_str_eq(buf_str(&b), "ok_100_/done___");
}

Test(pq, order)
{
	struct pq q = { 0 };
	struct pq_elt e;
	static const long t[] = { 50, 10, 40, 10, 30, 20, 60, 0 };
	long last = -1;

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		pq_insert(&q, t[i], i + 1);
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		cr_assert(pq_min(&q, &e));
		cr_expect_geq(e.dt, last);
		last = e.dt;
		pq_delmin(&q);
	}
	cr_expect_not(pq_min(&q, &e));
}
