# Sourced by scripts/e2e (never run): the chart's containers as host processes, and the supervisor that restarts them.
# shellcheck shell=bash

# The sidecars of each mode: short name, then the workload and container that holds it in the rendered chart, and
# the lab's binary.
sidecar_of() { # short-name: prints "kind workload container binary" for $MODE
  case $MODE:$1 in
    *:registrar) echo "DaemonSet loopvol-node node-driver-registrar csi-node-driver-registrar" ;;
    per-node:*) echo "DaemonSet loopvol-node csi-$1 csi-$1" ;;
    central:*) echo "Deployment loopvol-controller csi-$1 csi-$1" ;;
  esac
}

# container kind workload container: sets C_ARGS and C_ENVS to the container's arguments and environment as they
# run on the host. Paths below a volume mount become the host directory standing for the volume (scripts/e2e.d/
# container.py): the kubelet directory and the pool below the lab's state directory, an emptyDir below $RUN, and a
# Secret's keys written to a directory below $RUN from the Secret in the API, as kubelet would mount them.
container() {
  local line kind src dir kdir pool
  kdir=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["kubeletDir"])' charts/loopvol/values.yaml)
  pool=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["poolPath"])' charts/loopvol/values.yaml)
  C_ARGS=() C_ENVS=()
  while IFS= read -r line; do
    case $line in
      "mount "*)
        read -r _ kind src dir <<<"$line"
        case $kind in
          emptyDir) mkdir -p "$dir" ;;
          secret) secret_files "$src" "$dir" || abort "$3: Secret $src not readable from $CHART_NS" ;;
        esac ;;
      "env "*) C_ENVS+=("${line#env }") ;;
      "arg "*)
        line=${line#arg }
        case $line in # a host path in kubelet's own view, not a mount of the container
          --kubelet-registration-path=*) line=--kubelet-registration-path=${line#*=}; line=${line/"$kdir"/$KROOT} ;;
        esac
        C_ARGS+=("$line") ;;
    esac
  done < <(python3 scripts/e2e.d/container.py "$RENDERED" "$1" "$2" "$3" "$RUN" \
    --host-path "$kdir=$KROOT" --host-path "$pool=$DATA" \
    --field "spec.nodeName=$NODE" --field "metadata.namespace=$CHART_NS" --field "metadata.name=${POD_NAME_OF[$2]:-}" ||
    echo "fail")
  [ ${#C_ARGS[@]} -gt 0 ] || abort "container $3 of $1/$2 not found in the rendered chart"
}
secret_files() { # secret dir: the Secret's keys as files, readable by root only
  rm -rf "$2" && mkdir -p "$2" && chmod 700 "$2" &&
    k -n "$CHART_NS" get secret "$1" -o json | python3 -c '
import base64, json, os, sys
for key, value in json.load(sys.stdin)["data"].items():
    path = os.path.join(sys.argv[1], key)
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o400), "wb") as f:
        f.write(base64.b64decode(value))' "$2"
}

has_arg() { # regex: true if one of C_ARGS matches it whole (no pipe into grep -q: with pipefail, printf's SIGPIPE
  local a  # when grep quits early turns a match into a failure)
  for a in "${C_ARGS[@]}"; do [[ $a =~ ^$1$ ]] && return 0; done
  return 1
}
start_sidecar() { # short-name: starts $PFX-<short-name> with the chart's arguments and environment
  local kind workload c bin e
  read -r kind workload c bin <<<"$(sidecar_of "$1")"
  container "$kind" "$workload" "$c"
  has_arg '--csi-address=/.*' || abort "$c: no --csi-address in the chart's args"
  case $c in
    node-driver-registrar) C_ARGS+=(--plugin-registration-path="$KROOT/plugins_registry") ;; # its /registration mount
    *) C_ARGS+=(--kubeconfig="$STATE/sidecars.kubeconfig") ;;
  esac
  # In a pod, csi-lib-utils takes the lease's namespace from the service account's namespace file; on the host
  # it would fall back to "default".
  has_arg '--leader-election(=true)?' && C_ARGS+=(--leader-election-namespace="$CHART_NS")
  echo "$c: ${C_ENVS[*]+"${C_ENVS[*]} "}$bin ${C_ARGS[*]}"
  ( for e in "${C_ENVS[@]+"${C_ENVS[@]}"}"; do export "${e?}"; done; start "$PFX-$1" "$BIN/$bin" "${C_ARGS[@]}" >/dev/null )
}
restart_sidecar() { # short-name
  "$LAB/down.sh" "$PFX-$1" >/dev/null
  start_sidecar "$1" >/dev/null
}
# In the pods, kubelet restarts a sidecar container that exits (restartPolicy Always). supervise does that for the
# sidecars listed in $RUN/supervised, and logs each restart to $RUN/restarts.log.
supervise() {
  local p
  while [ -f "$RUN/supervised" ]; do
    for p in $(cat "$RUN/supervised" 2>/dev/null); do
      running "$PFX-$p" && continue
      grep -qx "$p" "$RUN/supervised" 2>/dev/null || continue
      restart_sidecar "$p"
      echo "$(date -u +%T) $PFX-$p had exited: restarted ($(grep -h 'exiting' "$RUN/$PFX-$p.log" | tail -n 1 | cut -c1-120))" >>"$RUN/restarts.log"
    done
    sleep 2
  done
}
start_sidecars() { # short-name...: starts them under the supervisor; aborts if one exits at once
  local p
  for p in "$@"; do start_sidecar "$p"; done
  printf '%s\n' "$@" >"$RUN/supervised"
  : >"$RUN/restarts.log"
  supervise &
  SUPERVISOR=$!
  sleep 3
  for p in "$@"; do
    running "$PFX-$p" || abort "$PFX-$p exited: $(tail -n 5 "$RUN/$PFX-$p.log" 2>/dev/null)"
  done
}
stop_supervisor() { rm -f "$RUN/supervised"; [ -z "${SUPERVISOR:-}" ] || { kill "$SUPERVISOR"; wait "$SUPERVISOR"; } 2>/dev/null; SUPERVISOR=; }
listening() { ss -xlH 2>/dev/null | awk -v s="$1" '$5 == s {f = 1} END {exit !f}'; } # a unix socket that accepts

check_registration() { # owner-kind: kubelet registered the driver (node-driver-registrar), the node's topology label,
  # and the provisioner's CSIStorageCapacity objects, owned by the workload of that kind
  local lbl owners
  csinode() { [ "$(k get csinode "$NODE" -o jsonpath="{.spec.drivers[?(@.name==\"$DRIVER\")].nodeID}" 2>/dev/null)" = "$NODE" ]; }
  until_ok "$TIMEOUT" csinode || fail "kubelet did not register $DRIVER in CSINode $NODE"
  lbl=$(k get node "$NODE" -o jsonpath="{.metadata.labels.${TOPO//./\\.}}")
  [ "$lbl" = "$NODE" ] && pass "sidecars running ($(tr '\n' ' ' <"$RUN/supervised"| sed 's/ $//')); kubelet registered $DRIVER (CSINode nodeID $NODE, label $TOPO=$lbl)" ||
    fail "node label $TOPO is '$lbl', not $NODE"
  caps() { # the capacity objects of this driver, owned by a $1
    k -n "$CHART_NS" get csistoragecapacity -l "csi.storage.k8s.io/drivername=$DRIVER" \
      -o jsonpath="{range .items[?(@.metadata.ownerReferences[0].kind==\"$1\")]}{.storageClassName}={.capacity} {end}" 2>/dev/null
  }
  has_caps() { [ -n "$(caps "$1")" ]; }
  if until_ok 60 has_caps "$1"; then
    owners=$(k -n "$CHART_NS" get csistoragecapacity -l "csi.storage.k8s.io/drivername=$DRIVER" \
      -o jsonpath='{range .items[*]}{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {end}')
    pass "capacity tracking: $(caps "$1")(owners: $owners)"
  else
    fail "no CSIStorageCapacity of $DRIVER owned by a $1 in $CHART_NS: $(k -n "$CHART_NS" get csistoragecapacity -o wide 2>&1 | tail -n 3)"
  fi
}
