/* SPDX-License-Identifier: MIT
 * test_tls_keys.c - qmail-smtpd reads its TLS key before the first client byte:
 * removing the key after the process started does not stop that session's
 * handshake; a missing or broken key gives a clear log line and a clean close
 * (SMTPS) or 454 to STARTTLS (port 25), at once and without a crash.
 *
 * SMTPS runs under systemd-socket-activate --inetd (as Accept=yes units do).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls_harness.h"

TestSuite(tlskeys, .init = tls_setup, .fini = tls_teardown, .timeout = 60);

static void
need_socket_activate(void)
{
	if (system("command -v systemd-socket-activate >/dev/null 2>&1") != 0)
		cr_skip_test("systemd-socket-activate missing");
}

Test(tlskeys, smtps_key_removed_after_connect)
{
	need_socket_activate();
	tls_serve_sa(34120, "-E SMTPS=1", NULL);
	tls_py("keygone", "smtps");
	cr_assert(strstr(tls_readfile("log"), "Info::TLS::Established"), "%s",
	    tls_readfile("log"));
	/* the next process finds no key: a clear line, a clean close, no crash */
	tls_py("nokey", NULL);
	cr_assert(strstr(tls_readfile("log"), ".pem without smtpd"), "%s",
	    tls_readfile("log"));
	cr_assert(strstr(tls_readfile("log"), "signal") == NULL, "%s", tls_readfile("log"));
}

Test(tlskeys, starttls_key_removed_after_greeting)
{
	tls_serve(34121, NULL, NULL);
	tls_py("keygone", "starttls");
	cr_assert(strstr(tls_readfile("log"), "Info::TLS::Established"), "%s",
	    tls_readfile("log"));
}

Test(tlskeys, broken_key_smtps_closes_at_once)
{
	need_socket_activate();
	tls_sh(NULL, 0, "echo garbage > %s/creds/smtpd.key", tls_dir);
	tls_serve_sa(34122, "-E SMTPS=1", NULL);
	tls_py("nokey", NULL);
	cr_assert(strstr(tls_readfile("log"), "<3>load "), "%s", tls_readfile("log"));
	cr_assert(strstr(tls_readfile("log"), "signal") == NULL, "%s", tls_readfile("log"));
}

Test(tlskeys, broken_key_port25_answers_454_and_takes_mail)
{
	tls_sh(NULL, 0, "echo garbage > %s/creds/smtpd.key", tls_dir);
	tls_serve(34123, NULL, NULL);
	tls_py("brokenkey", NULL);
	cr_assert(strstr(tls_readfile("log"), "<3>load "), "%s", tls_readfile("log"));
	cr_assert(strstr(tls_readfile("log"), "STARTTLS not offered, answered 454"));
	cr_assert(strstr(tls_readfile("rec/msg"), "tls test"), "no mail went through");
}

Test(tlskeys, broken_key_with_tls_required_is_421)
{
	char out[4096];

	tls_sh(NULL, 0, "echo garbage > %s/creds/smtpd.key", tls_dir);
	tls_serve(34124, "UCSPITLS=!", NULL);
	tls_sh(out, sizeof(out), "python3 -c 'import socket; s=socket.create_connection("
	    "(\"127.0.0.1\",%d)); print(s.recv(200))'", tls_port);
	cr_assert(strstr(out, "421"), "%s", out);
}

Test(tlskeys, placeholder_credentials_fall_back_to_control_files)
{
	/* what the port-25 unit hands over when control/tls/ has no files */
	tls_sh(NULL, 0, "cd %s/creds && rm -f smtpd-ecdsa.* && for f in smtpd.pem smtpd.key "
	    "tls-ticket.key; do printf -- - > $f; done && cat ../srv.pem ../srv.key > "
	    "../home/control/servercert.pem", tls_dir);
	tls_serve(34125, NULL, NULL);
	tls_py("starttls", NULL);
	cr_assert(strstr(tls_readfile("log"), "<3>") == NULL, "%s", tls_readfile("log"));
	tls_stop();
	/* and without the control file either: no STARTTLS, mail still flows */
	tls_sh(NULL, 0, "rm %s/home/control/servercert.pem", tls_dir);
	tls_serve(34126, NULL, NULL);
	tls_py("notls", NULL);
	cr_assert(strstr(tls_readfile("log"), "<3>") == NULL, "%s", tls_readfile("log"));
}

Test(tlskeys, key_of_another_certificate_is_refused)
{
	tls_sh(NULL, 0, "cp %s/creds/smtpd-ecdsa.key %s/creds/smtpd.key", tls_dir, tls_dir);
	tls_serve(34127, NULL, NULL);
	tls_py("brokenkey", NULL);
	cr_assert(strstr(tls_readfile("log"), "does not belong to the certificate"), "%s",
	    tls_readfile("log"));
}

Test(tlskeys, ecdsa_served_first_rsa_to_rsa_only_clients)
{
	char out[16384];

	if (system("command -v openssl >/dev/null 2>&1") != 0)
		cr_skip_test("openssl missing");
	tls_serve(34128, "SMTPS=1", NULL);
	cr_assert(tls_sh(out, sizeof(out), "(sleep 0.5; printf 'QUIT\\r\\n'; sleep 0.5) | "
	    "openssl s_client -connect 127.0.0.1:%d -CAfile %s/ca.pem -brief 2>&1", tls_port,
	    tls_dir) == 0, "%s", out);
	cr_assert(strstr(out, "Signature type: ECDSA"), "%s", out);
	cr_assert(tls_sh(out, sizeof(out), "(sleep 0.5; printf 'QUIT\\r\\n'; sleep 0.5) | "
	    "openssl s_client -sigalgs rsa_pss_rsae_sha256 -connect 127.0.0.1:%d -CAfile "
	    "%s/ca.pem -brief 2>&1", tls_port, tls_dir) == 0, "%s", out);
	cr_assert(strstr(out, "Signature type: RSA-PSS"), "%s", out);
}
