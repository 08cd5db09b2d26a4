/* SPDX-License-Identifier: MIT
 * test_tls_modes.c - the s/qmail switches of qmail-smtpd with real clients (Python ssl,
 * gnutls-cli): SMTPAUTH cram/-/!, UCSPITLS=-, LOCALMFCHECK '', ?/@, a domain, '!'.
 *
 * Each test runs its own tcpserver on a port of 34100-34149 (tls_harness.c).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "tls_harness.h"

#define CHECKPW "home/bin/qmail-authuser /bin/true"

TestSuite(tlsmodes, .init = tls_setup, .fini = tls_teardown, .timeout = 60);

Test(tlsmodes, smtpauth_cram_only)
{
	tls_serve(34101, "SMTPAUTH=cram", CHECKPW);
	tls_py("offers", "tls|+AUTH CRAM-MD5|-AUTH LOGIN PLAIN|-AUTH LOGIN PLAIN CRAM-MD5");
	tls_py("auth", "CRAM-MD5:carol:cramsecret:235");
	tls_py("auth", "CRAM-MD5:carol:wrong:535");
	tls_py("authcode", "PLAIN:alice:sandbox:504");
	tls_py("authcode", "LOGIN:alice:sandbox:504");
}

Test(tlsmodes, smtpauth_plus_cram_offers_all_three)
{
	tls_serve(34102, "SMTPAUTH=+cram", CHECKPW);
	tls_py("offers", "tls|+AUTH LOGIN PLAIN CRAM-MD5");
	tls_py("offers", "plain|+STARTTLS|-AUTH LOGIN PLAIN CRAM-MD5");
}

Test(tlsmodes, smtpauth_dash_turns_auth_off)
{
	tls_serve(34103, "SMTPAUTH=-", CHECKPW);
	tls_py("offers", "tls|-AUTH LOGIN PLAIN|+8BITMIME");
	tls_py("authcode", "PLAIN:alice:sandbox:502");
	tls_py("authcode", "CRAM-MD5:carol:cramsecret:502");
	/* no AUTH, so no relaying for alice either */
	tls_py("auth_norelay", NULL);
}

Test(tlsmodes, smtpauth_bang_requires_auth_on_port_25)
{
	tls_serve(34104, "SMTPAUTH=!", CHECKPW);
	tls_py("authreq", "PLAIN");
	cr_assert(strstr(tls_readfile("rec/env"), "AUTHUSER=alice"), "%s",
	    tls_readfile("rec/env"));
	tls_stop();
	tls_serve(34105, "SMTPAUTH=!cram", CHECKPW);
	tls_py("offers", "tls|+AUTH CRAM-MD5|-AUTH LOGIN PLAIN");
	tls_py("authcode", "PLAIN:alice:sandbox:504");
}

Test(tlsmodes, smtpauth_bang_without_checkprogram_refuses_to_start)
{
	char out[4096];

	tls_serve(34106, "SMTPAUTH=!", NULL);
	tls_sh(out, sizeof(out), "python3 -c 'import socket; s=socket.create_connection("
	    "(\"127.0.0.1\",%d)); print(s.recv(200))'", tls_port);
	cr_assert(strstr(out, "421"), "%s", out);
	cr_assert(strstr(tls_readfile("log"), "AUTH is required"), "%s", tls_readfile("log"));
}

Test(tlsmodes, ucspitls_dash_no_starttls)
{
	char out[16384];

	tls_serve(34107, "UCSPITLS=-", CHECKPW);
	tls_py("notls", NULL);
	/* a real STARTTLS client gives up */
	cr_assert(tls_sh(out, sizeof(out), "(sleep 0.5; printf 'QUIT\\r\\n') | timeout 5 gnutls-cli "
	    "--starttls-proto=smtp --x509cafile=%s/ca.pem -p %d localhost 2>&1", tls_dir,
	    tls_port) != 0, "%s", out);
	cr_assert(strstr(tls_readfile("log"), "Info::TLS::Established") == NULL);
}

Test(tlsmodes, localmfcheck_empty_means_rcpthosts)
{
	/* rcpthosts: example.com sandbox.test (tls-setup.sh) */
	tls_serve(34108, "LOCALMFCHECK=", CHECKPW);
	tls_py("mav", "alice@example.com:250");
	tls_py("mav", "someone@sandbox.test:250");
	tls_py("mav", "alice@elsewhere.org:553");
	tls_py("mav", ":250");			/* the null sender is never checked */
	tls_py("plainmav", "alice@elsewhere.org:250");	/* no AUTH: not checked */
	cr_assert(strstr(tls_readfile("log"), "Invalid_Sender"), "%s", tls_readfile("log"));
}

Test(tlsmodes, localmfcheck_fixed_domain)
{
	/* s/qmail: the domain given, or one in rcpthosts */
	tls_serve(34109, "LOCALMFCHECK=other.example", CHECKPW);
	tls_py("mav", "alice@other.example:250");
	tls_py("mav", "alice@OTHER.example:250");
	tls_py("mav", "alice@example.com:250");
	tls_py("mav", "alice@sub.other.example:553");
	tls_py("mav", "alice@elsewhere.org:553");
}

Test(tlsmodes, localmfcheck_question_mark_and_at_use_the_certificate)
{
	/* client-good carries alice@example.com */
	tls_serve(34110, "TLSCLIENTRELAY= LOCALMFCHECK=?", NULL);
	tls_py("certmav", "client-good:alice@example.com:250");
	tls_py("certmav", "client-good:bob@example.com:553");
	tls_stop();
	tls_serve(34111, "TLSCLIENTRELAY= LOCALMFCHECK=@", CHECKPW);
	tls_py("certmav", "client-good:ALICE@example.com:250");
	tls_py("certmav", "client-good:alice@elsewhere.org:553");
	/* AUTH without a certificate: no e-mail to compare with */
	tls_py("mav", "alice@example.com:553");
}

Test(tlsmodes, localmfcheck_applies_to_relayclient_too)
{
	tls_serve(34112, "RELAYCLIENT= LOCALMFCHECK=", NULL);
	tls_py("plainmav", "alice@example.com:250");
	tls_py("plainmav", "alice@elsewhere.org:553");
}

static int
mfrules(const char *rules)
{
	char out[4096];
	FILE *f;
	char path[512];

	snprintf(path, sizeof(path), "%s/home/control/mailfromrules", tls_dir);
	f = fopen(path, "w");
	cr_assert(f != NULL);
	fputs(rules, f);
	fclose(f);
	return tls_sh(out, sizeof(out), "QMAILHOME=%s/home %s/handlers/mfrules/qmail-mfrules "
	    "2>&1", tls_dir, tls_builddir());
}

Test(tlsmodes, localmfcheck_bang_uses_mailfromrules)
{
	cr_assert(mfrules("# comment\n\nAlice&alice@example.com,postmaster@EXAMPLE.com\n"
	    "bob@127.0.0.1&@bob.example\n127.0.0.&@office.example\n") == 0);
	tls_serve(34113, "LOCALMFCHECK=!", CHECKPW);
	/* alice's own rule decides, even where the network's would allow */
	tls_py("mav", "alice@example.com:250");
	tls_py("mav", "Postmaster@example.com:250");
	tls_py("mav", "alice@office.example:553");
	/* bob from 127.0.0.1 */
	tls_py("mav", "bob@bob.example:250:bob:bobpw");
	tls_py("mav", "bob@example.com:553:bob:bobpw");
	/* carol has no rule: the 127.0.0. prefix decides */
	tls_py("mav", "carol@office.example:250:carol:cramsecret");
	tls_py("mav", "carol@example.com:553:carol:cramsecret");
	/* the rules are read per connection: a range with an empty list, any sender */
	cr_assert(mfrules("127.0.0.1-5&\n") == 0);
	tls_py("mav", "anything@anywhere.example:250:carol:cramsecret");
	cr_assert(mfrules("127.0.0.2-5&\n") == 0);
	tls_py("mav", "anything@anywhere.example:553:carol:cramsecret");
}

Test(tlsmodes, localmfcheck_bang_without_cdb_falls_back_to_rcpthosts)
{
	tls_serve(34114, "LOCALMFCHECK=!", CHECKPW);
	tls_py("mav", "alice@example.com:250");
	tls_py("mav", "alice@elsewhere.org:553");
	cr_assert(strstr(tls_readfile("log"), "no control/mailfromrules.cdb"), "%s",
	    tls_readfile("log"));
}

Test(tlsmodes, qmail_mfrules_ranges_and_bad_lines)
{
	char out[4096];

	if (system("command -v cdb >/dev/null 2>&1") != 0)
		cr_skip_test("tinycdb's cdb tool missing");
	cr_assert(mfrules("10.0.0.1-3&a@b.example,@c.example\n10.1-2.&\n") == 0);
	cr_assert(tls_sh(out, sizeof(out), "cdb -q %s/home/control/mailfromrules.cdb "
	    "10.0.0.2", tls_dir) == 0, "%s", out);
	cr_assert_str_eq(out, "+a@b.example+@c.example");
	cr_assert(tls_sh(out, sizeof(out), "cdb -q %s/home/control/mailfromrules.cdb 10.2.",
	    tls_dir) == 0);
	cr_assert(tls_sh(out, sizeof(out), "cdb -q %s/home/control/mailfromrules.cdb "
	    "10.0.0.4", tls_dir) != 0);
	/* a malformed line: exit 100, the old cdb stays */
	cr_assert(mfrules("10.9.9.9&a@b.example\nno ampersand here\n") == 100);
	cr_assert(mfrules("10.9.9.9&a@b.example,,x@y.example\n") == 100);
	cr_assert(mfrules("10.9.9.9-300&\n") == 100);
	cr_assert(tls_sh(out, sizeof(out), "cdb -q %s/home/control/mailfromrules.cdb "
	    "10.0.0.2", tls_dir) == 0, "old cdb replaced");
	cr_assert(tls_sh(out, sizeof(out), "ls %s/home/control/mailfromrules.tmp 2>&1",
	    tls_dir) != 0, "tmp left behind");
}
