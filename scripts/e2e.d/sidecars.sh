# Sourced by scripts/e2e (never run): the sidecars, started with the rendered chart's args; the supervisor that restarts them.
# shellcheck shell=bash

container_args() { # container: its rendered args, one a line
  python3 - "$RENDERED" "$1" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "DaemonSet":
        for c in d["spec"]["template"]["spec"]["containers"]:
            if c["name"] == sys.argv[2]:
                print("\n".join(c.get("args", [])))
PY
}
container_env() { # container: NAME=fieldPath for each downward-API variable, NAME=value for plain ones
  python3 - "$RENDERED" "$1" <<'PY'
import sys, yaml
for d in yaml.safe_load_all(open(sys.argv[1])):
    if d and d.get("kind") == "DaemonSet":
        for c in d["spec"]["template"]["spec"]["containers"]:
            if c["name"] == sys.argv[2]:
                for e in c.get("env", []):
                    f = e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath")
                    print(e["name"] + "=" + (("field:" + f) if f else e.get("value", "")))
PY
}
start_sidecar() { # container binary process-name
  local c=$1 bin=$2 name=$3 a args=() envs=() e v kdir
  kdir=$(python3 -c 'import sys,yaml; print(yaml.safe_load(open(sys.argv[1]))["kubeletDir"])' charts/loopvol/values.yaml)
  while IFS= read -r a; do
    case $a in
      --csi-address=*) a=--csi-address=$SOCK ;;                         # /csi/csi.sock in the pod
      --kubelet-registration-path=*) a=--kubelet-registration-path=${a#*=}; a=${a/"$kdir"/$KROOT} ;;
    esac
    args+=("$a")
  done < <(container_args "$c")
  [ ${#args[@]} -gt 0 ] || abort "container $c not found in the rendered chart"
  printf '%s\n' "${args[@]}" | grep -q "^--csi-address=$SOCK\$" || abort "$c: no --csi-address in the chart's args"
  [ "$c" = node-driver-registrar ] && args+=(--plugin-registration-path="$KROOT/plugins_registry")   # its /registration mount
  [ "$c" = node-driver-registrar ] || args+=(--kubeconfig="$STATE/sidecars.kubeconfig")
  while IFS= read -r e; do
    [ -n "$e" ] || continue
    v=${e#*=}
    case $v in
      field:spec.nodeName) v=$NODE ;;
      field:metadata.namespace) v=$CHART_NS ;;
      field:metadata.name) v=loopvol-node-e2e ;;
      field:*) abort "$c: unknown downward API field ${v#field:}" ;;
    esac
    envs+=("${e%%=*}=$v")
  done < <(container_env "$c")
  echo "$c: ${envs[*]+"${envs[*]} "}$bin ${args[*]}"
  ( for e in "${envs[@]+"${envs[@]}"}"; do export "${e?}"; done; start "$name" "$BIN/$bin" "${args[@]}" >/dev/null )
}
restart_sidecar() { # registrar|provisioner|snapshotter|resizer
  "$LAB/down.sh" "lv-$1" >/dev/null
  case $1 in
    registrar) start_sidecar node-driver-registrar csi-node-driver-registrar lv-registrar >/dev/null ;;
    *) start_sidecar "csi-$1" "csi-$1" "lv-$1" >/dev/null ;;
  esac
}
# In the DaemonSet kubelet restarts a sidecar container that exits (restartPolicy Always). supervise does that for
# the sidecars listed in $RUN/supervised, and logs each restart to $RUN/restarts.log.
supervise() {
  local p
  while [ -f "$RUN/supervised" ]; do
    for p in $(cat "$RUN/supervised" 2>/dev/null); do
      running "lv-$p" && continue
      grep -qx "$p" "$RUN/supervised" 2>/dev/null || continue
      restart_sidecar "$p"
      echo "$(date -u +%T) lv-$p had exited: restarted ($(grep -h 'exiting' "$RUN/lv-$p.log" | tail -n 1 | cut -c1-120))" >>"$RUN/restarts.log"
    done
    sleep 2
  done
}
