# SPDX-License-Identifier: MIT
# bench/postfix.sh - the Postfix anchor for bench/run (sourced, not run).
# A private Postfix instance from Debian's package: its own config directory,
# queue and Maildir under $PF_DIR, listening on 127.0.0.1:$PF_PORT only, mail
# for $BENCH_DOMAIN delivered by virtual(8) into $PF_DIR/Maildir/ as
# $BENCH_UID. Postfix's defaults otherwise (fsync before the 250, one smtpd
# per session, default process limits). /etc/postfix is left alone: the
# package is installed with "No configuration" and the system instance is
# never started.

# pf_install : the package (it also brings smtp-source, the client)
pf_install() {
	if ! dpkg -s postfix >/dev/null 2>&1; then
		echo "postfix postfix/main_mailer_type select No configuration" |
			debconf-set-selections
		bench_apt postfix
	fi
	command -v postconf >/dev/null || bench_die "postconf missing after install"
}

# pf_setup : write the private configuration
pf_setup() {
	local c=$PF_DIR/conf
	mkdir -p "$c" "$PF_DIR/queue" "$PF_DIR/data" "$PF_DIR/Maildir"/{tmp,new,cur}
	chown postfix: "$PF_DIR/data"
	chown -R "$BENCH_UID:$BENCH_GID" "$PF_DIR/Maildir"
	chmod 700 "$PF_DIR/Maildir"
	cp /etc/postfix/master.cf "$c/master.cf"
	: > "$c/main.cf"
	postconf -c "$c" -e \
		"compatibility_level = 3.6" \
		"queue_directory = $PF_DIR/queue" \
		"data_directory = $PF_DIR/data" \
		"myhostname = postfix.$BENCH_DOMAIN" \
		"mydomain = $BENCH_DOMAIN" \
		"myorigin = $BENCH_DOMAIN" \
		"mydestination =" \
		"inet_interfaces = 127.0.0.1" \
		"inet_protocols = ipv4" \
		"mynetworks = 127.0.0.0/8" \
		"relayhost =" \
		"alias_maps =" "alias_database =" "local_recipient_maps =" \
		"virtual_mailbox_domains = $BENCH_DOMAIN" \
		"virtual_mailbox_base = $PF_DIR" \
		"virtual_mailbox_maps = static:Maildir/" \
		"virtual_uid_maps = static:$BENCH_UID" \
		"virtual_gid_maps = static:$BENCH_GID" \
		"virtual_minimum_uid = 1" \
		"maillog_file_prefixes = $PF_DIR" \
		"maillog_file = $PF_DIR/maillog" \
		"smtputf8_enable = no" "biff = no"
	# one listener on our port; no chroot (the private queue has no chroot files)
	postconf -c "$c" -MX smtp/inet
	postconf -c "$c" -M "127.0.0.1:$PF_PORT/inet=127.0.0.1:$PF_PORT inet n - n - - smtpd"
	postconf -c "$c" -F '*/*/chroot = n'
	# nothing may leave loopback: the machine's resolv.conf names an outside
	# server, so Postfix gets a loopback-only one in its own mount namespace
	printf '%s\n' 'nameserver 127.0.0.1' 'options timeout:1 attempts:1' > "$PF_DIR/resolv.conf"
	postfix -c "$c" check >"$PF_DIR/check.log" 2>&1 || true
}

# pf_start : start master(8) in a private mount namespace, wait for the port
pf_start() {
	bench_listening "$PF_PORT" && bench_die "127.0.0.1:$PF_PORT is busy"
	unshare --mount --propagation private sh -c \
		'mount --bind "$1" /etc/resolv.conf && exec postfix -c "$2" start' \
		pf-bench "$PF_DIR/resolv.conf" "$PF_DIR/conf" >"$PF_DIR/start.log" 2>&1 ||
		bench_die "postfix start failed: $(tail -n 3 "$PF_DIR/start.log")"
	bench_wait_port "$PF_PORT" 20 || bench_die "postfix does not listen on $PF_PORT"
}

# pf_pids : the root of the Postfix process tree (master)
pf_pids() {
	head -n 1 "$PF_DIR/queue/pid/master.pid" 2>/dev/null | tr -dc '0-9'
}

# pf_stop : stop master and its children, by pid
pf_stop() {
	local pid
	pid=$(pf_pids)
	[ -n "$pid" ] || return 0
	postfix -c "$PF_DIR/conf" stop >/dev/null 2>&1
	bench_stop_pid "$pid" 15
}

# pf_maildir : where the bench recipient's mail lands
pf_maildir() { echo "$PF_DIR/Maildir"; }

# pf_queue_empty : true when the Postfix queue holds no message
pf_queue_empty() {
	[ -z "$(find "$PF_DIR/queue/incoming" "$PF_DIR/queue/active" \
		"$PF_DIR/queue/deferred" -type f 2>/dev/null | head -n 1)" ]
}
