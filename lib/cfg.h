/* SPDX-License-Identifier: MIT */
#ifndef SQ_CFG_H
#define SQ_CFG_H

#include <stddef.h>

#include "buf.h"

/* Control files live in <home>/control/, one value or one list per file, as in
 * qmail: a missing file means the default; an unreadable or malformed file is
 * an error the caller turns into a temporary failure. */

struct cfg_list {
	char **item;
	size_t n;
};

enum cfg_type { CFG_LINE, CFG_LIST, CFG_UINT, CFG_SIZE };

struct cfg_item {
	const char *file;	/* name under control/ */
	enum cfg_type type;
	unsigned long min, max;	/* bounds for CFG_UINT / CFG_SIZE */
	const char *def;	/* default text; NULL: none (LINE: empty) */
	const char *env;	/* environment override, or NULL */
	void *target;		/* struct buf *, struct cfg_list *, unsigned long *, size_t * */
};

/* cfg_set_dir - read control files from dir instead of <home>/control */
void cfg_set_dir(const char *dir);
/* cfg_read_line - first line, trailing white space stripped: 1 read, 0 missing, -1 error */
int cfg_read_line(const char *file, struct buf *out);
/* cfg_read_list - non-blank lines not starting with '#': 1, 0 (missing: empty list), -1 */
int cfg_read_list(const char *file, struct cfg_list *out);
/* cfg_read_uint - first line as a number in [min,max]: 1, 0 (missing), -1 (errno EINVAL/ERANGE) */
int cfg_read_uint(const char *file, unsigned long min, unsigned long max, unsigned long *out);
/* cfg_load - fill every target of a { NULL }-terminated table; -1 after logging the culprit */
int cfg_load(const struct cfg_item *table);

void cfg_list_init(struct cfg_list *l);
void cfg_list_free(struct cfg_list *l);
int cfg_list_add(struct cfg_list *l, const char *s, size_t n);
/* cfg_list_has_ci - is s (n bytes) an item, case-insensitively? */
int cfg_list_has_ci(const struct cfg_list *l, const char *s, size_t n);

#endif
