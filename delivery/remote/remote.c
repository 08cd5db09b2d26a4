/* SPDX-License-Identifier: MIT
 * remote.c - qmail-remote's delivery: route, addresses, the machine's own
 * addresses (never looped to), tcpto, connect with a timeout and a source
 * address, then the session; a failure that is not final at one address
 * tries the next one.
 *
 * Runs as:    qmailr, started by qmail-rspawn.
 * Trusted:    argv, control files, the queued message on fd 0.
 * Hostile:    DNS answers and servers (mx.c, smtp_client.c).
 * May touch:  sockets; queue/lock/tcpto.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "remote.h"

/* remote_load_config - qmail-remote's control files */
int
remote_load_config(struct remote_config *c)
{
	const struct cfg_item table[] = {
		{ "me", CFG_LINE, 0, 0, NULL, NULL, &c->me },
		{ "helohost", CFG_LINE, 0, 0, NULL, NULL, &c->helohost },
		{ "timeoutconnect", CFG_UINT, 1, 86400, "60", NULL, &c->timeoutconnect },
		{ "timeoutremote", CFG_UINT, 1, 86400, "1200", NULL, &c->timeoutremote },
		{ "smtproutes", CFG_LIST, 0, 0, NULL, NULL, &c->smtproutes },
		{ "authsenders", CFG_LIST, 0, 0, NULL, NULL, &c->authsenders },
		{ "domainips", CFG_LIST, 0, 0, NULL, NULL, &c->domainips },
		{ "domaincerts", CFG_LIST, 0, 0, NULL, NULL, &c->domaincerts },
		{ "tlsdestinations", CFG_LIST, 0, 0, NULL, NULL, &c->tlsdest },
		{ NULL, CFG_LINE, 0, 0, NULL, NULL, NULL },
	};

	buf_init(&c->me, 1024);
	buf_init(&c->helohost, 1024);
	if (cfg_load(table) < 0)
		return -1;
	if (buf_len(&c->helohost) == 0)
		buf_cpys(&c->helohost, buf_len(&c->me) ? buf_str(&c->me) : "localhost");
	return 0;
}

/* remote_addr_fmt - dotted quad or IPv6 text */
void
remote_addr_fmt(const struct remote_addr *a, char *out, size_t size)
{
	if (inet_ntop(a->family, a->ip, out, (socklen_t)size) == NULL)
		snprintf(out, size, "?");
}

/* remote_is_me - qmail's ipme: an address of a local interface, or unspecified */
int
remote_is_me(const struct remote_addr *a)
{
	static const unsigned char zero[16];
	struct ifaddrs *ifa, *i;
	int me = 0;

	if (memcmp(a->ip, zero, a->family == AF_INET ? 4 : 16) == 0)
		return 1;
	if (getifaddrs(&ifa) < 0)
		return 0;
	for (i = ifa; i != NULL && !me; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != a->family)
			continue;
		if (a->family == AF_INET)
			me = memcmp(&((struct sockaddr_in *)(void *)i->ifa_addr)->sin_addr, a->ip, 4) == 0;
		else
			me = memcmp(&((struct sockaddr_in6 *)(void *)i->ifa_addr)->sin6_addr, a->ip,
			    16) == 0;
	}
	freeifaddrs(ifa);
	return me;
}

static socklen_t
remote_sockaddr(const struct remote_addr *a, unsigned port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		memcpy(&s4->sin_addr, a->ip, 4);
		return sizeof(*s4);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons((unsigned short)port);
	memcpy(&s6->sin6_addr, a->ip, 16);
	s6->sin6_scope_id = a->scope;
	return sizeof(*s6);
}

/* remote_connect - socket, bind (domainips), connect within timeoutconnect:
 * fd, or -1 with *timedout set when the connect timed out */
static int
remote_connect(const struct remote_job *job, const struct remote_addr *a, unsigned port,
    int *timedout)
{
	struct sockaddr_storage ss;
	struct remote_addr dst = *a;
	socklen_t len;
	struct pollfd pfd;
	int fd, err = 0, r;
	socklen_t elen = sizeof(err);

	*timedout = 0;
	/* a link-local peer without "%ifname" is on the link of a link-local
	 * domainips address (s/qmail's LLU) */
	if (dst.family == AF_INET6 && dst.scope == 0 && job->hassrc &&
	    job->src.family == AF_INET6 && IN6_IS_ADDR_LINKLOCAL((struct in6_addr *)dst.ip))
		dst.scope = job->src.scope;
	fd = socket(a->family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (job->hassrc && job->src.family == a->family) {
		len = remote_sockaddr(&job->src, 0, &ss);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0)
			log_warning("bind to the domainips address: %m");
	}
	len = remote_sockaddr(&dst, port, &ss);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		if (errno != EINPROGRESS)
			goto fail;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			r = poll(&pfd, 1, (int)job->cfg->timeoutconnect * 1000);
		while (r < 0 && errno == EINTR);
		if (r == 0) {
			*timedout = 1;
			goto fail;
		}
		if (r < 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0 || err != 0)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/* remote_addresses - the route's relay or the host's MX list; never returns on failure */
/* remote_seed - random bits for the choice among MX hosts of equal preference.
 * time ^ pid was too regular: runs started in one second with pids of the same
 * parity always chose the same host. */
static unsigned long
remote_seed(void)
{
	unsigned long seed;

	if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed))
		seed = (unsigned long)time(NULL) ^ ((unsigned long)getpid() << 16);
	return seed;
}

static void
remote_addresses(struct remote_job *job, struct remote_addrs *addrs)
{
	const char *name = job->route.relay[0] ? job->route.relay : job->host;
	struct buf t;
	int r;

	buf_init(&t, 2048);
	addrs->n = 0;
	if (job->route.relay[0] == '\0')
		r = mx_lookup(name, addrs, remote_seed());
	else if (mx_parse_literal(name, &addrs->a[0])) {
		snprintf(addrs->a[0].name, sizeof(addrs->a[0].name), "%s", name);
		addrs->n = 1;
		r = MX_OK;
	} else
		r = mx_ip(name, 0, addrs);
	if (r == MX_SOFT) {
		buf_printf(&t, "DNS lookup for %s failed temporarily: %s. (#4.4.3)\n", name,
		    mx_error());
		report_final('Z', buf_str(&t), NULL);
	}
	if (r == MX_NULL) {
		buf_printf(&t, "%s does not accept mail: null MX (RFC 7505). (#5.1.10)\n", name);
		report_final('D', buf_str(&t), NULL);
	}
	if (r == MX_HARD) {
		buf_printf(&t, "Sorry, I couldn't find any host named %s. (#5.1.2)\n", name);
		report_final('D', buf_str(&t), NULL);
	}
	if (addrs->n == 0)
		report_final('D', "Sorry, I couldn't find a mail exchanger or IP address. (#5.4.4)\n",
		    NULL);
	buf_free(&t);
}

/* remote_prefme - qmail's rule: only MX hosts preferred over this machine;
 * all of them after a route (the administrator's choice) or when every
 * recipient domain was a CNAME (the names were rewritten: no loop) */
static unsigned
remote_prefme(const struct remote_job *job, const struct remote_addrs *addrs)
{
	unsigned prefme = 100000;

	if (job->route.relay[0] != '\0')
		return 300000;
	if (job->allaliases)
		return 500000;
	for (size_t i = 0; i < addrs->n; i++)
		if (addrs->a[i].pref < prefme && remote_is_me(&addrs->a[i]))
			prefme = addrs->a[i].pref;
	for (size_t i = 0; i < addrs->n; i++)
		if (addrs->a[i].pref < prefme)
			return prefme;
	report_final('D', "Sorry. Although I'm listed as a best-preference MX or A for that host,\n"
	    "it isn't in my control/locals file, so I don't treat it as local. (#5.4.6)\n", NULL);
}

/* remote_try - one address: 1 tried (why holds the outcome), 0 skipped */
static int
remote_try(struct remote_job *job, const struct remote_addr *a, unsigned port, struct buf *why)
{
	int fd, timedout;
	long now = (long)time(NULL);

	if (tcpto_is_dead(job->cfg->tcpto_path, a, now))
		return 0;
	fd = remote_connect(job, a, port, &timedout);
	tcpto_err(job->cfg->tcpto_path, a, fd < 0 && timedout, now);
	if (fd < 0)
		return 0;
	remote_addr_fmt(a, job->peer, sizeof(job->peer));
	snprintf(job->relayname, sizeof(job->relayname), "%s", a->name);
	if (tls_policy_find(&job->cfg->tlsdest, a->name, port, &job->tls) == 0)
		tls_policy_find(&job->cfg->tlsdest, job->host, port, &job->tls);
	report_reset();
	job->tlsfailed = 0;
	job->client(job, fd, why);
	close(fd);
	if (job->tlsfailed && (fd = remote_connect(job, a, port, &timedout)) >= 0) {
		/* a broken STARTTLS is no reason to keep mail that could go in
		 * plain text: once more without TLS, as the policy allows */
		job->tls.mode = TLSP_NEVER;
		report_reset();
		job->client(job, fd, why);
		close(fd);
	}
	return 1;
}

/* remote_canon_one - rcpt with its domain's canonical name: 1 an alias
 * (rewritten, or looping), 0 not; a temporary DNS failure ends the delivery */
static int
remote_canon_one(char **rcpt)
{
	const char *at = strrchr(*rcpt, '@');
	char dom[REMOTE_NAMEMAX];
	size_t local;
	int r;

	if (at == NULL)
		return 1;	/* qmail: an address without a domain counts as an alias */
	if (snprintf(dom, sizeof(dom), "%s", at + 1) >= (int)sizeof(dom))
		return 0;
	if ((r = mx_canon(dom, sizeof(dom))) == MX_SOFT) {
		struct buf t;

		buf_init(&t, 1024);
		buf_printf(&t, "CNAME lookup failed temporarily. (#4.4.3)\n"
		    "The lookup of %s gave: %s.\n", at + 1, mx_error());
		report_final('Z', buf_str(&t), NULL);
	}
	if (r <= 0)
		return r == MX_HARD;	/* a loop: qmail's "not our problem", name kept */
	local = (size_t)(at - *rcpt);
	if ((*rcpt = malloc(local + strlen(dom) + 2)) == NULL)
		report_final('Z', "Out of memory. (#4.3.0)\n", NULL);
	memcpy(*rcpt, at - local, local + 1);
	memcpy(*rcpt + local + 1, dom, strlen(dom) + 1);
	return 1;
}

/* remote_canon - qmail's addrmangle: recipient domains become the names
 * their CNAMEs lead to, unless a route names the relay */
static void
remote_canon(struct remote_job *job)
{
	job->allaliases = 0;
	if (job->route.relay[0] != '\0')
		return;
	job->allaliases = 1;
	for (size_t i = 0; i < job->nrcpt; i++)
		if (!remote_canon_one(&job->rcpt[i]))
			job->allaliases = 0;
}

/* remote_run - deliver to the first address that takes the message */
void
remote_run(struct remote_job *job)
{
	static struct remote_addrs addrs;
	struct buf why;
	unsigned port = job->route.port ? job->route.port : job->defport, prefme;

	/* qmail bounces it in the middle of DATA; we know before connecting */
	if (job->client == smtp_client_run && job->msglen > 0 &&
	    job->msg[job->msglen - 1] != '\n')
		report_final('D', "SMTP cannot transfer messages with partial final lines. "
		    "(#5.6.2)\n", NULL);
	job->smtps = port == REMOTE_PORT_SMTPS;
	remote_canon(job);
	remote_addresses(job, &addrs);
	prefme = remote_prefme(job, &addrs);
	buf_init(&why, 1 << 16);
	for (size_t i = 0; i < addrs.n; i++)
		if (addrs.a[i].pref < prefme)
			remote_try(job, &addrs.a[i], port, &why);
	if (buf_len(&why) > 1)
		report_final(buf_str(&why)[0], buf_str(&why) + 1, NULL);
	report_final('Z', "Sorry, I wasn't able to establish an SMTP connection. (#4.4.1)\n", NULL);
}
