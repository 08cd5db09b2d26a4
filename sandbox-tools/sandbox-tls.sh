# SPDX-License-Identifier: MIT
# sandbox-tls.sh - sourced by sandbox.sh: SMTPS and submission for the sandbox.
# tls_setup SANDBOX makes a CA and a certificate for sandbox.test/localhost with
# certtool into SANDBOX/control/tls/ (the files the units pass by LoadCredential=)
# and users/authuser with alice / sandbox; tls_start SANDBOX listens on
# 127.0.0.1:$SMTPS_PORT (2465, --tls=implicit) and $SUBMISSION_PORT (2587,
# --submission), each with qmail-authuser as the checkprogram. They start with
# the default ports (make run), or when SMTPS_PORT or SUBMISSION_PORT is set;
# not for an instance that only sets SMTP_PORT, nor with SANDBOX_TLS=no.

tls_setup() {
	t=$1/control/tls
	mkdir -p "$t"
	(
		umask 077
		cd "$t"
		[ -f smtpd.pem ] && exit 0
		certtool --generate-privkey --key-type=ecdsa --outfile ca.key
		printf '%s\n' 'cn = "sqmail sandbox CA"' ca cert_signing_key \
		    'expiration_days = 365' > ca.tmpl
		certtool --generate-self-signed --load-privkey ca.key --template ca.tmpl \
		    --outfile ca.pem
		certtool --generate-privkey --key-type=rsa --bits=2048 --outfile smtpd.key
		printf '%s\n' 'cn = "sandbox.test"' 'dns_name = "sandbox.test"' \
		    'dns_name = "localhost"' 'ip_address = "127.0.0.1"' tls_www_server \
		    signing_key encryption_key 'expiration_days = 365' > smtpd.tmpl
		certtool --generate-certificate --load-privkey smtpd.key --load-ca-certificate \
		    ca.pem --load-ca-privkey ca.key --template smtpd.tmpl --outfile smtpd.pem
		head -c 64 /dev/urandom > tls-ticket.key
	) > "$1/log/certtool.log" 2>&1 || return 1
	printf 'alice:%s\n' "$(echo sandbox | "$1/bin/qmail-authuser" --hash)" \
	    > "$1/users/authuser"
}

# tls_listen SANDBOX NAME PORT ARGS... - one listener, pid in run/NAME.pid
tls_listen() {
	sb=$1 name=$2 port=$3
	shift 3
	: > "$sb/log/$name.log"
	setsid systemd-socket-activate --inetd -a -l "127.0.0.1:$port" -E "QMAILHOME=$sb" \
	    -E "CREDENTIALS_DIRECTORY=$sb/control/tls" "$sb/bin/qmail-smtpd" "$@" \
	    "$sb/bin/qmail-authuser" /bin/true < /dev/null >> "$sb/log/$name.log" 2>&1 &
	echo $! > "$sb/run/$name.pid"
	n=0
	until grep -q '^Listening on' "$sb/log/$name.log"; do
		if ! kill -0 "$(cat "$sb/run/$name.pid")" 2>/dev/null || [ $n -ge 50 ]; then
			echo "sandbox: $name on 127.0.0.1:$port did not start" >&2
			return 1
		fi
		sleep 0.1
		n=$((n + 1))
	done
}

tls_start() {
	# SMTP_PORT alone (the e2e tests' instances): no TLS listeners, so that
	# parallel instances do not fight for 2465/2587; SANDBOX_TLS=no: never
	if [ "${SANDBOX_TLS:-yes}" = no ] ||
	    { [ -n "${SMTP_PORT:-}" ] && [ -z "${SMTPS_PORT:-}${SUBMISSION_PORT:-}" ]; }; then
		rm -f "$1/run/tls.ports"
		return 0
	fi
	command -v certtool > /dev/null || {
		echo "sandbox: certtool not found (gnutls-bin): no SMTPS, no submission"
		return 0
	}
	tls_setup "$1" || {
		cat "$1/log/certtool.log" >&2
		return 1
	}
	echo "${SMTPS_PORT:-2465} ${SUBMISSION_PORT:-2587}" > "$1/run/tls.ports"
	tls_listen "$1" smtps "${SMTPS_PORT:-2465}" --tls=implicit &&
	    tls_listen "$1" submission "${SUBMISSION_PORT:-2587}" --submission
}

tls_stop() {
	stop_one "$1" submission
	stop_one "$1" smtps
}

tls_info() {
	[ -f "$1/run/tls.ports" ] || return 0
	read -r smtps sub < "$1/run/tls.ports"
	echo "  SMTPS        127.0.0.1:$smtps (implicit TLS, AUTH alice / sandbox)"
	echo "  submission   127.0.0.1:$sub (STARTTLS + AUTH alice / sandbox required)"
	echo "  TLS CA       $1/control/tls/ca.pem"
	echo "  try          swaks --server 127.0.0.1:$sub --tls --tls-ca-path $1/control/tls/ca.pem --auth-user alice --auth-password sandbox --to bob@sandbox.test"
}
