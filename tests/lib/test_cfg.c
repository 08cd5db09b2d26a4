/* SPDX-License-Identifier: MIT
 * test_cfg.c - control files: defaults, lists, numbers, env overrides, errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cfg.h"

static char dir[] = "/tmp/sq-cfg-XXXXXX";

static void
put(const char *name, const char *text)
{
	char path[256];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

static void
setup(void)
{
	cr_assert_not_null(mkdtemp(dir));
	cfg_set_dir(dir);
}

static void
teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
}

Test(cfg, line_list_uint, .init = setup, .fini = teardown)
{
	struct buf me;
	struct cfg_list locals;
	unsigned long n = 0;

	put("me", "mx.example.org \t\nsecond line\n");
	put("locals", "# comment\nexample.org\n\n  \nEXAMPLE.net  \n");
	put("timeoutsmtpd", "300\n");
	put("bad", "12x\n");
	buf_init(&me, 1024);
	cfg_list_init(&locals);
	cr_assert_eq(cfg_read_line("me", &me), 1);
	cr_assert_str_eq(buf_str(&me), "mx.example.org");
	cr_assert_eq(cfg_read_line("missing", &me), 0);
	cr_assert_eq(cfg_read_list("locals", &locals), 1);
	cr_assert_eq(locals.n, 2);
	cr_assert(cfg_list_has_ci(&locals, "example.net", 11));
	cr_assert_not(cfg_list_has_ci(&locals, "example", 7));
	cr_assert_eq(cfg_read_uint("timeoutsmtpd", 1, 3600, &n), 1);
	cr_assert_eq(n, 300);
	cr_assert_eq(cfg_read_uint("bad", 0, 10, &n), -1);
	cfg_list_free(&locals);
	buf_free(&me);
}

Test(cfg, table_defaults_env_and_errors, .init = setup, .fini = teardown)
{
	struct buf greeting;
	size_t databytes = 1;
	unsigned long timeout = 0;
	struct cfg_list rcpthosts;
	const struct cfg_item table[] = {
		{ "smtpgreeting", CFG_LINE, 0, 0, "default.host", NULL, &greeting },
		{ "databytes", CFG_SIZE, 0, ~0UL, "0", "DATABYTES", &databytes },
		{ "timeoutsmtpd", CFG_UINT, 1, 3600, "1200", NULL, &timeout },
		{ "rcpthosts", CFG_LIST, 0, 0, NULL, NULL, &rcpthosts },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};
	const struct cfg_item broken[] = {
		{ "timeoutsmtpd", CFG_UINT, 1, 3600, "1200", NULL, &timeout },
		{ NULL, 0, 0, 0, NULL, NULL, NULL },
	};

	buf_init(&greeting, 1024);
	cfg_list_init(&rcpthosts);
	setenv("DATABYTES", "5000", 1);
	cr_assert_eq(cfg_load(table), 0);
	cr_assert_str_eq(buf_str(&greeting), "default.host");
	cr_assert_eq(databytes, 5000);
	cr_assert_eq(timeout, 1200);
	cr_assert_eq(rcpthosts.n, 0);
	put("timeoutsmtpd", "0\n");
	cr_assert_eq(cfg_load(broken), -1, "a value out of bounds is an error, not a default");
	unsetenv("DATABYTES");
}
