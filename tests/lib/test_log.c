/* SPDX-License-Identifier: MIT
 * test_log.c - priority prefixes and escaping of hostile bytes. */
#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"

Test(log, prefix_and_escape, .init = cr_redirect_stderr)
{
	log_warning("helo %s", "x\n<0>forged\x7f");
	fflush(stderr);
	cr_assert_stderr_eq_str("<4>helo x\\n<0>forged\\x7f\n");
}

Test(log, debug_only_when_verbose, .init = cr_redirect_stderr)
{
	log_debug("hidden");
	log_set_verbose(1);
	log_debug("shown %d", 1);
	cr_assert_stderr_eq_str("<7>shown 1\n");
}

static void
cleanup(void)
{
	fputs("cleanup ran\n", stdout);
}

Test(log, fatal_runs_cleanup_and_exits, .exit_code = 111, .init = cr_redirect_stdout)
{
	log_set_cleanup(cleanup);
	log_fatal(111, "open %s: boom", "x");
}

Test(log, escape_bounded)
{
	char out[8];

	cr_assert_eq(log_escape(out, sizeof(out), "\x01\x02", 2), 4);
	cr_assert_str_eq(out, "\\x01");
}
