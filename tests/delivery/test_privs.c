/* SPDX-License-Identifier: MIT
 * test_privs.c - qmail-lspawn's privilege rules: as root it becomes the
 * user from users/cdb (uid, gid, no supplementary groups); without root it
 * serves only its own uid and defers everyone else with a clear text. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

#define OTHER_UID 65534

static const char *home;

/* lspawn_one - one request to a fresh qmail-lspawn; the report text */
static void
lspawn_one(const char *rcpt, char *text, size_t size)
{
	char cmd[4096], path[1024];
	FILE *fp;
	size_t n;

	snprintf(path, sizeof(path), "%s/queue/mess/5/123", home);
	t_write(path, "Subject: privs\n\nhello\n", 0600);
	/* a shell pipe is enough for one request: the answer order is fixed */
	snprintf(cmd, sizeof(cmd), "printf '\\001%s\\000%s\\000%s\\000' | QMAILHOME=%s %s ./Maildir/",
	    "5/123", "bob@x.org", rcpt, home, t_prog("qmail-lspawn"));
	fp = popen(cmd, "r");
	cr_assert_not_null(fp);
	n = fread(text, 1, size - 1, fp);
	pclose(fp);
	text[n] = '\0';
	cr_assert_geq(n, 3, "announce byte, slot byte, report");
	memmove(text, text + 2, n - 1);	/* drop the announce and slot bytes */
}

static void
assign(const char *line)
{
	char path[1024], cmd[1200];

	snprintf(path, sizeof(path), "%s/users/assign", home);
	t_write(path, line, 0644);
	snprintf(cmd, sizeof(cmd), "QMAILHOME=%s %s", home, t_prog("qmail-newu"));
	cr_assert_eq(system(cmd), 0);
}

/* other_can_run - can OTHER_UID reach qmail-local and the home? else skip */
static int
other_can_run(const char *dir)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(OTHER_UID) < 0 || setuid(OTHER_UID) < 0)
			_exit(1);
		_exit(access(t_prog("qmail-local"), X_OK) == 0 && chdir(dir) == 0 ? 0 : 1);
	}
	waitpid(pid, &status, 0);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

Test(privs, root_becomes_the_user, .timeout = 30, .fini = t_cleanup)
{
	char line[2048], dir[1024], text[4096];
	const char *file;
	struct stat sb;

	if (geteuid() != 0)
		cr_skip_test("needs root");
	home = t_mkhome();
	chmod(home, 0711);
	snprintf(dir, sizeof(dir), "%s/home", home);
	chmod(dir, 0711);
	snprintf(dir, sizeof(dir), "%s/home/other", home);
	mkdir(dir, 0700);
	snprintf(line, sizeof(line), "%s/Maildir", dir);
	mkdir(line, 0700);
	snprintf(line, sizeof(line), "%s/Maildir/new", dir);
	mkdir(line, 0700);
	snprintf(line, sizeof(line), "%s/Maildir/tmp", dir);
	mkdir(line, 0700);
	snprintf(line, sizeof(line), "chown -R %d:%d %s", OTHER_UID, OTHER_UID, dir);
	cr_assert_eq(system(line), 0);
	if (!other_can_run(dir))
		cr_skip_test("uid %d cannot reach the build tree", OTHER_UID);
	snprintf(line, sizeof(line), "=other:nobody:%d:%d:%s:::\n.\n", OTHER_UID, OTHER_UID, dir);
	assign(line);
	lspawn_one("other@sandbox.test", text, sizeof(text));
	cr_assert_str_eq(text, "Kdid 1+0+0\n");
	snprintf(line, sizeof(line), "%s/Maildir/new", dir);
	file = t_first(line);
	cr_assert_not_null(file);
	cr_assert_eq(stat(file, &sb), 0);
	cr_expect_eq(sb.st_uid, OTHER_UID, "delivered as the user");
	cr_expect_eq(sb.st_gid, OTHER_UID, "with the user's group");
}

Test(privs, without_root_only_our_uid, .timeout = 30, .fini = t_cleanup)
{
	char line[2048], text[4096];

	if (geteuid() == 0)
		cr_skip_test("runs without root only");
	home = t_mkhome();
	snprintf(line, sizeof(line), "=other:other:%lu:%lu:%s/home/bob:::\n.\n",
	    (unsigned long)geteuid() + 1, (unsigned long)getegid(), home);
	assign(line);
	lspawn_one("other@sandbox.test", text, sizeof(text));
	cr_expect(text[0] == 'Z' && strstr(text, "not root") != NULL, "%s", text);
	lspawn_one("alice@sandbox.test", text, sizeof(text));
	cr_expect_eq(text[0], 'Z', "alice is no longer in users/assign: %s", text);
}
