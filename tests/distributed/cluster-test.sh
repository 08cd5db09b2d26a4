#!/bin/sh
# SPDX-License-Identifier: MIT
# cluster-test.sh - the distributed-queue scenarios on sandbox-tools/cluster.sh.
# usage: cluster-test.sh outage DIR [N]   N mails (200) over edge1, edge2 and the
#                                         null client; the hub stops while they
#                                         flow and comes back; each mail must be
#                                         in its Maildir exactly once
#        cluster-test.sh refuse DIR       hosts without the right to relay cannot
#                                         use the hub
# environment: SQ_SRCDIR, SQ_BUILDDIR, SQ_NETNS_ID. Needs root. Exit 0: passed;
# 77: cannot run here; else failed (the reason on stderr). The cluster in DIR
# is taken down on every exit.
set -eu
src=${SQ_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${SQ_BUILDDIR:-$src}
cl="sh $src/sandbox-tools/cluster.sh"
flow=$src/tests/distributed/mailflow.py
mode=$1 dir=$2

fail() {
	echo "cluster-test: FAIL: $*" >&2
	for f in "$dir"/log/*.log; do
		[ -s "$f" ] || continue
		echo "--- $f (last lines)" >&2
		tail -n 8 "$f" >&2
	done
	exit 1
}

[ "$(id -u)" = 0 ] || { echo "cluster-test: needs root" >&2; exit 77; }
for c in ip systemd-socket-activate tcprules python3; do
	command -v $c > /dev/null || { echo "cluster-test: $c not found" >&2; exit 77; }
done
[ ! -e "$dir/hub" ] || { echo "cluster-test: $dir is not new" >&2; exit 2; }
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
trap '$cl down "$dir" > /dev/null 2>&1 || :' EXIT
trap 'exit 1' INT TERM
$cl up "$dir" "$build" || fail "cluster.sh up"

# count_new MAILDIR... - files delivered so far
count_new() {
	n=0
	for m in "$@"; do n=$((n + $(find "$m/new" "$m/cur" -type f | wc -l))); done
	echo $n
}

# queued NODE - messages in NODE's queue
queued() {
	find "$dir/$1/queue/mess" -type f | wc -l
}

outage() {
	total=${1:-200}
	md=$dir/hub/home/alice/Maildir md2=$dir/hub/home/bob/Maildir
	per_edge=$((total * 2 / 5))
	by_null=$((total - 2 * per_edge))
	# about 6 s of sending; the hub stops after a tenth (at most 3 s) and is
	# down until all clients are done
	$cl exec null "$dir" python3 "$flow" smtp 10.35.0.2 e1 $per_edge 0.06 > "$dir/sent-e1" 2> "$dir/log/client-e1.log" &
	p1=$!
	$cl exec null "$dir" python3 "$flow" smtp 10.35.0.3 e2 $per_edge 0.06 > "$dir/sent-e2" 2> "$dir/log/client-e2.log" &
	p2=$!
	$cl exec null "$dir" python3 "$flow" inject "$dir/null/bin/sendmail" nc $by_null 0.15 \
	    > "$dir/sent-nc" 2> "$dir/log/client-nc.log" &
	p3=$!
	i=0
	while [ "$(count_new "$md" "$md2")" -lt $((total / 10)) ] && [ $i -lt 30 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	$cl stop hub "$dir" || fail "stopping the hub"
	before=$(count_new "$md" "$md2")
	echo "cluster-test: hub stopped with $before of $total mails delivered"
	ok=0
	for p in $p1 $p2 $p3; do wait "$p" || ok=1; done
	[ $ok = 0 ] || fail "a client could not hand over its mails while the hub was down"
	cat "$dir"/sent-e1 "$dir"/sent-e2 "$dir"/sent-nc > "$dir/sent"
	[ "$(wc -l < "$dir/sent")" = "$total" ] || fail "clients report $(wc -l < "$dir/sent") of $total"
	q1=$(queued edge1) q2=$(queued edge2) dn=$(count_new "$md" "$md2")
	echo "cluster-test: all $total accepted; hub down: $dn delivered, edge1 holds $q1, edge2 $q2"
	[ "$dn" = "$before" ] || fail "the stopped hub delivered $before -> $dn"
	# the null client went on through its second QMQP server
	grep -q '^<6>qmqp: 10.35.0.2: K' "$dir/log/client-nc.log" ||
	    fail "no mail of the null client went to edge1 while the hub was down"
	[ $((q1 + q2)) -gt 0 ] || fail "nothing waited in the edges' queues during the outage"
	sleep 1
	$cl start hub "$dir" || fail "restarting the hub"
	i=0
	while [ "$(count_new "$md" "$md2")" -lt "$total" ] && [ $i -lt 60 ]; do
		$cl retry "$dir"
		sleep 1
		i=$((i + 1))
	done
	echo "cluster-test: $(count_new "$md" "$md2") files after $i s of retries"
	# a second wave would show duplicates: retry once more and look again
	$cl retry "$dir"
	sleep 2
	[ "$(queued edge1)$(queued edge2)" = 00 ] ||
	    fail "mail left in the edges' queues: $(queued edge1) + $(queued edge2)"
	i=0
	while [ "$(queued hub)" != 0 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(queued hub)" = 0 ] || fail "mail left in the hub's queue"
	python3 "$flow" check "$dir/sent" "$md" "$md2" || fail "not every mail exactly once (above)"
	if [ "$(cat "$dir/link")" = qmtps ]; then
		# every mail from an edge came by QMTPS with a verified certificate
		n=$(grep -l '^X-Token: e[12]-' "$md"/new/* "$md2"/new/* |
		    xargs grep -L 'with QMTPS.*, verified client' | wc -l)
		[ "$n" = 0 ] || fail "$n mails from the edges did not come by verified QMTPS"
	fi
}

# remote NODE HOME PORT - qmail-remote on NODE with HOME's control files sends
# the rogue mail to alice through the hub's PORT; prints its report
remote() {
	echo "cluster.test:[10.35.0.1]:$3" > "$2/control/qmtproutes"
	$cl exec "$1" "$dir" env QMAILHOME="$2" "$2/bin/qmail-remote" cluster.test \
	    bob@rogue.test alice@cluster.test < "$2/msg" | tr '\0' '|'
}

# refused WHAT REPORT - the hub must have refused the recipient (h: rcpthosts)
refused() {
	echo "cluster-test: $1: $2"
	case $2 in h*) ;; *) fail "$1: the hub did not refuse the recipient" ;; esac
}

refuse() {
	r=$dir/rogue
	sh "$src/sandbox-tools/mkhome.sh" "$r" "$build" rogue.test > /dev/null
	printf 'Subject: rogue\n\nnot for the hub\n' > "$r/msg"
	md="$dir/hub/home/alice/Maildir"
	if [ "$(cat "$dir/link")" = qmtp ]; then
		# plain QMTP from an address the hub's rules.qmtpd.cdb does not trust
		refused "QMTP from 10.35.0.4" "$(remote null "$r" 209)"
	else
		# QMTPS: the certificate decides, not the address (edge1's address)
		c=$dir/certs
		echo "cluster.test:$c/ca.pem" > "$r/control/tlsdestinations"
		refused "QMTP from edge1's address" "$(remote edge1 "$r" 209)"
		refused "QMTPS without a certificate" "$(remote edge1 "$r" 6209)"
		echo "*:$c/stranger.pem|$c/stranger.key" > "$r/control/domaincerts"
		refused "QMTPS with another CA's certificate" "$(remote edge1 "$r" 6209)"
		cp "$c/edge2.pem" "$c/edge2.key" "$r/"
		echo "*:$r/edge2.pem|$r/edge2.key" > "$r/control/domaincerts"
		out=$(remote edge1 "$r" 6209)
		echo "cluster-test: QMTPS with edge2's certificate: $out"
		case $out in r*) ;; *) fail "a certificate of the cluster CA did not relay" ;; esac
		i=0
		while [ "$(count_new "$md")" = 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
		grep -q 'with QMTPS.*, verified client' "$md"/new/* ||
		    fail "the hub's Received line does not name a verified QMTPS client"
		rm -f "$md"/new/*
	fi
	# QMQP from an edge: rules.qmqpd.cdb allows the null client alone
	echo 10.35.0.1 > "$r/control/qmqpservers"
	st=0
	$cl exec edge1 "$dir" env QMAILHOME="$r" QMAILQUEUE="$r/bin/qmail-qmqpc" \
	    "$r/bin/sendmail" -f bob@rogue.test alice@cluster.test < "$r/msg" || st=$?
	[ $st != 0 ] || fail "the hub took QMQP from edge1"
	sleep 1
	[ "$(count_new "$md")" = 0 ] || fail "a refused mail reached alice"
	# the same mail from the null client is delivered (the refusals were real)
	$cl exec null "$dir" env QMAILHOME="$r" QMAILQUEUE="$r/bin/qmail-qmqpc" \
	    "$r/bin/sendmail" -f bob@rogue.test alice@cluster.test < "$r/msg" ||
	    fail "QMQP from the null client failed"
	i=0
	while [ "$(count_new "$md")" = 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
	[ "$(count_new "$md")" = 1 ] || fail "the null client's mail did not arrive once"
}

case $mode in
outage) outage "${3:-200}" ;;
refuse) refuse ;;
*) echo "usage: cluster-test.sh outage|refuse DIR [N]" >&2; exit 2 ;;
esac
echo "cluster-test: $mode passed"
