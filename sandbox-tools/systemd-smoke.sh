#!/bin/sh
# SPDX-License-Identifier: MIT
# systemd-smoke.sh - try the units under systemd as PID 1: install a release
# tarball into a Debian 12 root, boot it with systemd-nspawn (private network)
# and receive and deliver mail through qmail-smtpd.socket, qmail-queued.socket
# and qmail-send.service.
# usage: systemd-smoke.sh ROOT TARBALL
#   ROOT     a Debian 12 tree; made with debootstrap if missing (needs the
#            Debian mirror), reused otherwise
#   TARBALL  sqmail-VERSION.tar.gz from make dist
# Needs root, debootstrap and systemd-container. Not part of make check: CI
# has no second systemd to boot. Prints "smoke: ok" or "smoke: FAILED ...".
set -eu
[ $# -eq 2 ] || { echo "usage: systemd-smoke.sh ROOT TARBALL" >&2; exit 2; }
root=$1 tarball=$2
[ "$(id -u)" -eq 0 ] || { echo "systemd-smoke.sh: needs root" >&2; exit 2; }

if [ ! -x "$root/bin/bash" ]; then
	debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
fi
cp /etc/resolv.conf "$root/etc/resolv.conf"
cp "$tarball" "$root/root/sqmail.tar.gz"
mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || :' EXIT
chroot "$root" /bin/sh -c 'set -e; cd /root && rm -rf sqmail-* &&
	tar xzf sqmail.tar.gz && cd sqmail-* &&
	./bootstrap --prefix=/usr --with-systemdsystemunitdir=/lib/systemd/system > build.log 2>&1 &&
	make -j2 >> build.log 2>&1 &&
	make install sysusersdir=/usr/lib/sysusers.d tmpfilesdir=/usr/lib/tmpfiles.d >> build.log 2>&1' ||
	{ echo "smoke: FAILED to build (see $root/root/sqmail-*/build.log)"; exit 1; }
umount "$root/proc"
trap - EXIT

cat > "$root/root/smoke.sh" <<'EOF'
#!/bin/sh
# runs inside the booted container
fail() { echo "smoke: FAILED $*"; journalctl --no-pager -n 40; exit 1; }
send() { swaks --server 127.0.0.1 --port 25 --from bob@example.org --to "$1" \
	--header "Subject: $2" 2>&1; }
systemd-sysusers && systemd-tmpfiles --create || fail "sysusers/tmpfiles"
for f in me locals rcpthosts; do echo smoke.test > /var/qmail/control/$f; done
id alice > /dev/null 2>&1 || useradd -m alice
su alice -s /bin/sh -c 'mkdir -p ~/Maildir/new ~/Maildir/cur ~/Maildir/tmp'
systemctl daemon-reload
systemctl enable qmail-queued.socket qmail-send.service qmail-smtpd.socket || fail "enable"
systemctl restart qmail-queued.socket qmail-send.service qmail-smtpd.socket || fail "start"
systemctl is-active -q qmail-send.service || fail "qmail-send.service not active"
systemctl show -p StatusText qmail-send.service | grep -q 'queue:' || fail "no STATUS="
[ "$(ps -o user= -C qmail-send)" = qmails ] || fail "qmail-send is not qmails"
[ "$(ps -o user= -C qmail-lspawn)" = root ] || fail "qmail-lspawn is not root"
# shipped units: qmail-smtpd runs as qmaild and hands the message to the
# queue writer (qmail-queued.socket, User=qmailq): accepted and delivered
send alice@smoke.test smoke-1 | grep '^<-  250 2.0.0' || fail "qmaild: not accepted"
send victim@example.com smoke-2 | grep '^<\*\* *553 ' || fail "relay: no 553"
n=0
until grep -qs 'Subject: smoke-1' /home/alice/Maildir/new/*; do
	n=$((n + 1)); [ $n -lt 50 ] || fail "smoke-1 not delivered"; sleep 0.1
done
# qmail-queue's words for qmaild's uid, passed on by the writer (SO_PEERCRED)
grep -qs "invoked from network" /home/alice/Maildir/new/* ||
	fail "the Received line does not say invoked from network"
[ "$(stat -c %U /var/qmail/queue/mess)" = qmailq ] || fail "queue/mess not qmailq's"
systemctl reload qmail-send.service || fail "reload"
systemctl stop qmail-send.service || fail "stop"
systemctl is-failed -q qmail-send.service && fail "stop left the unit failed"
echo "smoke: ok"
EOF
chmod 755 "$root/root/smoke.sh"

log=$(mktemp)
systemd-nspawn --register=no --keep-unit --private-network -q -D "$root" --boot \
	> "$log" 2>&1 &
nspawn=$!
init=
n=0
while [ -z "$init" ] && [ $n -lt 100 ]; do
	sleep 0.2
	n=$((n + 1))
	for c in $(pgrep -P "$nspawn" || :); do
		[ "$(cat "/proc/$c/comm")" = systemd ] && init=$c
	done
done
[ -n "$init" ] || { cat "$log"; echo "smoke: FAILED to boot"; kill "$nspawn"; exit 1; }
# systemd's own socket comes a moment after the process: wait for it first
n=0
until nsenter -t "$init" -a test -S /run/systemd/private || [ $n -ge 150 ]; do
	sleep 0.2
	n=$((n + 1))
done
nsenter -t "$init" -a /bin/systemctl is-system-running --wait > /dev/null || :
rc=0
nsenter -t "$init" -a /root/smoke.sh || rc=1
nsenter -t "$init" -a /bin/systemctl poweroff || kill "$nspawn"
wait "$nspawn" || :
rm -f "$log"
exit $rc
