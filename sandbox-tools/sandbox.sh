#!/bin/sh
# SPDX-License-Identifier: MIT
# sandbox.sh - run a sqmail instance on loopback as the invoking user.
# usage: sandbox.sh start SANDBOX BUILDDIR   lay out SANDBOX (mkhome.sh), start
#                                            qmail-start and qmail-smtpd (and
#                                            qmail-qmtpd, qmail-qmqpd when built)
#        sandbox.sh stop SANDBOX             stop what start started, by pid
#        sandbox.sh demo SANDBOX             send a mail to alice over SMTP, show it
#        sandbox.sh info SANDBOX             print the endpoints
#        sandbox.sh run SANDBOX BUILDDIR     start + demo + info (make run)
# environment: SMTP_PORT (2525), SANDBOX_IPV6=no to listen on 127.0.0.1 only.
#              SMTPS_PORT (2465), SUBMISSION_PORT (2587), SANDBOX_TLS=no: see sandbox-tls.sh.
#              QMTP_PORT (2209), QMQP_PORT (2628; clients from 127.0.0.1 only, through
#              control/rules.qmqpd.cdb), QMTPS_PORT (26209; a client certificate
#              of the sandbox CA relays: control/tls/qmtp-client.pem/.key): extras,
#              skipped with a message when they cannot start, and (as TLS) not
#              started for an instance that sets SMTP_PORT alone.
#              SANDBOX_QUEUED=yes: also start the queue writer qmail-queued on
#              SANDBOX/run/queued.sock (control/queuewriter), so that every
#              qmail-queue hands its message to it as in production; off by default
#              (one uid owns the sandbox's queue, and the bench showed no gain).
# Nothing here needs or uses privileges: as root, everything runs as root
# (qmail-start changes no uid for a QMAILHOME home on a host without qmail's
# users; qmail-lspawn delivers as uid 0 only for a QMAILHOME home), and
# users/assign maps alice and bob to the invoking user.
# Processes are started with setsid, so each is the leader of its own process
# group; pids go to SANDBOX/run/*.pid and stop checks that a pid still belongs
# to this sandbox (its working directory) before it signals it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=sandbox-tools/sandbox-tls.sh
. "$here/sandbox-tls.sh"
need="qmail-start qmail-send qmail-lspawn qmail-rspawn qmail-clean qmail-local qmail-queue qmail-smtpd"

die() {
	echo "sandbox: $*" >&2
	exit 1
}

# absdir DIR - DIR made absolute (created if missing)
absdir() {
	mkdir -p "$1"
	(cd "$1" && pwd)
}

# ours SANDBOX PID - is PID alive and running in SANDBOX?
ours() {
	[ -n "$2" ] && kill -0 "$2" 2>/dev/null &&
	    case $(readlink "/proc/$2/cwd" 2>/dev/null) in "$1" | "$1"/*) ;; *) false ;; esac
}

# has_ipv6 - can we listen on [::1]?
has_ipv6() {
	[ "${SANDBOX_IPV6:-auto}" != no ] &&
	    grep -q '^00000000000000000000000000000001 ' /proc/net/if_inet6 2>/dev/null
}

# wait_group PGID TENTHS - wait until process group PGID is gone
wait_group() {
	n=0
	while kill -s 0 -- "-$1" 2>/dev/null; do
		[ "$n" -ge "$2" ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 0
}

# stop_one SANDBOX NAME - stop the process group recorded in run/NAME.pid.
# qmail-send gets SIGTERM alone (it lets running deliveries finish, its
# spawns exit when their pipes close), like KillMode=mixed in the unit.
stop_one() {
	pidfile=$1/run/$2.pid
	[ -f "$pidfile" ] || return 0
	pid=$(cat "$pidfile")
	if ours "$1" "$pid"; then
		if [ "$2" = send ]; then
			kill -s TERM "$pid" 2>/dev/null || :
		else
			kill -s TERM -- "-$pid" 2>/dev/null || :
		fi
		if ! wait_group "$pid" 100; then
			echo "sandbox: $2 (pid $pid) did not stop in 10 s, killing it" >&2
			kill -s KILL -- "-$pid" 2>/dev/null || :
			wait_group "$pid" 20 || :
		fi
		echo "sandbox: stopped $2 (pid $pid)"
	fi
	rm -f "$pidfile"
}

cmd_stop() {
	sb=$1
	[ -d "$sb" ] || return 0
	sb=$(cd "$sb" && pwd)
	stop_one "$sb" qmqpd
	stop_one "$sb" qmtpd
	stop_one "$sb" qmtps
	rm -f "$sb/run/qmtpd.port" "$sb/run/qmqpd.port" "$sb/run/qmtps.port"
	stop_one "$sb" smtpd
	tls_stop "$sb"
	stop_one "$sb" queued
	stop_one "$sb" send
}

# start_queued SANDBOX - with SANDBOX_QUEUED=yes, the queue writer on
# SANDBOX/run/queued.sock, never exiting when idle (nothing here would start
# it again); otherwise none, and qmail-queue writes the queue itself
start_queued() {
	rm -f "$1/control/queuewriter" "$1/run/queued.sock" "$1/run/queued.pid"
	[ "${SANDBOX_QUEUED:-no}" = yes ] || return 0
	echo "$1/run/queued.sock" > "$1/control/queuewriter"
	echo 0 > "$1/control/idlequeued"
	(cd "$1/queue" && QMAILHOME=$1 exec setsid "$1/bin/qmail-queued") \
	    < /dev/null >> "$1/log/queued.log" 2>&1 &
	echo $! > "$1/run/queued.pid"
	n=0
	until [ -S "$1/run/queued.sock" ]; do
		if ! kill -0 "$(cat "$1/run/queued.pid")" 2>/dev/null || [ $n -ge 50 ]; then
			stop_one "$1" queued > /dev/null
			rm -f "$1/control/queuewriter"
			echo "sandbox: qmail-queued did not start, qmail-queue writes the queue itself"
			tail -n 3 "$1/log/queued.log"
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
}

# listen SANDBOX OPTIONS - run qmail-smtpd per connection on the -l OPTIONS;
# 0 once every address listens, 1 if systemd-socket-activate gave up
listen() {
	: > "$1/log/smtpd.log"
	# shellcheck disable=SC2086 # $2 is a list of options
	setsid systemd-socket-activate --inetd -a $2 -E "QMAILHOME=$1" \
	    "$1/bin/qmail-smtpd" < /dev/null >> "$1/log/smtpd.log" 2>&1 &
	echo $! > "$1/run/smtpd.pid"
	want=$(($(echo "$2" | wc -w) / 2))
	n=0
	while [ "$(grep -c '^Listening on' "$1/log/smtpd.log")" -lt "$want" ]; do
		if ! kill -0 "$(cat "$1/run/smtpd.pid")" 2>/dev/null || [ $n -ge 50 ]; then
			stop_one "$1" smtpd > /dev/null
			return 1
		fi
		sleep 0.1
		n=$((n + 1))
	done
}

# start_smtpd SANDBOX PORT - SMTP on 127.0.0.1 and, where it works, [::1]
start_smtpd() {
	if has_ipv6; then
		listen "$1" "-l 127.0.0.1:$2 -l [::1]:$2" && return 0
		echo "sandbox: cannot listen on [::1]:$2, trying 127.0.0.1 only"
	else
		echo "sandbox: no IPv6 loopback (::1), listening on 127.0.0.1 only"
	fi
	listen "$1" "-l 127.0.0.1:$2" && return 0
	cat "$1/log/smtpd.log" >&2
	return 1
}

# start_extra SANDBOX NAME PORTVAR DEFAULT - qmail-NAME per connection on
# 127.0.0.1:$PORTVAR (DEFAULT); nothing for an instance that sets SMTP_PORT
# alone (parallel e2e instances), a warning (not a failure) when it is not
# built or cannot listen
start_extra() {
	eval "port=\${$3:-}"
	if [ -z "$port" ]; then
		[ -n "${SMTP_PORT:-}" ] && return 0
		port=$4
	fi
	[ -x "$1/bin/qmail-$2" ] || { echo "sandbox: qmail-$2 not built, no $2"; return 0; }
	: > "$1/log/$2.log"
	setsid systemd-socket-activate --inetd -a -l "127.0.0.1:$port" -E "QMAILHOME=$1" \
	    "$1/bin/qmail-$2" < /dev/null >> "$1/log/$2.log" 2>&1 &
	echo $! > "$1/run/$2.pid"
	n=0
	until grep -q '^Listening on' "$1/log/$2.log"; do
		if ! kill -0 "$(cat "$1/run/$2.pid")" 2>/dev/null || [ $n -ge 50 ]; then
			stop_one "$1" "$2" > /dev/null
			echo "sandbox: qmail-$2 cannot listen on 127.0.0.1:$port, skipped"
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	echo "$port" > "$1/run/$2.port"
}

# start_qmqpd SANDBOX - QMQP relays anything: only 127.0.0.1 is allowed
start_qmqpd() {
	command -v tcprules > /dev/null || {
		echo "sandbox: tcprules not found (Debian package ucspi-tcp), no qmqpd"
		return 0
	}
	printf '127.0.0.1:allow\n:deny\n' |
	    tcprules "$1/control/rules.qmqpd.cdb" "$1/control/rules.qmqpd.tmp"
	start_extra "$1" qmqpd QMQP_PORT 2628
}

# qmtps_certs SANDBOX - the sandbox CA's server certificate as qmtpd's credential,
# the CA as clientca.pem, and a client certificate (qmtp-client) that may relay
qmtps_certs() {
	t=$1/control/tls
	tls_setup "$1" || return 1
	(
		umask 077
		cd "$t"
		[ -f qmtp-client.pem ] && exit 0
		ln -sf smtpd.pem qmtpd.pem
		ln -sf smtpd.key qmtpd.key
		ln -sf ca.pem clientca.pem
		certtool --generate-privkey --key-type=ecdsa --outfile qmtp-client.key
		printf '%s\n' 'cn = "relay.sandbox.test"' 'dns_name = "relay.sandbox.test"' \
		    tls_www_client signing_key 'expiration_days = 365' > qmtp-client.tmpl
		certtool --generate-certificate --load-privkey qmtp-client.key \
		    --load-ca-certificate ca.pem --load-ca-privkey ca.key \
		    --template qmtp-client.tmpl --outfile qmtp-client.pem
	) >> "$1/log/certtool.log" 2>&1
}

# start_qmtps SANDBOX - qmail-qmtpd --tls=implicit on 127.0.0.1:$QMTPS_PORT (26209),
# the same rules as start_extra
start_qmtps() {
	port=${QMTPS_PORT:-}
	if [ -z "$port" ]; then
		[ -n "${SMTP_PORT:-}" ] && return 0
		port=26209
	fi
	command -v certtool > /dev/null || { echo "sandbox: certtool not found, no QMTPS"; return 0; }
	qmtps_certs "$1" || { echo "sandbox: no certificates (log/certtool.log), no QMTPS"; return 0; }
	: > "$1/log/qmtps.log"
	setsid systemd-socket-activate --inetd -a -l "127.0.0.1:$port" -E "QMAILHOME=$1" \
	    -E "CREDENTIALS_DIRECTORY=$1/control/tls" "$1/bin/qmail-qmtpd" --tls=implicit \
	    < /dev/null >> "$1/log/qmtps.log" 2>&1 &
	echo $! > "$1/run/qmtps.pid"
	n=0
	until grep -q '^Listening on' "$1/log/qmtps.log"; do
		if ! kill -0 "$(cat "$1/run/qmtps.pid")" 2>/dev/null || [ $n -ge 50 ]; then
			stop_one "$1" qmtps > /dev/null
			echo "sandbox: QMTPS cannot listen on 127.0.0.1:$port, skipped"
			return 0
		fi
		sleep 0.1
		n=$((n + 1))
	done
	echo "$port" > "$1/run/qmtps.port"
}

cmd_start() {
	sb=$(absdir "$1")
	build=$(cd "$2" && pwd)
	port=${SMTP_PORT:-2525}
	command -v systemd-socket-activate > /dev/null ||
	    die "systemd-socket-activate not found (Debian package systemd)"
	cmd_stop "$sb" > /dev/null
	sh "$here/mkhome.sh" "$sb" "$build"
	for p in $need; do
		[ -x "$sb/bin/$p" ] || die "$p is not built yet (run make first)"
	done
	mkdir -p "$sb/log" "$sb/run"
	echo "$port" > "$sb/run/smtp.port"
	start_queued "$sb"
	cd "$sb"
	QMAILHOME=$sb setsid "$sb/bin/qmail-start" ./Maildir/ \
	    < /dev/null >> "$sb/log/send.log" 2>&1 &
	echo $! > "$sb/run/send.pid"
	start_smtpd "$sb" "$port" || {
		cmd_stop "$sb" > /dev/null
		die "qmail-smtpd listener did not start (is port $port in use? try SMTP_PORT=...)"
	}
	tls_start "$sb" || {
		cmd_stop "$sb" > /dev/null
		die "SMTPS/submission listeners did not start (ports in use? SMTPS_PORT=, SUBMISSION_PORT=)"
	}
	start_extra "$sb" qmtpd QMTP_PORT 2209
	start_qmtps "$sb"
	start_qmqpd "$sb"
	sleep 0.2
	ours "$sb" "$(cat "$sb/run/send.pid")" || {
		tail -n 20 "$sb/log/send.log" >&2
		cmd_stop "$sb"
		die "qmail-start exited at once (log above)"
	}
}

# smtp_send HOST PORT FROM TO SUBJECT BODY - one mail over SMTP
smtp_send() {
	if command -v swaks > /dev/null; then
		swaks --silent 2 --server "$1" --port "$2" --helo sandbox.test \
		    --from "$3" --to "$4" --header "Subject: $5" --body "$6"
	else
		python3 - "$@" <<'EOF'
import smtplib, sys
from email.message import EmailMessage
host, port, sender, rcpt, subject, body = sys.argv[1:7]
msg = EmailMessage()
msg["From"], msg["To"], msg["Subject"] = sender, rcpt, subject
msg.set_content(body)
with smtplib.SMTP(host, int(port), local_hostname="sandbox.test") as s:
    s.send_message(msg)
EOF
	fi
}

cmd_demo() {
	sb=$(cd "$1" && pwd)
	port=$(cat "$sb/run/smtp.port")
	token="demo-$(date +%s)-$$"
	echo "sandbox: sending a demo mail to alice@sandbox.test over 127.0.0.1:$port"
	smtp_send 127.0.0.1 "$port" bob@sandbox.test alice@sandbox.test \
	    "sqmail sandbox demo $token" "Hello alice, this is the sandbox ($token)." ||
	    die "SMTP delivery to 127.0.0.1:$port failed (see $sb/log/smtpd.log)"
	n=0
	while :; do
		file=$(grep -l "$token" "$sb"/home/alice/Maildir/new/* 2>/dev/null | head -n 1) || :
		[ -n "$file" ] && break
		if [ $n -ge 50 ]; then
			tail -n 20 "$sb/log/send.log" >&2
			die "the demo mail did not reach $sb/home/alice/Maildir/new/ in 5 s (log above)"
		fi
		sleep 0.1
		n=$((n + 1))
	done
	echo "sandbox: delivered to $file"
	echo "----"
	cat "$file"
	echo "----"
}

cmd_info() {
	sb=$(cd "$1" && pwd)
	port=$(cat "$sb/run/smtp.port")
	echo "sandbox: $sb (domain sandbox.test, users alice and bob, postmaster -> alice)"
	echo "  SMTP         127.0.0.1:$port"
	grep -q "^Listening on \[::1\]" "$sb/log/smtpd.log" && echo "  SMTP         [::1]:$port"
	tls_info "$sb"
	[ -f "$sb/run/qmtpd.port" ] && echo "  QMTP         127.0.0.1:$(cat "$sb/run/qmtpd.port")"
	[ -f "$sb/run/qmtps.port" ] &&
	    echo "  QMTPS        127.0.0.1:$(cat "$sb/run/qmtps.port") (implicit TLS; certificate" \
	        "$sb/control/tls/qmtp-client.pem relays)"
	[ -f "$sb/run/qmqpd.port" ] &&
	    echo "  QMQP         127.0.0.1:$(cat "$sb/run/qmqpd.port") (from 127.0.0.1 only)"
	echo "  injection    $sb/bin/sendmail -t < message"
	echo "  mailboxes    $sb/home/alice/Maildir/new/  $sb/home/bob/Maildir/new/"
	if [ -f "$sb/run/queued.pid" ]; then
		echo "  queue writer $sb/run/queued.sock (qmail-queued, log/queued.log)"
	fi
	echo "  logs         $sb/log/send.log  $sb/log/smtpd.log  $sb/log/qmtpd.log  $sb/log/qmtps.log  $sb/log/qmqpd.log"
	echo "  stop with    make stop"
}

[ $# -ge 2 ] || die "usage: sandbox.sh start|run SANDBOX BUILDDIR | stop|demo|info SANDBOX"
case $1 in
start) [ $# -eq 3 ] || die "usage: sandbox.sh start SANDBOX BUILDDIR"; cmd_start "$2" "$3" ;;
run)
	[ $# -eq 3 ] || die "usage: sandbox.sh run SANDBOX BUILDDIR"
	cmd_start "$2" "$3"
	cmd_demo "$2"
	cmd_info "$2"
	;;
stop) cmd_stop "$2" ;;
demo) cmd_demo "$2" ;;
info) cmd_info "$2" ;;
*) die "unknown command $1" ;;
esac
