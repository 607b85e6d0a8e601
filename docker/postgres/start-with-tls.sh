#!/usr/bin/env bash
# Make a fresh self-signed certificate for "localhost" and "db", then hand over to the image's
# own entrypoint with ssl=on. The key never leaves the container.
set -euo pipefail
certs=/var/lib/postgresql/tls
mkdir -p "$certs"
if [ ! -s "$certs/server.key" ]; then
  openssl req -new -x509 -days 365 -nodes -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,DNS:db" \
    -keyout "$certs/server.key" -out "$certs/server.crt" 2>/dev/null
fi
chown -R postgres:postgres "$certs"
chmod 600 "$certs/server.key"
exec docker-entrypoint.sh "$@" \
  -c ssl=on -c ssl_cert_file="$certs/server.crt" -c ssl_key_file="$certs/server.key"
