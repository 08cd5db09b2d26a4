/* SPDX-License-Identifier: MIT
 * fuzz_qmtp.c - libFuzzer target: the netstring parser (byte-wise and whole) and
 * the QMTP recipient list with the rcpthosts policy. Built by "make fuzz".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netstring.h"
#include "qmtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_ns(const char *p, size_t n, size_t max)
{
	const char *d;
	size_t len, used;

	if (ns_parse(p, n, max, &d, &len, &used) == NS_DONE) {
		if (len > max || used > n || d < p || d + len > p + n || p[used - 1] != ',')
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct qmtpd_conf conf;
	static int init;
	struct qmtp_rcpts r;
	const char *p = (const char *)data;
	size_t i, k;

	if (!init) {
		cfg_list_init(&conf.relay.rcpthosts);
		cfg_list_add(&conf.relay.rcpthosts, "example.com", 11);
		init = 1;
	}
	check_ns(p, size, size ? (size_t)data[0] * 8 : 0);
	check_ns(p, size, (size_t)-1);
	qmtp_rcpts_init(&r);
	if (qmtp_rcpts_parse(&r, p, size, size & 1 ? &conf : NULL) == NS_DONE) {
		const char *a = r.addrs.s;

		if (r.n == 0 || buf_len(&r.ok) != r.n)
			abort();
		for (i = 0; i < r.n; i++) {
			k = strlen(a);
			if (k > QMTP_ADDR_MAX)
				abort();
			a += k + 1;
		}
		if ((size_t)(a - r.addrs.s) != buf_len(&r.addrs))
			abort();
	}
	qmtp_rcpts_free(&r);
	return 0;
}
