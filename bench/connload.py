#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# bench/connload.py - SMTP connection load for bench/conn-bench: C threads
# open connections to 127.0.0.1:PORT for D seconds; each connection reads the
# greeting, sends EHLO, reads the reply, sends QUIT, reads 221, closes.
# Prints "sessions errors seconds" on stdout.
import socket
import sys
import threading
import time


def session(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    f = s.makefile("rb")
    try:
        for cmd, want in ((None, b"220"), (b"EHLO bench.test\r\n", b"250"),
                          (b"QUIT\r\n", b"221")):
            if cmd:
                s.sendall(cmd)
            while True:
                line = f.readline()
                if not line:
                    raise OSError("closed")
                if line[3:4] != b"-":
                    break
            if not line.startswith(want):
                raise OSError(line)
    finally:
        f.close()
        s.close()


def main():
    port, conc, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    done = [0] * conc
    errs = [0] * conc
    end = time.monotonic() + secs

    def worker(i):
        while time.monotonic() < end:
            try:
                session(port)
                done[i] += 1
            except OSError:
                errs[i] += 1

    start = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(sum(done), sum(errs), round(time.monotonic() - start, 3))


if __name__ == "__main__":
    main()
