#!/bin/sh
# tls-qq.sh - QMAILQUEUE stand-in for the TLS tests: $QQREC/msg gets the message,
# $QQREC/envelope the envelope, $QQREC/env the environment (SSL_*, AUTHUSER, ...).
d=${QQREC:?QQREC not set}
cat > "$d/msg" || exit 54
cat <&1 > "$d/envelope" || exit 54
env > "$d/env"
exit 0
