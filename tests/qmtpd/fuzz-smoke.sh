#!/bin/sh
# fuzz-smoke.sh - build the libFuzzer target of the netstring and QMTP recipient-list
# parsers and run it a few seconds (make check, TAP); skipped without clang/libFuzzer.
set -u
src=${SQ_SRCDIR:-.}
build=${SQ_BUILDDIR:-.}
cc=${CC_FUZZ:-clang}
out=$build/tests/qmtpd/fuzz-qmtp
if ! command -v "$cc" >/dev/null 2>&1; then
	echo "1..0 # SKIP $cc not installed"
	exit 0
fi
if ! "$src/tests/qmtpd/fuzz-build.sh" "$cc" "$src" "$build" "$out" >"$out.build.log" 2>&1; then
	echo "1..0 # SKIP cannot build with -fsanitize=fuzzer (see $out.build.log)"
	exit 0
fi
echo "1..1"
corpus=$(mktemp -d /tmp/sq-fuzzq-XXXXXX)
trap 'rm -rf "$corpus"' EXIT
i=0
for s in '13:a@example.com,8:b@x.test,' '0:,' '01:a,' '5:hello,' '3:a@b,4:c@d.,'; do
	i=$((i + 1))
	printf '%s' "$s" > "$corpus/seed$i"
done
if "$out" -max_total_time="${FUZZ_SECONDS:-5}" -max_len=4096 "$corpus" >"$out.log" 2>&1; then
	echo "ok 1 - fuzz::qmtp_parsers $(grep -o 'Done [0-9]* runs' "$out.log")"
else
	tail -40 "$out.log" | sed 's/^/# /'
	echo "not ok 1 - fuzz::qmtp_parsers"
fi
