/* SPDX-License-Identifier: MIT */
#ifndef SQ_NUM_H
#define SQ_NUM_H

#include <stddef.h>

/* num_parse_uint - whole string is a decimal number in [min, max]; 0 or -1 (EINVAL/ERANGE) */
int num_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out);
/* num_parse_size - decimal byte count, whole string */
int num_parse_size(const char *s, size_t *out);

#endif
