# SPDX-License-Identifier: MIT
# bench/sqmail.sh - the sqmail instance for bench/run (sourced, not run).
# A private qmail home under $SQ_DIR made by sandbox-tools/mkhome.sh for the
# domain $BENCH_DOMAIN, owned by and run as $BENCH_UID (qmail-start's
# "everything under the caller" mode, as the sandbox runs): qmail-start (send,
# lspawn, clean) and qmail-smtpd started per connection by
# systemd-socket-activate on 127.0.0.1:$SQ_PORT (listen backlog SOMAXCONN),
# and the queue writer qmail-queued that qmail-queue hands messages to
# (BENCH_QUEUED=no: none, every qmail-queue writes the queue itself).
# Mail for alice@$BENCH_DOMAIN lands in $SQ_DIR/home/home/alice/Maildir/.

SQ_SEND_PID= SQ_SMTPD_PID= SQ_QUEUED_PID=

# sq_check : the programs the bench needs are built
sq_check() {
	local p
	for p in qmail-start qmail-send qmail-queue qmail-smtpd qmail-lspawn qmail-local; do
		[ -n "$(find "$SQ_BUILDDIR" -maxdepth 3 -type f -perm -u+x -name "$p" \
			-not -path '*/tests/*' | head -n 1)" ] || return 1
	done
	return 0
}

# sq_as_user CMD... : run CMD as the bench user with a clean environment
sq_as_user() {
	setpriv --reuid="$BENCH_UID" --regid="$BENCH_GID" --clear-groups \
		env -i PATH=/usr/bin:/bin QMAILHOME="$SQ_DIR/home" "$@"
}

# sq_setup : lay out the home (mkhome.sh), owned by the bench user
sq_setup() {
	mkdir -p "$SQ_DIR"
	chown "$BENCH_UID:$BENCH_GID" "$SQ_DIR"
	sq_as_user sh "$SQ_SRCDIR/sandbox-tools/mkhome.sh" "$SQ_DIR/home" \
		"$SQ_BUILDDIR" "$BENCH_DOMAIN" >"$SQ_DIR/mkhome.log" 2>&1 ||
		bench_die "mkhome.sh failed: $(tail -n 3 "$SQ_DIR/mkhome.log")"
}

# sq_queued : unless BENCH_QUEUED=no, the queue writer qmail-queued (group
# commit) on $SQ_DIR/queued.sock, never exiting when idle; control/queuewriter
# makes qmail-queue hand every message to it, as it does in production
sq_queued() {
	local h=$SQ_DIR/home n=0
	[ "${BENCH_QUEUED:-yes}" = no ] && return 0
	sq_as_user sh -c "echo '$SQ_DIR/queued.sock' > '$h/control/queuewriter' &&
		echo 0 > '$h/control/idlequeued'"
	(exec setpriv --reuid="$BENCH_UID" --regid="$BENCH_GID" --clear-groups \
		env -i PATH=/usr/bin:/bin QMAILHOME="$h" "$h/bin/qmail-queued") \
		>"$SQ_DIR/queued.log" 2>&1 </dev/null &
	SQ_QUEUED_PID=$!
	until [ -S "$SQ_DIR/queued.sock" ]; do
		[ $n -ge 50 ] && bench_die "qmail-queued: $(tail -n 3 "$SQ_DIR/queued.log")"
		sleep 0.1
		n=$((n + 1))
	done
}

# sq_start : the queue writer, qmail-start in the background, then the SMTP listener
sq_start() {
	local h=$SQ_DIR/home
	bench_listening "$SQ_PORT" && bench_die "127.0.0.1:$SQ_PORT is busy"
	sq_queued
	(cd "$h" && exec setpriv --reuid="$BENCH_UID" --regid="$BENCH_GID" --clear-groups \
		env -i PATH=/usr/bin:/bin QMAILHOME="$h" "$h/bin/qmail-start" ./Maildir/) \
		>"$SQ_DIR/send.log" 2>&1 </dev/null &
	SQ_SEND_PID=$!
	# exec, so that $! is the listener itself and not a subshell around it
	(exec setpriv --reuid="$BENCH_UID" --regid="$BENCH_GID" --clear-groups \
		env -i PATH=/usr/bin:/bin systemd-socket-activate -l "127.0.0.1:$SQ_PORT" \
		--inetd -a -E QMAILHOME="$h" "$h/bin/qmail-smtpd") \
		>"$SQ_DIR/smtpd.log" 2>&1 </dev/null &
	SQ_SMTPD_PID=$!
	bench_wait_port "$SQ_PORT" 20 || bench_die "qmail-smtpd does not listen on $SQ_PORT"
	sleep 0.5
	kill -0 "$SQ_SEND_PID" 2>/dev/null ||
		bench_die "qmail-start exited: $(tail -n 3 "$SQ_DIR/send.log")"
}

# sq_pids : the roots of the sqmail process trees
sq_pids() { echo "$SQ_SEND_PID $SQ_SMTPD_PID $SQ_QUEUED_PID"; }

# sq_stop : stop the listener and qmail-start (which lets deliveries finish),
# then anything of their trees that is left, each by its pid
sq_stop() {
	local left p
	[ -n "$SQ_SEND_PID$SQ_SMTPD_PID$SQ_QUEUED_PID" ] || return 0
	left=$(bench_tree $SQ_SEND_PID $SQ_SMTPD_PID $SQ_QUEUED_PID)
	bench_stop_pid "$SQ_SMTPD_PID" 5
	[ -n "$SQ_QUEUED_PID" ] && bench_stop_pid "$SQ_QUEUED_PID" 5
	bench_stop_pid "$SQ_SEND_PID" 20
	for p in $left; do bench_stop_pid "$p" 2; done
	wait $SQ_SEND_PID $SQ_SMTPD_PID $SQ_QUEUED_PID 2>/dev/null
	SQ_SEND_PID= SQ_SMTPD_PID= SQ_QUEUED_PID=
}

# sq_maildir : where the bench recipient's mail lands
sq_maildir() { echo "$SQ_DIR/home/home/alice/Maildir"; }

# sq_queue_empty : true when no message is left in the queue
sq_queue_empty() {
	[ -z "$(find "$SQ_DIR/home/queue/mess" -type f 2>/dev/null | head -n 1)" ]
}
