/* SPDX-License-Identifier: MIT
 * test_io.c - lib/io: bounded line reads, CRLF vs bare LF, timeouts, buffered output.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"

static int sv[2];
static struct io io;

static void
setup(void)
{
	signal(SIGPIPE, SIG_IGN);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	io_init_fd(&io, sv[1], sv[1], 1);
}

static void
teardown(void)
{
	close(sv[0]);
	close(sv[1]);
}

TestSuite(io, .init = setup, .fini = teardown, .timeout = 10);

static void
send_str(const char *s, size_t n)
{
	cr_assert_eq(write(sv[0], s, n), (ssize_t)n);
}

Test(io, line_endings)
{
	static const struct {
		const char *label, *in;
		int want;
		const char *line;
	} cases[] = {
		{ "crlf", "HELO x\r\n", IO_CRLF, "HELO x" },
		{ "bare lf", "HELO x\n", IO_BARELF, "HELO x" },
		{ "bare cr kept", "a\rb\r\n", IO_CRLF, "a\rb" },
		{ "empty crlf", "\r\n", IO_CRLF, "" },
		{ "empty lf", "\n", IO_BARELF, "" },
		{ "cr cr lf", "x\r\r\n", IO_CRLF, "x\r" },
	};
	char buf[64];
	size_t len;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		send_str(cases[i].in, strlen(cases[i].in));
		cr_expect_eq(io_getline(&io, buf, sizeof(buf), &len), cases[i].want, "%s", cases[i].label);
		cr_expect_str_eq(buf, cases[i].line, "%s", cases[i].label);
		cr_expect_eq(len, strlen(cases[i].line), "%s", cases[i].label);
	}
}

Test(io, too_long_keeps_sync)
{
	char big[5000], buf[16];
	size_t len;

	memset(big, 'a', sizeof(big));
	send_str(big, sizeof(big));
	send_str("\r\nNEXT\r\n", 8);
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_TOOLONG);
	cr_assert_eq(len, sizeof(buf) - 1);
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_CRLF);
	cr_assert_str_eq(buf, "NEXT");
}

Test(io, exact_fit_is_not_too_long)
{
	char buf[8];
	size_t len;

	/* 7 bytes + CRLF: the ending does not count against max */
	send_str("1234567\r\n", 9);
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_CRLF);
	cr_assert_str_eq(buf, "1234567");
	send_str("12345678\r\n", 10);
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_TOOLONG);
}

Test(io, pending_counts_pipelined_input)
{
	char buf[64];
	size_t len;

	send_str("A\r\nB\r\nC\r\n", 9);
	cr_assert_eq(io_pending(&io), 0);
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_CRLF);
	cr_assert_eq(io_pending(&io), 6);
	io_getline(&io, buf, sizeof(buf), &len);
	io_getline(&io, buf, sizeof(buf), &len);
	cr_assert_str_eq(buf, "C");
	cr_assert_eq(io_pending(&io), 0);
}

Test(io, eof_and_timeout)
{
	char buf[64];
	size_t len;

	/* nothing sent: the 1 s timeout fires */
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_TIMEOUT);
	/* a write still works after a read timeout (the 451 reply must go out) */
	cr_assert_eq(io_puts(&io, "451 timeout\r\n"), 0);
	cr_assert_eq(io_flush(&io), 0);
	cr_assert_eq(read(sv[0], buf, sizeof(buf)), 13);
}

Test(io, eof_discards_partial_line)
{
	char buf[64];
	size_t len;

	send_str("partial", 7);
	shutdown(sv[0], SHUT_WR);
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_EOF);
	cr_assert_eq(io_getc(&io), IO_EOF);
}

Test(io, output_is_buffered_until_flush_or_read)
{
	char buf[64];
	size_t len;
	ssize_t n;

	io_puts(&io, "250 a\r\n");
	io_printf(&io, "250 %s\r\n", "b");
	cr_assert_eq(io.nflush, 0);
	n = recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT);
	cr_assert(n < 0 && errno == EAGAIN, "nothing sent before a flush");
	/* waiting for input flushes what is buffered, in one write */
	send_str("X\r\n", 3);
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_CRLF);
	cr_assert_eq(io.nflush, 1);
	n = read(sv[0], buf, sizeof(buf));
	cr_assert_eq(n, 14);
	cr_assert(memcmp(buf, "250 a\r\n250 b\r\n", 14) == 0);
}

Test(io, large_output_and_io_read)
{
	static char big[3 * IO_BUFSIZE], back[3 * IO_BUFSIZE];
	struct io peer;
	size_t got = 0;
	ssize_t n;

	memset(big, 'z', sizeof(big));
	io_init_fd(&peer, sv[0], sv[0], 1);
	cr_assert_eq(io_write(&io, big, sizeof(big)), 0);
	cr_assert_eq(io_flush(&io), 0);
	while (got < sizeof(back)) {
		n = io_read(&peer, back + got, sizeof(back) - got);
		cr_assert_gt(n, 0);
		got += (size_t)n;
	}
	cr_assert(memcmp(big, back, sizeof(big)) == 0);
}

Test(io, write_to_closed_peer_fails)
{
	close(sv[0]);
	sv[0] = -1;
	io_puts(&io, "x\r\n");
	cr_assert_eq(io_flush(&io), IO_ERROR);
	cr_assert_eq(io_flush(&io), IO_ERROR, "write errors are sticky");
}

static ssize_t
rot_read(struct io *i, void *p, size_t n, int timeout_ms)
{
	ssize_t r;

	(void)timeout_ms;
	r = read(i->rfd, p, n);
	for (ssize_t k = 0; k < r; k++)
		if (((char *)p)[k] >= 'A' && ((char *)p)[k] <= 'Z')
			((char *)p)[k] = (char)('A' + (((char *)p)[k] - 'A' + 1) % 26);
	return r;
}

static ssize_t
plain_write(struct io *i, const void *p, size_t n, int timeout_ms)
{
	(void)timeout_ms;
	return write(i->wfd, p, n);
}

Test(io, transport_can_be_replaced)
{
	static const struct io_transport rot = { rot_read, plain_write };
	char buf[16];
	size_t len;

	io_set_transport(&io, &rot, NULL);
	send_str("HAL\r\n", 5);
	cr_assert_eq(io_getline(&io, buf, sizeof(buf), &len), IO_CRLF);
	cr_assert_str_eq(buf, "IBM");
}
