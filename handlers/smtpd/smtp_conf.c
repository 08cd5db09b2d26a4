/* SPDX-License-Identifier: MIT
 * smtp_conf.c - qmail-smtpd's control files and environment, read once per connection.
 *
 * Runs as:    qmaild, before the first client byte is read.
 * Trusted:    control files (root-owned), RELAYCLIENT/DATABYTES from the unit or tcpserver.
 * Hostile:    nothing yet: no client byte has been read.
 * May touch:  reads <home>/control/; keeps morercpthosts.cdb mapped read-only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "home.h"
#include "log.h"
#include "num.h"
#include "smtpd.h"

#define SMTPD_TIMEOUT_MAX 86400UL
#define SMTPD_TARPIT_MAX 60UL		/* seconds per RCPT, whatever TARPITDELAY says */

/* smtpd_env_uint - a numeric variable from the unit or tcprules; -1 if malformed */
static int
smtpd_env_uint(const char *name, unsigned long def, unsigned long *out)
{
	const char *v = getenv(name);

	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	if (num_parse_uint(v, 0, 1000000000UL, out) < 0) {
		log_err("environment %s=%s: not a number", name, v);
		return -1;
	}
	return 0;
}

/* smtpd_conf_env - s/qmail's variables: HELOCHECK MFDNSCHECK RECIPIENTS450
 * MAXRECIPIENTS TARPITCOUNT TARPITDELAY */
static int
smtpd_conf_env(struct smtpd_conf *c)
{
	c->helocheck = getenv("HELOCHECK");
	c->mfdnscheck = getenv("MFDNSCHECK");
	c->recipients450 = getenv("RECIPIENTS450") != NULL;
	if (smtpd_env_uint("MAXRECIPIENTS", SMTP_RCPT_MAX, &c->maxrcpt) < 0 ||
	    smtpd_env_uint("TARPITCOUNT", 0, &c->tarpitcount) < 0 ||
	    smtpd_env_uint("TARPITDELAY", 0, &c->tarpitdelay) < 0)
		return -1;
	if (c->maxrcpt == 0 || c->maxrcpt > SMTP_RCPT_MAX)
		c->maxrcpt = SMTP_RCPT_MAX;
	if (c->tarpitdelay > SMTPD_TARPIT_MAX)
		c->tarpitdelay = SMTPD_TARPIT_MAX;
	return 0;
}

/* smtpd_conf_load - every control file qmail-smtpd reads; -1 (logged) on error */
int
smtpd_conf_load(struct smtpd_conf *c)
{
	const struct cfg_item table[] = {
		/* file            type      min  max                default  env          target */
		{ "timeoutsmtpd",  CFG_UINT, 0,   SMTPD_TIMEOUT_MAX, "1200",  NULL,        &c->timeout },
		{ "databytes",     CFG_SIZE, 0,   SIZE_MAX,          "0",     "DATABYTES", &c->databytes },
		{ "rcpthosts",     CFG_LIST, 0,   0,                 NULL,    NULL,        &c->rcpthosts },
		{ "badmailfrom",   CFG_LIST, 0,   0,                 NULL,    NULL,        &c->badmailfrom },
		{ "badrcptto",     CFG_LIST, 0,   0,                 NULL,    NULL,        &c->badrcptto },
		{ "badhelo",       CFG_LIST, 0,   0,                 NULL,    NULL,        &c->badhelo },
		{ "recipients",    CFG_LIST, 0,   0,                 NULL,    NULL,        &c->recipients },
		{ "timeoutsession", CFG_UINT, 0,  SMTPD_TIMEOUT_MAX, "3600",  NULL,        &c->timeoutsession },
		{ NULL, 0, 0, 0, NULL, NULL, NULL }
	};
	char path[4096];
	int r, fd;

	memset(c, 0, sizeof(*c));
	buf_init(&c->me, 1024);
	buf_init(&c->greeting, 1024);
	buf_init(&c->localiphost, 1024);
	cfg_list_init(&c->rcpthosts);
	cfg_list_init(&c->badmailfrom);
	cfg_list_init(&c->badrcptto);
	cfg_list_init(&c->badhelo);
	cfg_list_init(&c->recipients);
	if (cfg_load(table) < 0)
		return -1;
	if (c->timeout == 0)
		c->timeout = 1;			/* as qmail */
	if (cfg_read_line("me", &c->me) < 0 ||
	    (r = cfg_read_line("smtpgreeting", &c->greeting)) < 0 ||
	    cfg_read_line("localiphost", &c->localiphost) < 0) {
		log_err("read control files: %m");
		return -1;
	}
	if (r == 0 && buf_cpy(&c->greeting, buf_str(&c->me), buf_len(&c->me)) < 0)
		return -1;
	if (buf_len(&c->greeting) == 0) {
		log_err("read control/me: no smtpgreeting and no me");
		return -1;
	}
	if (buf_len(&c->localiphost) == 0)
		buf_cpy(&c->localiphost, buf_str(&c->me), buf_len(&c->me));
	if (home_path(path, sizeof(path), "control/morercpthosts.cdb") < 0)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno != ENOENT) {
		log_err("open control/morercpthosts.cdb: %m");
		return -1;
	}
	if (fd >= 0) {
		if (cdb_init(&c->mrh, fd) < 0) {
			log_err("read control/morercpthosts.cdb: %m");
			close(fd);
			return -1;
		}
		c->mrh_ok = 1;
	}
	c->relayclient = getenv("RELAYCLIENT");
	if (smtpd_conf_env(c) < 0)
		return -1;
	if (c->relayclient == NULL && c->rcpthosts.n == 0 && !c->mrh_ok)
		log_warning("control/rcpthosts is empty: every remote recipient is refused");
	return 0;
}

/* smtpd_conf_free - release what smtpd_conf_load took */
void
smtpd_conf_free(struct smtpd_conf *c)
{
	if (c->mrh_ok) {
		close(cdb_fileno(&c->mrh));
		cdb_free(&c->mrh);
		c->mrh_ok = 0;
	}
	cfg_list_free(&c->rcpthosts);
	cfg_list_free(&c->badmailfrom);
	cfg_list_free(&c->badrcptto);
	cfg_list_free(&c->badhelo);
	cfg_list_free(&c->recipients);
	buf_free(&c->me);
	buf_free(&c->greeting);
	buf_free(&c->localiphost);
}
