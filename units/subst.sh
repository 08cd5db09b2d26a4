#!/bin/sh
# subst.sh - fill in a units/*.in template: subst.sh QMAILHOME < in > out
# @qmailhome@ becomes QMAILHOME; a line holding @SPLIT@ becomes 23 lines,
# @SPLIT@ = 0..22 (qmail's conf-split). Used by make and by the unit tests.
set -eu
[ $# -eq 1 ] || { echo "usage: subst.sh QMAILHOME < in > out" >&2; exit 2; }
sed "s|@qmailhome@|$1|g" | awk '
/@SPLIT@/ { for (i = 0; i < 23; i++) { l = $0; gsub(/@SPLIT@/, i, l); print l } next }
{ print }'
