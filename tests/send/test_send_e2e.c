/* SPDX-License-Identifier: MIT
 * test_send_e2e.c - the real qmail-send against a temp queue, the test playing
 * its spawns: todo processing, reports, bounces, retries, signals, idleness.
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
}

static void
teardown(void)
{
	fx_stop(&f);
}

TestSuite(send, .init = setup, .fini = teardown, .timeout = 30);

static void
expect_file(const char *rel, const char *want, size_t n)
{
	char path[600];
	size_t len;
	char *s;

	snprintf(path, sizeof(path), "%s/%s", f.queue, rel);
	s = fx_read(path, &len);
	cr_expect(len == n && memcmp(s, want, n) == 0, "%s: %zu bytes", rel, len);
	free(s);
}

Test(send, todo_to_lists_and_success)
{
	static const char *const rc[] = { "alice@example.test", "x@remote.test", NULL };
	static const char local[] = "Talice@example.test";
	static const char remote[] = "Tx@remote.test";
	struct sreq r;

	fx_inject(&f, 100, "s@sender.test", rc, 0);
	fx_start(&f, 10, 20);
	cr_assert(fx_wait_log(&f, "new msg 100", 3000));
	cr_expect(fx_wait_log(&f, "info msg 100: bytes 21 from <s@sender.test> qp 4242 uid 1000", 100));
	cr_assert(fx_request(&f, 0, &r, 3000), "no local request");
	cr_expect_str_eq(r.mess, "8/100");
	cr_expect_str_eq(r.sender, "s@sender.test");
	cr_expect_str_eq(r.recip, "alice@example.test");
	expect_file("info/8/100", "Fs@sender.test", 15);
	expect_file("local/8/100", local, sizeof(local));
	expect_file("remote/8/100", remote, sizeof(remote));
	cr_expect_not(fx_exists(&f, "todo/8/100"), "todo not removed");
	cr_expect(fx_wait_log(&f, "starting delivery 1: msg 100 to local alice@example.test", 100));
	fx_report(&f, 0, r.slot, "Kdid 0+0+1/\n");
	cr_assert(fx_request(&f, 1, &r, 3000), "no remote request");
	cr_expect_str_eq(r.recip, "x@remote.test");
	cr_expect(fx_wait_log(&f, "delivery 1: success: did_0+0+1//", 3000));
	fx_report(&f, 1, r.slot, "Kx.x.x.x accepted message./Remote host said: 250 ok\n");
	cr_assert(fx_wait_log(&f, "end msg 100", 3000));
	cr_expect(fx_wait_log(&f, "delivery 2: success: x.x.x.x_accepted_message./Remote_host_said:_250_ok/", 100));
	usleep(100000);
	cr_expect_not(fx_exists(&f, "info/8/100"));
	cr_expect_not(fx_exists(&f, "local/8/100"));
	cr_expect_not(fx_exists(&f, "remote/8/100"));
	cr_expect_not(fx_exists(&f, "mess/8/100"), "foop not asked");
	{
		char *cl = fx_read(f.cleanlog, NULL);
		cr_expect_str_eq(cl, "todo/100\nfoop/100\n");
		free(cl);
	}
}

Test(send, trigger_wakes_and_legacy_flat_todo)
{
	static const char *const rc[] = { "bob@example.test", NULL };
	struct sreq r;

	fx_start(&f, 10, 20);
	fx_inject(&f, 4711, "", rc, 1);
	fx_trigger(&f);
	cr_assert(fx_request(&f, 0, &r, 3000), "trigger did not wake qmail-send");
	cr_expect_str_eq(r.recip, "bob@example.test");
	cr_expect_str_eq(r.sender, "");
	cr_expect_not(fx_exists(&f, "todo/4711"));
	/* a second trigger after the first writer closed (the fifo saw EOF) */
	fx_inject(&f, 4712, "a@b.test", rc, 0);
	fx_trigger(&f);
	cr_assert(fx_request(&f, 0, &r, 3000), "second trigger lost");
	cr_expect_str_eq(r.mess, "20/4712");
}

Test(send, flood_of_new_mail_does_not_starve_deliveries)
{
	static const char *const rc[] = { "alice@example.test", NULL };
	enum { N = 400 };
	struct sreq r;
	char *log, *first_start, *last_new, needle[32];
	int done = 0;

	for (unsigned long id = 1000; id < 1000 + N; id++)
		fx_inject(&f, id, "s@sender.test", rc, 0);
	fx_start(&f, 10, 20);
	while (done < N && fx_request(&f, 0, &r, 5000)) {
		fx_report(&f, 0, r.slot, "Kok\n");
		done++;
	}
	cr_assert_eq(done, N, "only %d of %d deliveries", done, N);
	cr_assert(fx_wait_log(&f, "end msg ", 3000));
	log = fx_read(f.logfn, NULL);
	first_start = strstr(log, "starting delivery 1:");
	last_new = log;
	for (char *p = log; (p = strstr(p, "new msg ")) != NULL; p++)
		last_new = p;
	cr_assert_not_null(first_start);
	cr_expect(first_start < last_new,
	    "deliveries waited until all %d new messages were preprocessed", N);
	snprintf(needle, sizeof(needle), "new msg ");
	cr_expect_eq(fx_log_count(&f, needle), N);
	free(log);
}
