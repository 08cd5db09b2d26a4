#!/bin/sh
# tls-run.sh - make check's entry to tests/handlers/tls_run: its tests mostly wait
# (handshake timeouts, clients, servers), so they run 6 at a time (CRITERION_JOBS).
CRITERION_JOBS=${CRITERION_JOBS:-6}
export CRITERION_JOBS
exec "${SQ_BUILDDIR:-.}/tests/handlers/tls_run" "$@"
