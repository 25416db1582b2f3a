# Sourced by scripts/e2e (never run): the central mode (docs/deploy.md, "The central mode") on the lab: the chart with
# deployment.mode=central, the node agent (--mode node) and the controller (--mode controller) as host processes with
# the chart's arguments, the controller Deployment's sidecars and the DaemonSet's node-driver-registrar.
# shellcheck shell=bash

# docs/deploy.md: the central csi-snapshotter needs no distributed snapshotting; run snapshot-controller as documented.
if has_flag snapshot-controller --enable-distributed-snapshotting; then
  "$LAB/down.sh" snapshot-controller >/dev/null
  DISTRIBUTED_SNAPSHOTTING=0 "$LAB/up.sh" >>"$RUN/up.log" 2>&1 || abort "up.sh (snapshot-controller without distributed snapshotting) failed"
fi

step "central mode: render charts/loopvol with deployment.mode=central and apply it"
PER_NODE_RENDERED=$RENDERED
RENDERED=$RUN/chart-central.yaml
# The TLS Secrets come from the repository's own script (the kustomize path; with helm: deployment.tls.existingSecrets).
# AGENT_CERT_SAN_IP=ADDRESS (not the default) makes the agents' certificate name that address too.
# The DaemonSet matches no node (the agent runs on the host); the Deployment's pods stay Pending (no scheduler).
"$kube_tools/helm/helm" template loopvol charts/loopvol -n "$CHART_NS" --set deployment.mode=central \
  --set deployment.tls.existingSecrets.agent=loopvol-agent-tls \
  --set deployment.tls.existingSecrets.controller=loopvol-controller-tls \
  --set-string 'nodeSelector.loopvol-e2e/no-such-node=true' >"$RENDERED" || abort "helm template (central) failed"
k get namespace "$CHART_NS" >/dev/null 2>&1 || k create namespace "$CHART_NS" >/dev/null || abort "namespace $CHART_NS"
k get namespace "$NS" >/dev/null 2>&1 || k create namespace "$NS" >/dev/null || abort "namespace $NS"
if [ -z "${AGENT_CERT_SAN_IP:-}" ]; then
  NAMESPACE=$CHART_NS deploy/kubernetes/central/make-tls-secrets.sh | k apply -f - >/dev/null ||
    abort "deploy/kubernetes/central/make-tls-secrets.sh | kubectl apply failed"
else # the agent's certificate signed again by the same CA, naming that IP address as well as loopvol-agent
  tls=$RUN/tls-made
  NAMESPACE=$CHART_NS deploy/kubernetes/central/make-tls-secrets.sh "$tls" >/dev/null || abort "make-tls-secrets.sh failed"
  ( cd "$tls" && openssl req -new -key loopvol-agent.key -subj /CN=loopvol-agent -out agent.csr &&
    printf '%s\n' basicConstraints=critical,CA:FALSE keyUsage=critical,digitalSignature \
      extendedKeyUsage=serverAuth,clientAuth "subjectAltName=DNS:loopvol-agent,IP:$AGENT_CERT_SAN_IP" >agent.ext &&
    openssl x509 -req -in agent.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile agent.ext \
      -out loopvol-agent.crt 2>/dev/null ) || abort "could not sign the agent's certificate for IP $AGENT_CERT_SAN_IP"
  for r in agent controller; do
    k -n "$CHART_NS" create secret tls "loopvol-$r-tls" --cert="$tls/loopvol-$r.crt" --key="$tls/loopvol-$r.key" \
      --dry-run=client -o json | python3 -c 'import base64, json, sys
s = json.load(sys.stdin); s["data"]["ca.crt"] = base64.b64encode(open(sys.argv[1], "rb").read()).decode(); print(json.dumps(s))' \
      "$tls/ca.crt" | k apply -f - >/dev/null || abort "Secret loopvol-$r-tls"
  done
  rm -f "$tls/ca.key"
  KNOWN+=("AGENT_CERT_SAN_IP=$AGENT_CERT_SAN_IP: the agents' certificate also names $AGENT_CERT_SAN_IP, the address the controller dials (not what the chart, cert-manager or make-tls-secrets.sh make)")
fi
k -n "$CHART_NS" apply -f "$RENDERED" >/dev/null || abort "could not apply the rendered chart (central)"
switched=
if [ -n "$PER_NODE_RENDERED" ]; then
  # docs/deploy.md, "Switching between the modes": apply the other mode, delete what it does not hold, and the per-node
  # provisioners' CSIStorageCapacity objects (owned by the DaemonSet, which stays).
  python3 - "$PER_NODE_RENDERED" "$RENDERED" >"$RUN/per-node-only" <<'PY' || abort "comparing the two renderings"
import sys, yaml
def objs(f): return {(d["kind"], d["metadata"].get("namespace", ""), d["metadata"]["name"]) for d in yaml.safe_load_all(open(f)) if d}
for kind, ns, name in sorted(objs(sys.argv[1]) - objs(sys.argv[2])):
    print(kind, ns or "-", name)
PY
  while read -r kind ns name; do
    if [ "$ns" = - ]; then k delete "$kind" "$name" >/dev/null; else k -n "$ns" delete "$kind" "$name" >/dev/null; fi ||
      fail "switching: could not delete $kind $name"
  done <"$RUN/per-node-only"
  k -n "$CHART_NS" delete pod loopvol-node-e2e --wait=false >/dev/null 2>&1   # stood for the per-node DaemonSet's pod
  k -n "$CHART_NS" delete csistoragecapacities \
    -l "csi.storage.k8s.io/drivername=$DRIVER,csi.storage.k8s.io/managed-by!=external-provisioner" >/dev/null
  switched=" over the per-node objects; deleted what central does not hold: $(awk '{printf "%s %s, ", $1, $3}' "$RUN/per-node-only" | sed 's/, $//'), and the per-node CSIStorageCapacity objects"
fi
controller_pod() { k -n "$CHART_NS" get pod -l app.kubernetes.io/name=loopvol-controller -o jsonpath='{.items[0].metadata.name}' 2>/dev/null; }
has_controller_pod() { [ -n "$(controller_pod)" ]; }
until_ok 60 has_controller_pod || abort "the Deployment loopvol-controller made no pod"
# csi-provisioner --capacity-ownerref-level=2: POD_NAME's owner's owner (Pod -> ReplicaSet -> Deployment)
POD_NAME_OF[loopvol-controller]=$(controller_pod)
kinds=$(grep '^kind:' "$RENDERED" | awk '{print $2}' | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//')
pass "chart rendered (deployment.mode=central) and applied$switched: $(grep -c '^kind:' "$RENDERED") objects ($kinds); TLS Secrets from make-tls-secrets.sh; pod ${POD_NAME_OF[loopvol-controller]} of the Deployment Pending (no scheduler)"

step "node agent (--mode node) and controller (--mode controller) as host processes, with the chart's arguments"
free_port() { # port: that port if nothing listens on it on 127.0.0.1, else a free one
  if [ -n "$(ss -ltnH "sport = :$1")" ]; then
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
  else echo "$1"; fi
}
# Addresses are translated like paths: everything in the lab listens on 127.0.0.1.
container DaemonSet loopvol-node loopvol
AGENT_ARGS=() AGENT_ENVS=("${C_ENVS[@]}")
for a in "${C_ARGS[@]}"; do
  case $a in
    --agent-endpoint=tcp://*:*) AGENT_PORT=$(free_port "${a##*:}"); a=--agent-endpoint=tcp://127.0.0.1:$AGENT_PORT ;;
    --metrics-address=*:*) METRICS_PORT=$(free_port "${a##*:}"); a=--metrics-address=127.0.0.1:$METRICS_PORT ;;
  esac
  AGENT_ARGS+=("$a")
done
[ -n "${AGENT_PORT:-}" ] || abort "no --agent-endpoint in the DaemonSet's loopvol container"
# The controller finds the agents as the DaemonSet's pods (--agents-selector): here the agent is a host process, not a
# pod (nothing can be pulled in the lab), so no pod IP would lead to it; the static agents file stands for discovery.
printf '%s https://127.0.0.1:%s\n' "$NODE" "$AGENT_PORT" >"$RUN/agents"
container Deployment loopvol-controller loopvol
CONTROLLER_ARGS=() CONTROLLER_ENVS=("${C_ENVS[@]+"${C_ENVS[@]}"}")
for a in "${C_ARGS[@]}"; do
  case $a in
    --agents-selector=*) a=--agents-file=$RUN/agents ;;
    --agents-namespace=*) continue ;;   # goes with --agents-selector
    --endpoint=unix://*) CSOCK=${a#--endpoint=unix://} ;;
  esac
  CONTROLLER_ARGS+=("$a")
done
[ -n "${CSOCK:-}" ] || abort "no --endpoint=unix://... in the Deployment's loopvol container"
[ ${#SOCK} -lt 108 ] && [ ${#CSOCK} -lt 108 ] || abort "socket path longer than 107 bytes (use a shorter K8S_LAB_STATE)"
mkdir -p "$(dirname "$SOCK")" "$DATA"
start_driver() { # the node agent; in a subshell: no job notice when it is killed
  ( for e in "${AGENT_ENVS[@]}"; do export "${e?}"; done; start "$PFX-driver" dotnet "$DLL" "${AGENT_ARGS[@]}" >/dev/null )
}
start_controller() {
  ( for e in "${CONTROLLER_ENVS[@]+"${CONTROLLER_ENVS[@]}"}"; do export "${e?}"; done
    start "$PFX-controller" dotnet "$DLL" "${CONTROLLER_ARGS[@]}" >/dev/null )
}
driver_up() { listening "$SOCK" && [ -n "$(ss -ltnH "sport = :$AGENT_PORT")" ]; }
controller_up() { listening "$CSOCK"; }
echo "node agent: ${AGENT_ENVS[*]} dotnet $DLL ${AGENT_ARGS[*]}"
echo "controller: dotnet $DLL ${CONTROLLER_ARGS[*]}"
echo "agents file $RUN/agents: $(cat "$RUN/agents")"
start_driver
until_ok 60 driver_up || abort "node agent: no socket $SOCK or nothing on 127.0.0.1:$AGENT_PORT: $(tail -n 5 "$RUN/$PFX-driver.log")"
start_controller
until_ok 60 controller_up || abort "controller: no socket $CSOCK: $(tail -n 5 "$RUN/$PFX-controller.log")"
pass "node agent serving $SOCK and the agent endpoint 127.0.0.1:$AGENT_PORT (pid $(cat "$RUN/$PFX-driver.pid")); controller serving $CSOCK (pid $(cat "$RUN/$PFX-controller.pid"))"

step "sidecars with the chart's arguments (the Deployment's csi-provisioner, csi-snapshotter, csi-resizer; the DaemonSet's node-driver-registrar)"
start_sidecars registrar provisioner snapshotter resizer
check_registration Deployment
refusal=$(grep -ho 'refused the TLS server [^"]*' "$RUN/$PFX-controller.log" | head -n 1)
if [ -n "$refusal" ]; then
  fail "the controller cannot reach the node agent: '$refusal' (the agent's certificate names"\
" $(openssl x509 -in "$RUN/secret-loopvol-agent-tls/tls.crt" -noout -ext subjectAltName | tail -n +2 | xargs);"\
" the controller dials 127.0.0.1 with --tls-server-name): every routed call fails, so the central scenarios are skipped"
  MODE_SKIP=1
fi
leases() { k -n "$CHART_NS" get lease -o jsonpath='{range .items[*]}{.metadata.name}={.spec.holderIdentity} {end}' 2>/dev/null; }
three_leases() { [ "$(leases | wc -w)" -ge 3 ]; }
until_ok 60 three_leases && pass "leader election: leases in $CHART_NS: $(leases)" ||
  fail "leader election: leases in $CHART_NS: '$(leases)' (expected one per sidecar: provisioner, snapshotter, resizer)"

[ -n "$switched" ] && [ "${CARRY:-0}" = 1 ] && [ -z "$MODE_SKIP" ] && carry_check
