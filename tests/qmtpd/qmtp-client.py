#!/usr/bin/env python3
# qmtp-client.py - a minimal QMTP client for tests (cr.yp.to's QMTP): reads a message
# (LF line endings) on stdin, sends it COUNT times on one connection, prints one
# answer per recipient per message ("K...", "Z...", "D...").
# usage: qmtp-client.py HOST PORT COUNT [--crlf] [--tls=CAFILE [--cert=PEM]] SENDER RCPT...
# --tls: QMTPS (TLS from the first byte, the server must be "localhost" for CAFILE);
# --cert: present PEM as client certificate (its key in the .key beside it).
import socket
import ssl
import sys


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def read_ns(f):
    n = b""
    while True:
        c = f.read(1)
        if not c:
            raise EOFError("connection closed")
        if c == b":":
            break
        n += c
    data = f.read(int(n))
    if f.read(1) != b",":
        raise ValueError("missing comma")
    return data


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    args = sys.argv[4:]
    crlf, cafile, cert = False, None, None
    while args and args[0].startswith("--"):
        opt = args.pop(0)
        if opt == "--crlf":
            crlf = True
        elif opt.startswith("--tls="):
            cafile = opt[6:]
        elif opt.startswith("--cert="):
            cert = opt[7:]
        else:
            sys.exit("unknown option " + opt)
    sender, rcpts = args[0].encode(), [a.encode() for a in args[1:]]
    body = sys.stdin.buffer.read()
    body = b"\r" + body.replace(b"\n", b"\r\n") if crlf else b"\n" + body
    msg = ns(body) + ns(sender) + ns(b"".join(ns(r) for r in rcpts))
    s = socket.create_connection((host, port), timeout=20)
    if cafile:
        ctx = ssl.create_default_context(cafile=cafile)
        if cert:
            ctx.load_cert_chain(cert, cert[:-4] + ".key")
        s = ctx.wrap_socket(s, server_hostname="localhost")
        print("-- %s %s" % (s.version(), s.cipher()[0]))
    f = s.makefile("rb")
    ok = True
    for _ in range(count):
        s.sendall(msg)
        for _ in rcpts:
            a = read_ns(f).decode("utf-8", "replace")
            print(a)
            ok = ok and a.startswith("K")
    s.close()
    sys.exit(0 if ok else 1)


main()
