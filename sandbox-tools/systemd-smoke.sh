#!/bin/sh
# SPDX-License-Identifier: MIT
# systemd-smoke.sh - try the units under systemd as PID 1: install a release
# tarball into a Debian 12 root, boot it with systemd-nspawn (private network)
# and receive and deliver mail through qmail-smtpd.socket and qmail-send.service.
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
rm -rf /etc/systemd/system/qmail-smtpd@.service.d
systemctl daemon-reload
systemctl enable qmail-send.service qmail-smtpd.socket || fail "enable"
systemctl restart qmail-send.service qmail-smtpd.socket || fail "start"
systemctl is-active -q qmail-send.service || fail "qmail-send.service not active"
systemctl show -p StatusText qmail-send.service | grep -q 'queue:' || fail "no STATUS="
[ "$(ps -o user= -C qmail-send)" = qmails ] || fail "qmail-send is not qmails"
[ "$(ps -o user= -C qmail-lspawn)" = root ] || fail "qmail-lspawn is not root"
# shipped unit: qmaild cannot write the queue, the client gets 451
send alice@smoke.test smoke-1 | grep '^<\*\* *451 ' || fail "qmaild: no 451"
send victim@example.com smoke-2 | grep '^<\*\* *553 ' || fail "relay: no 553"
# SECURITY.md's interim drop-in: accepted and delivered
mkdir -p /etc/systemd/system/qmail-smtpd@.service.d
printf '[Service]\nUser=qmailq\nGroup=qmail\n' \
	> /etc/systemd/system/qmail-smtpd@.service.d/queue-owner.conf
systemctl daemon-reload
send alice@smoke.test smoke-3 | grep '^<-  250 2.0.0' || fail "qmailq: not accepted"
n=0
until grep -qs 'Subject: smoke-3' /home/alice/Maildir/new/*; do
	n=$((n + 1)); [ $n -lt 50 ] || fail "smoke-3 not delivered"; sleep 0.1
done
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
nsenter -t "$init" -a /bin/systemctl is-system-running --wait > /dev/null || :
rc=0
nsenter -t "$init" -a /root/smoke.sh || rc=1
nsenter -t "$init" -a /bin/systemctl poweroff || kill "$nspawn"
wait "$nspawn" || :
rm -f "$log"
exit $rc
