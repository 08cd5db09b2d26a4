/* SPDX-License-Identifier: MIT
 * test_send_events.c - the real qmail-send: failures and bounces, deferrals and
 * SIGALRM, SIGTERM with a delivery running, SIGHUP, an idle queue.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static struct fx f;

static void
setup(void)
{
	fx_home(&f);
	fx_recorder(&f);
}

static void
teardown(void)
{
	fx_stop(&f);
	unsetenv("QMAILQUEUE");
}

TestSuite(events, .init = setup, .fini = teardown, .timeout = 30);

Test(events, failure_bounces_to_sender)
{
	static const char *const rc[] = { "nosuch@example.test", NULL };
	static const char want_env[] = "F\0Ts@sender.test\0\0";
	struct sreq r;
	char *msg, *env;
	size_t envlen;

	fx_inject(&f, 200, "s@sender.test", rc, 0);
	fx_start(&f, 10, 20);
	cr_assert(fx_request(&f, 0, &r, 3000));
	fx_report(&f, 0, r.slot, "DSorry, no mailbox here by that name. (#5.1.1)\n");
	cr_assert(fx_wait_log(&f, "delivery 1: failure: Sorry,_no_mailbox_here_by_that_name._(#5.1.1)/", 3000));
	msg = fx_recorded(&f, 3000, &env, &envlen);
	cr_assert_not_null(msg, "no bounce injected");
	cr_expect(envlen == sizeof(want_env) - 1 && memcmp(env, want_env, envlen) == 0,
	    "bounce envelope");
	cr_expect(strstr(msg, "\nFrom: MAILER-DAEMON@example.test\nTo: s@sender.test\n"
	    "Subject: failure notice\n\nHi. This is the qmail-send program at example.test.\n"
	    "I'm afraid I wasn't able to deliver your message to the following addresses.\n"
	    "This is a permanent error; I've given up. Sorry it didn't work out.\n\n"
	    "<nosuch@example.test>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n"
	    "--- Below this line is a copy of the message.\n\nReturn-Path: <s@sender.test>\n"
	    "Subject: test\n\nhello\n") != NULL, "bounce text:\n%s", msg);
	cr_expect(strncmp(msg, "Date: ", 6) == 0);
	cr_assert(fx_wait_log(&f, "end msg 200", 3000));
	cr_expect(fx_log_count(&f, "bounce msg 200 qp ") == 1);
	cr_expect_not(fx_exists(&f, "bounce/200"));
	free(msg);
	free(env);
}

Test(events, double_and_triple_bounce)
{
	static const char *const rc[] = { "x@remote.test", NULL };
	static const char want_env[] = "F#@[]\0Tpm@example.test\0\0";
	struct sreq r;
	char *msg, *env;
	size_t envlen;

	fx_control(&f, "doublebounceto", "pm\n");
	fx_inject(&f, 300, "", rc, 0);
	fx_inject(&f, 301, "#@[]", rc, 0);
	fx_start(&f, 10, 20);
	for (int i = 0; i < 2; i++) {
		cr_assert(fx_request(&f, 1, &r, 3000));
		fx_report(&f, 1, r.slot, "DSorry, I couldn't find any host by that name. (#5.1.2)\n");
	}
	msg = fx_recorded(&f, 3000, &env, &envlen);
	cr_assert_not_null(msg, "no double bounce injected");
	cr_expect(envlen == sizeof(want_env) - 1 && memcmp(env, want_env, envlen) == 0);
	cr_expect(strstr(msg, "I tried to deliver a bounce message to this address, "
	    "but the bounce bounced!\n\n<x@remote.test>:\n") != NULL, "%s", msg);
	cr_expect(strstr(msg, "--- Below this line is the original bounce.\n\n"
	    "Return-Path: <>\n") != NULL);
	cr_assert(fx_wait_log(&f, "triple bounce: discarding bounce/301", 3000));
	cr_assert(fx_wait_log(&f, "end msg 301", 3000));
	cr_assert(fx_wait_log(&f, "end msg 300", 3000));
	free(msg);
	free(env);
	cr_expect_null(fx_recorded(&f, 300, &env, &envlen), "triple bounce was injected");
}

Test(events, doublebounceto_empty_discards)
{
	static const char *const rc[] = { "x@remote.test", NULL };
	struct sreq r;
	char *env;
	size_t envlen;

	fx_control(&f, "doublebounceto", "@\n");
	fx_inject(&f, 310, "", rc, 0);
	fx_start(&f, 10, 20);
	cr_assert(fx_request(&f, 1, &r, 3000));
	fx_report(&f, 1, r.slot, "Dno.\n");
	cr_assert(fx_wait_log(&f, "double bounce: discarding bounce/310", 3000));
	cr_assert(fx_wait_log(&f, "end msg 310", 3000));
	cr_expect_null(fx_recorded(&f, 300, &env, &envlen));
}

Test(events, deferral_waits_then_sigalrm_retries)
{
	static const char *const rc[] = { "alice@example.test", NULL };
	struct sreq r;

	fx_inject(&f, 400, "s@sender.test", rc, 0);
	fx_start(&f, 10, 20);
	cr_assert(fx_request(&f, 0, &r, 3000));
	fx_report(&f, 0, r.slot, "ZSorry, mailbox busy. (#4.2.1)\n");
	cr_assert(fx_wait_log(&f, "delivery 1: deferral: Sorry,_mailbox_busy._(#4.2.1)/", 3000));
	/* next try at birth + 100 s: nothing within 1.5 s */
	cr_expect_not(fx_request(&f, 0, &r, 1500), "retried too soon");
	cr_expect(fx_exists(&f, "local/9/400"));
	kill(f.send, SIGALRM);
	cr_assert(fx_request(&f, 0, &r, 3000), "SIGALRM did not retry");
	cr_expect(fx_wait_log(&f, "starting delivery 2: msg 400 to local alice@example.test", 1000));
	fx_report(&f, 0, r.slot, "Kok\n");
	cr_assert(fx_wait_log(&f, "end msg 400", 3000));
}

Test(events, queuelifetime_turns_deferral_into_failure)
{
	static const char *const rc[] = { "alice@example.test", NULL };
	struct sreq r;
	char *msg, *env;
	size_t envlen;

	fx_control(&f, "queuelifetime", "0\n");
	fx_inject(&f, 410, "s@sender.test", rc, 0);
	fx_start(&f, 10, 20);
	cr_assert(fx_request(&f, 0, &r, 3000));
	fx_report(&f, 0, r.slot, "Zbusy.\n");
	cr_assert(fx_wait_log(&f, "delivery 1: deferral: busy./", 3000));
	sleep(1);	/* older than the lifetime of 0 s at the next pass */
	kill(f.send, SIGALRM);
	cr_assert(fx_request(&f, 0, &r, 3000));
	fx_report(&f, 0, r.slot, "Zbusy.\n");
	cr_assert(fx_wait_log(&f, "delivery 2: failure: busy./I'm_not_going_to_try_again;"
	    "_this_message_has_been_in_the_queue_too_long./", 3000));
	msg = fx_recorded(&f, 3000, &env, &envlen);
	cr_assert_not_null(msg);
	cr_expect(strstr(msg, "<alice@example.test>:\nbusy.\nI'm not going to try again;") != NULL);
	free(msg);
	free(env);
}

Test(events, sigterm_lets_running_delivery_finish)
{
	static const char *const rc[] = { "alice@example.test", "bob@example.test", NULL };
	struct sreq r;
	char b[16];

	fx_inject(&f, 500, "s@sender.test", rc, 0);
	fx_start(&f, 1, 20);	/* one local slot: bob waits behind alice */
	cr_assert(fx_request(&f, 0, &r, 3000));
	cr_expect_str_eq(r.recip, "alice@example.test");
	kill(f.send, SIGTERM);
	cr_assert(fx_wait_log(&f, "exitasap", 3000));
	/* the request pipe is closed: the spawn sees EOF, no request for bob */
	cr_expect_eq(read(f.req[0], b, sizeof(b)), 0, "request pipe not closed at SIGTERM");
	cr_expect_eq(fx_wait_exit(&f, 1000), -1, "exited with a delivery running");
	fx_report(&f, 0, r.slot, "Kok\n");
	cr_expect_eq(fx_wait_exit(&f, 3000), 0, "did not exit 0 after the delivery");
	cr_expect(fx_log_count(&f, "delivery 1: success: ok/") == 1);
	cr_expect(fx_log_count(&f, "status: exiting") == 1);
	cr_expect(fx_log_count(&f, "bob@example.test") == 0, "started a delivery after SIGTERM");
}

Test(events, slots_cap_concurrency)
{
	static const char *const rc[] = { "a@example.test", "b@example.test",
	    "c@example.test", NULL };
	struct sreq r;
	int slot;

	fx_control(&f, "concurrencylocal", "2\n");
	fx_inject(&f, 600, "s@sender.test", rc, 0);
	fx_start(&f, 5, 20);
	cr_assert(fx_wait_log(&f, "status: local 0/2 remote 0/20", 3000));
	cr_assert(fx_request(&f, 0, &r, 3000));
	slot = r.slot;
	cr_assert(fx_request(&f, 0, &r, 3000));
	cr_expect_not(fx_request(&f, 0, &r, 500), "a third delivery with concurrency 2");
	fx_report(&f, 0, slot, "Kok\n");
	cr_assert(fx_request(&f, 0, &r, 3000), "no delivery after a slot freed");
	cr_expect_str_eq(r.recip, "c@example.test");
	/* SIGHUP rereads concurrencylocal */
	fx_control(&f, "concurrencylocal", "4\n");
	kill(f.send, SIGHUP);
	usleep(300000);
	fx_report(&f, 0, r.slot, "Kok\n");
	cr_expect(fx_wait_log(&f, "status: local 1/4 remote 0/20", 3000),
	    "concurrency not reread on SIGHUP");
}

Test(events, hup_rereads_locals)
{
	static const char *const rc[] = { "u@new.test", NULL };
	struct sreq r;

	fx_start(&f, 10, 20);
	fx_control(&f, "locals", "example.test\nnew.test\n");
	kill(f.send, SIGHUP);
	usleep(300000);
	fx_inject(&f, 700, "s@sender.test", rc, 0);
	fx_trigger(&f);
	cr_assert(fx_request(&f, 0, &r, 3000), "new.test not local after SIGHUP");
	cr_expect_str_eq(r.recip, "u@new.test");
}

Test(events, idle_queue_sleeps)
{
	long before, after;

	fx_start(&f, 10, 20);
	usleep(300000);		/* start-up scans are over */
	before = fx_ctxt(f.send);
	sleep(3);
	after = fx_ctxt(f.send);
	cr_expect_leq(after - before, 1, "qmail-send woke %ld times in 3 s on an empty queue",
	    after - before);
}

Test(events, bouncemaxbytes_and_virtualdomain_prepend)
{
	static const char *const rc[] = { "joe@virt.test", NULL };
	struct sreq r;
	char *msg, *env;
	size_t envlen;

	fx_control(&f, "virtualdomains", "virt.test:vu\n");
	fx_control(&f, "bouncemaxbytes", "10\n");
	fx_inject(&f, 800, "s@sender.test", rc, 0);
	fx_start(&f, 10, 20);
	cr_assert(fx_request(&f, 0, &r, 3000));
	cr_expect_str_eq(r.recip, "vu-joe@virt.test");
	fx_report(&f, 0, r.slot, "DSorry, no mailbox here by that name. (#5.1.1)\n");
	msg = fx_recorded(&f, 3000, &env, &envlen);
	cr_assert_not_null(msg);
	/* the bounce names the address the sender used, and copies 10 bytes */
	cr_expect(strstr(msg, "\n<joe@virt.test>:\n") != NULL, "%s", msg);
	cr_expect(strstr(msg, "Return-Path: <s@sender.test>\nSubject: t") != NULL);
	cr_expect(strstr(msg, "Subject: te") == NULL, "copy not cut at bouncemaxbytes");
	free(msg);
	free(env);
}
