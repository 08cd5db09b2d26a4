/* SPDX-License-Identifier: MIT
 * support.c - helpers for the delivery tests: temp homes, running binaries. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "support.h"

static char t_home[256];
static char t_dirs[4][256];
static int t_ndirs;

static int
t_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void
t_cleanup(void)
{
	for (int i = 0; i < t_ndirs; i++)
		nftw(t_dirs[i], t_rm, 16, FTW_DEPTH | FTW_PHYS);
}

void
t_tmpdir(char *templ)
{
	cr_assert_not_null(mkdtemp(templ));
	if (t_ndirs < 4)
		snprintf(t_dirs[t_ndirs++], sizeof(t_dirs[0]), "%s", templ);
}

const char *
t_prog(const char *name)
{
	static char path[4][1024];
	static int k;
	const char *b = getenv("SQ_BUILDDIR");

	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", b ? b : ".", name);
	return path[k];
}

const char *
t_mkhome(void)
{
	char cmd[2048];
	const char *src = getenv("SQ_SRCDIR"), *b = getenv("SQ_BUILDDIR");

	snprintf(t_home, sizeof(t_home), "/tmp/sq-deliv-XXXXXX");
	t_tmpdir(t_home);
	snprintf(cmd, sizeof(cmd), "sh %s/sandbox-tools/mkhome.sh %s %s >/dev/null",
	    src ? src : ".", t_home, b ? b : ".");
	cr_assert_eq(system(cmd), 0, "mkhome.sh failed");
	return t_home;
}

void
t_write(const char *path, const char *text, int mode)
{
	FILE *fp = fopen(path, "w");

	cr_assert_not_null(fp, "create %s", path);
	fputs(text, fp);
	fclose(fp);
	chmod(path, (mode_t)mode);
}

char *
t_read(const char *path)
{
	FILE *fp = fopen(path, "r");
	char *s = calloc(1, 1 << 20);
	size_t n;

	cr_assert_not_null(s);
	if (fp == NULL)
		return s;
	n = fread(s, 1, (1 << 20) - 1, fp);
	s[n] = '\0';
	fclose(fp);
	return s;
}

int
t_run(const char *const *argv, const char *in_path, const char *home,
    char *out, size_t outsize)
{
	int pi[2], status;
	size_t len = 0;
	ssize_t r;
	pid_t pid;

	cr_assert_eq(pipe(pi), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int fd = open(in_path ? in_path : "/dev/null", O_RDONLY);

		dup2(fd, 0);
		dup2(pi[1], 1);
		dup2(pi[1], 2);
		close(pi[0]);
		if (home)
			setenv("QMAILHOME", home, 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pi[1]);
	while ((r = read(pi[0], out + len, outsize - 1 - len)) > 0)
		len += (size_t)r;
	out[len] = '\0';
	close(pi[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int
t_count(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

const char *
t_first(const char *dir)
{
	static char path[2048];
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return NULL;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
			closedir(d);
			return path;
		}
	closedir(d);
	return NULL;
}
