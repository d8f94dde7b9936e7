#!/bin/sh
# mkcerts.sh DIR DOMAIN...
# Make a throwaway CA, a certificate and key for each DOMAIN signed by it
# (dNSName SAN, EKU serverAuth and clientAuth) and a dialback secret, all
# in DIR.  For the example configuration and the tests; never committed.
set -eu

[ $# -ge 2 ] || { echo "usage: mkcerts.sh dir domain ..." >&2; exit 2; }
command -v openssl >/dev/null || { echo "mkcerts.sh: openssl is not installed (make deps)" >&2; exit 1; }
dir=$1; shift
umask 077
mkdir -p "$dir"

if [ ! -f "$dir/ca.crt" ]; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
	    -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 30 \
	    -subj "/CN=xmppgwd throwaway CA" \
	    -addext basicConstraints=critical,CA:TRUE \
	    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
fi

for d in "$@"; do
	[ -f "$dir/$d.crt" ] && continue
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	    -keyout "$dir/$d.key" -out "$dir/$d.csr" -subj "/CN=$d" 2>/dev/null
	printf '%s\n' "subjectAltName=DNS:$d" \
	    "extendedKeyUsage=serverAuth,clientAuth" \
	    "basicConstraints=critical,CA:FALSE" > "$dir/$d.ext"
	openssl x509 -req -in "$dir/$d.csr" -CA "$dir/ca.crt" \
	    -CAkey "$dir/ca.key" -CAcreateserial -days 30 \
	    -extfile "$dir/$d.ext" -out "$dir/$d.crt" 2>/dev/null
	rm -f "$dir/$d.csr" "$dir/$d.ext"
done

[ -f "$dir/dialback.secret" ] || openssl rand -hex 32 > "$dir/dialback.secret"
chmod 0644 "$dir/ca.crt" "$dir"/*.crt
