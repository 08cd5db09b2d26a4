/* SPDX-License-Identifier: MIT
 * main.c - qmail-remote host sender recipient...: send the message on fd 0
 * to host by SMTP/SMTPS and report on fd 1 in qmail's format (report.c).
 *
 * Runs as:    qmailr, started by qmail-rspawn (cwd queue/mess).
 * Trusted:    argv and the environment from qmail-rspawn, control files.
 * Hostile:    everything from the network (remote.c, mx.c, smtp_client.c).
 * May touch:  fd 0 (read, mmap), queue/lock/tcpto, outgoing sockets.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "home.h"
#include "remote.h"

/* load_message - map fd 0 (or read it when it is not a file) */
static void
load_message(struct remote_job *job)
{
	static struct buf m;
	struct stat st;
	char tmp[65536];
	ssize_t r;

	if (fstat(0, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, 0, 0);

		if (p == MAP_FAILED)
			report_final('Z', "Unable to read message. (#4.3.0)\n", NULL);
		job->msg = p;
		job->msglen = (size_t)st.st_size;
	} else {
		buf_init(&m, (size_t)1 << 40);
		while ((r = read(0, tmp, sizeof(tmp))) != 0) {
			if (r < 0)
				report_final('Z', "Unable to read message. (#4.3.0)\n", NULL);
			buf_cat(&m, tmp, (size_t)r);
		}
		job->msg = buf_str(&m);
		job->msglen = buf_len(&m);
	}
	job->smtpsize = job->msglen;
	for (size_t i = 0; i < job->msglen; i++) {
		if (job->msg[i] == '\n')
			job->smtpsize++;
		if ((unsigned char)job->msg[i] > 127)
			job->eightbit = 1;
	}
}

/* domaincert - domaincerts "domain:cert|key|password", "*" for the rest */
static void
domaincert(struct remote_job *job)
{
	const struct cfg_list *l = &job->cfg->domaincerts;
	const char *at = strrchr(job->sender, '@'), *dom = at ? at + 1 : "";

	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < l->n; i++) {
			const char *v = strchr(l->item[i], ':');
			size_t kl = v ? (size_t)(v - l->item[i]) : 0;
			const char *want = pass == 0 ? dom : "*";

			if (v == NULL || kl != strlen(want) || strncasecmp(l->item[i], want, kl) != 0)
				continue;
			v++;
			snprintf(job->certfile, sizeof(job->certfile), "%.*s",
			    (int)strcspn(v, "|"), v);
			v += strcspn(v, "|");
			if (*v == '|')
				v++;
			snprintf(job->keyfile, sizeof(job->keyfile), "%.*s", (int)strcspn(v, "|"), v);
			v += strcspn(v, "|");
			if (*v == '|')
				snprintf(job->keypass, sizeof(job->keypass), "%s", v + 1);
			return;
		}
}

/* qmtproute - control/qmtproutes (smtproutes' syntax, port 209 by default;
 * port 6209 means QMTPS, qmtp_client.c): 1 and the job set up for QMTP when
 * the host has a route, else 0 */
static int
qmtproute(struct remote_job *job)
{
	struct cfg_list l;
	int r;

	cfg_list_init(&l);
	if (cfg_read_list("qmtproutes", &l) < 0 ||
	    (r = route_smtp(&l, job->host, job->sender, &job->route)) < 0)
		report_final('Z', "Unable to parse control/qmtproutes. (#4.3.0)\n", NULL);
	cfg_list_free(&l);
	if (r == 0)
		return 0;
	job->client = qmtp_client_run;
	job->defport = REMOTE_PORT_QMTP;
	return 1;
}

int
main(int argc, char **argv)
{
	static struct remote_config cfg;
	static struct remote_job job;
	struct route auth;
	int ra;

	signal(SIGPIPE, SIG_IGN);
	if (argc < 4)
		report_final('D', "I (qmail-remote) was invoked improperly. (#5.3.5)\n", NULL);
	if (remote_load_config(&cfg) < 0)
		report_final('Z', "Unable to read control files. (#4.3.0)\n", NULL);
	if (home_path(cfg.tcpto_path, sizeof(cfg.tcpto_path), "queue/lock/tcpto") < 0)
		report_final('Z', "Unable to switch to home directory. (#4.3.0)\n", NULL);
	job.cfg = &cfg;
	job.host = argv[1];
	job.sender = argv[2];
	job.rcpt = argv + 3;
	job.nrcpt = (size_t)(argc - 3);
	job.client = smtp_client_run;
	job.defport = REMOTE_PORT_SMTP;
	if (qmtproute(&job))
		ra = 0;		/* wins over smtproutes and authsenders: no AUTH in QMTP */
	else if (route_smtp(&cfg.smtproutes, job.host, job.sender, &job.route) < 0 ||
	    (ra = route_authsender(&cfg.authsenders, job.sender, &auth)) < 0)
		report_final('Z', "Unable to parse control/smtproutes or control/authsenders. "
		    "(#4.3.0)\n", NULL);
	if (ra > 0) {
		if (auth.relay[0] != '\0') {
			memcpy(job.route.relay, auth.relay, sizeof(auth.relay));
			job.route.port = auth.port;
		}
		memcpy(job.route.user, auth.user, sizeof(auth.user));
		memcpy(job.route.pass, auth.pass, sizeof(auth.pass));
	}
	snprintf(job.helo, sizeof(job.helo), "%s", buf_str(&cfg.helohost));
	ra = route_domainip(&cfg.domainips, job.sender, &job.src, &job.hassrc, job.helo,
	    sizeof(job.helo));
	if (ra < 0)
		report_final('Z', ra == -2 ? "control/domainips names an interface this machine "
		    "does not have. (#4.3.0)\n" : "Unable to parse control/domainips. (#4.3.0)\n",
		    NULL);
	domaincert(&job);
	load_message(&job);
	remote_run(&job);
}
