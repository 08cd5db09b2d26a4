/* SPDX-License-Identifier: MIT */
#ifndef SQ_REMOTE_H
#define SQ_REMOTE_H

#include <stddef.h>
#include <sys/socket.h>

#include "buf.h"
#include "cfg.h"

/* qmail-remote's pieces: mx.c (DNS), route.c (smtproutes, authsenders,
 * domainips), tcpto.c (dead addresses), tls_policy.c (tlsdestinations),
 * smtp_client.c (one SMTP session), report.c (qmail's output on fd 1),
 * remote.c (the loop over addresses).  A QMTP client (qmtproutes) is one
 * more file with the same entry as smtp_client_run(). */

#define REMOTE_PORT_SMTP 25
#define REMOTE_PORT_SMTPS 465
#define REMOTE_MAXADDRS 64	/* addresses tried per delivery */
#define REMOTE_NAMEMAX 256

struct remote_addr {
	int family;		/* AF_INET or AF_INET6 */
	unsigned char ip[16];
	unsigned pref;		/* MX preference; 0 for A/AAAA and literals */
	unsigned scope;		/* IPv6 link-local: interface index ("%ifname"), or 0 */
	char name[REMOTE_NAMEMAX];	/* the host name it came from (TLS checks) */
};

struct remote_addrs {
	struct remote_addr a[REMOTE_MAXADDRS];
	size_t n;
};

/* mx.c results */
#define MX_OK 1
#define MX_SOFT (-1)		/* temporary DNS failure */
#define MX_HARD (-2)		/* no such domain */
#define MX_NULL (-3)		/* null MX (RFC 7505) */

/* mx_lookup - MX records of host (or implicit MX) into addrs, sorted by
 * preference, equal preferences shuffled with seed */
int mx_lookup(const char *host, struct remote_addrs *addrs, unsigned long seed);
/* mx_ip - A and AAAA of host (no MX): MX_OK or MX_SOFT/MX_HARD */
int mx_ip(const char *host, unsigned pref, struct remote_addrs *addrs);
/* mx_canon - qmail's dns_cname on a recipient domain (rewritten in place):
 * CNAMEs followed (0: none), MX_SOFT, or MX_HARD (loop; name unchanged) */
int mx_canon(char *name, size_t size);
/* mx_error - what the last MX_SOFT was ("truncated answer", ...) */
const char *mx_error(void);
/* mx_parse_literal - "[1.2.3.4]", "[IPv6:...]", "[::1]", "[fe80::1%eth0]":
 * 1 ok, 0 not a literal */
int mx_parse_literal(const char *s, struct remote_addr *a);
/* mx_parse_answer - walk a DNS answer for records of type qtype (tests) */
int mx_parse_answer(const unsigned char *ans, int len, int qtype, const char *host,
    struct remote_addrs *addrs, char mxnames[][REMOTE_NAMEMAX], unsigned *mxpref,
    size_t *nmx, char *cname, size_t cnamesize);

/* route.c */
struct route {
	char relay[REMOTE_NAMEMAX];	/* empty: look up MX of the host */
	unsigned port;			/* 0: default (25) */
	char user[REMOTE_NAMEMAX];	/* AUTH user, empty: no AUTH */
	char pass[REMOTE_NAMEMAX];
};
/* route_smtp - smtproutes entry for host (and sender for "!@"); 1 found, 0 none, -1 bad */
int route_smtp(const struct cfg_list *routes, const char *host, const char *sender,
    struct route *r);
/* route_authsender - authsenders entry for sender: 1 found, 0 none, -1 bad */
int route_authsender(const struct cfg_list *list, const char *sender, struct route *r);
/* route_domainip - domainips: source address ("%ifname" for an IPv6
 * link-local one) and HELO for the sender's domain: 1, 0 none, -1 bad,
 * -2 no such interface */
int route_domainip(const struct cfg_list *list, const char *sender,
    struct remote_addr *src, int *hassrc, char *helo, size_t helosize);
/* route_parse_value - "relay[:;]port|user|password" into r (tests) */
int route_parse_value(const char *v, struct route *r);

/* tcpto.c - qmail's table of addresses that timed out */
#define TCPTO_SIZE 64
int tcpto_is_dead(const char *path, const struct remote_addr *a, long now);
void tcpto_err(const char *path, const struct remote_addr *a, int timedout, long now);
/* tcpto_list - print the table (qmail-tcpto); tcpto_clear - empty it (qmail-tcpok) */
int tcpto_list(const char *path, struct buf *out, long now);
int tcpto_clear(const char *path);

/* tls_policy.c - tlsdestinations */
enum tlsp_mode {
	TLSP_OPPORTUNISTIC = 0,	/* STARTTLS when offered, no verification */
	TLSP_NEVER,		/* !host: never STARTTLS */
	TLSP_ANON,		/* -host: TLS required, certificate not checked */
	TLSP_VERIFY,		/* host / +host: TLS required, chain verified */
	TLSP_WILDCARD,		/* ~host: chain + name, wildcard allowed */
	TLSP_NAME,		/* =host: chain + exact name */
	TLSP_PIN		/* %host:=fingerprint: certificate digest pinned */
};
struct tls_policy {
	enum tlsp_mode mode;
	char cafile[1024];
	char ciphers[256];		/* GnuTLS priority string, empty: default */
	char pin[160];			/* hex digest (SHA1/224/256/512 by length) */
	unsigned port;			/* 0: any */
};
/* tls_policy_find - the policy for relay host name/port; 1 rule found, 0 default */
int tls_policy_find(const struct cfg_list *list, const char *host, unsigned port,
    struct tls_policy *p);
const char *tls_policy_name(enum tlsp_mode m);
struct remote_job;
struct tls_client_opts;
/* tls_policy_client_opts - TLS client options for job: its tlsdestinations
 * rule and its domaincerts certificate; setup errors go into why */
void tls_policy_client_opts(const struct remote_job *job, struct tls_client_opts *o,
    char *why, size_t whysize);

/* report.c - qmail-remote's output on fd 1 */
void report_rcpt(char kind, const char *text, const char *smtptext);
void report_final(char kind, const char *text, const char *smtptext) __attribute__((noreturn));
void report_setfd(int fd);
/* report_reset - forget recipient reports (before trying the next address) */
void report_reset(void);
/* report_safe - copy s into out replacing bytes outside 33..126 by '?' */
void report_safe(struct buf *out, const char *s);

/* remote.c */
struct remote_config {
	struct buf helohost, me;
	unsigned long timeoutconnect, timeoutremote;
	struct cfg_list smtproutes, authsenders, domainips, domaincerts, tlsdest;
	char tcpto_path[4096];
};

struct remote_job;
/* a protocol client: talk to the server on fd, write the final report (and
 * exit) or return SMTP_NEXT with the reason in why to try the next address */
typedef int remote_client_fn(struct remote_job *job, int fd, struct buf *why);

struct remote_job {
	const struct remote_config *cfg;
	remote_client_fn *client;	/* smtp_client_run; a QMTP client for qmtproutes */
	unsigned defport;		/* its port when the route names none (25) */
	const char *host;		/* argv[1] */
	const char *sender;
	char **rcpt;
	size_t nrcpt;
	const char *msg;		/* the message as queued (LF lines) */
	size_t msglen;
	size_t smtpsize;		/* its size on the wire (CRLF), for SIZE= */
	int eightbit;			/* has bytes above 127 (BODY=8BITMIME) */
	struct route route;
	struct remote_addr src;		/* domainips source address */
	int hassrc;
	int allaliases;			/* every recipient domain was a CNAME (qmail) */
	char helo[REMOTE_NAMEMAX];
	char certfile[1024], keyfile[1024];	/* domaincerts */
	char keypass[256];			/* its key's password, or "" */
	struct tls_policy tls;
	int smtps;			/* TLS from the first byte (port 465) */
	int tlsfailed;			/* opportunistic STARTTLS failed: retry in plain text */
	char peer[64];			/* text of the address being tried */
	char relayname[REMOTE_NAMEMAX];	/* name for certificate checks */
};

/* remote_load_config - control files into cfg; -1 after logging */
int remote_load_config(struct remote_config *cfg);
/* remote_run - deliver and write the report; never returns */
void remote_run(struct remote_job *job) __attribute__((noreturn));
/* remote_addr_fmt - printable address */
void remote_addr_fmt(const struct remote_addr *a, char *out, size_t size);
/* remote_is_me - is a one of this machine's addresses (qmail's ipme)? */
int remote_is_me(const struct remote_addr *a);

/* smtp_client.c: result of one session */
#define SMTP_DONE 0		/* report written (accepted, or final failure) */
#define SMTP_NEXT 1		/* try the next address (text in why) */
remote_client_fn smtp_client_run;
/* qmtp_client.c: QMTP (qmtproutes) */
#define REMOTE_PORT_QMTP 209
#define REMOTE_PORT_QMTPS 6209
remote_client_fn qmtp_client_run;

/* smtp_auth.c - AUTH PLAIN, LOGIN, CRAM-MD5 (RFC 4954, RFC 2195) with the
 * route's user and password; mechs is the EHLO AUTH line.  0 authenticated,
 * -1 with the report text in why (kind letter first) */
struct io;
struct smtp_reply {
	int code;		/* 0 when the reply was unreadable (text says why) */
	struct buf text;	/* all lines, LF-separated, for the report */
};
int smtp_auth(struct io *io, const struct remote_job *job, const char *mechs,
    struct smtp_reply *rp, struct buf *why);
/* smtp_read_reply - one reply within the timeout: its code, or 0 (rp->text says why) */
int smtp_read_reply(struct io *io, struct smtp_reply *rp);
/* base64 helpers for smtp_auth.c (tests) */
void smtp_b64_encode(struct buf *out, const void *p, size_t n);
int smtp_b64_decode(struct buf *out, const char *s);

#endif
