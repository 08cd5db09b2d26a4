/* SPDX-License-Identifier: MIT
 * test_netstring.c - the strict netstring parser and the recipient list, no I/O.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "netstring.h"
#include "qmtpd.h"

static int
parse(const char *s, size_t max, size_t *len)
{
	const char *data;
	size_t used;

	return ns_parse(s, strlen(s), max, &data, len, &used);
}

Test(netstring, wellformed)
{
	const char *data;
	size_t len, used;

	cr_assert_eq(ns_parse("5:hello,rest", 12, 100, &data, &len, &used), NS_DONE);
	cr_assert_eq(len, 5);
	cr_assert_eq(used, 8);
	cr_assert(memcmp(data, "hello", 5) == 0);
	cr_assert_eq(parse("0:,", 100, &len), NS_DONE);
	cr_assert_eq(len, 0);
	cr_assert_eq(parse("10:0123456789,", 100, &len), NS_DONE);
	cr_assert_eq(len, 10);
}

Test(netstring, malformed)
{
	size_t len;

	cr_assert_eq(parse("x:a,", 100, &len), NS_SYNTAX, "non-digit length");
	cr_assert_eq(parse("1x:a,", 100, &len), NS_SYNTAX, "non-digit inside length");
	cr_assert_eq(parse(" 1:a,", 100, &len), NS_SYNTAX, "blank before length");
	cr_assert_eq(parse("-1:a,", 100, &len), NS_SYNTAX, "sign");
	cr_assert_eq(parse(":a,", 100, &len), NS_SYNTAX, "no digits");
	cr_assert_eq(parse("01:a,", 100, &len), NS_SYNTAX, "leading zero");
	cr_assert_eq(parse("00:,", 100, &len), NS_SYNTAX, "two zeros");
	cr_assert_eq(parse("1:ab", 100, &len), NS_SYNTAX, "missing comma");
	cr_assert_eq(parse("1:a;", 100, &len), NS_SYNTAX, "wrong terminator");
	cr_assert_eq(parse("101:", 100, &len), NS_TOOBIG, "beyond max");
	cr_assert_eq(parse("99999999999999999999999:", (size_t)-1, &len), NS_TOOBIG,
	    "more digits than any size");
	cr_assert_eq(parse("18446744073709551616:", (size_t)-1, &len), NS_TOOBIG,
	    "overflow");
	cr_assert_eq(parse("5:abc", 100, &len), NS_MORE, "truncated data");
	cr_assert_eq(parse("12", 100, &len), NS_MORE, "truncated length");
}

Test(netstring, rcpt_list)
{
	struct qmtp_rcpts r;
	const char *l = "13:a@example.com,8:b@x.test,";

	qmtp_rcpts_init(&r);
	cr_assert_eq(qmtp_rcpts_parse(&r, l, strlen(l), NULL), NS_DONE);
	cr_assert_eq(r.n, 2);
	cr_assert_str_eq(r.addrs.s, "a@example.com");
	cr_assert_str_eq(r.addrs.s + 14, "b@x.test");
	cr_assert_eq(qmtp_rcpts_parse(&r, "", 0, NULL), NS_SYNTAX, "empty list");
	cr_assert_eq(qmtp_rcpts_parse(&r, "3:abc", 5, NULL), NS_SYNTAX, "cut short");
	cr_assert_eq(qmtp_rcpts_parse(&r, "3:a\0c,", 6, NULL), NS_SYNTAX, "NUL in address");
	cr_assert_eq(qmtp_rcpts_parse(&r, "1001:", 5, NULL), NS_TOOBIG, "address too long");
	qmtp_rcpts_free(&r);
}
