/* SPDX-License-Identifier: MIT
 * tls_policy.c - control/tlsdestinations, s/qmail's TLS rules per
 * destination: "[mark]host:cafile|ciphers|verifydepth;port" where mark is
 * none or "+" (verified chain), "~" (chain and name, wildcards allowed),
 * "=" (chain and exact name), "-" (TLS without checks), "%" (pinned
 * certificate: "%host:=fingerprint" in hex, SHA-1/224/256/512 by length),
 * "!" (never STARTTLS).  host is a name, ".domain" for its subdomains, or "*".
 *
 * Runs as:    qmailr, inside qmail-remote.
 * Trusted:    the control file.
 * Hostile:    nothing.
 * May touch:  nothing.
 */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "num.h"
#include "remote.h"
#include "tls.h"

static enum tlsp_mode
tls_policy_mark(char c)
{
	switch (c) {
	case '!': return TLSP_NEVER;
	case '-': return TLSP_ANON;
	case '~': return TLSP_WILDCARD;
	case '=': return TLSP_NAME;
	case '%': return TLSP_PIN;
	default: return TLSP_VERIFY;
	}
}

/* tls_policy_value - "cafile|ciphers|depth;port" or, pinned, "=hexdigest" */
static int
tls_policy_value(const char *v, struct tls_policy *p)
{
	const char *semi = strrchr(v, ';');
	size_t vl = semi != NULL ? (size_t)(semi - v) : strlen(v), n;
	unsigned long port;

	if (semi != NULL) {
		if (num_parse_uint(semi + 1, 1, 65535, &port) < 0)
			return -1;
		p->port = (unsigned)port;
	}
	if (p->mode == TLSP_PIN) {
		n = 0;
		for (size_t i = v[0] == '=' ? 1 : 0; i < vl; i++)
			if (isxdigit((unsigned char)v[i]) && n + 1 < sizeof(p->pin))
				p->pin[n++] = (char)tolower((unsigned char)v[i]);
		p->pin[n] = '\0';
		return n == 40 || n == 56 || n == 64 || n == 128 ? 0 : -1;
	}
	n = strcspn(v, "|");
	if (n > vl)
		n = vl;
	if (n >= sizeof(p->cafile))
		return -1;
	memcpy(p->cafile, v, n);
	p->cafile[n] = '\0';
	if (n < vl) {
		size_t c = strcspn(v + n + 1, "|");

		if (n + 1 + c > vl)
			c = vl - n - 1;
		if (c >= sizeof(p->ciphers))
			return -1;
		memcpy(p->ciphers, v + n + 1, c);
		p->ciphers[c] = '\0';
	}
	return 0;
}

/* tls_policy_match - does the rule's host part name this host? */
static int
tls_policy_match(const char *rule, size_t rl, const char *host)
{
	size_t hl = strlen(host);

	if (rl == 1 && rule[0] == '*')
		return 2;
	if (rl == hl && strncasecmp(rule, host, hl) == 0)
		return 4;
	if (rule[0] == '.' && rl < hl && strncasecmp(rule, host + hl - rl, rl) == 0)
		return 3;
	return 0;
}

/* tls_policy_find - best rule for host and port (exact > .domain > "*") */
int
tls_policy_find(const struct cfg_list *list, const char *host, unsigned port,
    struct tls_policy *p)
{
	int best = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < list->n; i++) {
		const char *line = list->item[i], *name = line, *colon;
		struct tls_policy cand;
		int score;

		memset(&cand, 0, sizeof(cand));
		if (strchr("!-~=%+", line[0]) != NULL && line[0] != '\0')
			name++;
		cand.mode = tls_policy_mark(line[0]);
		colon = strchr(name, ':');
		score = tls_policy_match(name, colon ? (size_t)(colon - name) : strlen(name), host);
		if (score <= best)
			continue;
		if (colon != NULL && tls_policy_value(colon + 1, &cand) < 0)
			return -1;
		if (cand.port != 0 && cand.port != port)
			continue;
		*p = cand;
		best = score;
	}
	return best > 0;
}

/* tls_policy_name - the mode as written in the log line */
const char *
tls_policy_name(enum tlsp_mode m)
{
	static const char *const names[] = { "opportunistic", "never", "anonymous",
		"verify", "verify+wildcard", "verify+name", "pinned" };

	return names[m];
}

void
tls_policy_client_opts(const struct remote_job *job, struct tls_client_opts *o,
    char *why, size_t whysize)
{
	const struct tls_policy *p = &job->tls;

	*o = (struct tls_client_opts){
		.cafile = p->cafile, .priorities = p->ciphers,
		.certfile = job->certfile[0] != '\0' ? job->certfile : NULL,
		.keyfile = job->keyfile[0] != '\0' ? job->keyfile : NULL,
		.keypass = job->keypass[0] != '\0' ? job->keypass : NULL,
		.verify = p->mode == TLSP_VERIFY ? TLS_VERIFY_CHAIN :
		    p->mode == TLSP_WILDCARD ? TLS_VERIFY_HOST :
		    p->mode == TLSP_NAME ? TLS_VERIFY_NAME : TLS_VERIFY_NONE,
		.pin = p->mode == TLSP_PIN ? p->pin : NULL,
		.why = why, .whysize = whysize,
	};
}
