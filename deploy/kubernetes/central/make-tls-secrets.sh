#!/usr/bin/env bash
# The TLS Secrets of deploy/kubernetes/central, made with openssl, for a cluster without cert-manager:
#
#   deploy/kubernetes/central/make-tls-secrets.sh | kubectl apply -f -
#
# Makes a CA, the agents' certificate (DNS name SERVER_NAME, for server and client use) and the controller's (client
# use), all ECDSA P-256, and prints the Secrets loopvol-agent-tls and loopvol-controller-tls (tls.crt, tls.key,
# ca.crt) as YAML on stdout. The files are written to DIR, the first argument; without one they go to a temporary
# directory that is removed at the end, the CA's key with them, so nothing can sign another certificate for this CA.
# Settings: NAMESPACE (loopvol), SERVER_NAME (loopvol-agent; the controller's --tls-server-name), DAYS (3650).
set -euo pipefail
NAMESPACE=${NAMESPACE:-loopvol}
SERVER_NAME=${SERVER_NAME:-loopvol-agent}
DAYS=${DAYS:-3650}
if [ $# -gt 0 ]; then
  DIR=$1
  mkdir -p "$DIR"
else
  DIR=$(mktemp -d)
  trap 'rm -rf "$DIR"' EXIT
fi
umask 077
cd "$DIR"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key"; }

key ca
openssl req -x509 -new -key ca.key -subj /CN=loopvol-ca -days "$DAYS" -out ca.crt \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign

# cert NAME USAGES: a certificate for DNS name NAME, signed by the CA, with these extended key usages.
cert() {
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=$2" "subjectAltName=DNS:$1" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$DAYS" -extfile "$1.ext" \
    -out "$1.crt" 2>/dev/null
  rm "$1.csr" "$1.ext"
}
cert "$SERVER_NAME" serverAuth,clientAuth
cert loopvol-controller clientAuth

# secret NAME FILE: the Secret NAME holding FILE.crt, FILE.key and the CA.
secret() {
  cat <<EOF
---
apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata:
  name: $1
  namespace: $NAMESPACE
  labels:
    app.kubernetes.io/part-of: loopvol
data:
  ca.crt: $(base64 -w0 ca.crt)
  tls.crt: $(base64 -w0 "$2.crt")
  tls.key: $(base64 -w0 "$2.key")
EOF
}
secret loopvol-agent-tls "$SERVER_NAME"
secret loopvol-controller-tls loopvol-controller
