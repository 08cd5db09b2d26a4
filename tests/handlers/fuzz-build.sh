#!/bin/sh
# fuzz-build.sh CC SRCDIR BUILDDIR OUT - compile the SMTP parser fuzz target
set -eu
cc=$1 src=$2 build=$3 out=$4
exec "$cc" -g -O1 -fsanitize=fuzzer,address,undefined -include "$build/config.h" \
	-I"$src" -I"$src/lib" -I"$src/handlers/smtpd" -DQMAIL_HOME='"/var/qmail"' \
	"$src/tests/handlers/fuzz_smtp.c" "$src/handlers/smtpd/smtp_addr.c" \
	"$src/handlers/smtpd/smtp_checks.c" "$src/handlers/smtpd/smtp_reply.c" \
	"$src/lib/mail/addr.c" "$src/lib/buf.c" "$src/lib/num.c" "$src/lib/log.c" \
	"$src/lib/peer.c" "$src/lib/cfg.c" "$src/lib/home.c" -o "$out"
