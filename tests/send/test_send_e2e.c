/* SPDX-License-Identifier: MIT
 * test_send_e2e.c - the real qmail-send against a temp queue, the test playing
 * its spawns: todo processing, reports, bounces, retries, signals, idleness.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
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

Test(send, malformed_todo_is_left_alone)
{
	static const char env[] = "u1\0p2\0Fa@b.test\0Xbogus\0Tc@example.test\0";
	char path[600];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/mess/3/900", f.queue);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("x\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/todo/3/900", f.queue);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fwrite(env, 1, sizeof(env) - 1, fp);
	fclose(fp);
	fx_start(&f, 10, 20);
	cr_assert(fx_wait_log(&f, "warning: unknown record type in todo/3/900", 3000));
	cr_expect(fx_exists(&f, "todo/3/900"), "a malformed todo was removed");
	cr_expect_not(fx_exists(&f, "info/3/900"), "half-done info/ left behind");
	cr_expect_not(fx_exists(&f, "local/3/900"));
	{
		char *cl = fx_read(f.cleanlog, NULL);
		cr_expect_str_eq(cl, "", "qmail-clean asked: %s", cl);
		free(cl);
	}
}

Test(send, ossified_mess_is_cleaned_up)
{
	char path[600];
	struct timespec old[2];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/mess/4/901", f.queue);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("x\n", fp);
	fclose(fp);
	snprintf(path, sizeof(path), "%s/mess/5/902", f.queue);
	fp = fopen(path, "w");
	cr_assert_not_null(fp);
	fputs("fresh\n", fp);
	fclose(fp);
	old[0].tv_sec = old[1].tv_sec = time(NULL) - 37 * 3600;
	old[0].tv_nsec = old[1].tv_nsec = 0;
	snprintf(path, sizeof(path), "%s/mess/4/901", f.queue);
	cr_assert_eq(utimensat(AT_FDCWD, path, old, 0), 0);
	fx_start(&f, 10, 20);
	for (int i = 0; i < 200 && fx_exists(&f, "mess/4/901"); i++)
		usleep(10000);
	cr_expect_not(fx_exists(&f, "mess/4/901"), "36 h old debris not cleaned");
	cr_expect(fx_exists(&f, "mess/5/902"), "a fresh mess/ file was cleaned");
}

Test(send, retry_time_survives_a_restart)
{
	static const char *const rc[] = { "alice@example.test", NULL };
	char path[600];
	struct stat st;
	struct sreq r;

	fx_inject(&f, 903, "s@sender.test", rc, 0);
	fx_start(&f, 10, 20);
	cr_assert(fx_request(&f, 0, &r, 3000));
	fx_report(&f, 0, r.slot, "Zlater\n");
	cr_assert(fx_wait_log(&f, "deferral: later/", 3000));
	kill(f.send, SIGTERM);
	cr_assert_eq(fx_wait_exit(&f, 3000), 0);
	snprintf(path, sizeof(path), "%s/local/6/903", f.queue);
	cr_assert_eq(stat(path, &st), 0);
	/* next try at birth + 100 s, kept in the list's mtime */
	cr_expect_gt(st.st_mtime, time(NULL) + 90, "mtime %ld is not the next retry",
	    (long)st.st_mtime);
}
