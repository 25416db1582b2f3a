#!/usr/bin/env bash
# The external-snapshot-metadata sidecar's TLS Secret and the SnapshotMetadataService object that carries its CA, for
# deploy/kubernetes/snapshot-metadata (kustomize cannot make certificates):
#
#   deploy/kubernetes/snapshot-metadata/make-tls.sh | kubectl apply -f -
#
# Makes a CA of its own (not the agents': every backup client trusts this one) and a server certificate for the
# Service's names, ECDSA P-256, and prints as YAML on stdout the Secret loopvol-snapshot-metadata-tls (tls.crt, tls.key,
# ca.crt) and the SnapshotMetadataService named after the driver. The files are written to DIR, the first argument;
# without one they go to a temporary directory that is removed at the end, the CA's key with them.
# Settings: NAMESPACE (loopvol), DRIVER_NAME (loopvol.csi.dev), AUDIENCE (the driver name; the sidecar's --audience
# must be the same), PORT (6443, the Service's), DAYS (3650).
set -euo pipefail
NAMESPACE=${NAMESPACE:-loopvol}
DRIVER_NAME=${DRIVER_NAME:-loopvol.csi.dev}
AUDIENCE=${AUDIENCE:-$DRIVER_NAME}
PORT=${PORT:-6443}
DAYS=${DAYS:-3650}
SERVICE=loopvol-snapshot-metadata
# shellcheck source=../tls-lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../tls-lib.sh"
tls_workdir "$@"
tls_ca loopvol-snapshot-metadata-ca "$DAYS"
tls_cert server "$DAYS" serverAuth "$SERVICE.$NAMESPACE" "$SERVICE" "$SERVICE.$NAMESPACE.svc"

cat <<YAML
---
apiVersion: v1
kind: Secret
type: kubernetes.io/tls
metadata:
  name: $SERVICE-tls
  namespace: $NAMESPACE
  labels:
    app.kubernetes.io/part-of: loopvol
data:
  ca.crt: $(base64 -w0 ca.crt)
  tls.crt: $(base64 -w0 server.crt)
  tls.key: $(base64 -w0 server.key)
---
apiVersion: cbt.storage.k8s.io/v1beta1
kind: SnapshotMetadataService
metadata:
  name: $DRIVER_NAME
  labels:
    app.kubernetes.io/part-of: loopvol
spec:
  address: $SERVICE.$NAMESPACE:$PORT
  audience: $AUDIENCE
  caCert: $(base64 -w0 ca.crt)
YAML
