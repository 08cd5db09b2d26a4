/* SPDX-License-Identifier: MIT
 * send_rewrite.c - qmail-send's recipient rewriting: envnoathost, percenthack,
 * locals and virtualdomains (qmail semantics), and the VERP sender of deliveries.
 *
 * Runs as:    qmail-send (qmails).
 * Hostile:    recipient addresses (from the envelope of any local or remote sender).
 * Trusted:    control/locals, virtualdomains, percenthack, envnoathost.
 * May touch:  memory only.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mail/exitcode.h"
#include "send.h"

struct rw_sort {
	struct rw_ent e;
	size_t order;
};

static int
rw_cmp_sort(const void *a, const void *b)
{
	const struct rw_sort *x = a, *y = b;
	int r = strcmp(x->e.key, y->e.key);

	if (r != 0)
		return r;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* rw_map_build - index a control list; split: "key:value" lines (virtualdomains) */
int
rw_map_build(struct rw_map *m, const struct cfg_list *l, int split)
{
	struct rw_sort *s;
	size_t n = 0;

	m->e = NULL;
	m->n = 0;
	if (l->n == 0)
		return 0;
	if ((s = calloc(l->n, sizeof(*s))) == NULL)
		return -1;
	for (size_t i = 0; i < l->n; i++) {
		const char *item = l->item[i], *colon = NULL;
		size_t klen = strlen(item);
		if (split) {
			if ((colon = strchr(item, ':')) == NULL)
				continue;	/* qmail's constmap skips it too */
			klen = (size_t)(colon - item);
		}
		s[n].e.key = strndup(item, klen);
		s[n].e.val = colon ? strdup(colon + 1) : NULL;
		if (s[n].e.key == NULL || (colon && s[n].e.val == NULL))
			log_fatal(EXIT_TEMP, "alert: out of memory");
		for (char *p = s[n].e.key; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		s[n].e.keylen = klen;
		s[n].order = i;
		n++;
	}
	qsort(s, n, sizeof(*s), rw_cmp_sort);
	if ((m->e = calloc(n ? n : 1, sizeof(*m->e))) == NULL)
		log_fatal(EXIT_TEMP, "alert: out of memory");
	for (size_t i = 0; i < n; i++) {
		if (m->n > 0 && strcmp(m->e[m->n - 1].key, s[i].e.key) == 0) {
			free(s[i].e.key);	/* first line wins */
			free(s[i].e.val);
			continue;
		}
		m->e[m->n++] = s[i].e;
	}
	free(s);
	return 0;
}

/* rw_map_free - release an index */
void
rw_map_free(struct rw_map *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->e[i].key);
		free(m->e[i].val);
	}
	free(m->e);
	m->e = NULL;
	m->n = 0;
}

static int
rw_keycmp(const char *key, size_t n, const struct rw_ent *e)
{
	size_t min = n < e->keylen ? n : e->keylen;

	for (size_t i = 0; i < min; i++) {
		int a = tolower((unsigned char)key[i]), b = (unsigned char)e->key[i];
		if (a != b)
			return a - b;
	}
	return n < e->keylen ? -1 : n > e->keylen;
}

/* rw_map_get - value for key[0..n) case-insensitively: "" for list items, NULL if absent */
const char *
rw_map_get(const struct rw_map *m, const char *key, size_t n)
{
	size_t lo = 0, hi = m->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int r = rw_keycmp(key, n, &m->e[mid]);
		if (r == 0)
			return m->e[mid].val ? m->e[mid].val : "";
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static size_t
rw_rchr(const char *s, size_t n, char c)
{
	for (size_t i = n; i > 0; i--)
		if (s[i - 1] == c)
			return i - 1;
	return n;
}

/* rw_rewrite - rewrite recip into out: CH_LOCAL (out is what lspawn gets) or CH_REMOTE */
int
rw_rewrite(const struct rw_tables *t, const char *recip, struct buf *out)
{
	size_t at, j, len;
	char *a;

	buf_cpys(out, recip);
	if (rw_rchr(out->s, out->len, '@') == out->len) {
		buf_catc(out, '@');
		buf_cat(out, buf_str(&t->envnoathost), buf_len(&t->envnoathost));
	}
	a = out->s;
	at = rw_rchr(a, out->len, '@');
	/* percenthack: user%host@domain -> user@host while domain is listed */
	while (rw_map_get(&t->percent, a + at + 1, out->len - at - 1)) {
		if ((j = rw_rchr(a, at, '%')) == at)
			break;
		buf_truncate(out, at);
		a[j] = '@';
		at = j;
	}
	len = out->len;
	if (rw_map_get(&t->locals, a + at + 1, len - at - 1))
		return CH_LOCAL;
	/* virtualdomains: user@dom, dom, .sub wildcards from the longest, then ":" */
	for (size_t i = 0; i <= len; i++) {
		const char *v;
		if (!(i == 0 || i == at + 1 || i == len || (i > at && a[i] == '.')))
			continue;
		if ((v = rw_map_get(&t->vdoms, a + i, len - i)) == NULL)
			continue;
		if (*v == '\0')
			break;		/* exception: not virtual, goes remote */
		{
			struct buf tmp;
			buf_init(&tmp, 0);
			buf_cats(&tmp, v);
			buf_catc(&tmp, '-');
			buf_cat(&tmp, a, len);
			buf_cpy(out, tmp.s, tmp.len);
			buf_free(&tmp);
		}
		return CH_LOCAL;
	}
	return CH_REMOTE;
}

/* rw_strip_vdom - the address a bounce names: recip without its virtualdomain prepend */
const char *
rw_strip_vdom(const struct rw_tables *t, const char *recip)
{
	const char *at = strrchr(recip, '@'), *dom, *v;
	size_t dlen, plen;

	if (at == NULL)
		return recip;
	dom = at + 1;
	dlen = strlen(dom);
	for (size_t i = 0; i <= dlen; i++) {
		if (!(i == 0 || i == dlen || dom[i] == '.'))
			continue;
		if ((v = rw_map_get(&t->vdoms, dom + i, dlen - i)) == NULL)
			continue;
		if (*v == '\0')
			break;
		plen = strlen(v);
		if (strncmp(recip, v, plen) != 0 || recip[plen] != '-')
			break;
		return recip + plen + 1;
	}
	return recip;
}

/* rw_sender_verp - the sender a delivery gets: "owner-@host-@[]" becomes
 * "owner-box=rhost@host" for recipient box@rhost (qmail's VERP) */
void
rw_sender_verp(struct buf *out, const char *sender, const char *recip)
{
	size_t i = strlen(sender), j, k;
	const char *ra;

	if (i >= 4 && strcmp(sender + i - 4, "-@[]") == 0 &&
	    (ra = strrchr(recip, '@')) != NULL) {
		j = rw_rchr(sender, i - 4, '@');
		k = (size_t)(ra - recip);
		if (j + 5 <= i) {
			buf_cat(out, sender, j);
			buf_cat(out, recip, k);
			buf_catc(out, '=');
			buf_cats(out, ra + 1);
			buf_catc(out, '@');
			buf_cat(out, sender + j + 1, i - 5 - j);
			return;
		}
	}
	buf_cats(out, sender);
}
