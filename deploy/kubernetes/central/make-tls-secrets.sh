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
# shellcheck source=../tls-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tls-lib.sh"
tls_workdir "$@"
tls_ca loopvol-ca "$DAYS"
tls_cert "$SERVER_NAME" "$DAYS" serverAuth,clientAuth "$SERVER_NAME"
tls_cert loopvol-controller "$DAYS" clientAuth loopvol-controller

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
