/* SPDX-License-Identifier: MIT */
#ifndef SQ_BUF_H
#define SQ_BUF_H

#include <stdarg.h>
#include <stddef.h>

/* A growable byte string, always NUL-terminated; len excludes the NUL.
 * Growing past max is a returned error (-1, errno EMSGSIZE); running out of
 * memory is fatal (log_fatal with the program's temporary-failure code). */
struct buf {
	char *s;
	size_t len, cap, max;
};

void buf_init(struct buf *b, size_t max);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
void buf_truncate(struct buf *b, size_t n);
int buf_cat(struct buf *b, const void *p, size_t n);
int buf_cats(struct buf *b, const char *s);
int buf_catc(struct buf *b, char c);
int buf_cpy(struct buf *b, const void *p, size_t n);
int buf_cpys(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int buf_has_nul(const struct buf *b);
void buf_chomp_crlf(struct buf *b);
int buf_starts_ci(const struct buf *b, const char *prefix);
/* buf_set_nomem_exit - exit code used when malloc fails (default 111) */
void buf_set_nomem_exit(int code);

static inline const char *buf_str(const struct buf *b) { return b->s ? b->s : ""; }
static inline size_t buf_len(const struct buf *b) { return b->len; }

#endif
