/* SPDX-License-Identifier: MIT
 * test_units.c - the generated systemd units, sysusers.d and tmpfiles.d files:
 * systemd-analyze verify, the hardening level, users and the queue layout. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "e2e.h"

static char dir[] = "/tmp/sq-units-XXXXXX";
static struct buf out;

static const char *const unit_names[] = {
	"qmail-smtpd.socket", "qmail-smtpd@.service", "qmail-send.service",
	"qmail-qmtpd.socket", "qmail-qmtpd@.service", "qmail-qmqpd.socket",
	"qmail-qmqpd@.service", "qmail-qmtps.socket", "qmail-qmtps@.service",
	"qmail-queued.socket", "qmail-queued.service", NULL
};

/* gen - units/NAME.in filled in for the qmail home HOME, into dir/NAME */
static void
gen(const char *name, const char *home)
{
	cr_assert_eq(e2e_sh(&out, "sh '%s/units/subst.sh' '%s' < '%s/units/%s.in' > '%s/%s'",
	    e2e_srcdir(), home, e2e_srcdir(), name, dir, name), 0,
	    "subst.sh %s: %s", name, buf_str(&out));
}

/* program - dir/home/bin/NAME must be the built program (ExecStart= checks it) */
static void
program(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/home/bin/%s", dir, name);
	cr_assert_eq(access(path, X_OK), 0, "%s not built: %m", name);
}

static void
setup(void)
{
	const char *const *u;
	char home[PATH_MAX];

	buf_init(&out, 1 << 20);
	cr_assert_not_null(mkdtemp(dir));
	snprintf(home, sizeof(home), "%s/home", dir);
	cr_assert_eq(e2e_sh(&out, "sh '%s/sandbox-tools/mkhome.sh' '%s' '%s'",
	    e2e_srcdir(), home, e2e_builddir()), 0, "mkhome.sh: %s", buf_str(&out));
	program("qmail-smtpd");
	program("qmail-start");
	program("qmail-qmtpd");
	program("qmail-qmqpd");
	program("qmail-queued");
	for (u = unit_names; *u; u++)
		gen(*u, home);
	gen("sqmail.sysusers", "/var/qmail");
	gen("sqmail.tmpfiles", "/var/qmail");
}

static void
teardown(void)
{
	(void)e2e_sh(NULL, "rm -rf '%s'", dir);
	buf_free(&out);
}

static void
need(const char *program_name)
{
	if (!e2e_have(program_name))
		cr_skip_test("%s not found (Debian package systemd); not checked", program_name);
}

Test(units, verify_clean, .init = setup, .fini = teardown, .timeout = 30)
{
	int rc;

	need("systemd-analyze");
	/* --man=no: the man pages are not installed where man(1) looks. */
	rc = e2e_sh(&out, "cd '%s' && systemd-analyze verify --man=no ./qmail-smtpd.socket "
	    "./qmail-smtpd@.service ./qmail-smtpd@0.service ./qmail-send.service "
	    "./qmail-qmtpd.socket ./qmail-qmtpd@0.service ./qmail-qmqpd.socket "
	    "./qmail-qmqpd@0.service ./qmail-qmtps.socket ./qmail-qmtps@0.service "
	    "./qmail-queued.socket ./qmail-queued.service", dir);
	cr_expect_eq(rc, 0, "systemd-analyze verify failed:\n%s", buf_str(&out));
	/* Unknown keys are only warnings for systemd: any output is a failure here. */
	cr_expect_eq(buf_len(&out), 0, "systemd-analyze verify complained:\n%s", buf_str(&out));
}

Test(units, verify_catches_errors, .init = setup, .fini = teardown, .timeout = 30)
{
	need("systemd-analyze");
	/* The check above must be able to fail: a misspelt key and a missing binary. */
	cr_assert_eq(e2e_sh(&out, "cd '%s' && sed 's/^Accept=yes/Acept=yes/' "
	    "qmail-smtpd.socket > bad.socket", dir), 0);
	e2e_sh(&out, "cd '%s' && systemd-analyze verify --man=no ./bad.socket", dir);
	cr_expect(strstr(buf_str(&out), "Acept"), "no complaint: %s", buf_str(&out));
	cr_assert_eq(e2e_sh(&out, "cd '%s' && rm -f home/bin/qmail-start", dir), 0);
	cr_expect_neq(e2e_sh(&out, "cd '%s' && systemd-analyze verify --man=no "
	    "./qmail-send.service", dir), 0, "missing ExecStart not noticed");
}

Test(units, content, .init = setup, .fini = teardown)
{
	static const struct {
		const char *unit, *line;
	} want[] = {
		{ "qmail-smtpd.socket", "\nAccept=yes\n" },
		{ "qmail-smtpd.socket", "\nListenStream=25\n" },
		{ "qmail-smtpd@.service", "\nUser=qmaild\n" },
		{ "qmail-smtpd@.service", "\nStandardInput=socket\n" },
		{ "qmail-smtpd@.service", "\nStandardError=journal\n" },
		{ "qmail-smtpd@.service", "\nNoNewPrivileges=yes\n" },
		{ "qmail-smtpd@.service", "\nCapabilityBoundingSet=\n" },
		{ "qmail-smtpd@.service", "\nProtectSystem=strict\n" },
		{ "qmail-send.service", "\nType=notify\n" },
		{ "qmail-send.service", " ./Maildir/\n" },
		{ "qmail-send.service", "\nExecReload=+/bin/kill -HUP $MAINPID\n" },
		{ "qmail-send.service", "\nKillMode=mixed\n" },
		{ "qmail-send.service", "\nRestart=always\n" },
		{ "qmail-qmtpd.socket", "\nListenStream=209\n" },
		{ "qmail-qmtpd.socket", "\nAccept=yes\n" },
		{ "qmail-qmtpd@.service", "\nUser=qmaild\n" },
		{ "qmail-qmtpd@.service", "\nProtectSystem=strict\n" },
		{ "qmail-qmqpd.socket", "\nListenStream=628\n" },
		{ "qmail-qmqpd@.service", "\nUser=qmaild\n" },
		{ "qmail-qmqpd@.service", "\nRestrictAddressFamilies=AF_UNIX\n" },
		{ "qmail-qmtps.socket", "\nListenStream=6209\n" },
		{ "qmail-qmtps@.service", "/bin/qmail-qmtpd --tls=implicit\n" },
		{ "qmail-qmtps@.service", "/control/tls/clientca.pem\n" },
		{ "qmail-qmtps@.service", "\nLoadCredential=qmtpd.key:" },
		{ "qmail-qmtps@.service", "\nUser=qmaild\n" },
		{ "qmail-smtpd@.service", "\nWants=qmail-queued.socket\n" },
		{ "qmail-queued.socket", "\nListenStream=/run/sqmail/queue\n" },
		{ "qmail-queued.socket", "\nSocketMode=0666\n" },
		{ "qmail-queued.service", "\nUser=qmailq\n" },
		{ "qmail-queued.service", "\nNoNewPrivileges=yes\n" },
	};
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		cr_assert_eq(e2e_sh(&out, "cat '%s/%s'", dir, want[i].unit), 0);
		cr_expect(strstr(buf_str(&out), want[i].line), "%s lacks %s",
		    want[i].unit, want[i].line);
		cr_expect_null(strstr(buf_str(&out), "@qmailhome@"), "%s not filled in",
		    want[i].unit);
	}
}

/* exposure - systemd-analyze security's overall score for a unit, x10 */
static int
exposure(const char *unit)
{
	const char *p;
	int whole, tenth;

	e2e_sh(&out, "cd '%s' && systemd-analyze security --offline=yes --no-pager ./%s",
	    dir, unit);
	p = strstr(buf_str(&out), "Overall exposure level for");
	cr_assert_not_null(p, "no score: %s", buf_str(&out));
	p = strchr(p, ':');
	cr_assert_not_null(p);
	cr_assert_eq(sscanf(p + 1, " %d.%d", &whole, &tenth), 2, "%s", p);
	return whole * 10 + tenth;
}

Test(units, hardening, .init = setup, .fini = teardown, .timeout = 30)
{
	need("systemd-analyze");
	/* The network handler is the exposed part: keep it near the minimum
	 * (1.2 when written); qmail-send holds lspawn's root and the network. */
	cr_expect_leq(exposure("qmail-smtpd@.service"), 20, "%s", buf_str(&out));
	cr_expect_leq(exposure("qmail-qmtpd@.service"), 20, "%s", buf_str(&out));
	cr_expect_leq(exposure("qmail-qmqpd@.service"), 20, "%s", buf_str(&out));
	cr_expect_leq(exposure("qmail-qmtps@.service"), 20, "%s", buf_str(&out));
	cr_expect_leq(exposure("qmail-send.service"), 50, "%s", buf_str(&out));
	/* the queue writer takes bytes from every local user */
	cr_expect_leq(exposure("qmail-queued.service"), 20, "%s", buf_str(&out));
}

Test(units, sysusers, .init = setup, .fini = teardown, .timeout = 30)
{
	static const char *const want[] = {
		"\nalias:x:", "\nqmaild:x:", "\nqmaill:x:", "\nqmailp:x:",
		"\nqmailq:x:", "\nqmailr:x:", "\nqmails:x:", NULL
	};
	const char *const *w;
	struct buf passwd;

	need("systemd-sysusers");
	buf_init(&passwd, 1 << 16);
	cr_assert_eq(e2e_sh(&out, "mkdir -p '%s/root/etc' && systemd-sysusers "
	    "--root='%s/root' '%s/sqmail.sysusers'", dir, dir, dir), 0, "%s", buf_str(&out));
	cr_assert_eq(e2e_sh(&passwd, "echo; cat '%s/root/etc/passwd'", dir), 0);
	for (w = want; *w; w++)
		cr_expect(strstr(buf_str(&passwd), *w), "no user %s", *w + 1);
	/* qmail's primary groups: queue users in qmail, the others in nofiles */
	cr_expect_eq(e2e_sh(&out, "cd '%s/root/etc' && "
	    "q=$(awk -F: '$1==\"qmail\"{print $3}' group) && "
	    "n=$(awk -F: '$1==\"nofiles\"{print $3}' group) && "
	    "awk -F: -v q=$q -v n=$n '"
	    "/^qmail[qrs]:/ && $4!=q {bad=1} /^(alias|qmail[dlp]):/ && $4!=n {bad=1} "
	    "END {exit bad}' passwd", dir), 0, "wrong primary groups:\n%s", buf_str(&passwd));
	buf_free(&passwd);
}

Test(units, tmpfiles_layout, .init = setup, .fini = teardown, .timeout = 30)
{
	struct stat st;
	char path[PATH_MAX];

	need("systemd-tmpfiles");
	need("systemd-sysusers");
	if (geteuid() != 0)
		cr_skip_test("systemd-tmpfiles must chown to qmail's users: needs root");
	cr_assert_eq(e2e_sh(&out, "mkdir -p '%s/root/etc' && systemd-sysusers "
	    "--root='%s/root' '%s/sqmail.sysusers'", dir, dir, dir), 0, "%s", buf_str(&out));
	cr_assert_eq(e2e_sh(&out, "systemd-tmpfiles --root='%s/root' --create "
	    "'%s/sqmail.tmpfiles'", dir, dir), 0,
	    "systemd-tmpfiles: %s", buf_str(&out));
	cr_expect_eq(buf_len(&out), 0, "systemd-tmpfiles complained:\n%s", buf_str(&out));
	snprintf(path, sizeof(path), "%s/root/var/qmail/queue/mess/22", dir);
	cr_assert_eq(stat(path, &st), 0, "%s: %m", path);
	cr_expect_eq(st.st_mode & 07777, 0750);
	snprintf(path, sizeof(path), "%s/root/var/qmail/queue/todo/22", dir);
	cr_expect_eq(stat(path, &st), 0, "%s: %m", path);
	snprintf(path, sizeof(path), "%s/root/var/qmail/queue/intd/0", dir);
	cr_expect_eq(stat(path, &st), 0, "%s: %m", path);
	snprintf(path, sizeof(path), "%s/root/var/qmail/queue/lock/trigger", dir);
	cr_assert_eq(stat(path, &st), 0, "%s: %m", path);
	cr_expect(S_ISFIFO(st.st_mode));
	cr_expect_eq(st.st_mode & 07777, 0622);
	cr_expect_eq(e2e_sh(&out, "cd '%s/root' && "
	    "q=$(awk -F: '$1==\"qmailq\"{print $3}' etc/passwd) && "
	    "s=$(awk -F: '$1==\"qmails\"{print $3}' etc/passwd) && "
	    "test $(stat -c %%u var/qmail/queue/mess/0) = $q && "
	    "test $(stat -c %%u var/qmail/queue/info/0) = $s && "
	    "test $(stat -c %%u var/qmail/queue/lock/sendmutex) = $s", dir), 0,
	    "wrong owners: %s", buf_str(&out));
}
