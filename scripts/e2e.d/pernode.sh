# Sourced by scripts/e2e (never run): the per-node mode (the chart's default) on the lab: the chart, the driver in
# --mode all, and the DaemonSet's sidecars.
# shellcheck shell=bash

step "per-node mode: render charts/loopvol and apply it (the DaemonSet only as the owner of the capacity objects)"
RENDERED=$RUN/chart-per-node.yaml
# nodeSelector is a chart value: the DaemonSet matches no node, so no driver pod is made (the driver runs on the host).
"$kube_tools/helm/helm" template loopvol charts/loopvol -n "$CHART_NS" \
  --set-string 'nodeSelector.loopvol-e2e/no-such-node=true' >"$RENDERED" || abort "helm template failed"
k get namespace "$CHART_NS" >/dev/null 2>&1 || k create namespace "$CHART_NS" >/dev/null || abort "namespace $CHART_NS"
k get namespace "$NS" >/dev/null 2>&1 || k create namespace "$NS" >/dev/null || abort "namespace $NS"
k -n "$CHART_NS" apply -f "$RENDERED" >/dev/null || abort "could not apply the rendered chart"
# csi-provisioner --enable-capacity --capacity-ownerref-level=1 looks up POD_NAME and takes its owner (the DaemonSet).
# There is no scheduler in the lab, so a pod without nodeName stays Pending: it stands for the DaemonSet's pod.
DS_UID=$(k -n "$CHART_NS" get ds loopvol-node -o jsonpath='{.metadata.uid}')
k -n "$CHART_NS" apply -f - >/dev/null <<EOF || abort "placeholder pod"
apiVersion: v1
kind: Pod
metadata:
  name: loopvol-node-e2e
  labels: {app.kubernetes.io/name: loopvol}
  ownerReferences: [{apiVersion: apps/v1, kind: DaemonSet, name: loopvol-node, uid: "$DS_UID", controller: true}]
spec:
  containers: [{name: placeholder, image: $IMAGE, imagePullPolicy: Never}]
EOF
POD_NAME_OF[loopvol-node]=loopvol-node-e2e
kinds=$(grep '^kind:' "$RENDERED" | awk '{print $2}' | sort | uniq -c | awk '{printf "%s %s, ", $1, $2}' | sed 's/, $//')
pass "chart rendered and applied: $(grep -c '^kind:' "$RENDERED") objects ($kinds)"

step "driver as a host process (--mode all, node $NODE, socket $SOCK)"
[ ${#SOCK} -lt 108 ] || abort "socket path longer than 107 bytes: $SOCK (use a shorter K8S_LAB_STATE)"
mkdir -p "$(dirname "$SOCK")" "$DATA"
start_driver() { # in a subshell: no job notice when it is killed
  ( start "$PFX-driver" dotnet "$DLL" --data-dir "$DATA" --nodeid "$NODE" --endpoint "unix://$SOCK" --drivername "$DRIVER" >/dev/null )
}
driver_up() { listening "$SOCK"; }
start_driver
until_ok 60 driver_up || abort "no driver socket $SOCK"
pass "driver serving on $SOCK (pid $(cat "$RUN/$PFX-driver.pid"))"

step "sidecars with the chart's arguments"
start_sidecars registrar provisioner snapshotter resizer
check_registration DaemonSet
