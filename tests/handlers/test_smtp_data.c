/* SPDX-License-Identifier: MIT
 * test_smtp_data.c - pipelining, morercpthosts.cdb, streaming, queue-filter environment.
 */
#include <criterion/criterion.h>
#include <cdb.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smtp_harness.h"

TestSuite(data, .init = harness_setup, .fini = harness_teardown, .timeout = 30);

static char *
session(const char *lines, struct session_result *r)
{
	char *in = harness_crlf(lines), *norm;

	harness_session(in, strlen(in), 0, r);
	free(in);
	norm = harness_norm(r->out);
	free(r->out);
	r->out = NULL;
	return norm;
}

/* RFC 2920: replies to a pipelined group go out together, once we would wait */
Test(data, pipelined_replies_in_one_write)
{
	struct session_result r;
	char *out;

	harness_socktype = SOCK_SEQPACKET;
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<u@example.com>\nRCPT TO:<x@other.test>\n"
	    "RCPT TO:<v@example.com>\nDATA\nhello\n.\nNOOP\nQUIT\n", &r);
	harness_socktype = SOCK_STREAM;
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n"
	    "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts\n250 2.1.5 ok\n"
	    "354 go ahead\n250 2.0.0 ok N qp N\n250 2.0.0 ok\n221 2.0.0 test.example\n");
	/* greeting; then every reply in one write: the whole script was buffered,
	 * and replies are flushed only when the input buffer is empty */
	cr_assert_eq(r.nreads, 2, "server writes: %lu", r.nreads);
	free(out);
}

static void
make_mrh(const char *const *keys)
{
	char path[512];
	struct cdb_make cm;
	int fd;

	snprintf(path, sizeof(path), "%s/control/morercpthosts.cdb", H.home);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(cdb_make_start(&cm, fd), 0);
	for (; *keys; keys++)
		cr_assert_eq(cdb_make_add(&cm, *keys, (unsigned)strlen(*keys), "", 0), 0);
	cr_assert_eq(cdb_make_finish(&cm), 0);
	close(fd);
}

Test(data, morercpthosts_cdb)
{
	static const char *const keys[] = { "more.test", ".sub.more.test", NULL };
	struct session_result r;
	char *out;

	make_mrh(keys);
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<u@more.test>\nRCPT TO:<u@MORE.TEST>\n"
	    "RCPT TO:<u@x.sub.more.test>\nRCPT TO:<u@sub.more.test>\nRCPT TO:<u@less.test>\n"
	    "RCPT TO:<u@example.com>\nQUIT\n", &r);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n250 2.1.5 ok\n"
	    "250 2.1.5 ok\n553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts\n"
	    "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts\n250 2.1.5 ok\n"
	    "221 2.0.0 test.example\n");
	free(out);
}

Test(data, morercpthosts_alone_without_rcpthosts)
{
	static const char *const keys[] = { "more.test", NULL };
	struct session_result r;
	char *out;

	harness_control("rcpthosts", NULL);
	make_mrh(keys);
	out = session("MAIL FROM:<a@b.test>\nRCPT TO:<u@more.test>\nRCPT TO:<u@example.com>\nQUIT\n", &r);
	cr_assert_str_eq(out, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n"
	    "553 5.7.1 sorry, that domain isn't in my list of allowed rcpthosts\n"
	    "221 2.0.0 test.example\n");
	free(out);
}

Test(data, broken_morercpthosts_is_421)
{
	struct session_result r;
	char *out, path[512];

	/* too short to be a cdb: refused, never guessed at */
	harness_control("morercpthosts.cdb", "garbage");
	out = session("QUIT\n", &r);
	cr_assert_str_eq(out, "421 4.3.0 unable to read controls\n");
	cr_assert_eq(r.exitcode, 111);
	free(out);
	/* unreadable (a directory here, so that the test also works as root) */
	harness_control("morercpthosts.cdb", NULL);
	snprintf(path, sizeof(path), "%s/control/morercpthosts.cdb", H.home);
	cr_assert_eq(mkdir(path, 0755), 0);
	out = session("QUIT\n", &r);
	cr_assert_str_eq(out, "421 4.3.0 unable to read controls\n");
	cr_assert_eq(r.exitcode, 111);
	free(out);
}

/* a message far bigger than any buffer goes through byte for byte */
Test(data, large_message_streams_exactly)
{
	size_t lines = 40000, n, msglen;
	char *in, *p, *msg;
	struct session_result r;
	FILE *mem = open_memstream(&in, &n);

	fputs("MAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\nDATA\r\n", mem);
	for (size_t i = 0; i < lines; i++)
		fprintf(mem, "%s%06zu 0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmn\r\n",
		    i % 100 == 0 ? ".." : "", i);
	fputs(".\r\nQUIT\r\n", mem);
	fclose(mem);
	harness_session(in, n, 0, &r);
	p = harness_norm(r.out);
	cr_assert_str_eq(p, "220 test.example ESMTP\n250 2.1.0 ok\n250 2.1.5 ok\n354 go ahead\n"
	    "250 2.0.0 ok N qp N\n221 2.0.0 test.example\n");
	msg = harness_read_rec("msg", &msglen);
	cr_assert_not_null(msg);
	p = strchr(strchr(msg, '\n') + 1, '\n') + 1;	/* after the Received line */
	cr_assert_eq(msglen - (size_t)(p - msg), lines * 68 + lines / 100, "stored %zu", msglen);
	cr_assert(strncmp(p, ".000000 0123", 12) == 0);
	cr_assert_null(memchr(msg, '\r', msglen), "stored with LF line ends");
	free(in);
	free(msg);
}

Test(data, queue_filter_environment)
{
	struct session_result r;
	char *out, *vars;

	out = session("EHLO client.test\nMAIL FROM:<a@b.test>\nRCPT TO:<u@example.com>\n"
	    "RCPT TO:<v@example.com>\nDATA\nx\n.\nQUIT\n", &r);
	vars = harness_read_rec("vars", NULL);
	cr_assert_not_null(vars, "%s", out);
	cr_assert_str_eq(vars, "MAILFROM=a@b.test\nRCPTTO=u@example.com v@example.com\n"
	    "HELOHOST=client.test\n");
	free(out);
	free(vars);
}

Test(data, recipient_limit)
{
	struct session_result r;
	char *in, *out;
	size_t n;
	FILE *mem = open_memstream(&in, &n);

	fputs("MAIL FROM:<a@b.test>\r\n", mem);
	for (int i = 0; i < 1001; i++)
		fprintf(mem, "RCPT TO:<u%d@example.com>\r\n", i);
	fputs("QUIT\r\n", mem);
	fclose(mem);
	harness_session(in, n, 0, &r);
	out = harness_norm(r.out);
	cr_assert_not_null(strstr(out, "250 2.1.5 ok\n452 4.5.3 too many recipients\n221 "));
	free(in);
	free(out);
}

/* a 10 MB command line is consumed, refused once, and the session goes on */
Test(data, huge_line_then_good_message)
{
	size_t big = 10 * 1024 * 1024, n;
	struct session_result r;
	char *in, *out, *msg;
	FILE *mem = open_memstream(&in, &n);

	fputs("NOOP ", mem);
	for (size_t i = 0; i < big; i++)
		putc('A', mem);
	fputs("\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<u@example.com>\r\nDATA\r\nok\r\n.\r\nQUIT\r\n", mem);
	fclose(mem);
	harness_session(in, n, 0, &r);
	out = harness_norm(r.out);
	cr_assert_str_eq(out, "220 test.example ESMTP\n500 5.5.2 line too long\n250 2.1.0 ok\n"
	    "250 2.1.5 ok\n354 go ahead\n250 2.0.0 ok N qp N\n221 2.0.0 test.example\n");
	msg = harness_read_rec("msg", NULL);
	cr_assert_not_null(strstr(msg, "\nok\n"));
	free(in);
	free(out);
	free(msg);
}

/* DATA is 8-bit and NUL transparent: only line ends are rewritten */
Test(data, binary_bytes_pass_through)
{
	static const char body[] = "x\0y\x80\xff\x7f\r\x01z";
	struct session_result r;
	char *in, *out, *msg, *p;
	size_t n, msglen;
	FILE *mem = open_memstream(&in, &n);

	fputs("MAIL FROM:<a@b.test> BODY=8BITMIME\r\nRCPT TO:<u@example.com>\r\nDATA\r\n", mem);
	fwrite(body, 1, sizeof(body) - 1, mem);
	fputs("\r\n.\r\nQUIT\r\n", mem);
	fclose(mem);
	harness_session(in, n, 0, &r);
	out = harness_norm(r.out);
	cr_assert_not_null(strstr(out, "250 2.0.0 ok N qp N\n"), "%s", out);
	msg = harness_read_rec("msg", &msglen);
	p = strchr(strchr(msg, '\n') + 1, '\n') + 1;
	cr_assert_eq(msglen - (size_t)(p - msg), sizeof(body));
	cr_assert(memcmp(p, body, sizeof(body) - 1) == 0);
	cr_assert_eq(p[sizeof(body) - 1], '\n');
	free(in);
	free(out);
	free(msg);
}

/* garbage floods end in 421 after SMTP_BADCMD_MAX, with bounded replies */
Test(data, garbage_flood)
{
	struct session_result r;
	char *in, *out;
	size_t n;
	FILE *mem = open_memstream(&in, &n);

	for (int i = 0; i < 100000; i++)
		fprintf(mem, "\x01\x02 garbage %d\r\n", i);
	fclose(mem);
	harness_session(in, n, 0, &r);
	out = harness_norm(r.out);
	cr_assert(strlen(out) < 1000, "%zu bytes of replies", strlen(out));
	cr_assert_not_null(strstr(out, "421 4.7.0 too many bad commands, closing connection\n"));
	cr_assert_eq(r.exitcode, 1);
	free(in);
	free(out);
}
