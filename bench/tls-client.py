#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tls-client.py MODE PORT CAFILE N CONC - SMTPS load for bench/tls-bench.
# MODE full:    N TLS handshakes (no resumption), greeting read, then close
#      resume:  the same, every connection resumes the session of the first
#      msg:     N messages of 4 KB, one per SMTPS session, resuming sessions
# CONC threads share the work; prints "rate=<per second> resumed=<fraction> errors=<n>".
import socket, ssl, sys, threading, time

mode, port, cafile, n, conc = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
ctx = ssl.create_default_context(cafile=cafile)
body = ("Subject: bench\r\n\r\n" + ("x" * 76 + "\r\n") * 52).encode()
lock = threading.Lock()
state = {"left": n, "resumed": 0, "errors": 0, "session": None}


def reply(f):
    while True:
        line = f.readline()
        if not line or line[3:4] != b"-":
            return line


def one():
    sess = state["session"] if mode != "full" else None
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    t = ctx.wrap_socket(s, server_hostname="localhost", session=sess)
    f = t.makefile("rb")
    if not reply(f).startswith(b"220"):
        raise RuntimeError("no greeting")
    if mode == "msg":
        for cmd in (b"EHLO bench.test", b"MAIL FROM:<sender@bench.test>",
                    b"RCPT TO:<alice@bench.test>", b"DATA"):
            t.sendall(cmd + b"\r\n")
            if not reply(f)[:1] in (b"2", b"3"):
                raise RuntimeError(cmd)
        t.sendall(body + b".\r\nQUIT\r\n")
        if not reply(f).startswith(b"250"):
            raise RuntimeError("DATA")
        reply(f)
    else:
        t.sendall(b"QUIT\r\n")
        reply(f)
    with lock:
        state["resumed"] += t.session_reused
        if mode != "full" and t.session is not None:
            state["session"] = t.session
    t.close()


def worker():
    while True:
        with lock:
            if state["left"] == 0:
                return
            state["left"] -= 1
        try:
            one()
        except Exception:
            with lock:
                state["errors"] += 1


if mode != "full":      # a first session to resume (and for TLS 1.3 its ticket)
    state["left"] = 1
    worker()
    state["left"], state["resumed"] = n, 0
t0 = time.time()
threads = [threading.Thread(target=worker) for _ in range(conc)]
for th in threads:
    th.start()
for th in threads:
    th.join()
el = time.time() - t0
print("rate=%.1f resumed=%.2f errors=%d" % (n / el, state["resumed"] / n, state["errors"]))
