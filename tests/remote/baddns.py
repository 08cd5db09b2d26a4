#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tests/remote/baddns.py ADDR - a DNS server (UDP and TCP, port 53 on ADDR)
# that gives broken answers for the zone "bad.test", the ones dnsmasq will
# not serve, so that qmail-remote meets them from a real socket:
#   loop1/loop2.bad.test      CNAME to each other
#   cN.chain.bad.test         CNAME to c(N+1) up to c20, which has A 10.38.0.2
#   tc.bad.test               TC bit over UDP and over TCP, no records
#   short.bad.test            a 6-byte reply (shorter than a DNS header)
#   garbled.bad.test          two answers announced, bytes that are no record
#   ptrloop.bad.test          an MX whose name is a compression pointer to itself
#   overrun.bad.test          a record whose length runs past the packet
#   servfail.bad.test         SERVFAIL
#   nomx.bad.test             MX 10 nowhere.bad.test, which does not exist
#   softmx.bad.test           MX 10 servfail.bad.test
#   fine.bad.test             MX 10 mx1.plain.test (a working answer)
#   other names in bad.test   NXDOMAIN
# Names outside bad.test are asked of the real server (dnsmasq, 127.0.0.1).
# Runs until killed (netns.sh down).
import socket
import struct
import sys
import threading

T_A, T_MX, T_CNAME, T_AAAA = 1, 15, 5, 28


def name_wire(name):
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(q):
    """(id, flags, qname, qtype, question bytes) or None"""
    if len(q) < 12:
        return None
    qid, flags, qd = struct.unpack(">HHH", q[:6])
    if qd != 1:
        return None
    p, labels = 12, []
    while p < len(q) and q[p] != 0:
        n = q[p]
        labels.append(q[p + 1:p + 1 + n].decode("ascii", "replace"))
        p += 1 + n
    if p + 5 > len(q):
        return None
    qtype = struct.unpack(">H", q[p + 1:p + 3])[0]
    return qid, flags, ".".join(labels).lower(), qtype, q[12:p + 5]


def rr(rtype, rdata):
    """a record whose owner is the question name (pointer to offset 12)"""
    return b"\xc0\x0c" + struct.pack(">HHIH", rtype, 1, 60, len(rdata)) + rdata


def header(qid, rcode=0, an=0, tc=False):
    flags = 0x8580 | rcode | (0x0200 if tc else 0)  # QR AA RD RA
    return struct.pack(">HHHHHH", qid, flags, 1, an, 0, 0)


def forward(q):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(q, ("127.0.0.1", 53))
        return s.recv(65535)
    except OSError:
        return None
    finally:
        s.close()


def answer(q):
    parsed = parse_question(q)
    if parsed is None:
        return None
    qid, _, qname, qtype, question = parsed
    if qname != "bad.test" and not qname.endswith(".bad.test"):
        return forward(q)
    base = lambda rcode=0, an=0, tc=False: header(qid, rcode, an, tc) + question
    if qname in ("loop1.bad.test", "loop2.bad.test"):
        other = "loop2.bad.test" if qname == "loop1.bad.test" else "loop1.bad.test"
        return base(an=1) + rr(T_CNAME, name_wire(other))
    if qname.endswith(".chain.bad.test") and qname[:1] == "c":
        try:
            n = int(qname.split(".")[0][1:])
        except ValueError:
            n = 0
        if 1 <= n < 20:
            return base(an=1) + rr(T_CNAME, name_wire("c%d.chain.bad.test" % (n + 1)))
        if n == 20 and qtype == T_A:
            return base(an=1) + rr(T_A, socket.inet_aton("10.38.0.2"))
        if n == 20:
            return base()
    if qname == "tc.bad.test":
        return base(tc=True)
    if qname == "short.bad.test":
        return struct.pack(">HHH", qid, 0x8180, 1)
    if qname == "garbled.bad.test":
        return base(an=2) + b"\x03abc\x00\x00\x0f\x00\x01\xff\xff\xff"
    if qname == "ptrloop.bad.test":
        # the MX name is a compression pointer to itself
        p = 12 + len(question) + 2 + 10 + 2
        return base(an=1) + b"\xc0\x0c" + struct.pack(">HHIH", T_MX, 1, 60, 4) \
            + b"\x00\x0a" + struct.pack(">H", 0xc000 | p)
    if qname == "overrun.bad.test":
        return base(an=1) + b"\xc0\x0c" + struct.pack(">HHIH", T_MX, 1, 60, 400) + b"\x00\x0a"
    if qname in ("servfail.bad.test",):
        return base(rcode=2)
    if qname == "nomx.bad.test" and qtype == T_MX:
        return base(an=1) + rr(T_MX, b"\x00\x0a" + name_wire("nowhere.bad.test"))
    if qname == "softmx.bad.test" and qtype == T_MX:
        return base(an=1) + rr(T_MX, b"\x00\x0a" + name_wire("servfail.bad.test"))
    if qname == "fine.bad.test" and qtype == T_MX:
        return base(an=1) + rr(T_MX, b"\x00\x0a" + name_wire("mx1.plain.test"))
    if qname in ("nomx.bad.test", "softmx.bad.test", "fine.bad.test"):
        return base()
    return base(rcode=3)


def serve_udp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 53))
    while True:
        q, peer = s.recvfrom(4096)
        a = answer(q)
        if a is not None:
            s.sendto(a, peer)


def serve_tcp_conn(c):
    with c:
        c.settimeout(5)
        try:
            while True:
                n = c.recv(2)
                if len(n) < 2:
                    return
                want = struct.unpack(">H", n)[0]
                q = b""
                while len(q) < want:
                    chunk = c.recv(want - len(q))
                    if not chunk:
                        return
                    q += chunk
                a = answer(q)
                if a is None:
                    return
                c.sendall(struct.pack(">H", len(a)) + a)
        except OSError:
            return


def serve_tcp(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 53))
    s.listen(16)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve_tcp_conn, args=(c,), daemon=True).start()


if __name__ == "__main__":
    threading.Thread(target=serve_tcp, args=(sys.argv[1],), daemon=True).start()
    serve_udp(sys.argv[1])
