#!/bin/sh
# qq-recorder.sh - a QMAILQUEUE stand-in for tests: records what qmail-smtpd hands over.
# $QQREC/msg gets the message (fd 0), $QQREC/env the envelope (fd 1), $QQREC/vars the
# environment for queue filters; every message is also appended to $QQREC/all.
# Exits with $QQREC_EXIT (default 0), as qmail-queue would.
d=${QQREC:?QQREC not set}
cat > "$d/msg" || exit 54
cat <&1 > "$d/env" || exit 54
printf 'MAILFROM=%s\nRCPTTO=%s\nHELOHOST=%s\n' "$MAILFROM" "$RCPTTO" "$HELOHOST" > "$d/vars"
printf 'TCPREMOTEIP=%s\nTCPLOCALIP=%s\n' "${TCPREMOTEIP-}" "${TCPLOCALIP-}" > "$d/tcpvars"
cat "$d/msg" >> "$d/all"
exit "${QQREC_EXIT:-0}"
