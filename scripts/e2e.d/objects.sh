# Sourced by scripts/e2e (never run): Kubernetes objects of the test and their deletion.
# shellcheck shell=bash

sc() { # name binding-mode [key=value...]: a StorageClass of this driver
  local name=$1 mode=$2 p params=""; shift 2
  for p in "$@"; do params="$params  ${p%%=*}: \"${p#*=}\""$'\n'; done
  k apply -f - >/dev/null <<EOF
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: $name}
provisioner: $DRIVER
volumeBindingMode: $mode
reclaimPolicy: Delete
allowVolumeExpansion: true
${params:+parameters:
$params}
EOF
}
pvc() { # name storage-class size [volumeMode] [extra spec yaml] [labels]: PVC; WFFC ones get the scheduler's annotation
  local mode
  mode=$(k get sc "$2" -o jsonpath='{.volumeBindingMode}')
  kn apply -f - >/dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: $1
  labels: {${6:-e2e: run}}
$([ "$mode" = WaitForFirstConsumer ] && printf '  annotations: {volume.kubernetes.io/selected-node: %s}\n' "$NODE")
spec:
  storageClassName: $2
  accessModes: [ReadWriteOnce]
  volumeMode: ${4:-Filesystem}
  resources: {requests: {storage: $3}}
${5:-}
EOF
}
snapshot() { # name claim: a VolumeSnapshot of the claim, with the chart's VolumeSnapshotClass (loopvol)
  kn apply -f - >/dev/null <<EOF
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: $1}
spec: {volumeSnapshotClassName: loopvol, source: {persistentVolumeClaimName: $2}}
EOF
}

pod() { # name claim script [Block|ro] [pod securityContext yaml]: a busybox pod on the node (no scheduler here)
  local vol
  case ${4:-} in
    Block) vol="    volumeDevices: [{name: v, devicePath: /dev/xvda}]" ;;
    *) vol="    volumeMounts: [{name: v, mountPath: /data}]" ;;
  esac
  kn apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $NODE
  automountServiceAccountToken: false
  terminationGracePeriodSeconds: 1
  restartPolicy: Never
${5:+  securityContext: $5}
  containers:
  - name: c
    image: $IMAGE
    imagePullPolicy: Never
    command: [sh, -c, '$3']
$vol
  volumes:
  - name: v
    persistentVolumeClaim: {claimName: $2$([ "${4:-}" = ro ] && echo ", readOnly: true")}
EOF
}
bound() { # pvc...: waits until each is Bound
  local c ok=0
  for c in "$@"; do
    waitjp "pvc/$c" '{.status.phase}' Bound || { echo "pvc/$c not Bound: $(jp "pvc/$c" '{.status.phase}')"; ok=1; }
  done
  return $ok
}
pv_of() { jp "pvc/$1" '{.spec.volumeName}'; }
handle_of() { k get pv "$(pv_of "$1")" -o jsonpath='{.spec.csi.volumeHandle}' 2>/dev/null; }
running_pod() { waitjp "pod/$1" '{.status.phase}' Running; }

# --- cleanup -----------------------------------------------------------------------------------------------------
delete_all() { # the test objects, while the driver and the sidecars still run; waits until the driver deleted them.
  # Prints "<number of PVs and contents>|<those still present>".
  local objs=() o
  local kind field
  for kind in pv volumesnapshotcontent volumegroupsnapshotcontent; do
    field=spec.driver; [ "$kind" = pv ] && field=spec.csi.driver
    for o in $(k get "$kind" -o jsonpath="{range .items[?(@.$field==\"$DRIVER\")]}{.metadata.name}{\" \"}{end}" 2>/dev/null); do
      objs+=("$kind/$o")
    done
  done
  kn delete pod --all --wait=false >/dev/null 2>&1
  kn delete volumegroupsnapshot --all --wait=false >/dev/null 2>&1
  kn delete volumesnapshot --all --wait=false >/dev/null 2>&1
  kn delete pvc --all --wait=false >/dev/null 2>&1
  local left=("${objs[@]}") now i
  for ((i = 0; i < TIMEOUT && ${#left[@]} > 0; i++)); do
    now=(); for o in "${left[@]}"; do k get "$o" >/dev/null 2>&1 && now+=("$o"); done
    left=("${now[@]+"${now[@]}"}"); [ ${#left[@]} = 0 ] || sleep 1
  done
  echo "${#objs[@]}|${left[*]+"${left[*]}"}"
}

id_of_mode() { # handle: true if the ID has the form of this mode: node-tagged in central mode, plain in --mode all
  case $MODE in
    central) ID_FORM="tagged with its node (<kind>-<uuid>.$NODE, docs/cluster.md)"; [[ $1 =~ ^[a-z]+-[0-9a-f-]{36}\.${NODE}$ ]] ;;
    *) ID_FORM="plain (<kind>-<uuid>, no node tag: --mode all)"; [[ $1 =~ ^[a-z]+-[0-9a-f-]{36}$ ]] ;;
  esac
}
