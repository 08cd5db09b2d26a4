#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# qmtpload.py - the client of bench/qmtp-bench: N messages over C connections,
# by SMTP or QMTP, each connection carrying N/C messages back to back.
# usage: qmtpload.py smtp|qmtp HOST PORT CONNS N SIZE RCPT
# prints "accepted refused seconds" (seconds from the first connect until every
# connection has its last answer).
#   smtp: EHLO, then per message MAIL, RCPT, DATA sent together (RFC 2920
#         PIPELINING) and, after the 354, the text, the final dot and the next
#         message's MAIL, RCPT, DATA in one write: one round trip per message,
#         the least SMTP allows (the text may not go before the 354).
#   qmtp: every message as one netstring package (cr.yp.to's QMTP), written by
#         one thread while another reads the answers: no round trip per message.
import socket
import sys
import threading
import time


def body(size, tag, crlf):
    eol = "\r\n" if crlf else "\n"
    head = ("From: bench@bench.test%sTo: alice@bench.test%sMessage-ID: <%s@bench.test>%s"
            "Subject: bench %s%s%s" % (eol, eol, tag, eol, tag, eol, eol))
    line = "x" * 70 + eol
    text = head
    while len(text) < size:
        text += line
    return text.encode()


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


class Replies:
    """SMTP replies, read line by line from a socket"""

    def __init__(self, sock):
        self.f = sock.makefile("rb")

    def get(self):
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("connection closed")
            if line[3:4] != b"-":
                return int(line[:3])


def smtp_conn(host, port, count, size, rcpt, tag, result):
    ok = bad = 0
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    r = Replies(s)
    r.get()
    s.sendall(b"EHLO bench.test\r\n")
    r.get()
    env = b"MAIL FROM:<bench@bench.test>\r\nRCPT TO:<" + rcpt + b">\r\nDATA\r\n"
    s.sendall(env)
    for i in range(count):
        mail, to, data = r.get(), r.get(), r.get()
        text = body(size, "%s-%d" % (tag, i), True) + b".\r\n"
        last = i == count - 1
        if data == 354:
            s.sendall(text + (b"QUIT\r\n" if last else env))
            code = r.get()
        else:
            s.sendall(b"RSET\r\n" + (b"QUIT\r\n" if last else env))
            code = 500
            r.get()
        if mail == 250 and to == 250 and 200 <= code < 300:
            ok += 1
        else:
            bad += 1
    r.get()
    s.close()
    result.append((ok, bad))


def qmtp_conn(host, port, count, size, rcpt, tag, result):
    s = socket.create_connection((host, port))
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    rlist = ns(ns(rcpt))
    sender = ns(b"bench@bench.test")

    def writer():
        for i in range(count):
            s.sendall(ns(b"\n" + body(size, "%s-%d" % (tag, i), False)) + sender + rlist)

    w = threading.Thread(target=writer)
    w.start()
    f = s.makefile("rb")
    ok = bad = 0
    for _ in range(count):
        n = b""
        while True:
            c = f.read(1)
            if not c:
                raise EOFError("connection closed")
            if c == b":":
                break
            n += c
        answer = f.read(int(n) + 1)
        if answer[:1] == b"K":
            ok += 1
        else:
            bad += 1
    w.join()
    s.close()
    result.append((ok, bad))


def main():
    proto, host, port, conns, n, size, rcpt = sys.argv[1:8]
    port, conns, n, size = int(port), int(conns), int(n), int(size)
    fn = smtp_conn if proto == "smtp" else qmtp_conn
    result = []
    tag = "%s-%d" % (proto, time.time_ns())
    threads = []
    start = time.monotonic()
    for c in range(conns):
        count = n // conns + (1 if c < n % conns else 0)
        t = threading.Thread(target=fn, args=(host, port, count, size, rcpt.encode(),
                                              "%s-%d" % (tag, c), result))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    secs = time.monotonic() - start
    ok = sum(r[0] for r in result)
    bad = sum(r[1] for r in result) + (n - sum(r[0] + r[1] for r in result))
    print("%d %d %.3f" % (ok, bad, secs))


main()
