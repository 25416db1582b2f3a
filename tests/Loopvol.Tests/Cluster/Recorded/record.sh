#!/bin/bash
# Records the Kubernetes API responses KubernetesAgentsTests serve: a real kube-apiserver and kube-controller-manager
# (shared/k8s-lab, with no kubelet and no scheduler), a node-mode loopvol DaemonSet whose pods the DaemonSet controller
# creates, and this script doing what the scheduler and the kubelets would: binding each pod to its node, reporting
# it Running and Ready (the status subresource) and keeping the fake nodes' leases fresh. What is recorded is what the
# API server answered, byte for byte, less each object's metadata.managedFields.
#
#   K8S_LAB_STATE=/tmp/lab APISERVER_PORT=26443 ETCD_PORT=22379 ETCD_PEER_PORT=22380 KCM_PORT=20357 \
#     SNAPSHOT_CONTROLLER=0 ../shared/k8s-lab/up.sh
#   K8S_LAB_STATE=/tmp/lab APISERVER_PORT=26443 ETCD_PORT=22379 ETCD_PEER_PORT=22380 KCM_PORT=20357 \
#     SNAPSHOT_CONTROLLER=0 tests/Loopvol.Tests/Cluster/Recorded/record.sh
#
# (the same settings as up.sh: the script compacts etcd and restarts kube-apiserver for the 410). LAB is the k8s-lab
# folder, by default ../shared/k8s-lab beside the checkout.
#
# Writes, next to this script: pods-list.json (the first list), pods-watch.jsonl (the watch from that list's
# resource version while agents come, roll, go NotReady and terminate), pods-watch-expired.jsonl (the answer to a
# watch from a resource version the server no longer keeps: one 410 ERROR event) and pods-relist.json (the list
# after it all).
set -euo pipefail
STATE=${K8S_LAB_STATE:?set K8S_LAB_STATE to the lab state directory}
LAB=${LAB:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../../../shared/k8s-lab" && pwd)}
OUT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KUBECONFIG=$STATE/admin.kubeconfig
K="$STATE/bin/kubectl"
NS=loopvol
SELECTOR='app.kubernetes.io/name=loopvol,app.kubernetes.io/component=node'
Q='labelSelector=app.kubernetes.io%2Fname%3Dloopvol%2Capp.kubernetes.io%2Fcomponent%3Dnode'
SERVER=$(sed -n 's/^ *server: //p' "$KUBECONFIG" | head -1)
# A user agent of its own: the API server pretty-prints JSON for curl, not for a client library.
CURL=(curl -sS -N -A loopvol-record --cacert "$STATE/pki/ca.crt" --cert "$STATE/pki/admin.crt" --key "$STATE/pki/admin.key")
TMP=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$TMP"' EXIT

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
micro() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
trim() { python3 -c '
import json, sys
def strip(o):
    if isinstance(o, dict):
        o.get("metadata", {}).pop("managedFields", None)
        for v in o.values(): strip(v)
    elif isinstance(o, list):
        for v in o: strip(v)
    return o
for line in sys.stdin:
    if line.strip():
        print(json.dumps(strip(json.loads(line)), separators=(",", ":"), ensure_ascii=False))
'; }

# A node as its kubelet would register it, Ready, with a lease kept fresh below (so the node lifecycle controller
# never marks it or its pods NotReady).
node() { # name ip
  "$K" apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels: {kubernetes.io/hostname: $1, kubernetes.io/os: linux, kubernetes.io/arch: amd64}
YAML
  "$K" patch node "$1" --subresource=status --type=merge -p "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",\"address\":\"$2\"},{\"type\":\"Hostname\",\"address\":\"$1\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"message\":\"kubelet is posting ready status\",\"lastHeartbeatTime\":\"$(now)\",\"lastTransitionTime\":\"$(now)\"}]}}" >/dev/null
  "$K" apply -f - >/dev/null <<YAML
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: $1, namespace: kube-node-lease}
spec: {holderIdentity: $1, leaseDurationSeconds: 40, renewTime: "$(micro)"}
YAML
  echo "$1" >> "$TMP/nodes"
}
renew() { while sleep 10; do for n in $(cat "$TMP/nodes"); do
  "$K" -n kube-node-lease patch lease "$n" --type=merge -p "{\"spec\":{\"renewTime\":\"$(micro)\"}}" >/dev/null 2>&1 || true
done; done; }

# The pod of the DaemonSet meant for node $1 that is not yet bound (the DaemonSet controller pins it by affinity).
pending_for() { # node
  for i in $(seq 60); do
    p=$("$K" -n $NS get pods -l "$SELECTOR" -o json | python3 -c "
import json, sys
for p in json.load(sys.stdin)['items']:
    terms = p['spec'].get('affinity', {}).get('nodeAffinity', {}).get('requiredDuringSchedulingIgnoredDuringExecution', {}).get('nodeSelectorTerms', [])
    nodes = [v for t in terms for f in t.get('matchFields', []) for v in f['values']]
    if nodes == ['$1'] and not p['spec'].get('nodeName') and 'deletionTimestamp' not in p['metadata']:
        print(p['metadata']['name'])")
    [ -n "$p" ] && { echo "$p"; return; }
    sleep 1
  done
  echo "no pod for $1" >&2; exit 1
}
bind() { # pod node: what the scheduler does
  echo "{\"apiVersion\":\"v1\",\"kind\":\"Binding\",\"metadata\":{\"name\":\"$1\"},\"target\":{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"name\":\"$2\"}}" > "$TMP/binding.json"
  "$K" create --raw "/api/v1/namespaces/$NS/pods/$1/binding" -f "$TMP/binding.json" >/dev/null
}
cstatus() { # ready: the three containers' statuses
  local out="" c
  for c in loopvol node-driver-registrar livenessprobe; do
    out="$out{\"name\":\"$c\",\"ready\":$1,\"restartCount\":0,\"started\":true,\"state\":{\"running\":{\"startedAt\":\"$(now)\"}},\"image\":\"$c:lab\",\"imageID\":\"sha256:$(echo $c | sha256sum | cut -c1-64)\",\"containerID\":\"containerd://$(head -c 32 /dev/urandom | sha256sum | cut -c1-64)\"},"
  done
  echo "[${out%,}]"
}
run() { # pod hostip podip ready(True|False): what the kubelet reports
  local t; t=$(now)
  "$K" -n $NS patch pod "$1" --subresource=status -p "{\"status\":{\"phase\":\"Running\",\"hostIP\":\"$2\",\"hostIPs\":[{\"ip\":\"$2\"}],\"podIP\":\"$3\",\"podIPs\":[{\"ip\":\"$3\"}],\"startTime\":\"$t\",\"conditions\":[{\"type\":\"PodReadyToStartContainers\",\"status\":\"True\",\"lastTransitionTime\":\"$t\"},{\"type\":\"Initialized\",\"status\":\"True\",\"lastTransitionTime\":\"$t\"},{\"type\":\"Ready\",\"status\":\"$4\",\"lastTransitionTime\":\"$t\"},{\"type\":\"ContainersReady\",\"status\":\"$4\",\"lastTransitionTime\":\"$t\"}],\"containerStatuses\":$(cstatus "$([ "$4" = True ] && echo true || echo false)")}}" >/dev/null
}
ready() { # pod True|False
  local t; t=$(now)
  "$K" -n $NS patch pod "$1" --subresource=status -p "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"$2\",\"lastTransitionTime\":\"$t\"},{\"type\":\"ContainersReady\",\"status\":\"$2\",\"lastTransitionTime\":\"$t\"}]}}" >/dev/null
}
pod_on() { # node: the one pod bound to it
  "$K" -n $NS get pods -l "$SELECTOR" --field-selector "spec.nodeName=$1" -o jsonpath='{.items[0].metadata.name}'
}

# What an earlier run left: its namespace (and pods), nodes and leases.
if "$K" get namespace $NS >/dev/null 2>&1; then
  "$K" delete namespace $NS --wait=false >/dev/null
  while "$K" get namespace $NS >/dev/null 2>&1; do
    "$K" -n $NS delete pods --all --force --grace-period=0 >/dev/null 2>&1 || true; sleep 2
  done
fi
"$K" delete node node-a node-b node-c node-d --ignore-not-found >/dev/null
"$K" -n kube-node-lease delete lease node-a node-b node-c node-d --ignore-not-found >/dev/null
"$K" create namespace $NS >/dev/null
node node-a 192.168.10.11; node node-b 192.168.10.12; node node-c fd00:192:168:10::13
renew &
"$K" apply -f - >/dev/null <<YAML
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: loopvol-node
  namespace: $NS
  labels: {app.kubernetes.io/name: loopvol, app.kubernetes.io/component: node}
spec:
  selector:
    matchLabels: {app.kubernetes.io/name: loopvol, app.kubernetes.io/component: node}
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: {maxSurge: 1, maxUnavailable: 0}
  template:
    metadata:
      labels: {app.kubernetes.io/name: loopvol, app.kubernetes.io/component: node}
    spec:
      serviceAccountName: default
      priorityClassName: system-node-critical
      containers:
        - name: loopvol
          image: loopvol/loopvol:0.1.0
          args: [--mode=node, "--nodeid=\$(NODE_NAME)", --endpoint=unix:///csi/csi.sock, --agent-endpoint=tcp://0.0.0.0:9101]
          env:
            - name: NODE_NAME
              valueFrom: {fieldRef: {fieldPath: spec.nodeName}}
          securityContext: {privileged: true}
          ports:
            - {name: agent, containerPort: 9101}
            - {name: healthz, containerPort: 9808}
            - {name: metrics, containerPort: 9809}
          volumeMounts: [{name: socket-dir, mountPath: /csi}]
        - name: node-driver-registrar
          image: registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.15.0
          args: [--csi-address=/csi/csi.sock, --kubelet-registration-path=/var/lib/kubelet/plugins/loopvol.csi.dev/csi.sock]
          volumeMounts: [{name: socket-dir, mountPath: /csi}]
        - name: livenessprobe
          image: registry.k8s.io/sig-storage/livenessprobe:v2.17.0
          args: [--csi-address=/csi/csi.sock, --http-endpoint=:9808]
          volumeMounts: [{name: socket-dir, mountPath: /csi}]
      volumes:
        - name: socket-dir
          hostPath: {path: /var/lib/kubelet/plugins/loopvol.csi.dev, type: DirectoryOrCreate}
YAML

# Before the list: node-a and node-b serve; node-c's pod is bound but not started.
A=$(pending_for node-a); bind "$A" node-a; run "$A" 192.168.10.11 10.244.1.7 True
B=$(pending_for node-b); bind "$B" node-b; run "$B" 192.168.10.12 10.244.2.5 True
C=$(pending_for node-c); bind "$C" node-c
sleep 2
"${CURL[@]}" "$SERVER/api/v1/namespaces/$NS/pods?$Q" | trim > "$OUT/pods-list.json"
RV=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$OUT/pods-list.json")
"${CURL[@]}" "$SERVER/api/v1/namespaces/$NS/pods?$Q&watch=true&allowWatchBookmarks=true&resourceVersion=$RV&timeoutSeconds=600" > "$TMP/watch" &
WATCH=$!
sleep 2

# 1. node-c starts (an IPv6 pod).  2. node-d joins.
run "$C" fd00:192:168:10::13 fd00:10:244:3::7 True; sleep 1
node node-d 192.168.10.14
D=$(pending_for node-d); bind "$D" node-d; sleep 1; run "$D" 192.168.10.14 10.244.4.2 True; sleep 1
# 3. A rolling update (maxSurge 1): a second pod on one node, Running but not Ready, then Ready; the controller then
#    deletes the old one, which stays Terminating (no kubelet to finish it) until it is force-deleted. The controller
#    then surges the next node, whose new pod this script leaves unbound (Pending).
"$K" -n $NS set image ds/loopvol-node loopvol=loopvol/loopvol:0.2.0 >/dev/null
for i in $(seq 60); do
  NEW=$("$K" -n $NS get pods -l "$SELECTOR" -o json | python3 -c "
import json, sys
for p in json.load(sys.stdin)['items']:
    if p['spec']['containers'][0]['image'].endswith(':0.2.0') and not p['spec'].get('nodeName'):
        terms = p['spec']['affinity']['nodeAffinity']['requiredDuringSchedulingIgnoredDuringExecution']['nodeSelectorTerms']
        print(p['metadata']['name'], terms[0]['matchFields'][0]['values'][0])" | head -1)
  [ -n "$NEW" ] && break; sleep 1
done
set -- $NEW; NEW=$1; ROLLED=$2
OLD=$(pod_on "$ROLLED")
IP=$("$K" -n $NS get pod "$OLD" -o jsonpath='{.status.hostIP}')
case $ROLLED in node-a) P=10.244.1.8;; node-b) P=10.244.2.6;; node-c) P=fd00:10:244:3::8;; *) P=10.244.4.3;; esac
bind "$NEW" "$ROLLED"; sleep 1
run "$NEW" "$IP" "$P" False; sleep 1
ready "$NEW" True
for i in $(seq 60); do
  [ -n "$("$K" -n $NS get pod "$OLD" -o jsonpath='{.metadata.deletionTimestamp}')" ] && break; sleep 1
done
sleep 1
"$K" -n $NS delete pod "$OLD" --grace-period=0 --force >/dev/null 2>&1; sleep 1
# 4. Another node's pod goes NotReady, then is deleted: Terminating, then gone (the controller makes a replacement).
for X in node-b node-a; do [ "$X" != "$ROLLED" ] && break; done
XP=$(pod_on "$X")
ready "$XP" False; sleep 1
"$K" -n $NS delete pod "$XP" --wait=false >/dev/null; sleep 1
"$K" -n $NS delete pod "$XP" --grace-period=0 --force >/dev/null 2>&1
sleep 2
kill $WATCH; wait $WATCH 2>/dev/null || true
trim < "$TMP/watch" > "$OUT/pods-watch.jsonl"

# A watch from a resource version the server no longer keeps: etcd compacted past it (through etcd's own HTTP API)
# and kube-apiserver restarted (so its watch cache starts after it too). Answered 200 with one 410 ERROR event.
REV=$(curl -sS -X POST "http://127.0.0.1:${ETCD_PORT:-12379}/v3/kv/range" -d '{"key":"AA==","limit":1}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["header"]["revision"])')
curl -sS -X POST "http://127.0.0.1:${ETCD_PORT:-12379}/v3/kv/compaction" -d "{\"revision\":\"$REV\",\"physical\":true}" >/dev/null
"$LAB/down.sh" kube-apiserver >/dev/null
"$LAB/up.sh" >/dev/null
"${CURL[@]}" -m 10 "$SERVER/api/v1/namespaces/$NS/pods?$Q&watch=true&resourceVersion=$RV" | trim > "$OUT/pods-watch-expired.jsonl" || true
"${CURL[@]}" "$SERVER/api/v1/namespaces/$NS/pods?$Q" | trim > "$OUT/pods-relist.json"
echo "rolled: $ROLLED; watch events: $(wc -l < "$OUT/pods-watch.jsonl")"
