#!/bin/sh
# SPDX-License-Identifier: MIT
# tests/remote/netns.sh - the network for qmail-remote's DNS and peer tests.
# usage: netns.sh up DIR BUILDDIR SRCDIR | netns.sh down DIR
# environment: SQ_NETNS_ID, a suffix for the namespace and link names, so
# that several test runs (worktrees, CI jobs) do not meet.
#
# Two network namespaces joined by a veth pair:
#   sqtest-remote-c  the client: 10.38.0.1, fd38::1, fe80::38:1 (link-local);
#                    dnsmasq on 127.0.0.1:53 serving the zone "test"
#                    (/etc/netns/sqtest-remote-c/resolv.conf points at it, so
#                    "ip netns exec" gives qmail-remote this DNS); baddns.py on
#                    127.0.0.2:53 with broken answers for "bad.test" (tests
#                    bind-mount DIR/resolv-bad.conf over /etc/resolv.conf)
#   sqtest-remote-s  the peers:
#     10.38.0.2, fd38::2  :25  smtp-sink (accepts everything)
#     10.38.0.3           :25  smtp-sink answering 4xx to MAIL
#     10.38.0.4           :25  smtp-sink answering 5xx to RCPT
#     10.38.0.5           :25 STARTTLS, :465 SMTPS  Postfix with TLS and Cyrus
#                              SASL (sasldb: user "sqtest", password "sqpass")
#     10.38.0.7           :25  another sqmail: qmail-smtpd under
#                              systemd-socket-activate, its own home in DIR/peer
#     fe80::38:7 (any)  :2527  the same sqmail on [::]:2527 (link-local tests;
#                              DIR/peer2527.log names each client address)
#     10.38.0.9, fd38::9  nothing listens (connection refused)
# Needs root; every process started is recorded in DIR/pids and stopped by
# "down", which also removes the namespaces and /etc/netns entries.
set -eu
id=${SQ_NETNS_ID:-}
C=sqtest-remote-c$id S=sqtest-remote-s$id
cmd=$1 dir=$2

down() {
	if [ -f "$dir/postfix/conf/main.cf" ]; then
		ip netns exec $S postfix -c "$dir/postfix/conf" stop >/dev/null 2>&1 || true
	fi
	if [ -f "$dir/pids" ]; then
		while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$dir/pids"
	fi
	# whatever is left in our namespaces was started by us (qmail-smtpd
	# children, Postfix daemons)
	for ns in $C $S; do
		for pid in $(ip netns pids $ns 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
	done
	ip netns del $C 2>/dev/null || true
	ip netns del $S 2>/dev/null || true
	rm -rf /etc/netns/$C /etc/netns/$S
}

if [ "$cmd" = down ]; then
	down
	exit 0
fi
build=$3 src=$4
down
mkdir -p "$dir" /etc/netns/$C /etc/netns/$S
: > "$dir/pids"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:2\n' > /etc/netns/$C/resolv.conf
printf 'nameserver 10.38.0.1\noptions timeout:1 attempts:1\n' > /etc/netns/$S/resolv.conf

ip netns add $C
ip netns add $S
ip link add sqtr-c$id netns $C type veth peer name sqtr-s$id netns $S
ip -n $C link set lo up
ip -n $S link set lo up
ip -n $C addr add 10.38.0.1/24 dev sqtr-c$id
ip -n $C addr add fd38::1/64 dev sqtr-c$id nodad
ip -n $C addr add fe80::38:1/64 dev sqtr-c$id nodad
for a in 2 3 4 5 7; do ip -n $S addr add 10.38.0.$a/24 dev sqtr-s$id; done
for a in 2 3; do ip -n $S addr add fd38::$a/64 dev sqtr-s$id nodad; done
ip -n $S addr add fe80::38:7/64 dev sqtr-s$id nodad
ip -n $C link set sqtr-c$id up
# 10.38.5.0/24 is on the link but nobody answers ARP: connects hang
ip -n $C route add 10.38.5.0/24 dev sqtr-c$id
ip -n $S link set sqtr-s$id up

bg() {	# bg NS LOG CMD... : start in the background, remember the pid
	ns=$1 log=$2
	shift 2
	ip netns exec "$ns" "$@" > "$log" 2>&1 &
	echo $! >> "$dir/pids"
}

# DNS: the zone "test" is local (unknown names are NXDOMAIN); slow.test is
# forwarded to a server that does not exist (timeouts: temporary failure)
bg $C "$dir/dnsmasq.log" dnsmasq --keep-in-foreground --conf-file=/dev/null \
	--no-resolv --no-hosts --listen-address=127.0.0.1 --bind-interfaces \
	--pid-file="$dir/dnsmasq.pid" --user=root --local=/test/ \
	--server=/slow.test/10.38.0.99 \
	--host-record=mx1.plain.test,10.38.0.2,fd38::2 \
	--mx-host=plain.test,mx1.plain.test,10 \
	--host-record=mxtemp.test,10.38.0.3 \
	--host-record=mxperm.test,10.38.0.4 \
	--host-record=mxdead.test,10.38.0.9 \
	--host-record=mx.tls.test,10.38.0.5 \
	--host-record=other.tls.test,10.38.0.5 \
	--host-record=mx.sq.test,10.38.0.7 \
	--host-record=me.test,10.38.0.1 \
	--host-record=blackhole.test,10.38.5.5 \
	--mx-host=multi.test,mxtemp.test,5 --mx-host=multi.test,mx1.plain.test,10 \
	--mx-host=dead.test,mxdead.test,5 --mx-host=dead.test,mx1.plain.test,20 \
	--mx-host=perm.test,mxperm.test,10 \
	--mx-host=equal.test,mx1.plain.test,10 --mx-host=equal.test,mxperm.test,10 \
	--mx-host=temp.test,mxtemp.test,10 \
	--mx-host=tls.test,mx.tls.test,10 \
	--mx-host=sq.test,mx.sq.test,10 \
	--mx-host=self.test,me.test,10 --mx-host=self.test,mx1.plain.test,20 \
	--mx-host=selflast.test,mx1.plain.test,10 --mx-host=selflast.test,me.test,20 \
	--host-record=amx.test,10.38.0.2 \
	--host-record=v6only.test,fd38::2 \
	--host-record=v6dead.test,10.38.0.2,fd38::9 \
	--cname=alias.test,amx.test \
	--cname=alias2.test,alias.test \
	--cname=cnsq.test,mx.sq.test --cname=cnsq2.test,cnsq.test \
	--dns-rr=nullmx.test,15,000000

# broken answers beside dnsmasq
bg $C "$dir/baddns.log" python3 "$src/tests/remote/baddns.py" 127.0.0.2
printf 'nameserver 127.0.0.2\noptions timeout:1 attempts:2\n' > "$dir/resolv-bad.conf"

# peers
sink() {	# sink ADDR NAME [options]
	a=$1 n=$2
	shift 2
	bg $S "$dir/sink-$n.log" smtp-sink -u nobody "$@" "$a" 100
}
sink 10.38.0.2:25 plain
sink '[fd38::2]:25' plain6
sink 10.38.0.3:25 temp -r MAIL
sink 10.38.0.4:25 perm -f RCPT

# another sqmail
peer=$dir/peer
sh "$src/sandbox-tools/mkhome.sh" "$peer" "$build" sq.test > /dev/null
echo mx.sq.test >> "$peer/control/rcpthosts"	# the target of cnsq.test's CNAME
bg $S "$dir/peer.log" env QMAILHOME="$peer" systemd-socket-activate --inetd -a \
	-l 10.38.0.7:25 -E QMAILHOME "$peer/bin/qmail-smtpd"
bg $S "$dir/peer2527.log" env QMAILHOME="$peer" systemd-socket-activate --inetd -a \
	-l '[::]:2527' -E QMAILHOME "$peer/bin/qmail-smtpd"

# Postfix with TLS and SASL (sasldb), if installed
if command -v postfix > /dev/null && command -v saslpasswd2 > /dev/null; then
	pf=$dir/postfix
	mkdir -p "$pf/conf" "$pf/queue" "$pf/data" "$pf/sasl" "$pf/Maildir/new" \
		"$pf/Maildir/cur" "$pf/Maildir/tmp"
	chown postfix: "$pf/data"
	chown -R 65534:65534 "$pf/Maildir"
	certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$pf/ca.key" 2>/dev/null
	printf 'cn = sqtest CA\nca\ncert_signing_key\nexpiration_days = 30\n' > "$pf/ca.tmpl"
	certtool --generate-self-signed --load-privkey "$pf/ca.key" --template "$pf/ca.tmpl" \
		--outfile "$pf/ca.pem" 2>/dev/null
	certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$pf/server.key" 2>/dev/null
	printf 'cn = mx.tls.test\ndns_name = mx.tls.test\ntls_www_server\nexpiration_days = 30\n' \
		> "$pf/server.tmpl"
	certtool --generate-certificate --load-privkey "$pf/server.key" --load-ca-certificate \
		"$pf/ca.pem" --load-ca-privkey "$pf/ca.key" --template "$pf/server.tmpl" \
		--outfile "$pf/server.pem" 2>/dev/null
	chmod 644 "$pf/server.key"
	# a client certificate for control/domaincerts
	certtool --generate-privkey --key-type=rsa --bits=2048 --outfile "$pf/client.key" 2>/dev/null
	printf 'cn = sqtest client\ntls_www_client\nexpiration_days = 30\n' > "$pf/client.tmpl"
	certtool --generate-certificate --load-privkey "$pf/client.key" --load-ca-certificate \
		"$pf/ca.pem" --load-ca-privkey "$pf/ca.key" --template "$pf/client.tmpl" \
		--outfile "$pf/client.pem" 2>/dev/null
	certtool --fingerprint --hash=sha256 --infile "$pf/server.pem" > "$pf/server.sha256" \
		2>/dev/null || certtool -i --infile "$pf/server.pem" | \
		sed -n 's/.*sha256:\([0-9a-f]*\).*/\1/p' | head -n 1 > "$pf/server.sha256"
	echo sqpass | saslpasswd2 -p -c -f "$pf/sasl/sasldb2" -u tls.test sqtest
	chown postfix "$pf/sasl/sasldb2"
	printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nsasldb_path: %s\nmech_list: PLAIN LOGIN CRAM-MD5\n' \
		"$pf/sasl/sasldb2" > "$pf/sasl/smtpd.conf"
	cp /etc/postfix/master.cf "$pf/conf/master.cf"
	: > "$pf/conf/main.cf"
	postconf -c "$pf/conf" -e "compatibility_level = 3.6" \
		"queue_directory = $pf/queue" "data_directory = $pf/data" \
		"myhostname = mx.tls.test" "mydestination =" "relayhost =" \
		"inet_interfaces = 10.38.0.5" "inet_protocols = ipv4" "mynetworks =" \
		"alias_maps =" "alias_database =" "local_recipient_maps =" \
		"virtual_mailbox_domains = tls.test" "virtual_mailbox_base = $pf" \
		"virtual_mailbox_maps = static:Maildir/" "virtual_uid_maps = static:65534" \
		"virtual_gid_maps = static:65534" "virtual_minimum_uid = 1" \
		"smtpd_tls_cert_file = $pf/server.pem" "smtpd_tls_key_file = $pf/server.key" \
		"smtpd_tls_security_level = may" "smtpd_tls_received_header = yes" \
		"smtpd_tls_ask_ccert = yes" "smtpd_tls_CAfile = $pf/ca.pem" \
		"smtpd_sasl_auth_enable = yes" "smtpd_sasl_type = cyrus" \
		"cyrus_sasl_config_path = $pf/sasl" "smtpd_sasl_path = smtpd" \
		"smtpd_sasl_local_domain = tls.test" \
		"smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination" \
		"maillog_file = $pf/maillog" "maillog_file_prefixes = $pf" \
		"smtputf8_enable = no" "biff = no"
	postconf -c "$pf/conf" -MX smtp/inet
	postconf -c "$pf/conf" -M "10.38.0.5:25/inet=10.38.0.5:25 inet n - n - - smtpd"
	postconf -c "$pf/conf" -M "10.38.0.5:465/inet=10.38.0.5:465 inet n - n - - smtpd -o smtpd_tls_wrappermode=yes"
	for m in plain:2525 login:2526; do
		postconf -c "$pf/conf" -M "10.38.0.5:${m#*:}/inet=10.38.0.5:${m#*:} inet n - n - - smtpd -o smtpd_sasl_mechanism_filter=${m%:*}"
	done
	postconf -c "$pf/conf" -F '*/*/chroot = n'
	# Cyrus SASL ignores cyrus_sasl_config_path here and opens /etc/sasldb2:
	# give Postfix a private mount namespace where that is our database
	ip netns exec $S unshare --mount --propagation private sh -c \
		'mount --bind "$1" /etc/sasldb2 && exec postfix -c "$2" start' \
		pf-sqtest "$pf/sasl/sasldb2" "$pf/conf" > "$pf/start.log" 2>&1 || true
fi

# wait until the peers and the DNS answer
for i in $(seq 1 100); do
	if ip netns exec $C bash -c 'exec 3<>/dev/tcp/10.38.0.2/25' 2>/dev/null &&
	    ip netns exec $C bash -c 'exec 3<>/dev/tcp/10.38.0.7/25' 2>/dev/null &&
	    ip netns exec $C bash -c 'exec 3<>/dev/tcp/127.0.0.2/53' 2>/dev/null; then
		break
	fi
	sleep 0.1
done
exit 0
