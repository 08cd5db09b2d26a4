/* SPDX-License-Identifier: MIT
 * test_num.c - checked number parsing. */
#include <criterion/criterion.h>

#include "num.h"

Test(num, table)
{
	static const struct { const char *label, *in; unsigned long min, max; int want; unsigned long val; } c[] = {
		{ "plain", "1200", 0, 3600, 0, 1200 },
		{ "zero", "0", 0, 10, 0, 0 },
		{ "below min", "0", 1, 10, -1, 0 },
		{ "above max", "11", 1, 10, -1, 0 },
		{ "sign", "-1", 0, 10, -1, 0 },
		{ "plus", "+1", 0, 10, -1, 0 },
		{ "space", " 1", 0, 10, -1, 0 },
		{ "trailing", "1x", 0, 10, -1, 0 },
		{ "empty", "", 0, 10, -1, 0 },
		{ "overflow", "99999999999999999999999", 0, ~0UL, -1, 0 },
	};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		unsigned long v = 0;
		int r = num_parse_uint(c[i].in, c[i].min, c[i].max, &v);
		cr_expect_eq(r, c[i].want, "%s", c[i].label);
		if (r == 0)
			cr_expect_eq(v, c[i].val, "%s", c[i].label);
	}
}
