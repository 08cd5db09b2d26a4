#!/bin/sh
# SPDX-License-Identifier: MIT
# qmtps-certs.sh DIR - certificates for the QMTPS tests (certtool, ECDSA keys: fast).
# DIR/ca.pem, otherca.pem: two CAs; srv.pem/.key: localhost, 127.0.0.1 (server);
# client-good: CN relay.example, TLS client purpose, signed by ca;
# client-expired: the same, expired in 2021; client-untrusted: signed by otherca;
# client-server-only: signed by ca, but for TLS servers only (wrong purpose).
# DIR/creds: what LoadCredential= hands qmail-qmtpd (qmtpd.pem, qmtpd.key, clientca.pem).
set -eu
mkdir -p "$1/creds"
cd "$1"
ct() { certtool "$@" > /dev/null 2>&1; }
key() { ct --generate-privkey --key-type=ecdsa --outfile "$1.key"; }
tmpl() { printf '%s\n' "$@" > t.tmpl; }
sign() { # NAME CA
	ct --generate-certificate --load-privkey "$1.key" --load-ca-certificate "$2.pem" \
	    --load-ca-privkey "$2.key" --template t.tmpl --outfile "$1.pem"
}
for ca in ca otherca; do
	key $ca
	tmpl "cn = \"sqmail qmtps test $ca\"" ca cert_signing_key "expiration_days = 30"
	ct --generate-self-signed --load-privkey $ca.key --template t.tmpl --outfile $ca.pem
done
key srv
tmpl 'cn = "localhost"' 'dns_name = "localhost"' 'ip_address = "127.0.0.1"' \
    tls_www_server signing_key "expiration_days = 30"
sign srv ca
client() { # NAME CA PURPOSE [extra template lines]
	n=$1 c=$2 p=$3
	shift 3
	key "$n"
	tmpl 'cn = "relay.example"' 'dns_name = "relay.example"' "$p" signing_key "$@"
	sign "$n" "$c"
}
client client-good ca tls_www_client "expiration_days = 30"
client client-untrusted otherca tls_www_client "expiration_days = 30"
client client-server-only ca tls_www_server "expiration_days = 30"
client client-expired ca tls_www_client 'activation_date = "2020-01-01 00:00:00"' \
    'expiration_date = "2021-01-01 00:00:00"'
cp srv.pem creds/qmtpd.pem
cp srv.key creds/qmtpd.key
cp ca.pem creds/clientca.pem
rm -f t.tmpl
