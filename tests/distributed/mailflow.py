#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# mailflow.py - send numbered mails into the cluster and count what arrived.
# usage: mailflow.py smtp HOST PREFIX COUNT DELAY   COUNT mails on one SMTP session
#        mailflow.py inject SENDMAIL PREFIX COUNT DELAY   one sendmail run per mail
#        mailflow.py check TOKENFILE MAILDIR...   each token exactly once, nothing else
# Every mail carries its token in Message-ID and X-Token and goes to alice or
# bob of cluster.test (alternating); the senders print "TOKEN RCPT" per mail
# accepted. check reads those lines and the Maildirs' new/ and cur/.
import os
import smtplib
import subprocess
import sys
import time


def message(token, rcpt):
    return ("From: bob@cluster.test\nTo: %s\nMessage-ID: <%s@cluster.test>\n"
            "X-Token: %s\nSubject: mail %s\n\nThis is mail %s.\n"
            % (rcpt, token, token, token, token))


def mails(prefix, count):
    for i in range(count):
        token = "%s-%04d" % (prefix, i)
        yield token, ("alice" if i % 2 == 0 else "bob") + "@cluster.test"


def send_smtp(host, prefix, count, delay):
    with smtplib.SMTP(host, 25, local_hostname="client.cluster.test", timeout=30) as s:
        for token, rcpt in mails(prefix, count):
            s.sendmail("bob@cluster.test", [rcpt], message(token, rcpt))
            print(token, rcpt, flush=True)
            time.sleep(delay)


def send_inject(sendmail, prefix, count, delay):
    for token, rcpt in mails(prefix, count):
        subprocess.run([sendmail, "-f", "bob@cluster.test", rcpt],
                       input=message(token, rcpt).encode(), check=True)
        print(token, rcpt, flush=True)
        time.sleep(delay)


def token_of(path):
    with open(path, "rb") as f:
        for line in f:
            if line in (b"\n", b"\r\n"):
                break
            if line.lower().startswith(b"x-token:"):
                return line.split(b":", 1)[1].strip().decode()
    return None


def check(tokenfile, maildirs):
    want = {}
    with open(tokenfile) as f:
        for line in f:
            token, rcpt = line.split()
            want[token] = rcpt.split("@")[0]
    seen, extra = {}, []
    for md in maildirs:
        user = os.path.basename(os.path.dirname(md.rstrip("/")))
        for sub in ("new", "cur"):
            d = os.path.join(md, sub)
            for name in os.listdir(d):
                t = token_of(os.path.join(d, name))
                if t is None:
                    extra.append(os.path.join(d, name))
                else:
                    seen.setdefault(t, []).append(user)
    missing = [t for t in want if t not in seen]
    dups = [t for t, users in seen.items() if len(users) > 1]
    wrong = [t for t, users in seen.items() if t in want and want[t] not in users]
    unknown = [t for t in seen if t not in want]
    print("sent %d, delivered %d distinct, missing %d, duplicated %d, wrong mailbox %d, "
          "unknown %d, other files %d" % (len(want), len(seen), len(missing), len(dups),
                                          len(wrong), len(unknown), len(extra)))
    for name, items in (("missing", missing), ("duplicated", dups), ("wrong", wrong),
                        ("unknown", unknown), ("other", extra)):
        if items:
            print("  %s: %s" % (name, " ".join(sorted(items)[:20])))
    return 0 if not (missing or dups or wrong or unknown or extra) else 1


def main():
    mode = sys.argv[1]
    if mode == "smtp":
        send_smtp(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    elif mode == "inject":
        send_inject(sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
    elif mode == "check":
        sys.exit(check(sys.argv[2], sys.argv[3:]))
    else:
        sys.exit("usage: mailflow.py smtp|inject|check ...")


main()
