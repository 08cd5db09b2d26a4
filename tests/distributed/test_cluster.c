/* SPDX-License-Identifier: MIT
 * test_cluster.c - distributed queues (issue 7, part 4): a hub, two edges and
 * a null client, each in its own network namespace with its own qmail home
 * (sandbox-tools/cluster.sh), driven by cluster-test.sh. Needs root; skips
 * otherwise.
 *
 * Runs as:    the Criterion worker; each test has its own directory and its
 *             own namespace suffix ($SQ_NETNS_ID plus a letter), so the two
 *             can run at the same time.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SKIP_EXIT 77

static const char *
env_or(const char *name, const char *dflt)
{
	const char *v = getenv(name);

	return v != NULL && *v != '\0' ? v : dflt;
}

/* log_tail - the last size-1 bytes of file, without the handlers' chatter */
static void
log_tail(const char *file, char *out, size_t size)
{
	char cmd[4608];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "grep -v -e '^Listening' -e '^Communication' -e '^Spawned' "
	    "-e '^Execing' -e '^Child' -e '^Connection from' -e 'status: local' '%s' | "
	    "tail -c %zu", file, size - 1);
	out[0] = '\0';
	if ((p = popen(cmd, "r")) == NULL)
		return;
	n = fread(out, 1, size - 1, p);
	out[n] = '\0';
	pclose(p);
}

/* scenario - run cluster-test.sh MODE in a new directory with namespace
 * suffix $SQ_NETNS_ID + letter; on failure the directory stays and the end
 * of the output goes into the failure message */
static void
scenario(const char *mode, const char *letter)
{
	char dir[] = "/tmp/sq-cluster-XXXXXX", cmd[4096], id[64], tail[3000];
	int st, rc;

	if (geteuid() != 0)
		cr_skip_test("needs root (network namespaces)");
	cr_assert_not_null(mkdtemp(dir));
	/* without SQ_NETNS_ID, the pid keeps concurrent runs apart (as tests/remote) */
	if (getenv("SQ_NETNS_ID") != NULL)
		snprintf(id, sizeof(id), "%s%s", getenv("SQ_NETNS_ID"), letter);
	else
		snprintf(id, sizeof(id), "-%d%s", (int)getpid() % 100000, letter);
	snprintf(cmd, sizeof(cmd), "SQ_NETNS_ID='%s' sh '%s/tests/distributed/cluster-test.sh' "
	    "%s '%s/c' > '%s/test.log' 2>&1", id, env_or("SQ_SRCDIR", "."), mode, dir, dir);
	st = system(cmd);
	rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	snprintf(cmd, sizeof(cmd), "%s/test.log", dir);
	log_tail(cmd, tail, sizeof(tail));
	if (rc == 0 || rc == SKIP_EXIT) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			cr_log_warn("could not remove %s", dir);
	}
	if (rc == SKIP_EXIT)
		cr_skip_test("cluster-test.sh cannot run here: %s", tail);
	cr_assert_eq(rc, 0, "cluster-test.sh %s failed (all in %s):\n%s", mode, dir, tail);
}

/* the hub stops while 200 mails flow in over both edges and the null client;
 * each must reach its Maildir exactly once after the hub is back */
Test(distributed, hub_outage, .timeout = 240)
{
	scenario("outage", "o");
}

/* hosts the hub does not trust cannot relay through it (QMTP, QMQP) */
Test(distributed, relay_refused, .timeout = 120)
{
	scenario("refuse", "r");
}
