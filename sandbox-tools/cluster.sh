#!/bin/sh
# SPDX-License-Identifier: MIT
# cluster.sh - a distributed sqmail on one machine: four hosts, each a network
# namespace with its own address and its own qmail home (doc/DISTRIBUTED.md).
# usage: cluster.sh up DIR BUILDDIR      lay out DIR, make the network, start all
#        cluster.sh down DIR             stop everything, remove the namespaces
#        cluster.sh stop|start NODE DIR  stop or start one node's processes
#        cluster.sh retry DIR            ask the edges' qmail-send to retry now
#        cluster.sh exec NODE DIR CMD... run CMD on NODE (QMAILHOME set)
#        cluster.sh demo DIR             one mail by each path, show where it landed
#        cluster.sh info DIR             the nodes, their addresses and logs
# Nodes (namespace sqd-NODE$SQ_NETNS_ID, joined by a bridge in sqd-sw$SQ_NETNS_ID):
#   hub    10.35.0.1  delivers cluster.test into Maildirs (alice, bob); QMTP 209,
#                     QMTPS 6209 (relaying for client certificates of the cluster
#                     CA), QMQP 628 (for the null client only)
#   edge1  10.35.0.2  accept SMTP on 25 for cluster.test, queue, relay everything
#   edge2  10.35.0.3  to the hub by QMTPS (control/qmtproutes, domaincerts); QMQP
#                     628 for the null client when the hub does not answer
#   null   10.35.0.4  mini-qmail: no queue; bin/qmail-queue is qmail-qmqpc and
#                     control/qmqpservers names the hub, then edge1
# environment: SQ_NETNS_ID (suffix of every namespace name), CLUSTER_LINK=qmtps
#              (6209 with client certificates; the default when certtool is
#              there) or qmtp (plain QMTP on 209, relaying by client address).
# Needs root (namespaces), ip, systemd-socket-activate, tcprules; certtool for
# QMTPS. Every process is started with setsid inside its node's namespace, its
# pid kept in DIR/run/; "down" also ends whatever else is left in the
# namespaces (the per-connection handlers) and removes /etc/netns entries.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
NODES="hub edge1 edge2 null"
DOMAIN=cluster.test

die() {
	echo "cluster: $*" >&2
	exit 1
}

addr() {
	case $1 in hub) echo 10.35.0.1 ;; edge1) echo 10.35.0.2 ;; edge2) echo 10.35.0.3 ;;
	null) echo 10.35.0.4 ;; *) die "no node $1" ;; esac
}

# ids DIR - namespace suffix of the cluster in DIR (kept from "up")
ids() {
	if [ -f "$1/netns-id" ]; then
		id=$(cat "$1/netns-id")
	else
		id=${SQ_NETNS_ID:-}
	fi
	SW=sqd-sw$id
}
ns() { echo "sqd-$1$id"; }

# on NODE DIR CMD... - CMD in NODE's namespace, QMAILHOME its home, cwd the home
on() {
	n=$1 d=$2
	shift 2
	(cd "$d/$n" && exec ip netns exec "$(ns "$n")" env QMAILHOME="$d/$n" "$@")
}

# bg NODE DIR NAME CMD... - CMD in the background, own session, pid in run/
bg() {
	n=$1 d=$2 name=$3
	shift 3
	# the log of an earlier run (a restarted node) goes on in NAME.log.1
	if [ -s "$d/log/$n-$name.log" ]; then
		cat "$d/log/$n-$name.log" >> "$d/log/$n-$name.log.1"
	fi
	: > "$d/log/$n-$name.log"
	(cd "$d/$n" && exec ip netns exec "$(ns "$n")" setsid env QMAILHOME="$d/$n" "$@" \
	    < /dev/null >> "$d/log/$n-$name.log" 2>&1) &
	echo $! > "$d/run/$n-$name.pid"
}

# listen NODE DIR NAME PORT PROG [NAME=VALUE...] [-- ARG...] - PROG ARGs per
# connection on the node's address with those variables, as a socket unit
# with Accept=yes; waits until it listens
listen() {
	n=$1 d=$2 name=$3 port=$4 prog=$5
	shift 5
	envs=
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		envs="$envs -E $1"
		shift
	done
	[ $# -gt 0 ] && shift
	# shellcheck disable=SC2086 # a list of options
	bg "$n" "$d" "$name" systemd-socket-activate --inetd -a -l "$(addr "$n"):$port" \
	    -E QMAILHOME $envs "$d/$n/bin/$prog" "$@"
	i=0
	until grep -q '^Listening on' "$d/log/$n-$name.log"; do
		if [ $i -ge 50 ] || ! alive "$(cat "$d/run/$n-$name.pid")"; then
			die "$n: $prog on port $port did not start ($d/log/$n-$name.log)"
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# alive PID - is PID running (a zombie is not: what reaps orphans may be slow)
alive() {
	case $(ps -o stat= -p "$1" 2>/dev/null) in "" | Z*) return 1 ;; esac
}

# ours DIR NODE PID - is PID alive and in NODE's namespace?
ours() {
	[ -n "$3" ] && alive "$3" &&
	    [ "$(ip netns identify "$3" 2>/dev/null)" = "$(ns "$2")" ]
}

# stop_pid DIR NODE NAME - stop the process in run/NODE-NAME.pid. A listener
# is stopped as "systemctl stop" stops a socket unit with Accept=yes: no new
# connection is taken, the running sessions finish. systemd-socket-activate
# ends its sessions when it dies (their parent-death signal), so it is frozen
# first (SIGSTOP: new connections wait in the backlog and are reset when it
# is gone), and killed once its sessions have exited. qmail-send gets SIGTERM
# and lets running deliveries finish.
stop_pid() {
	f=$1/run/$2-$3.pid
	[ -f "$f" ] || return 0
	pid=$(cat "$f")
	if ours "$1" "$2" "$pid"; then
		if [ "$3" = send ]; then
			kill -s TERM "$pid" 2>/dev/null || :
		else
			kill -s STOP "$pid" 2>/dev/null || :
			i=0
			# shellcheck disable=SC2009 # zombies (not reaped: frozen) do not count
			while ps -o stat= --ppid "$pid" | grep -qv '^Z' && [ $i -lt 200 ]; do
				sleep 0.1
				i=$((i + 1))
			done
			kill -s KILL "$pid" 2>/dev/null || :
		fi
		i=0
		while alive "$pid"; do
			if [ $i -ge 200 ]; then
				echo "cluster: $2 $3 (pid $pid) did not stop in 20 s, killing it" >&2
				kill -s KILL "$pid" 2>/dev/null || :
				break
			fi
			sleep 0.1
			i=$((i + 1))
		done
	fi
	rm -f "$f"
}

# link - how the edges reach the hub: qmtps, or qmtp without certtool
link() {
	if [ -n "${CLUSTER_LINK:-}" ]; then
		echo "$CLUSTER_LINK"
	elif command -v certtool > /dev/null; then
		echo qmtps
	else
		echo qmtp
	fi
}

# certs DIR - a cluster CA, the hub's server certificate, one client
# certificate per edge, and a stranger: a client certificate of another CA
certs() {
	c=$1/certs
	[ -f "$c/edge2.pem" ] && return 0
	mkdir -p "$c"
	(
		umask 077
		cd "$c"
		for ca in ca other-ca; do
			certtool --generate-privkey --key-type=ecdsa --outfile "$ca.key"
			printf '%s\n' "cn = \"$ca of $DOMAIN\"" ca cert_signing_key \
			    'expiration_days = 30' > "$ca.tmpl"
			certtool --generate-self-signed --load-privkey "$ca.key" \
			    --template "$ca.tmpl" --outfile "$ca.pem"
		done
		# name CA CN TEMPLATE-LINES... - a key and a certificate signed by CA
		name() {
			k=$1 ca=$2
			shift 2
			certtool --generate-privkey --key-type=ecdsa --outfile "$k.key"
			printf '%s\n' "$@" 'expiration_days = 30' > "$k.tmpl"
			certtool --generate-certificate --load-privkey "$k.key" \
			    --load-ca-certificate "$ca.pem" --load-ca-privkey "$ca.key" \
			    --template "$k.tmpl" --outfile "$k.pem"
		}
		name hub ca "cn = \"hub.$DOMAIN\"" "dns_name = \"hub.$DOMAIN\"" \
		    'ip_address = "10.35.0.1"' tls_www_server signing_key encryption_key
		for e in edge1 edge2; do
			name $e ca "cn = \"$e.$DOMAIN\"" "dns_name = \"$e.$DOMAIN\"" \
			    tls_www_client signing_key
		done
		name stranger other-ca "cn = \"stranger.$DOMAIN\"" tls_www_client signing_key
	) > "$1/log/certtool.log" 2>&1 || die "certtool failed ($1/log/certtool.log)"
}

# rules FILE LINES... - a tcprules cdb
rules() {
	f=$1
	shift
	printf '%s\n' "$@" | tcprules "$f" "$f.tmp"
}

# homes DIR BUILDDIR - one qmail home per node, and the control files
homes() {
	d=$1 b=$2
	sh "$here/mkhome.sh" "$d/hub" "$b" "$DOMAIN" > /dev/null
	echo "hub.$DOMAIN" > "$d/hub/control/me"
	# cluster.test is local here, but not in rcpthosts: only relays
	# (edges with a certificate, the null client over QMQP) may send to it
	echo "hub.$DOMAIN" > "$d/hub/control/rcpthosts"
	if [ "$(link)" = qmtp ]; then
		rules "$d/hub/control/rules.qmtpd.cdb" '10.35.0.2:allow,RELAYCLIENT=""' \
		    '10.35.0.3:allow,RELAYCLIENT=""' ':allow'
	else
		rules "$d/hub/control/rules.qmtpd.cdb" ':allow'
	fi
	rules "$d/hub/control/rules.qmqpd.cdb" '10.35.0.4:allow' ':deny'
	for e in edge1 edge2; do
		sh "$here/mkhome.sh" "$d/$e" "$b" "$e.$DOMAIN" > /dev/null
		echo "$DOMAIN" > "$d/$e/control/rcpthosts"
		if [ "$(link)" = qmtp ]; then
			echo "$DOMAIN:[10.35.0.1]" > "$d/$e/control/qmtproutes"
		else
			echo "$DOMAIN:[10.35.0.1]:6209" > "$d/$e/control/qmtproutes"
			echo "*:$d/certs/$e.pem|$d/certs/$e.key" > "$d/$e/control/domaincerts"
			echo "$DOMAIN:$d/certs/ca.pem" > "$d/$e/control/tlsdestinations"
		fi
		rules "$d/$e/control/rules.qmqpd.cdb" '10.35.0.4:allow' ':deny'
		# nothing else leaves an edge: other domains would wait in its queue
		echo 2 > "$d/$e/control/timeoutconnect"
	done
	sh "$here/mkhome.sh" "$d/null" "$b" "null.$DOMAIN" > /dev/null
	ln -sf "$(readlink "$d/null/bin/qmail-qmqpc")" "$d/null/bin/qmail-queue"
	printf '%s\n' 10.35.0.1 10.35.0.2 > "$d/null/control/qmqpservers"
	echo 2 > "$d/null/control/timeoutconnect"
	echo 30 > "$d/null/control/timeoutremote"
}

# net DIR - the namespaces, a bridge, one veth per node
net() {
	ip netns add "$SW"
	ip -n "$SW" link add br0 type bridge
	ip -n "$SW" link set br0 up
	ip -n "$SW" link set lo up
	for n in $NODES; do
		mkdir -p "/etc/netns/$(ns "$n")"
		# no DNS: every peer is an address (nothing waits on an outside server)
		printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' \
		    > "/etc/netns/$(ns "$n")/resolv.conf"
		ip netns add "$(ns "$n")"
		ip link add eth0 netns "$(ns "$n")" type veth peer name "p-$n" netns "$SW"
		ip -n "$SW" link set "p-$n" master br0 up
		ip -n "$(ns "$n")" link set lo up
		ip -n "$(ns "$n")" addr add "$(addr "$n")/24" dev eth0
		ip -n "$(ns "$n")" link set eth0 up
	done
}

# start NODE DIR - the node's processes
start() {
	n=$1 d=$2
	case $n in
	hub | edge1 | edge2)
		bg "$n" "$d" send "$d/$n/bin/qmail-start" ./Maildir/
		;;
	esac
	case $n in
	hub)
		listen hub "$d" qmtpd 209 qmail-qmtpd
		listen hub "$d" qmqpd 628 qmail-qmqpd
		if [ "$(link)" = qmtps ]; then
			listen hub "$d" qmtps 6209 qmail-qmtpd \
			    "CREDENTIALS_DIRECTORY=$d/hub/control/tls" -- --tls=implicit
		fi
		;;
	edge1 | edge2)
		listen "$n" "$d" smtpd 25 qmail-smtpd
		listen "$n" "$d" qmqpd 628 qmail-qmqpd
		;;
	esac
	sleep 0.2
	case $n in
	null) ;;
	*) ours "$d" "$n" "$(cat "$d/run/$n-send.pid")" || die "$n: qmail-start exited ($d/log/$n-send.log)" ;;
	esac
}

# stop NODE DIR - listeners first (running sessions finish), then qmail-send
stop() {
	for p in qmtps qmtpd qmqpd smtpd send; do stop_pid "$2" "$1" "$p"; done
}

cmd_up() {
	[ "$(id -u)" = 0 ] || die "needs root (network namespaces)"
	for c in ip systemd-socket-activate tcprules; do
		command -v $c > /dev/null || die "$c not found"
	done
	d=$1 b=$(cd "$2" && pwd)
	mkdir -p "$d"
	d=$(cd "$d" && pwd)
	cmd_down "$d"
	mkdir -p "$d/log" "$d/run"
	echo "${SQ_NETNS_ID:-}" > "$d/netns-id"
	ids "$d"
	link > "$d/link"
	homes "$d" "$b"
	if [ "$(link)" = qmtps ]; then
		certs "$d"
		# the files qmail-qmtps@.service passes by LoadCredential=
		t=$d/hub/control/tls
		mkdir -p "$t"
		cp "$d/certs/hub.pem" "$t/qmtpd.pem"
		cp "$d/certs/hub.key" "$t/qmtpd.key"
		cp "$d/certs/ca.pem" "$t/clientca.pem"
		head -c 64 /dev/urandom > "$t/tls-ticket.key"
	fi
	net "$d"
	for n in $NODES; do start "$n" "$d"; done
	echo "cluster: up in $d ($(link) from the edges to the hub)"
}

cmd_down() {
	d=$1
	[ -d "$d" ] || return 0
	ids "$d"
	for n in $NODES; do
		ip netns list 2>/dev/null | grep -q "^$(ns "$n")\b" && stop "$n" "$d"
	done
	# what is left in our namespaces is ours (handlers of open connections)
	for n in $NODES; do
		for pid in $(ip netns pids "$(ns "$n")" 2>/dev/null); do
			kill -s KILL "$pid" 2>/dev/null || :
		done
		ip netns del "$(ns "$n")" 2>/dev/null || :
		rm -rf "/etc/netns/$(ns "$n")"
	done
	ip netns del "$SW" 2>/dev/null || :
	rm -f "$d"/run/*.pid
}

cmd_retry() {
	ids "$1"
	for n in edge1 edge2; do
		pid=$(cat "$1/run/$n-send.pid" 2>/dev/null) || continue
		ours "$1" "$n" "$pid" && kill -s ALRM "$pid"
	done
	return 0
}

# wait_token MAILDIR TOKEN - the file holding TOKEN, within 20 s
wait_token() {
	i=0
	while [ $i -lt 200 ]; do
		f=$(grep -l "$2" "$1"/new/* 2>/dev/null | head -n 1) || :
		[ -n "$f" ] && { echo "$f"; return 0; }
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

cmd_demo() {
	d=$(cd "$1" && pwd)
	ids "$d"
	t=demo-$(date +%s)-$$
	for e in edge1 edge2; do
		printf 'From: bob@%s\nTo: alice@%s\nSubject: %s via %s\n\nhello\n' \
		    "$DOMAIN" "$DOMAIN" "$t-$e" "$e" |
		    on null "$d" python3 -c '
import smtplib, sys
with smtplib.SMTP(sys.argv[1], 25, local_hostname="null.cluster.test") as s:
    s.sendmail("bob@cluster.test", ["alice@cluster.test"], sys.stdin.read())
' "$(addr "$e")" || die "SMTP to $e failed"
	done
	printf 'From: bob@%s\nTo: alice@%s\nSubject: %s via the null client\n\nhello\n' \
	    "$DOMAIN" "$DOMAIN" "$t-null" |
	    on null "$d" "$d/null/bin/sendmail" -f "bob@$DOMAIN" "alice@$DOMAIN" ||
	    die "the null client could not hand the mail over (QMQP)"
	for p in edge1 edge2 null; do
		f=$(wait_token "$d/hub/home/alice/Maildir" "$t-$p") ||
		    die "the mail via $p did not reach the hub's Maildir in 20 s"
		echo "cluster: via $p: $f"
		# the Received lines with their continuations
		awk '/^$/ { exit } /^Received:/ { r = 1; print "    " $0; next }
		    /^[ \t]/ { if (r) print "    " $0; next } { r = 0 }' "$f"
	done
}

cmd_info() {
	d=$(cd "$1" && pwd)
	ids "$d"
	echo "cluster: $d, links $(cat "$d/link" 2>/dev/null)"
	for n in $NODES; do
		echo "  $n	$(addr "$n")	ip netns exec $(ns "$n") ...	home $d/$n"
	done
	echo "  mailboxes  $d/hub/home/alice/Maildir/  $d/hub/home/bob/Maildir/"
	echo "  logs       $d/log/"
	echo "  send       sandbox-tools/cluster.sh exec null $d $d/null/bin/sendmail alice@$DOMAIN < msg"
}

[ $# -ge 2 ] || die "usage: cluster.sh up DIR BUILDDIR | down|retry|demo|info DIR | stop|start NODE DIR | exec NODE DIR CMD..."
case $1 in
up) [ $# -eq 3 ] || die "usage: cluster.sh up DIR BUILDDIR"; cmd_up "$2" "$3" ;;
down) cmd_down "$2"; [ -d "$2" ] && echo "cluster: down" ;;
stop | start)
	[ $# -eq 3 ] || die "usage: cluster.sh $1 NODE DIR"
	d=$(cd "$3" && pwd)
	ids "$d"
	addr "$2" > /dev/null
	CLUSTER_LINK=$(cat "$d/link")
	"$1" "$2" "$d"
	;;
retry) cmd_retry "$(cd "$2" && pwd)" ;;
exec)
	[ $# -ge 4 ] || die "usage: cluster.sh exec NODE DIR CMD..."
	n=$2 d=$(cd "$3" && pwd)
	shift 3
	ids "$d"
	on "$n" "$d" "$@"
	;;
demo) cmd_demo "$2" ;;
info) cmd_info "$2" ;;
*) die "unknown command $1" ;;
esac
