/* SPDX-License-Identifier: MIT
 * local.c - qmail-local: deliver one message for one local address following
 * the user's .qmail file (dot-qmail(5)) or the default delivery.
 *
 * Runs as:    the recipient's uid (set by qmail-lspawn), cwd = the user's home.
 * Trusted:    argv from qmail-lspawn; the user's own .qmail files.
 * Hostile:    the message on fd 0 and the envelope sender: copied and quoted,
 *             never interpreted (the header is only scanned for our Delivered-To).
 * May touch:  the user's mailboxes; runs .qmail programs and qmail-queue.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "mail/exitcode.h"
#include "local.h"

void
local_rewind(void)
{
	if (lseek(0, 0, SEEK_SET) < 0)
		spawn_report_exit(EXIT_TEMP, "Unable to rewind message. (#4.3.0)");
}

static void
local_nomem(int r)
{
	if (r < 0)
		spawn_report_exit(EXIT_TEMP, "Out of memory. (#4.3.0)");
}

static void
local_setenv(const char *name, const char *value)
{
	local_nomem(setenv(name, value, 1));
}

static int
local_atom_char(unsigned char ch)
{
	return ch > 32 && ch < 127 && strchr("()<>@,;:\\\".[]", ch) == NULL;
}

/* local_quote - qmail's quote2: quote the local part when it is not a dot-atom */
int
local_quote(struct buf *out, const char *addr)
{
	const char *at = strrchr(addr, '@');
	size_t n = at ? (size_t)(at - addr) : strlen(addr);
	int need = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)addr[i];

		if (ch == '.') {
			if (i == 0 || i == n - 1 || addr[i - 1] == '.')
				need = 1;
		} else if (!local_atom_char(ch)) {
			need = 1;
		}
	}
	if (!need)
		return buf_cats(out, addr);
	if (buf_catc(out, '"') < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (((addr[i] == '"' || addr[i] == '\\') && buf_catc(out, '\\') < 0) ||
		    buf_catc(out, addr[i]) < 0)
			return -1;
	if (buf_catc(out, '"') < 0)
		return -1;
	return at ? buf_cats(out, at) : 0;
}

/* local_newline_safe - a header line must not carry a newline from argv */
static void
local_newline_safe(struct buf *b, size_t from)
{
	for (size_t i = from; i < b->len; i++)
		if (b->s[i] == '\n')
			b->s[i] = '_';
}

static void
local_checkhome(const struct local_ctx *c)
{
	struct stat sb;

	if (stat(".", &sb) < 0)
		spawn_report_exit(EXIT_TEMP, "Unable to stat home directory: %s. (#4.3.0)",
		    strerror(errno));
	if (sb.st_mode & S_IWOTH)
		spawn_report_exit(EXIT_TEMP, "Uh-oh: home directory is writable. (#4.7.0)");
	if (sb.st_mode & S_ISVTX && c->doit)
		spawn_report_exit(EXIT_TEMP, "Home directory is sticky: user is editing his "
		    ".qmail file. (#4.2.1)");
}

/* local_loopcheck - refuse a message that already has our Delivered-To line */
static void
local_loopcheck(const struct local_ctx *c)
{
	char tmp[8192];
	size_t pos = 0;
	int same = 1;
	ssize_t r;

	local_rewind();
	while ((r = read(0, tmp, sizeof(tmp))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			spawn_report_exit(EXIT_TEMP, "Unable to read message: %s. (#4.3.0)",
			    strerror(errno));
		}
		for (ssize_t i = 0; i < r; i++) {
			char ch = tmp[i];

			if (same && (pos >= c->dtline.len || c->dtline.s[pos] != ch))
				same = 0;
			pos++;
			if (ch != '\n')
				continue;
			if (pos == 1)
				return;		/* end of header */
			if (same && pos == c->dtline.len)
				spawn_report_exit(EXIT_PERM, "This message is looping: it already "
				    "has my Delivered-To line. (#5.4.6)");
			pos = 0;
			same = 1;
		}
	}
}

static void
local_ufline(struct local_ctx *c)
{
	char date[64];
	time_t now = time(NULL);
	struct tm tm;

	local_nomem(buf_cats(&c->ufline, "From "));
	if (*c->sender == '\0')
		local_nomem(buf_cats(&c->ufline, "MAILER-DAEMON"));
	for (const char *p = c->sender; *p; p++)
		local_nomem(buf_catc(&c->ufline, strchr(" \t\n", *p) ? '-' : *p));
	gmtime_r(&now, &tm);
	strftime(date, sizeof(date), " %a %b %e %H:%M:%S %Y\n", &tm);
	local_nomem(buf_cats(&c->ufline, date));
	local_setenv("UFLINE", c->ufline.s);
}

/* local_env_parts - EXT2..EXT4 (after each '-') and HOST2..HOST4 (before each '.') */
static void
local_env_parts(const struct local_ctx *c)
{
	static const char *const ext_names[] = { "EXT2", "EXT3", "EXT4" };
	static const char *const host_names[] = { "HOST2", "HOST3", "HOST4" };
	const char *x = c->ext;
	size_t n = strlen(c->host);
	char *h = strdup(c->host);

	if (h == NULL)
		local_nomem(-1);
	local_setenv("EXT", c->ext);
	for (int k = 0; k < 3; k++) {
		x += strcspn(x, "-");
		if (*x)
			x++;
		local_setenv(ext_names[k], x);
	}
	for (int k = 0; k < 3; k++) {
		char *dot = memrchr(h, '.', n);

		if (dot != NULL)
			n = (size_t)(dot - h);
		h[n] = '\0';
		local_setenv(host_names[k], h);
	}
	free(h);
}

/* local_setup - home checks, header lines and the environment (qmail-command(8)) */
void
local_setup(struct local_ctx *c)
{
	if (chdir(c->homedir) < 0)
		spawn_report_exit(EXIT_TEMP, "Unable to switch to %s: %s. (#4.3.0)", c->homedir,
		    strerror(errno));
	local_checkhome(c);
	local_setenv("HOST", c->host);
	local_setenv("HOME", c->homedir);
	local_setenv("USER", c->user);
	local_setenv("LOCAL", c->local);
	local_nomem(buf_printf(&c->dtline, "%s@%s", c->local, c->host));
	local_setenv("RECIPIENT", c->dtline.s);
	buf_reset(&c->dtline);
	local_nomem(buf_printf(&c->dtline, "Delivered-To: %s@%s", c->local, c->host));
	local_newline_safe(&c->dtline, 0);
	local_nomem(buf_catc(&c->dtline, '\n'));
	local_setenv("DTLINE", c->dtline.s);
	if (c->doit)
		local_loopcheck(c);
	local_setenv("SENDER", c->sender);
	local_nomem(buf_cats(&c->rpline, "Return-Path: <"));
	local_nomem(local_quote(&c->rpline, c->sender));
	local_newline_safe(&c->rpline, 0);
	local_nomem(buf_cats(&c->rpline, ">\n"));
	local_setenv("RPLINE", c->rpline.s);
	local_ufline(c);
	local_env_parts(c);
	for (const char *p = c->ext; *p; p++) {
		char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;

		local_nomem(buf_catc(&c->safeext, ch == '.' ? ':' : ch));
	}
}
