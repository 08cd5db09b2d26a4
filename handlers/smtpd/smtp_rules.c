/* SPDX-License-Identifier: MIT
 * smtp_rules.c - control/rules.smtpd.cdb for qmail-smtpd started without tcpserver.
 *
 * Runs as:    qmaild, before the controls are read and before any client byte.
 * Trusted:    control/rules.smtpd.cdb (tcprules output), PROTO from tcpserver.
 * Hostile:    nothing: the client address comes from the kernel.
 * May touch:  reads the rules cdb; sets environment variables (RELAYCLIENT...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "home.h"
#include "log.h"
#include "rules.h"
#include "smtpd.h"

/* smtpd_rules_apply - tcpserver -x for a socket-activated qmail-smtpd. When
 * PROTO is set, tcpserver or sslserver started us and has already applied
 * its rules: nothing is done. Else the client's rule sets the environment,
 * or *deny is set. -1 (logged) when the file cannot be read. */
int
smtpd_rules_apply(const struct peer *peer, int *deny)
{
	struct rules_match *m;
	char path[4096];
	int r = 0;

	*deny = 0;
	if (getenv("PROTO") != NULL)
		return 0;
	if (home_path(path, sizeof(path), "control/rules.smtpd.cdb") < 0)
		return -1;
	m = malloc(sizeof(*m));
	if (m == NULL)
		return -1;
	if (rules_lookup(path, peer->remoteip, peer->remotehost, peer->remoteinfo, m) < 0) {
		log_err("read control/rules.smtpd.cdb: %m");
		r = -1;
	} else if (m->found && m->deny) {
		log_info("Reject::RULES::Deny: S:%s key=%s", peer->remoteip, m->key);
		*deny = 1;
	} else if (m->found && rules_setenv(m) < 0) {
		log_err("read control/rules.smtpd.cdb: malformed rule for \"%s\"", m->key);
		r = -1;
	}
	free(m);
	return r;
}

static void
smtpd_setenv_default(const char *name, const char *value)
{
	if (getenv(name) == NULL && value[0] && strcmp(value, "unknown") != 0)
		setenv(name, value, 1);
}

/* smtpd_tcpenv - without tcpserver nobody sets TCPREMOTEIP & co. for queue
 * filters (s/qmail's filters read them): set what the socket told, never
 * overriding what tcpserver or the unit set */
void
smtpd_tcpenv(const struct peer *peer)
{
	char port[16];

	if (getenv("PROTO") != NULL)
		return;
	smtpd_setenv_default("TCPREMOTEIP", peer->remoteip);
	smtpd_setenv_default("TCPLOCALIP", peer->localip);
	if (peer->remoteport) {
		snprintf(port, sizeof(port), "%u", peer->remoteport);
		smtpd_setenv_default("TCPREMOTEPORT", port);
	}
	if (peer->localport) {
		snprintf(port, sizeof(port), "%u", peer->localport);
		smtpd_setenv_default("TCPLOCALPORT", port);
	}
}
