#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# smtp.py - Python's smtplib as an SMTP client for the end-to-end tests.
# usage: smtp.py send HOST PORT FROM RCPT[,RCPT...] TOKEN   send a mail; prints refused rcpts
#        smtp.py rcpt HOST PORT FROM RCPT                   MAIL + RCPT only; prints "CODE text"
import smtplib
import sys


def main():
    mode, host, port, sender, rcpts, *rest = sys.argv[1:]
    with smtplib.SMTP(host, int(port), local_hostname="client.test", timeout=20) as s:
        if mode == "rcpt":
            s.ehlo()
            code, _ = s.mail(sender)
            if code != 250:
                print("MAIL", code)
                return 1
            code, text = s.rcpt(rcpts)
            print(code, text.decode(errors="replace"))
            s.rset()
            return 0
        token = rest[0]
        msg = ("From: %s\r\nTo: %s\r\nSubject: %s\r\nMessage-ID: <%s@client.test>\r\n"
               "\r\nsent by smtplib: %s\r\n" % (sender, rcpts, token, token, token))
        refused = s.sendmail(sender, rcpts.split(","), msg)
        print("refused:", refused)
        return 0 if not refused else 1


sys.exit(main())
