#!/usr/bin/env python3
# tls_client.py SCENARIO PORT DIR [ARG] - Python ssl clients for test_tls.c.
# Every scenario asserts what it expects and exits 0; on a mismatch it prints
# the conversation and exits 1. DIR is what tls-setup.sh made (ca.pem, client-*.pem).
import base64, hmac, socket, ssl, sys, time

scenario, port, d = sys.argv[1], int(sys.argv[2]), sys.argv[3]
arg = sys.argv[4] if len(sys.argv) > 4 else None
log = []


def fail(msg):
    print("FAIL:", msg)
    print("\n".join(log))
    sys.exit(1)


class Conn:
    def __init__(self, implicit=False, cert=None, session=None, timeout=10):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""
        self.cert = cert
        if implicit:
            self.wrap(session)

    ctxs = {}

    def ctx(self):
        if self.cert in Conn.ctxs:
            return Conn.ctxs[self.cert]
        c = Conn.ctxs[self.cert] = ssl.create_default_context(cafile=d + "/ca.pem")
        if self.cert:
            c.load_cert_chain(d + "/" + self.cert + ".pem", d + "/" + self.cert + ".key")
        return c

    def wrap(self, session=None):
        self.sock = self.ctx().wrap_socket(self.sock, server_hostname="localhost",
                                           session=session)
        log.append("-- TLS %s %s resumed=%s" % (self.sock.version(), self.sock.cipher()[0],
                                                 self.sock.session_reused))

    def send(self, text):
        log.append("C: " + text.rstrip("\r\n"))
        self.sock.sendall(text.encode())

    def reply(self):
        lines = []
        while True:
            while b"\n" not in self.buf:
                try:
                    chunk = self.sock.recv(4096)
                except (ConnectionError, ssl.SSLError) as e:
                    chunk = b""
                    log.append("-- recv error %r" % e)
                if not chunk:
                    log.append("S: <closed>")
                    return None, lines
                self.buf += chunk
            line, self.buf = self.buf.split(b"\n", 1)
            line = line.decode(errors="replace").rstrip("\r")
            log.append("S: " + line)
            lines.append(line)
            if len(line) < 4 or line[3] != "-":
                return int(line[:3]), lines

    def cmd(self, text, want=None):
        self.send(text + "\r\n")
        code, lines = self.reply()
        if want is not None and code != want:
            fail("%s: want %s, got %s" % (text, want, code))
        return code, lines


def greet(c):
    code, _ = c.reply()
    if code != 220:
        fail("greeting %s" % code)


def starttls(c, ehlo="client.example"):
    greet(c)
    _, lines = c.cmd("EHLO " + ehlo, 250)
    if not any("STARTTLS" in l for l in lines):
        fail("STARTTLS not offered")
    c.cmd("STARTTLS", 220)
    c.wrap()
    _, lines = c.cmd("EHLO " + ehlo, 250)
    if any("STARTTLS" in l for l in lines):
        fail("STARTTLS offered again inside TLS")
    return lines


def send_mail(c, frm="a@example.com", rcpt="b@example.com", want_rcpt=250):
    c.cmd("MAIL FROM:<%s>" % frm, 250)
    code, _ = c.cmd("RCPT TO:<%s>" % rcpt)
    if code != want_rcpt:
        fail("RCPT: want %d got %s" % (want_rcpt, code))
    if code != 250:
        return
    c.cmd("DATA", 354)
    c.cmd("Subject: tls test\r\n\r\nhello\r\n.", 250)


def b64(s):
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


def auth(c, mech, user, pw):
    if mech == "PLAIN":
        return c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (user, pw)))[0]
    if mech == "LOGIN":
        c.cmd("AUTH LOGIN", 334)
        c.cmd(b64(user), 334)
        return c.cmd(b64(pw))[0]
    _, lines = c.cmd("AUTH CRAM-MD5", 334)
    chal = base64.b64decode(lines[-1][4:])
    dig = hmac.new(pw.encode(), chal, "md5").hexdigest()
    return c.cmd(b64("%s %s" % (user, dig)))[0]


def s_starttls():
    c = Conn()
    starttls(c)
    send_mail(c)
    c.cmd("QUIT", 221)


def s_implicit():
    c = Conn(implicit=True)
    greet(c)
    _, lines = c.cmd("EHLO client.example", 250)
    if any("STARTTLS" in l for l in lines):
        fail("STARTTLS offered on SMTPS")
    send_mail(c)
    c.cmd("QUIT", 221)
    if c.sock.version() not in ("TLSv1.2", "TLSv1.3"):
        fail("version " + c.sock.version())


def s_resume():
    # two connections, two qmail-smtpd processes: the second resumes from the
    # ticket of the first (the ticket key is shared through the credentials)
    c = Conn(implicit=True)
    greet(c)
    c.cmd("QUIT", 221)
    sess = c.sock.session
    c2 = Conn(implicit=True, session=sess)
    greet(c2)
    c2.cmd("QUIT", 221)
    if not c2.sock.session_reused:
        fail("session not resumed")


def s_inject():
    c = Conn()
    greet(c)
    c.cmd("EHLO client.example", 250)
    c.send("STARTTLS\r\nRSET\r\n")
    code, _ = c.reply()
    if code != 554:
        fail("pipelined STARTTLS: want 554, got %s" % code)
    code, _ = c.reply()
    if code is not None:
        fail("connection not closed after the refusal")


def s_auth():
    # ARG: MECH:user:password:want[:relay]
    mech, user, pw, want = arg.split(":")[:4]
    c = Conn()
    lines = starttls(c)
    if not any(l[4:].startswith("AUTH ") and mech in l for l in lines):
        fail("AUTH %s not offered" % mech)
    code = auth(c, mech, user, pw)
    if code != int(want):
        fail("AUTH %s %s: want %s got %s" % (mech, user, want, code))
    # relaying: only after a successful AUTH
    send_mail(c, frm="alice@example.com", rcpt="x@elsewhere.org",
              want_rcpt=250 if code == 235 else 553)
    c.cmd("QUIT", 221)


def s_cleartext():
    c = Conn()
    greet(c)
    _, lines = c.cmd("EHLO client.example", 250)
    if any("AUTH" in l for l in lines):
        fail("AUTH offered without TLS")
    c.cmd("AUTH PLAIN " + b64("\0alice\0sandbox"), 538)


def s_badauth():
    c = Conn()
    starttls(c)
    c.cmd("AUTH PLAIN not*base64", 501)
    c.cmd("AUTH PLAIN abc", 501)
    c.cmd("AUTH LOGIN", 334)
    c.cmd("*", 501)
    c.cmd("AUTH PLAIN =", 535)                      # empty credentials
    c.cmd("AUTH PLAIN " + b64("\0" + "u" * 300 + "\0pw"), 535)  # overlong user
    c.cmd("AUTH PLAIN " + b64("\0nosuchuser\0pw"), 421)  # third failure
    code, _ = c.reply()
    if code is not None:
        fail("still open after 3 failures")


def s_cert():
    # ARG: client-NAME:want_rcpt
    cert, want = arg.split(":")
    c = Conn(cert=cert if cert != "none" else None)
    starttls(c)
    send_mail(c, frm="alice@example.com", rcpt="x@elsewhere.org", want_rcpt=int(want))
    c.cmd("QUIT", 221)


def s_certreq():
    # UCSPITLS=?: without a certificate the CA accepts, no session
    c = Conn(cert=arg if arg != "none" else None)
    greet(c)
    c.cmd("EHLO client.example", 250)
    c.cmd("STARTTLS", 220)
    try:
        c.wrap()
        code, _ = c.cmd("EHLO client.example")   # TLS 1.3: refused after the handshake
    except (ssl.SSLError, ConnectionError):
        return
    if code not in (None, 554):
        fail("session went on without a valid client certificate: %s" % code)


def s_submission():
    c = Conn()
    greet(c)
    c.cmd("EHLO client.example", 250)
    c.cmd("MAIL FROM:<alice@example.com>", 530)     # TLS first
    c.cmd("STARTTLS", 220)
    c.wrap()
    c.cmd("EHLO client.example", 250)
    c.cmd("MAIL FROM:<alice@example.com>", 530)     # AUTH first
    if auth(c, "PLAIN", "alice", "sandbox") != 235:
        fail("AUTH")
    send_mail(c, frm=arg or "alice@example.com", rcpt="x@elsewhere.org")
    c.cmd("QUIT", 221)


def s_mav():
    # LOCALMFCHECK: ARG is sender:want[:user:password] (default alice);
    # want 553 for a sender not allowed
    a = arg.split(":")
    sender, want = a[0], a[1]
    user, pw = (a[2], a[3]) if len(a) > 3 else ("alice", "sandbox")
    c = Conn()
    starttls(c)
    if auth(c, "PLAIN", user, pw) != 235:
        fail("AUTH")
    c.cmd("MAIL FROM:<%s>" % sender, int(want))


def s_stall():
    # STARTTLS, then nothing: the server must give up within its timeout
    c = Conn(timeout=30)
    greet(c)
    c.cmd("EHLO client.example", 250)
    c.cmd("STARTTLS", 220)
    if arg == "partial":
        c.sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")
    t = time.time()
    data = c.sock.recv(100)
    el = time.time() - t
    print("closed after %.1f s" % el)
    if data != b"" or el > 8:
        fail("not dropped in time: %r after %.1f s" % (data, el))


def s_idle():
    # inside TLS, a client that says nothing gets "451 timeout" after timeoutsmtpd
    c = Conn(implicit=True, timeout=30)
    greet(c)
    t = time.time()
    code, _ = c.reply()
    el = time.time() - t
    if code != 451 or el > 8:
        fail("idle TLS client: %s after %.1f s" % (code, el))


def s_garbage():
    # no ClientHello on the SMTPS port, or a truncated one: a clean close
    c = Conn(timeout=15)
    c.sock.sendall(b"EHLO garbage\r\n" if arg != "truncated" else
                   b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\0" * 10)
    if arg == "truncated":
        c.sock.shutdown(socket.SHUT_WR)
    try:
        data = c.sock.recv(100)
    except ConnectionResetError:
        data = b""
    if b"220" in data:
        fail("got a greeting without TLS")


def s_offers():
    # ARG: "plain" or "tls", then "|+WORD" (must be in the EHLO reply) and
    # "|-WORD" (must not be); WORD is matched against the keyword lines
    parts = arg.split("|")
    c = Conn()
    if parts[0] == "tls":
        lines = starttls(c)
    else:
        greet(c)
        _, lines = c.cmd("EHLO client.example", 250)
    kw = [l[4:] for l in lines[1:]]
    for p in parts[1:]:
        has = any(k == p[1:] or k.startswith(p[1:] + " ") for k in kw)
        if (p[0] == "+") != has:
            fail("EHLO keyword %r: want %s, have %s" % (p[1:], p[0], kw))
    c.cmd("QUIT", 221)


def s_authcode():
    # ARG: MECH:user:password:want -- whether or not the mechanism is offered
    mech, user, pw, want = arg.split(":")
    c = Conn()
    starttls(c)
    if mech == "PLAIN":
        code = c.cmd("AUTH PLAIN " + b64("\0%s\0%s" % (user, pw)))[0]
    elif mech == "LOGIN":
        code = c.cmd("AUTH LOGIN")[0]
    else:
        code = c.cmd("AUTH CRAM-MD5")[0]
        if code == 334:
            c.cmd("*")
    if code != int(want):
        fail("AUTH %s: want %s got %s" % (mech, want, code))
    c.cmd("QUIT", 221)


def s_authreq():
    # SMTPAUTH='!' on port 25: MAIL needs AUTH first, before and inside TLS
    c = Conn()
    greet(c)
    c.cmd("EHLO client.example", 250)
    _, lines = c.cmd("MAIL FROM:<alice@example.com>", 530)
    if "authentication required" not in lines[-1]:
        fail("530 but not for AUTH: %s" % lines[-1])
    c.cmd("STARTTLS", 220)
    c.wrap()
    c.cmd("EHLO client.example", 250)
    c.cmd("MAIL FROM:<alice@example.com>", 530)
    c.cmd("RCPT TO:<bob@example.com>", 503)
    if auth(c, arg or "PLAIN", "alice", "sandbox") != 235:
        fail("AUTH")
    send_mail(c, frm="alice@example.com", rcpt="x@elsewhere.org")
    c.cmd("QUIT", 221)


def s_notls():
    # UCSPITLS=-: STARTTLS neither offered nor accepted; mail still flows
    c = Conn()
    greet(c)
    _, lines = c.cmd("EHLO client.example", 250)
    if any("STARTTLS" in l for l in lines):
        fail("STARTTLS offered")
    c.cmd("STARTTLS", 502)
    send_mail(c)
    c.cmd("QUIT", 221)


def s_certmav():
    # ARG: client-NAME:sender:want -- LOCALMFCHECK for a certificate client
    cert, sender, want = arg.split(":")
    c = Conn(cert=cert)
    starttls(c)
    c.cmd("MAIL FROM:<%s>" % sender, int(want))
    c.cmd("QUIT", 221)


def s_plainmav():
    # ARG: sender:want -- a client without AUTH (RELAYCLIENT or none)
    sender, want = arg.split(":")
    c = Conn()
    greet(c)
    c.cmd("EHLO client.example", 250)
    c.cmd("MAIL FROM:<%s>" % sender, int(want))
    c.cmd("QUIT", 221)


def s_auth_norelay():
    # after a refused AUTH, relaying stays refused
    c = Conn()
    starttls(c)
    c.cmd("AUTH PLAIN " + b64("\0alice\0sandbox"))
    send_mail(c, frm="alice@example.com", rcpt="x@elsewhere.org", want_rcpt=553)
    c.cmd("QUIT", 221)


def remove_keys():
    import os
    for k in ("smtpd.key", "smtpd-ecdsa.key"):
        os.remove(d + "/creds/" + k)


def s_keygone():
    # the key is read before the first client byte: removing it after the
    # process started (SMTPS: after connect; STARTTLS: after the greeting)
    # must not stop this session's handshake
    if arg == "smtps":
        c = Conn()
        time.sleep(1.5)
        remove_keys()
        c.wrap()
        greet(c)
    else:
        c = Conn()
        greet(c)
        remove_keys()
        c.cmd("EHLO client.example", 250)
        c.cmd("STARTTLS", 220)
        c.wrap()
    c.cmd("EHLO client.example", 250)
    c.cmd("QUIT", 221)


def s_nokey():
    # SMTPS without a usable key: closed at once, no plaintext, no handshake
    c = Conn(timeout=10)
    t = time.time()
    try:
        c.wrap()
        fail("handshake succeeded without a key")
    except (ssl.SSLError, ConnectionError, OSError) as e:
        log.append("-- handshake refused: %r" % e)
    el = time.time() - t
    if el > 3:
        fail("closed only after %.1f s" % el)


def s_brokenkey():
    # port 25 with unusable credentials: mail flows, STARTTLS gets 454
    c = Conn()
    greet(c)
    _, lines = c.cmd("EHLO client.example", 250)
    if any("STARTTLS" in l for l in lines):
        fail("STARTTLS offered without a usable key")
    c.cmd("STARTTLS", 454)
    send_mail(c)
    c.cmd("QUIT", 221)


globals()["s_" + scenario]()
print("ok", scenario, "; ".join(l for l in log if l.startswith("-- TLS")))
