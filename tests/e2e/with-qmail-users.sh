#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/e2e/with-qmail-users.sh - run a command in a private mount namespace
# whose /etc/passwd and /etc/group also hold qmail's users and groups, as on
# a host where qmail (or sqmail's sysusers.d) is installed.  Needs root.
# usage: with-qmail-users.sh COMMAND [ARG...]
set -eu
dir=$(mktemp -d /tmp/sq-users-XXXXXX)
cp /etc/passwd "$dir/passwd"
cp /etc/group "$dir/group"
uid=64010
for u in qmaild qmaill qmailp qmailq qmailr qmails alias; do
	grep -q "^$u:" "$dir/passwd" ||
		echo "$u:x:$uid:64010::/var/qmail:/usr/sbin/nologin" >> "$dir/passwd"
	uid=$((uid + 1))
done
grep -q '^qmail:' "$dir/group" || echo 'qmail:x:64010:' >> "$dir/group"
grep -q '^nofiles:' "$dir/group" || echo 'nofiles:x:64011:' >> "$dir/group"
exec unshare -m --propagation private sh -c '
	mount --bind "$1/passwd" /etc/passwd && mount --bind "$1/group" /etc/group
	rm -rf "$1"
	shift
	exec "$@"' sh "$dir" "$@"
