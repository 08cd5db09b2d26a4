/* SPDX-License-Identifier: MIT
 * test_authuser.c - qmail-authuser -s against a real system user: made with useradd
 * and chpasswd under a unique name, removed with userdel (also when the test fails).
 *
 * Needs root (useradd, and the shadow file); skipped otherwise.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tls_harness.h"

static char user[32];

static void
user_del(void)
{
	if (user[0])
		tls_sh(NULL, 0, "for i in $(seq 50); do userdel %s 2>/dev/null && break; "
		    "id %s >/dev/null 2>&1 || break; sleep 0.2; done", user, user);
	user[0] = '\0';
	tls_teardown();
}

/* check - qmail-authuser [-s] with "user\0password\0\0" on fd 3: its exit status */
static int
check(const char *opt, const char *name, const char *pw)
{
	return tls_sh(NULL, 0, "printf '%s\\000%s\\000\\000' | QMAILHOME=%s/home "
	    "%s/handlers/authuser/qmail-authuser %s 3<&0 2>/dev/null", name, pw, tls_dir,
	    tls_builddir(), opt);
}

TestSuite(authuser, .init = tls_setup, .fini = user_del, .timeout = 60);

Test(authuser, system_users_with_dash_s)
{
	char out[4096];

	if (geteuid() != 0 || system("command -v useradd userdel chpasswd >/dev/null") != 0)
		cr_skip_test("needs root and useradd");
	snprintf(user, sizeof(user), "sqau%ld%ld", (long)getpid() % 100000,
	    (long)time(NULL) % 10000);
	cr_assert(tls_sh(out, sizeof(out), "for i in $(seq 50); do useradd -M -s /usr/sbin/nologin "
	    "%s 2>&1 && break; sleep 0.2; done; echo '%s:Syst3m-pw' | chpasswd 2>&1 && "
	    "getent shadow %s | cut -d: -f2 | cut -c1-3", user, user, user) == 0, "%s", out);
	cr_assert(out[0] == '$', "no crypt hash in shadow: %s", out);
	cr_assert(check("-s", user, "Syst3m-pw") == 0, "right password refused");
	cr_assert(check("-s", user, "wrong") == 1, "wrong password accepted");
	cr_assert(check("", user, "Syst3m-pw") == 1, "system user accepted without -s");
	cr_assert(check("-s", "nosuchuser-sq", "Syst3m-pw") == 1);
	/* users/authuser comes first: alice is there */
	cr_assert(check("-s", "alice", "sandbox") == 0);
	/* the subprogram runs with AUTHUSER set */
	cr_assert(tls_sh(out, sizeof(out), "printf '%s\\000Syst3m-pw\\000\\000' | "
	    "QMAILHOME=%s/home %s/handlers/authuser/qmail-authuser -s sh -c 'echo $AUTHUSER' "
	    "3<&0", user, tls_dir, tls_builddir()) == 0);
	cr_assert(strncmp(out, user, strlen(user)) == 0, "%s", out);
	/* a locked account is refused, an unlocked one works again */
	cr_assert(tls_sh(NULL, 0, "usermod -L %s", user) == 0);
	cr_assert(check("-s", user, "Syst3m-pw") == 1, "locked account accepted");
	cr_assert(tls_sh(NULL, 0, "usermod -U %s", user) == 0);
	cr_assert(check("-s", user, "Syst3m-pw") == 0);
	/* an expired account is refused */
	cr_assert(tls_sh(NULL, 0, "usermod -e 2000-01-02 %s", user) == 0);
	cr_assert(check("-s", user, "Syst3m-pw") == 1, "expired account accepted");
}
