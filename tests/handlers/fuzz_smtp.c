/* SPDX-License-Identifier: MIT
 * fuzz_smtp.c - libFuzzer target: the SMTP command argument and address parsers
 * (smtp_addr_parse, smtp_mail_params, lib/mail/addr.c, the list matcher).
 * Build: make fuzz; run: tests/handlers/fuzz-smtp -max_total_time=60
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mail/addr.h"
#include "smtpd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* LLVMFuzzerTestOneInput - one input: the bytes after "MAIL " / "RCPT " */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *pats[] = { "spam@evil.test", "@evil.test", "!ok@evil.test",
	    "*@*.dyn.test", "[a-", "*?[" };
	struct cfg_list l = { (char **)pats, 6 };
	char line[SMTP_LINE_MAX], low[SMTP_ADDR_MAX * 2 + 1];
	const char *params, *refuse;
	struct buf addr;
	size_t msgsize;

	if (size >= sizeof(line) || memchr(data, '\0', size))
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	buf_init(&addr, 2 * SMTP_ADDR_MAX);
	refuse = smtp_addr_parse(line, size && (line[0] & 1) ? "from" : "to", &addr, &params);
	if (refuse == NULL) {
		const char *a = buf_str(&addr), *d = addr_domain(a);

		(void)smtp_mail_params(params, 1000, &msgsize);
		(void)addr_is_routed(a);
		(void)addr_local_len(a);
		(void)addr_lower(a, low, sizeof(low));
		if (d) {
			(void)addr_is_literal(d);
			(void)addr_domain_match(d, ".example.com");
		}
		(void)smtp_list_match(&l, a);
	}
	buf_free(&addr);
	return 0;
}
