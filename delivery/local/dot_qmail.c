/* SPDX-License-Identifier: MIT
 * dot_qmail.c - find the user's .qmail file (the -default cascade) and carry
 * out its lines: comments, Maildir and mbox lines, |programs, forwards.
 *
 * Runs as:    the recipient (qmail-local), cwd = home.
 * Trusted:    the user's .qmail files (refused when others can write them).
 * Hostile:    nothing new here: the extension is only used in a file name,
 *             lowercased and with '.' turned into ':' (no "..", no '/').
 * May touch:  ~/.qmail*, and whatever the lines name.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "mail/exitcode.h"
#include "local.h"

#define DOT_QMAIL_MAX (1024 * 1024)

static int
dot_qmail_absent(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ENAMETOOLONG || err == ELOOP;
}

/* dot_qmail_open - open c->qmail if it is a regular file nobody else may write */
static int
dot_qmail_open(struct local_ctx *c, int *forward_only)
{
	struct stat sb;
	int fd = open(c->qmail.s, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

	if (fd < 0) {
		if (dot_qmail_absent(errno))
			return -1;
		spawn_report_exit(EXIT_TEMP, "Unable to open %s: %s. (#4.3.0)", c->qmail.s,
		    strerror(errno));
	}
	if (fstat(fd, &sb) < 0)
		spawn_report_exit(EXIT_TEMP, "Unable to open %s: %s. (#4.3.0)", c->qmail.s,
		    strerror(errno));
	if (!S_ISREG(sb.st_mode)) {
		close(fd);
		return -1;
	}
	if (sb.st_mode & S_IWOTH)
		spawn_report_exit(EXIT_TEMP, "Uh-oh: .qmail file is writable. (#4.7.0)");
	*forward_only = (sb.st_mode & S_IXUSR) != 0;
	return fd;
}

static int
dot_qmail_try(struct local_ctx *c, size_t extlen, const char *suffix, int *forward_only)
{
	buf_reset(&c->qmail);
	if (buf_cats(&c->qmail, ".qmail") < 0 || buf_cats(&c->qmail, c->dash) < 0 ||
	    buf_cat(&c->qmail, buf_str(&c->safeext), extlen) < 0 ||
	    buf_cats(&c->qmail, suffix) < 0)
		spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
	return dot_qmail_open(c, forward_only);
}

static void
dot_qmail_default(const struct local_ctx *c, size_t i)
{
	if (i <= strlen(c->ext) && setenv("DEFAULT", c->ext + i, 1) < 0)
		spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
}

/* dot_qmail_search - .qmail-EXT, then .qmail-EXT-PREFIXES-default, longest
 * first, ending with .qmail-default ("-a-b": a-b, a-default, default) */
int
dot_qmail_search(struct local_ctx *c, int *forward_only)
{
	size_t n = c->safeext.len;
	int fd;

	if ((fd = dot_qmail_try(c, n, "", forward_only)) >= 0) {
		if (n >= 7 && memcmp(c->safeext.s + n - 7, "default", 7) == 0)
			dot_qmail_default(c, n - 7);
		return fd;
	}
	for (size_t i = n + 1; i-- > 0;) {
		if (i != 0 && c->safeext.s[i - 1] != '-')
			continue;
		if ((fd = dot_qmail_try(c, i, "default", forward_only)) >= 0) {
			dot_qmail_default(c, i);
			return fd;
		}
	}
	return -1;
}

/* dot_qmail_exists - .qmail<dash><ext><suffix> exists (for -owner) */
int
dot_qmail_exists(struct local_ctx *c, const char *suffix)
{
	struct buf name;
	struct stat sb;
	int r;

	buf_init(&name, 4 * LOCAL_ADDR_MAX);
	if (buf_printf(&name, ".qmail%s%s%s", c->dash, buf_str(&c->safeext),
	    suffix) < 0)
		spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
	r = stat(name.s, &sb);
	if (r < 0 && !dot_qmail_absent(errno))
		spawn_report_exit(EXIT_TEMP, "Unable to open %s: %s. (#4.3.0)", name.s,
		    strerror(errno));
	buf_free(&name);
	return r == 0;
}

static void
dot_qmail_say(const char *what, const char *arg)
{
	char line[LOCAL_LINE_MAX + 64];
	int n = snprintf(line, sizeof(line), "%s %s\n", what, arg);

	if (n > 0 && write(1, line, (size_t)n > sizeof(line) - 1 ?
	    sizeof(line) - 1 : (size_t)n) < 0) {
		/* -n output is best effort */
	}
}

static void
dot_qmail_file(struct local_ctx *c, const char *path, size_t len)
{
	char name[512];
	const char *why = NULL;
	struct buf hdr, err;

	c->nfile++;
	if (path[len - 1] == '/') {
		if (!c->doit) {
			dot_qmail_say("maildir", path);
			return;
		}
		buf_init(&hdr, 2 * LOCAL_ADDR_MAX + 64);
		if (buf_cat(&hdr, c->rpline.s, c->rpline.len) < 0 ||
		    buf_cat(&hdr, c->dtline.s, c->dtline.len) < 0)
			spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
		local_rewind();
		if (maildir_deliver(path, &hdr, 0, name, sizeof(name), &why) < 0)
			spawn_report_exit(EXIT_TEMP, "%s", why);
		buf_free(&hdr);
		return;
	}
	if (!c->doit) {
		dot_qmail_say("mbox", path);
		return;
	}
	buf_init(&hdr, 3 * LOCAL_ADDR_MAX + 128);
	buf_init(&err, 1024);
	if (buf_cat(&hdr, c->ufline.s, c->ufline.len) < 0 ||
	    buf_cat(&hdr, c->rpline.s, c->rpline.len) < 0 ||
	    buf_cat(&hdr, c->dtline.s, c->dtline.len) < 0)
		spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
	local_rewind();
	if (mbox_deliver(path, &hdr, 0, &err) < 0)
		spawn_report_exit(EXIT_TEMP, "%s", err.s);
	buf_free(&hdr);
	buf_free(&err);
}

/* dot_qmail_line - one line, trailing blanks already cut; forwards are collected */
static void
dot_qmail_line(struct local_ctx *c, char *line, size_t len, int first,
    int *forward_only, char **fwd, size_t *nfwd)
{
	switch (line[0]) {
	case '\0':
		if (first)
			spawn_report_exit(EXIT_TEMP, "Uh-oh: first line of .qmail file is blank. (#4.2.1)");
		return;
	case '#':
		return;
	case '.': case '/':
		if (*forward_only)
			spawn_report_exit(EXIT_TEMP, "Uh-oh: .qmail has file delivery but has x bit set. (#4.7.0)");
		dot_qmail_file(c, line, len);
		return;
	case '|':
		c->nprogram++;
		if (*forward_only)
			spawn_report_exit(EXIT_TEMP, "Uh-oh: .qmail has prog delivery but has x bit set. (#4.7.0)");
		if (!c->doit) {
			dot_qmail_say("program", line + 1);
			return;
		}
		program_deliver(c, line + 1);
		return;
	case '+':
		if (strcmp(line + 1, "list") == 0)
			*forward_only = 1;
		return;
	case '&':
		line++;
		/* FALLTHROUGH */
	default:
		c->nforward++;
		if (!c->doit) {
			dot_qmail_say("forward", line);
			return;
		}
		fwd[(*nfwd)++] = line;
	}
}

/* dot_qmail_lines - every line in order; forwards go out together at the end */
void
dot_qmail_lines(struct local_ctx *c, char *text, size_t len, int forward_only)
{
	char **fwd;
	size_t nfwd = 0, start = 0;

	fwd = calloc(len / 2 + 2, sizeof(*fwd));
	if (fwd == NULL)
		spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
	for (size_t j = 0; j < len; j++) {
		size_t k = j;

		if (text[j] != '\n')
			continue;
		text[j] = '\0';
		while (k > start && (text[k - 1] == ' ' || text[k - 1] == '\t'))
			text[--k] = '\0';
		dot_qmail_line(c, text + start, k - start, start == 0, &forward_only,
		    fwd, &nfwd);
		start = j + 1;
		if (c->stop)
			break;
	}
	if (nfwd > 0 && c->doit)
		forward_deliver(c, fwd, nfwd);
	free(fwd);
}

static void
dot_qmail_newsender(struct local_ctx *c)
{
	int r = 0;

	if (*c->sender && strcmp(c->sender, "#@[]") != 0 && dot_qmail_exists(c, "-owner")) {
		if (dot_qmail_exists(c, "-owner-default"))
			r = buf_printf(&c->newsender, "%s-owner-@%s-@[]", c->local, c->host);
		else
			r = buf_printf(&c->newsender, "%s-owner@%s", c->local, c->host);
	} else {
		r = buf_cats(&c->newsender, c->sender);
	}
	if (r < 0 || setenv("NEWSENDER", c->newsender.s, 1) < 0)
		spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
}

static void
dot_qmail_slurp(int fd, struct buf *text)
{
	char tmp[8192];
	ssize_t r;

	while ((r = read(fd, tmp, sizeof(tmp))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			spawn_report_exit(EXIT_TEMP, "Unable to read .qmail file: %s. (#4.3.0)",
			    strerror(errno));
		}
		if (buf_cat(text, tmp, (size_t)r) < 0)
			spawn_report_exit(EXIT_TEMP, "Uh-oh: .qmail file is too big. (#4.3.0)");
	}
	close(fd);
}

/* local_run - find the .qmail, then deliver as it says */
void
local_run(struct local_ctx *c)
{
	struct buf text;
	int forward_only = 0, fd;

	local_setup(c);
	fd = dot_qmail_search(c, &forward_only);
	if (fd < 0 && *c->dash)
		spawn_report_exit(EXIT_PERM, "Sorry, no mailbox here by that name. (#5.1.1)");
	dot_qmail_newsender(c);
	buf_init(&text, DOT_QMAIL_MAX);
	if (fd >= 0)
		dot_qmail_slurp(fd, &text);
	if (text.len == 0) {
		forward_only = 0;
		if (buf_cats(&text, c->defaultdelivery) < 0)
			spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
	}
	if (text.s[text.len - 1] != '\n' && buf_catc(&text, '\n') < 0)
		spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
	dot_qmail_lines(c, text.s, text.len, forward_only);
	buf_free(&text);
}
