/* SPDX-License-Identifier: MIT
 * test_users.c - qmail-newu's users/cdb and qmail-lspawn's lookup in it:
 * exact, prefix (with the rest as extension), catch-all, format errors. */
#include <criterion/criterion.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "newu.h"
#include "support.h"
#include "users.h"

static char dir[] = "/tmp/sq-users-XXXXXX";
static char assign[512], cdb[512], tmp[512];

static void
setup(void)
{
	t_tmpdir(dir);
	snprintf(assign, sizeof(assign), "%s/assign", dir);
	snprintf(cdb, sizeof(cdb), "%s/cdb", dir);
	snprintf(tmp, sizeof(tmp), "%s/cdb.tmp", dir);
}

static int
compile(const char *text, struct buf *err)
{
	t_write(assign, text, 0644);
	buf_init(err, 1024);
	return newu_compile(assign, cdb, tmp, err);
}

static const char assign_text[] =
	"=alice:alice:1000:1001:/home/alice:::\n"
	"+alice-:alice:1000:1001:/home/alice:-::\n"
	"+list-:lists:1002:1003:/home/lists:-:l-:\n"
	"=Bob:bob:1004:1004:/home/bob:::ignored:\n"
	"+:alias:7790:2108:/var/qmail/alias:-::\n"
	".\n";

Test(users, exact_prefix_catchall, .init = setup, .fini = t_cleanup)
{
	struct users_entry u;
	struct buf err;

	cr_assert_eq(compile(assign_text, &err), 0, "%s", buf_str(&err));
	cr_expect_eq(access(tmp, F_OK), -1, "cdb.tmp renamed away");
	users_entry_init(&u);

	cr_assert_eq(users_cdb_lookup(cdb, "alice", &u), 1);
	cr_expect_str_eq(u.user, "alice");
	cr_expect_eq(u.uid, 1000);
	cr_expect_eq(u.gid, 1001);
	cr_expect_str_eq(u.home, "/home/alice");
	cr_expect_str_eq(u.dash, "");
	cr_expect_str_eq(u.ext, "");

	cr_assert_eq(users_cdb_lookup(cdb, "ALICE-Foo-Bar", &u), 1);
	cr_expect_str_eq(u.user, "alice");
	cr_expect_str_eq(u.dash, "-");
	cr_expect_str_eq(u.ext, "Foo-Bar", "rest of the local part keeps its case");

	cr_assert_eq(users_cdb_lookup(cdb, "list-announce", &u), 1);
	cr_expect_str_eq(u.user, "lists");
	cr_expect_str_eq(u.ext, "l-announce");

	cr_assert_eq(users_cdb_lookup(cdb, "bob", &u), 1, "keys are lowercased");
	cr_expect_str_eq(u.user, "bob");
	cr_expect_str_eq(u.ext, "");

	cr_assert_eq(users_cdb_lookup(cdb, "postmaster", &u), 1);
	cr_expect_str_eq(u.user, "alias");
	cr_expect_str_eq(u.home, "/var/qmail/alias");
	cr_expect_str_eq(u.dash, "-");
	cr_expect_str_eq(u.ext, "postmaster");

	/* "alicex" is no "alice-" prefix and no exact match: catch-all */
	cr_assert_eq(users_cdb_lookup(cdb, "alicex", &u), 1);
	cr_expect_str_eq(u.user, "alias");
}

Test(users, no_catchall_means_not_found, .init = setup, .fini = t_cleanup)
{
	struct users_entry u;
	struct buf err;

	cr_assert_eq(compile("=alice:alice:1000:1001:/home/alice:::\n.\n", &err), 0);
	users_entry_init(&u);
	cr_expect_eq(users_cdb_lookup(cdb, "bob", &u), 0);
	cr_expect_eq(users_cdb_lookup(cdb, "alice-x", &u), 0);
	cr_expect_eq(users_cdb_lookup("/nonexistent/cdb", "alice", &u), 0);
}

Test(users, format_errors_name_the_line, .init = setup, .fini = t_cleanup)
{
	static const struct { const char *label, *text, *want; } c[] = {
		{ "no dot", "=a:a:1:1:/h:::\n", "line 2: missing the final '.'" },
		{ "few colons", "=a:a:1:1:/h:::\n=b:b:1:1:/h::\n.\n", "line 2: expected" },
		{ "bad uid", "=a:a:x:1:/h:::\n.\n", "line 1: uid" },
		{ "relative home", "=a:a:1:1:h:::\n.\n", "line 1: home" },
		{ "bad type", "-a:a:1:1:/h:::\n.\n", "line 1: line must start" },
		{ "no colon", "=abc\n.\n", "line 1: missing ':'" },
	};
	struct buf err;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		cr_expect_eq(compile(c[i].text, &err), -1, "%s", c[i].label);
		cr_expect(strstr(buf_str(&err), c[i].want) != NULL, "%s: %s", c[i].label,
		    buf_str(&err));
		cr_expect_eq(access(tmp, F_OK), -1, "%s: no cdb.tmp left", c[i].label);
	}
}

Test(users, qmail_newu_on_mkhome_assign, .fini = t_cleanup)
{
	const char *home = t_mkhome();
	char path[1024], out[4096];
	const char *argv[] = { t_prog("qmail-newu"), NULL };
	struct users_entry u;

	snprintf(path, sizeof(path), "%s/users/cdb", home);
	unlink(path);
	cr_assert_eq(t_run(argv, NULL, home, out, sizeof(out)), 0, "%s", out);
	users_entry_init(&u);
	cr_assert_eq(users_cdb_lookup(path, "alice", &u), 1);
	cr_expect(strstr(u.home, "/home/alice") != NULL);
	cr_assert_eq(users_cdb_lookup(path, "alice-ext", &u), 1);
	cr_expect_str_eq(u.ext, "ext");
	cr_assert_eq(users_cdb_lookup(path, "postmaster", &u), 1);
	cr_expect(strstr(u.home, "/alias") != NULL);
	cr_expect_str_eq(u.ext, "postmaster");

	snprintf(path, sizeof(path), "%s/users/assign", home);
	t_write(path, "=alice:x:1:1:/h:::\n", 0644);
	cr_expect_eq(t_run(argv, NULL, home, out, sizeof(out)), 111);
	cr_expect(strstr(out, "users/assign line 2") != NULL, "%s", out);
}

Test(users, getpw_fallback_skips_root, .fini = t_cleanup)
{
	struct users_entry u;
	struct passwd *alias = getpwnam("alias");
	int r;

	users_entry_init(&u);
	/* root has uid 0: never a mailbox owner, so "root-x" goes to alias */
	r = users_getpw("root-x", &u);
	if (alias == NULL) {
		cr_expect_eq(r, 0, "no alias user on this system");
		return;
	}
	cr_assert_eq(r, 1);
	cr_expect_str_eq(u.user, "alias");
	cr_expect_str_eq(u.dash, "-");
	cr_expect_str_eq(u.ext, "root-x");
}
