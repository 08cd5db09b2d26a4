/* SPDX-License-Identifier: MIT
 * num.c - checked decimal parsing (no atoi).
 *
 * Runs as:    every program.
 * Hostile:    the strings may come from clients or control files.
 * May touch:  nothing.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "num.h"

/* num_parse_uint - whole string, digits only, within [min, max] */
int
num_parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9') {
		errno = EINVAL;
		return -1;
	}
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0') {
		errno = EINVAL;
		return -1;
	}
	if (errno == ERANGE || v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

int
num_parse_size(const char *s, size_t *out)
{
	unsigned long v;

	if (num_parse_uint(s, 0, SIZE_MAX, &v) < 0)
		return -1;
	*out = (size_t)v;
	return 0;
}
