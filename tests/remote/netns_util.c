/* SPDX-License-Identifier: MIT
 * netns_util.c - what the namespace tests share: the names of this run's
 * namespaces, a shell helper, a fresh client home, control files, and
 * qmail-remote run in the client namespace. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "netns_util.h"

char net[64];
char ns_c[64];	/* the client namespace */

/* netns_names - per run (the runner's pid, passed to the test processes in
 * SQ_NETNS_ID): concurrent runs of this binary do not meet */
void
netns_names(void)
{
	const char *id = getenv("SQ_NETNS_ID");
	char buf[16];

	if (id == NULL) {
		snprintf(buf, sizeof(buf), "%d", (int)getpid() % 100000);
		setenv("SQ_NETNS_ID", buf, 1);
		id = getenv("SQ_NETNS_ID");
	}
	snprintf(net, sizeof(net), "/tmp/sq-remote-netns-%s", id);
	snprintf(ns_c, sizeof(ns_c), "sqtest-remote-c%s", id);
}

int
sh(char *dst, size_t size, const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	FILE *p;
	size_t n = 0;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	if (p == NULL)
		return -1;
	if (dst != NULL) {
		n = fread(dst, 1, size - 1, p);
		for (size_t i = 0; i < n; i++)
			if (dst[i] == '\0')
				dst[i] = '|';
		dst[n] = '\0';
	} else
		while (fgetc(p) != EOF)
			;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

const char *
env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : ".";
}

char home[256], out[1 << 16];

void
client(void)
{
	netns_names();
	if (geteuid() != 0)
		cr_skip_test("needs root (network namespaces)");
	snprintf(home, sizeof(home), "%s/up", net);
	if (access(home, F_OK) != 0)
		cr_skip_test("netns.sh could not set up the test network (dnsmasq, smtp-sink?)");
	snprintf(home, sizeof(home), "/tmp/sq-remote-cl-XXXXXX");
	cr_assert_not_null(mkdtemp(home));
	cr_assert_eq(sh(NULL, 0, "sh %s/sandbox-tools/mkhome.sh %s %s client.test && "
	    "printf 'Subject: netns\\n\\nhello\\n' > %s/msg", env("SQ_SRCDIR"), home,
	    env("SQ_BUILDDIR"), home), 0);
}

void
client_done(void)
{
	if (home[0] != '\0')
		sh(NULL, 0, "sh %s/sandbox-tools/sandbox.sh stop %s; rm -rf %s", env("SQ_SRCDIR"),
		    home, home);
}

void
ctl(const char *name, const char *text)
{
	char path[512];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/control/%s", home, name);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs(text, fp);
	fclose(fp);
}

/* remote - qmail-remote host a@client.test rcpt in the client namespace */
const char *
remote(const char *host, const char *rcpt)
{
	sh(out, sizeof(out), "ip netns exec %s env QMAILHOME=%s %s/qmail-remote "
	    "'%s' a@client.test '%s' < %s/msg", ns_c, home, env("SQ_BUILDDIR"), host, rcpt, home);
	return out;
}

