#!/usr/bin/env bash
# Makes a DEVELOPMENT certificate authority and certificates for a quasiroll cluster, with
# openssl. Not for production: the CA key sits next to the certificates, unencrypted.
#
#   deploy/tls/make-dev-ca.sh OUT_DIR [HOST_OR_IP ...]
#
# OUT_DIR gets (keys are PKCS#8 RSA-2048 PEM, mode 600; certificates valid 825 days):
#   ca.crt ca.key               the CA (keep ca.key away from the nodes)
#   coordinator.crt/.key        CN=coordinator, OU=node
#   worker.crt/.key             CN=worker,      OU=node
#   client.crt/.key             CN=client,      OU=client (mutual-TLS client certificate)
#   admin.crt/.key              CN=admin,       OU=admin
# Node certificates carry the subject alternative names DNS:quasiroll-cluster (every node
# shares it: Pekko's TLS transport admits a peer only if it shares a name with this node),
# DNS:localhost, IP:127.0.0.1 and each HOST_OR_IP given (the names clients and workers use to
# reach the coordinator). Running it again over an existing OUT_DIR refuses to overwrite.
set -euo pipefail
if [[ $# -lt 1 || "$1" == -h || "$1" == --help ]]; then
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'
  exit 2
fi
out="$1"; shift
command -v openssl >/dev/null || { echo "make-dev-ca.sh: openssl is not installed" >&2; exit 1; }
if [[ -e "$out/ca.key" ]]; then
  echo "make-dev-ca.sh: $out/ca.key exists; refusing to overwrite (choose a new directory)" >&2
  exit 1
fi
mkdir -p "$out"
umask 077

san="DNS:quasiroll-cluster,DNS:localhost,IP:127.0.0.1"
for h in "$@"; do
  if [[ "$h" =~ ^[0-9.]+$ || "$h" == *:* ]]; then san="$san,IP:$h"; else san="$san,DNS:$h"; fi
done

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$out/ca.key" -out "$out/ca.crt" -days 825 \
  -subj "/O=quasiroll-dev/CN=quasiroll development CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

issue() { # name ou san
  local name="$1" ou="$2" alt="$3" ext
  ext="$(mktemp)"
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=serverAuth,clientAuth"
    [[ -n "$alt" ]] && echo "subjectAltName=$alt"
  } > "$ext"
  openssl req -newkey rsa:2048 -nodes -keyout "$out/$name.key.tmp" -out "$out/$name.csr" \
    -subj "/O=quasiroll-dev/OU=$ou/CN=$name" 2>/dev/null
  openssl x509 -req -in "$out/$name.csr" -CA "$out/ca.crt" -CAkey "$out/ca.key" -CAcreateserial \
    -out "$out/$name.crt" -days 825 -sha256 -extfile "$ext" 2>/dev/null
  # PKCS#8 ("BEGIN PRIVATE KEY"): read by both gRPC (Netty) and Pekko's TLS transport.
  openssl pkcs8 -topk8 -nocrypt -in "$out/$name.key.tmp" -out "$out/$name.key"
  rm -f "$out/$name.key.tmp" "$out/$name.csr" "$ext"
}

issue coordinator node "$san"
issue worker node "$san"
issue client client ""
issue admin admin ""
rm -f "$out/ca.srl"
chmod 644 "$out"/*.crt
echo "wrote $out: ca.crt, coordinator/worker (OU=node), client (OU=client), admin (OU=admin) certificates and keys"
