#!/bin/sh
# fuzz-smoke.sh - build the libFuzzer target of the SMTP parsers and run it for a
# few seconds (make check, TAP output); skipped when clang or libFuzzer is missing.
set -u
src=${SQ_SRCDIR:-.}
build=${SQ_BUILDDIR:-.}
cc=${CC_FUZZ:-clang}
out=$build/tests/handlers/fuzz-smtp
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "1..0 # SKIP $cc not installed"
	exit 0
fi
if ! "$src/tests/handlers/fuzz-build.sh" "$cc" "$src" "$build" "$out" >"$out.build.log" 2>&1; then
	echo "1..0 # SKIP cannot build with -fsanitize=fuzzer (see $out.build.log)"
	exit 0
fi
echo "1..1"
corpus=$(mktemp -d /tmp/sq-fuzz-XXXXXX)
trap 'rm -rf "$corpus"' EXIT
i=0
for s in 'FROM:<a@b.test> SIZE=100 BODY=8BITMIME' 'TO:<@a,@b:u%v@[1.2.3.4]>' \
	'FROM:<"x\"y"@z> AUTH=<> SMTPUTF8' 'TO:<a!b@c.>' 'FROM:<\\>'; do
	i=$((i + 1))
	printf '%s' "$s" > "$corpus/seed$i"
done
if "$out" -max_total_time="${FUZZ_SECONDS:-5}" -max_len=1100 "$corpus" >"$out.log" 2>&1; then
	echo "ok 1 - fuzz::smtp_parsers $(grep -o 'Done [0-9]* runs' "$out.log")"
else
	tail -40 "$out.log" | sed 's/^/# /'
	echo "not ok 1 - fuzz::smtp_parsers"
fi
