/* SPDX-License-Identifier: MIT
 * smtp_b64.c - strict base64 (RFC 4648 section 4) for SMTP AUTH.
 *
 * Runs as:    qmaild, one process per connection (handlers/smtpd).
 * Hostile:    the text to decode (any bytes, any length).
 * May touch:  nothing but the caller's buffers.
 */
#include <string.h>

#include "smtpd.h"

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int
b64_val(char c)
{
	const char *p = c ? strchr(b64, c) : NULL;

	return p ? (int)(p - b64) : -1;
}

/* smtp_b64_decode - length a multiple of 4, '=' only at the end; bytes or -1 */
long
smtp_b64_decode(const char *in, unsigned char *out, size_t max)
{
	size_t len = strlen(in), n = 0, i;
	int v[4], j, pad;

	if (len % 4)
		return -1;
	for (i = 0; i < len; i += 4) {
		pad = 0;
		for (j = 0; j < 4; j++) {
			if (in[i + j] == '=' && i + 4 == len && j >= 2 &&
			    (j == 3 || in[i + 3] == '=')) {
				v[j] = 0;
				pad++;
			} else if ((v[j] = b64_val(in[i + j])) < 0)
				return -1;
		}
		if (n + 3 - (size_t)pad > max)
			return -1;
		out[n++] = (unsigned char)(v[0] << 2 | v[1] >> 4);
		if (pad < 2)
			out[n++] = (unsigned char)((v[1] & 15) << 4 | v[2] >> 2);
		if (pad < 1)
			out[n++] = (unsigned char)((v[2] & 3) << 6 | v[3]);
	}
	return (long)n;
}

/* smtp_b64_encode - padded base64 of in[0..n) */
int
smtp_b64_encode(const unsigned char *in, size_t n, char *out, size_t max)
{
	size_t o = 0, i;
	unsigned v;

	if ((n + 2) / 3 * 4 + 1 > max)
		return -1;
	for (i = 0; i < n; i += 3) {
		v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
		    (i + 2 < n ? in[i + 2] : 0);
		out[o++] = b64[v >> 18 & 63];
		out[o++] = b64[v >> 12 & 63];
		out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? b64[v & 63] : '=';
	}
	out[o] = '\0';
	return 0;
}
