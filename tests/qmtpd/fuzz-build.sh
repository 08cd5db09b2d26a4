#!/bin/sh
# fuzz-build.sh CC SRCDIR BUILDDIR OUT - compile the QMTP parser fuzz target
set -eu
cc=$1 src=$2 build=$3 out=$4
exec "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -include "$build/config.h" \
	-I"$src" -I"$src/lib" -I"$src/handlers/smtpd" -I"$src/handlers/qmtpd" \
	-DQMAIL_HOME='"/var/qmail"' \
	"$src/tests/qmtpd/fuzz_qmtp.c" "$src/handlers/qmtpd/netstring.c" \
	"$src/handlers/qmtpd/qmtp_rcpt.c" "$src/handlers/smtpd/smtp_relay.c" \
	"$src/lib/io.c" "$src/lib/buf.c" "$src/lib/num.c" "$src/lib/log.c" \
	"$src/lib/cfg.c" "$src/lib/home.c" -lcdb -o "$out"
