/* SPDX-License-Identifier: MIT
 * send_conf.c - qmail-send's control files; the SIGHUP subset is reread in place.
 *
 * Runs as:    qmail-send (qmails), at start and on SIGHUP.
 * Trusted:    <home>/control files (root-owned).
 * Hostile:    nothing: control files are the administrator's; bad ones are refused.
 * May touch:  reads control/ only.
 */
#include <string.h>

#include "cfg.h"
#include "log.h"
#include "send.h"

struct send_conf send_conf;

/* qmail's control_rldef: the file, else control/me, else a literal */
static int
conf_line_me(const char *file, const struct buf *me, const char *def, struct buf *out)
{
	int r = cfg_read_line(file, out);

	if (r < 0) {
		log_err("alert: unable to read control/%s: %m", file);
		return -1;
	}
	if (r == 0)
		buf_cpys(out, me && buf_len(me) ? buf_str(me) : def);
	return 0;
}

static int
conf_uint(const char *file, unsigned long def, unsigned long max, unsigned long *out)
{
	int r = cfg_read_uint(file, 0, max, out);

	if (r < 0) {
		log_err("alert: unable to read control/%s: %m", file);
		return -1;
	}
	if (r == 0)
		*out = def;
	return 0;
}

static int
conf_map(const char *file, const struct buf *me, int split, struct rw_map *out)
{
	struct cfg_list l;
	int r;

	cfg_list_init(&l);
	if ((r = cfg_read_list(file, &l)) < 0) {
		log_err("alert: unable to read control/%s: %m", file);
		return -1;
	}
	if (r == 0 && me && buf_len(me))
		cfg_list_add(&l, buf_str(me), buf_len(me));
	r = rw_map_build(out, &l, split);
	cfg_list_free(&l);
	return r;
}

/* send_conf_reload - what SIGHUP rereads: locals, virtualdomains, concurrencies;
 * on error the old values stay */
int
send_conf_reload(struct send_conf *c)
{
	struct rw_map locals, vdoms;
	unsigned long cl, cr;

	if (conf_uint("concurrencylocal", 10, 1000000, &cl) < 0 ||
	    conf_uint("concurrencyremote", 20, 1000000, &cr) < 0)
		return -1;
	if (conf_map("locals", &c->me, 0, &locals) < 0)
		return -1;
	if (conf_map("virtualdomains", NULL, 1, &vdoms) < 0) {
		rw_map_free(&locals);
		return -1;
	}
	rw_map_free(&c->rw.locals);
	rw_map_free(&c->rw.vdoms);
	c->rw.locals = locals;
	c->rw.vdoms = vdoms;
	c->concurrency[CH_LOCAL] = cl;
	c->concurrency[CH_REMOTE] = cr;
	return 0;
}

/* send_conf_load - every control file qmail-send reads */
int
send_conf_load(struct send_conf *c)
{
	struct buf dbhost;
	unsigned long maxbytes;

	memset(c, 0, sizeof(*c));
	buf_init(&c->me, 1024);
	buf_init(&c->bouncefrom, 1024);
	buf_init(&c->bouncehost, 1024);
	buf_init(&c->doublebounceto, 2048);
	buf_init(&c->rw.envnoathost, 1024);
	buf_init(&dbhost, 1024);
	if (cfg_read_line("me", &c->me) < 0) {
		log_err("alert: unable to read control/me: %m");
		return -1;
	}
	if (conf_uint("queuelifetime", 604800, 0xffffffffUL, &c->lifetime) < 0 ||
	    conf_uint("bouncemaxbytes", 0, 0xffffffffUL, &maxbytes) < 0 ||
	    conf_line_me("envnoathost", &c->me, "envnoathost", &c->rw.envnoathost) < 0 ||
	    conf_line_me("bouncefrom", NULL, "MAILER-DAEMON", &c->bouncefrom) < 0 ||
	    conf_line_me("bouncehost", &c->me, "bouncehost", &c->bouncehost) < 0 ||
	    conf_line_me("doublebouncehost", &c->me, "doublebouncehost", &dbhost) < 0 ||
	    conf_line_me("doublebounceto", NULL, "postmaster", &c->doublebounceto) < 0)
		return -1;
	c->bouncemaxbytes = maxbytes;
	/* s/qmail: an empty doublebounceto, or one starting with '@', discards */
	c->doublebounce_discard = buf_len(&c->doublebounceto) == 0 ||
	    c->doublebounceto.s[0] == '@';
	buf_catc(&c->doublebounceto, '@');
	buf_cat(&c->doublebounceto, buf_str(&dbhost), buf_len(&dbhost));
	buf_free(&dbhost);
	if (conf_map("percenthack", NULL, 0, &c->rw.percent) < 0)
		return -1;
	return send_conf_reload(c);
}
