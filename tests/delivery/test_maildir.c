/* SPDX-License-Identifier: MIT
 * test_maildir.c - maildir_deliver: file lands in new/, tmp/ stays empty,
 * names are unique, header lines come first, errors are reported. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "local.h"
#include "support.h"

static char dir[] = "/tmp/sq-md-XXXXXX";
static char md[512];

static void
setup(void)
{
	char p[600];

	t_tmpdir(dir);
	snprintf(md, sizeof(md), "%s/Maildir", dir);
	mkdir(md, 0700);
	snprintf(p, sizeof(p), "%s/tmp", md);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/new", md);
	mkdir(p, 0700);
	snprintf(p, sizeof(p), "%s/cur", md);
	mkdir(p, 0700);
}

static int
message_fd(const char *text)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/msg", dir);
	t_write(path, text, 0600);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	return fd;
}

Test(maildir, delivers_into_new, .init = setup, .fini = t_cleanup)
{
	struct buf hdr;
	char name[256], p[900];
	const char *why = NULL;
	int fd = message_fd("Subject: x\n\nhello\n");

	buf_init(&hdr, 1024);
	buf_cats(&hdr, "Return-Path: <a@b>\nDelivered-To: c@d\n");
	cr_assert_eq(maildir_deliver(md, &hdr, fd, name, sizeof(name), &why), 0, "%s", why);
	snprintf(p, sizeof(p), "%s/new", md);
	cr_expect_eq(t_count(p), 1);
	snprintf(p, sizeof(p), "%s/tmp", md);
	cr_expect_eq(t_count(p), 0, "tmp/ must be empty after delivery");
	snprintf(p, sizeof(p), "%s/new/%s", md, name);
	cr_expect_str_eq(t_read(p), "Return-Path: <a@b>\nDelivered-To: c@d\nSubject: x\n\nhello\n");
	cr_expect(strstr(name, ".M") && strstr(name, "P") && strstr(name, "Q"),
	    "modern unique name: %s", name);
	struct stat sb;
	cr_assert_eq(stat(p, &sb), 0);
	cr_expect_eq(sb.st_mode & 0777, 0600);
}

Test(maildir, names_are_unique, .init = setup, .fini = t_cleanup)
{
	struct buf hdr;
	char name[256], first[256], p[600];
	const char *why = NULL;

	buf_init(&hdr, 64);
	for (int i = 0; i < 50; i++) {
		int fd = message_fd("x\n");

		cr_assert_eq(maildir_deliver(md, &hdr, fd, name, sizeof(name), &why), 0);
		close(fd);
		if (i == 0)
			snprintf(first, sizeof(first), "%s", name);
		else
			cr_assert_str_neq(name, first);
	}
	snprintf(p, sizeof(p), "%s/new", md);
	cr_expect_eq(t_count(p), 50);
}

Test(maildir, missing_maildir_is_an_error, .init = setup, .fini = t_cleanup)
{
	struct buf hdr;
	char name[256], p[600];
	const char *why = NULL;
	int fd = message_fd("x\n");

	buf_init(&hdr, 64);
	snprintf(p, sizeof(p), "%s/NoSuch", dir);
	cr_expect_eq(maildir_deliver(p, &hdr, fd, name, sizeof(name), &why), -1);
	cr_assert_not_null(why);
	cr_expect(strstr(why, "(#4.") != NULL, "temporary text: %s", why);
}

Test(maildir, host_with_slash_is_escaped, .init = setup, .fini = t_cleanup)
{
	/* the name must be one path component whatever the host name is */
	struct buf hdr;
	char name[256];
	const char *why = NULL;
	int fd = message_fd("x\n");

	buf_init(&hdr, 64);
	cr_assert_eq(maildir_deliver(md, &hdr, fd, name, sizeof(name), &why), 0);
	cr_expect_null(strchr(name, '/'));
	cr_expect_null(strchr(name, ':'));
}
