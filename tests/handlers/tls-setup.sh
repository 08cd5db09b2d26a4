#!/bin/sh
# tls-setup.sh DIR BUILDDIR SRCDIR - a qmail home and certificates for the TLS/AUTH tests.
# DIR/home: qmail home (mkhome.sh), users/authuser with alice (yescrypt, "sandbox"),
#   bob (SHA-512 "$6$", "bobpw") and carol (clear text "cramsecret", for CRAM-MD5).
# DIR/creds: what LoadCredential= would hand over: smtpd.pem/.key (RSA),
#   smtpd-ecdsa.pem/.key, clientca.pem, tls-ticket.key.
# DIR/*.pem: ca, client-good (CN client.example, alice@example.com), client-expired,
#   client-wronghost (CN other.example), client-untrusted (another CA).
# With a fourth argument CERTS (made once by "tls-setup.sh --certs CERTS"), the
# certificates are copied from there instead of being made again.
set -e
if [ "$1" = --certs ]; then
	mkdir -p "$2"
	cd "$2"
	certs_only=1
else
	d=$1; b=$2; s=$3
	mkdir -p "$d/creds"
	sh "$s/sandbox-tools/mkhome.sh" "$d/home" "$b" > /dev/null
	cd "$d"
	if [ -n "${4:-}" ]; then
		cp "$4"/*.pem "$4"/*.key .
		certs_only=2
	fi
fi
ct() { certtool "$@" > /dev/null 2>&1; }
key() { ct --generate-privkey --key-type="${2:-ecdsa}" --outfile "$1.key"; }
tmpl() { printf '%s\n' "$@" > t.tmpl; }
sign() { # NAME CA
	ct --generate-certificate --load-privkey "$1.key" --load-ca-certificate "$2.pem" \
	    --load-ca-privkey "$2.key" --template t.tmpl --outfile "$1.pem"
}
if [ "${certs_only:-0}" != 2 ]; then
for ca in ca otherca; do
	key $ca
	tmpl "cn = \"sqmail test $ca\"" ca cert_signing_key "expiration_days = 30"
	ct --generate-self-signed --load-privkey $ca.key --template t.tmpl --outfile $ca.pem
done
key srv rsa
tmpl 'cn = "localhost"' 'dns_name = "localhost"' 'ip_address = "127.0.0.1"' \
    tls_www_server signing_key encryption_key "expiration_days = 30"
sign srv ca
key srv-ecdsa
sign srv-ecdsa ca
client() { # NAME CA CN [extra template lines]
	n=$1 c=$2 cn=$3; shift 3
	key "$n"
	tmpl "cn = \"$cn\"" "dns_name = \"$cn\"" 'email = "alice@example.com"' tls_www_client \
	    signing_key "$@"
	sign "$n" "$c"
}
client client-good ca client.example "expiration_days = 30"
client client-wronghost ca other.example "expiration_days = 30"
client client-untrusted otherca client.example "expiration_days = 30"
client client-expired ca client.example 'activation_date = "2020-01-01 00:00:00"' \
    'expiration_date = "2021-01-01 00:00:00"'
fi
[ "${certs_only:-0}" = 1 ] && exit 0
cp srv.pem creds/smtpd.pem; cp srv.key creds/smtpd.key
cp srv-ecdsa.pem creds/smtpd-ecdsa.pem; cp srv-ecdsa.key creds/smtpd-ecdsa.key
cp ca.pem creds/clientca.pem
head -c 64 /dev/urandom > creds/tls-ticket.key
{
	printf 'alice:%s\n' "$(echo sandbox | "$b/handlers/authuser/qmail-authuser" --hash)"
	printf 'bob:%s\n' "$(openssl passwd -6 bobpw)"
	printf 'carol:cramsecret\n'
} > home/users/authuser
mkdir -p rec
printf "example.com\nsandbox.test\n" > home/control/rcpthosts
