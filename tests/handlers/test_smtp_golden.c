/* SPDX-License-Identifier: MIT
 * test_smtp_golden.c - golden SMTP transcripts from tests/data/smtp/.
 *
 * NAME.in  client side. Leading lines "#control FILE VALUE" (VALUE may use \n;
 *          "-" removes the file), "#env VAR=VALUE", "#keepopen" and "#exit N"
 *          set up the run. Every other line is sent with CRLF appended; in it
 *          \r is a CR, \n a LF, \0 a NUL, \\ a backslash, and a trailing \z means "no CRLF".
 *          The whole script is sent at once (so it also tests pipelining).
 * NAME.out the server's replies, CRLF shown as LF, "250 2.0.0 ok N qp N".
 * NAME.msg / NAME.env (optional) what qmail-queue got: the message with the
 *          Received date shown as DATE; the envelope with each \0 shown as LF.
 */
#include <criterion/criterion.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp_harness.h"

static char envset[8][64];	/* variables a transcript set, unset after it */
static unsigned nenvset;

TestSuite(golden, .init = harness_setup, .fini = harness_teardown, .timeout = 50);

static char *
slurp(const char *path, size_t *len)
{
	char *p = NULL;
	size_t cap = 0;
	FILE *fp = fopen(path, "r"), *mem;
	int c;

	if (fp == NULL)
		return NULL;
	mem = open_memstream(&p, &cap);
	while ((c = getc(fp)) != EOF)
		putc(c, mem);
	fclose(fp);
	fclose(mem);
	if (len)
		*len = cap;
	return p;
}

static void
unescape_to(FILE *mem, const char *s, size_t n, int *noeol)
{
	*noeol = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\\' || i + 1 == n) {
			putc(s[i], mem);
			continue;
		}
		switch (s[++i]) {
		case 'r': putc('\r', mem); break;
		case 'n': putc('\n', mem); break;
		case 'z': *noeol = 1; break;
		case '0': putc('\0', mem); break;
		default: putc(s[i], mem); break;
		}
	}
}

/* directive - one "#..." setup line; returns the expected exit code or -1 */
static void
directive(const char *line, int *keepopen, int *exitcode)
{
	char file[64], value[512], *p = NULL;
	size_t cap = 0;
	FILE *mem;
	int noeol;

	value[0] = '\0';
	if (strncmp(line, "#control ", 9) == 0 && sscanf(line + 9, "%63s %511[^\n]", file, value) >= 1) {
		if (strcmp(value, "-") == 0) {
			harness_control(file, NULL);
			return;
		}
		mem = open_memstream(&p, &cap);
		unescape_to(mem, value, strlen(value), &noeol);
		fclose(mem);
		harness_control(file, p);
		free(p);
	} else if (strncmp(line, "#env ", 5) == 0) {
		snprintf(value, sizeof(value), "%.500s", line + 5);
		if ((p = strchr(value, '=')) != NULL) {
			*p = '\0';
			setenv(value, p + 1, 1);
			snprintf(envset[nenvset++ % 8], sizeof(envset[0]), "%s", value);
		}
	} else if (strcmp(line, "#keepopen") == 0) {
		*keepopen = 1;
	} else if (strncmp(line, "#exit ", 6) == 0) {
		*exitcode = atoi(line + 6);
	}
}

static char *
script(const char *text, size_t *len, int *keepopen, int *exitcode)
{
	char *p = NULL, line[8192];
	size_t cap = 0, n;
	FILE *mem = open_memstream(&p, &cap);
	const char *s = text;
	int setup = 1, noeol;

	while (*s) {
		n = strcspn(s, "\n");
		cr_assert_lt(n, sizeof(line));
		memcpy(line, s, n);
		line[n] = '\0';
		s += n + (s[n] == '\n');
		if (setup && line[0] == '#') {
			directive(line, keepopen, exitcode);
			continue;
		}
		setup = 0;
		unescape_to(mem, line, n, &noeol);
		if (!noeol)
			fputs("\r\n", mem);
	}
	fclose(mem);
	*len = cap;
	return p;
}

/* norm_msg - "with SMTP; 25 Nov 2026 12:00:00 -0000" -> "with SMTP; DATE" */
static char *
norm_msg(char *msg)
{
	char *p = strstr(msg, "with SMTP; ");

	if (p) {
		char *eol = strchr(p, '\n');

		if (eol) {
			memcpy(p + 11, "DATE", 4);
			memmove(p + 15, eol, strlen(eol) + 1);
		}
	}
	return msg;
}

static void
run_case(const char *in_path)
{
	char base[512], path[600], *text, *in, *out, *want, *got;
	struct session_result r;
	size_t len, n;
	int keepopen = 0, exitcode = -1;

	snprintf(base, sizeof(base), "%.*s", (int)(strlen(in_path) - 3), in_path);
	text = slurp(in_path, NULL);
	in = script(text, &len, &keepopen, &exitcode);
	harness_session(in, len, keepopen, &r);
	out = harness_norm(r.out);
	snprintf(path, sizeof(path), "%s.out", base);
	want = slurp(path, NULL);
	cr_assert_not_null(want, "%s missing", path);
	cr_expect_str_eq(out, want, "%s: transcript differs\n--- got\n%s--- want\n%s", base, out, want);
	if (exitcode >= 0)
		cr_expect_eq(r.exitcode, exitcode, "%s: exit %d", base, r.exitcode);
	snprintf(path, sizeof(path), "%s.msg", base);
	if ((want = slurp(path, NULL)) != NULL) {
		got = harness_read_rec("msg", NULL);
		cr_expect_not_null(got, "%s: nothing queued", base);
		if (got)
			cr_expect_str_eq(norm_msg(got), want, "%s: queued message differs", base);
	}
	snprintf(path, sizeof(path), "%s.env", base);
	if ((want = slurp(path, NULL)) != NULL) {
		got = harness_read_rec("env", &n);
		cr_expect_not_null(got, "%s: no envelope", base);
		for (size_t i = 0; got && i < n; i++)
			if (got[i] == '\0')
				got[i] = '\n';
		if (got)
			cr_expect_str_eq(got, want, "%s: envelope differs", base);
	}
}

/* Each transcript gets a fresh home; the variables it set are removed after it. */
Test(golden, transcripts)
{
	const char *src = getenv("SQ_SRCDIR");
	char pattern[512];
	glob_t g;

	snprintf(pattern, sizeof(pattern), "%s/tests/data/smtp/*.in", src ? src : ".");
	cr_assert_eq(glob(pattern, 0, NULL, &g), 0, "no transcripts at %s", pattern);
	cr_assert_geq(g.gl_pathc, 20);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		if (i > 0) {
			harness_teardown();
			harness_setup();
		}
		run_case(g.gl_pathv[i]);
		for (unsigned k = 0; k < nenvset && k < 8; k++)
			unsetenv(envset[k]);
		nenvset = 0;
	}
	globfree(&g);
}
