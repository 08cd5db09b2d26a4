/* SPDX-License-Identifier: MIT
 * test_buf.c - bounded growable strings. */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "buf.h"

Test(buf, cat_and_printf)
{
	struct buf b;

	buf_init(&b, 0);
	cr_assert_eq(buf_cats(&b, "abc"), 0);
	cr_assert_eq(buf_printf(&b, "-%d-", 42), 0);
	cr_assert_str_eq(buf_str(&b), "abc-42-");
	cr_assert_eq(buf_len(&b), 7);
	buf_free(&b);
}

Test(buf, max_enforced)
{
	struct buf b;

	buf_init(&b, 5);
	cr_assert_eq(buf_cats(&b, "12345"), 0);
	errno = 0;
	cr_assert_eq(buf_catc(&b, 'x'), -1);
	cr_assert_eq(errno, EMSGSIZE);
	cr_assert_str_eq(buf_str(&b), "12345", "a refused append leaves the string as it was");
	cr_assert_eq(buf_printf(&b, "%s", "y"), -1);
	buf_free(&b);
}

Test(buf, nul_and_crlf)
{
	struct buf b;

	buf_init(&b, 100);
	buf_cat(&b, "a\0b\r\n", 5);
	cr_assert(buf_has_nul(&b));
	buf_chomp_crlf(&b);
	cr_assert_eq(buf_len(&b), 3);
	buf_cpys(&b, "MAIL FROM:<x>");
	cr_assert(buf_starts_ci(&b, "mail from:"));
	cr_assert_not(buf_starts_ci(&b, "rcpt"));
	buf_free(&b);
}
