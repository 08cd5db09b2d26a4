/* SPDX-License-Identifier: MIT
 * cfg.c - qmail control files: one value or one list per file.
 *
 * Runs as:    every program, before any untrusted input is read.
 * Trusted:    control files (root-owned); a malformed one is an error, never guessed at.
 * Hostile:    nothing; still a number out of range is an error, not a guess.
 * May touch:  reads <home>/control/ (or the directory given to cfg_set_dir).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "home.h"
#include "log.h"
#include "mail/exitcode.h"
#include "num.h"

static const char *cfg_dir;

void
cfg_set_dir(const char *dir)
{
	cfg_dir = dir;
}

static FILE *
cfg_open(const char *file)
{
	char path[4096];
	int n;

	if (cfg_dir)
		n = snprintf(path, sizeof(path), "%s/%s", cfg_dir, file) >= (int)sizeof(path) ? -1 : 0;
	else
		n = home_path(path, sizeof(path), "control/%s", file);
	if (n < 0) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	return fopen(path, "re");
}

static size_t
cfg_trim(char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' ||
	    s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	s[n] = '\0';
	return n;
}

/* cfg_read_line - first line of control/file, trailing white space stripped */
int
cfg_read_line(const char *file, struct buf *out)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	FILE *fp;
	int r = 1;

	if ((fp = cfg_open(file)) == NULL)
		return errno == ENOENT ? 0 : -1;
	n = getline(&line, &cap, fp);
	if (n < 0 && ferror(fp))
		r = -1;
	else if (buf_cpy(out, line ? line : "", n > 0 ? cfg_trim(line, (size_t)n) : 0) < 0)
		r = -1;
	free(line);
	fclose(fp);
	return r;
}

/* cfg_read_list - every non-blank line that does not start with '#' */
int
cfg_read_list(const char *file, struct cfg_list *out)
{
	char *line = NULL;
	size_t cap = 0, len;
	ssize_t n;
	FILE *fp;
	int r = 1;

	if ((fp = cfg_open(file)) == NULL)
		return errno == ENOENT ? 0 : -1;
	while ((n = getline(&line, &cap, fp)) >= 0) {
		len = cfg_trim(line, (size_t)n);
		if (len == 0 || line[0] == '#')
			continue;
		cfg_list_add(out, line, len);
	}
	if (ferror(fp))
		r = -1;
	free(line);
	fclose(fp);
	return r;
}

int
cfg_read_uint(const char *file, unsigned long min, unsigned long max, unsigned long *out)
{
	struct buf b;
	int r;

	buf_init(&b, 4096);
	r = cfg_read_line(file, &b);
	if (r == 1 && num_parse_uint(buf_str(&b), min, max, out) < 0)
		r = -1;
	buf_free(&b);
	return r;
}

static int
cfg_load_number(const struct cfg_item *it, const char *text)
{
	unsigned long v;

	if (num_parse_uint(text, it->min, it->max, &v) < 0)
		return -1;
	if (it->type == CFG_UINT)
		*(unsigned long *)it->target = v;
	else
		*(size_t *)it->target = (size_t)v;
	return 0;
}

static int
cfg_load_item(const struct cfg_item *it)
{
	const char *env = it->env ? getenv(it->env) : NULL;
	struct buf text;
	int r;

	if (it->type == CFG_LIST) {
		r = cfg_read_list(it->file, it->target);
		if (r == 0 && it->def)
			cfg_list_add(it->target, it->def, strlen(it->def));
		return r < 0 ? -1 : 0;
	}
	if (it->type == CFG_LINE) {
		if (env)
			return buf_cpys(it->target, env);
		r = cfg_read_line(it->file, it->target);
		if (r == 0)
			r = buf_cpys(it->target, it->def ? it->def : "") == 0;
		return r < 0 ? -1 : 0;
	}
	if (env)
		return cfg_load_number(it, env);
	buf_init(&text, 4096);
	r = cfg_read_line(it->file, &text);
	if (r == 0)
		r = buf_cpys(&text, it->def ? it->def : "0") == 0;
	if (r > 0)
		r = cfg_load_number(it, buf_str(&text));
	buf_free(&text);
	return r < 0 ? -1 : 0;
}

/* cfg_load - fill every target of the table; log the culprit and return -1 on error */
int
cfg_load(const struct cfg_item *table)
{
	for (const struct cfg_item *it = table; it->file; it++) {
		if (cfg_load_item(it) < 0) {
			log_err("read control/%s: %m", it->file);
			return -1;
		}
	}
	return 0;
}

void
cfg_list_init(struct cfg_list *l)
{
	l->item = NULL;
	l->n = 0;
}

void
cfg_list_free(struct cfg_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->item[i]);
	free(l->item);
	cfg_list_init(l);
}

/* cfg_list_add - append a copy of s[0..n) */
int
cfg_list_add(struct cfg_list *l, const char *s, size_t n)
{
	char **item;
	char *copy;

	item = realloc(l->item, (l->n + 1) * sizeof(*item));
	copy = strndup(s, n);
	if (item == NULL || copy == NULL)
		log_fatal(EXIT_TEMP, "out of memory");
	l->item = item;
	l->item[l->n++] = copy;
	return 0;
}

int
cfg_list_has_ci(const struct cfg_list *l, const char *s, size_t n)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->item[i]) == n && strncasecmp(l->item[i], s, n) == 0)
			return 1;
	return 0;
}
