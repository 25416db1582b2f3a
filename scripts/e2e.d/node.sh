# Sourced by scripts/e2e (never run): the scenarios through the kubelet node: pods, restarts, teardown.
# shellcheck shell=bash

step "pods on $NODE: a Filesystem PVC (fsGroup 2345, runAsUser 1000) and a Block PVC writing data"
TOKEN=e2e-$(date +%s)-$RANDOM
KUBELET_LINES=$(wc -l <"$RUN/kubelet.log")   # kubelet's log lines of an earlier mode
pvc fs loopvol 64Mi
pvc blk loopvol 64Mi Block
sc e2e-xfs WaitForFirstConsumer fsType=xfs
pvc xfs e2e-xfs 300Mi
sh_fsw="echo $TOKEN > /data/token && sync && stat -c \"%n gid=%g mode=%A\" /data /data/token && echo WRITTEN;"
sh_fsw+=" while true; do date +%s >> /data/beat; sync; sleep 1; done"
sh_blk="echo $TOKEN | dd of=/dev/xvda bs=512 count=1 conv=sync,fsync &&"
sh_blk+=" dd if=/dev/xvda bs=512 count=1 2>/dev/null | head -n1 && echo WRITTEN && exec sleep 3600"
pod fsw fs "$sh_fsw" "" \
  "{fsGroup: 2345, runAsUser: 1000, runAsGroup: 1000}"
pod blk blk "$sh_blk" Block
pod xfsg xfs 'while true; do echo "SIZE $(df -k /data | tail -n1 | awk "{print \$2}")"; sleep 2; done'
if running_pod fsw && until_ok 30 log_has fsw WRITTEN; then
  FS_PUB=$KROOT/pods/$(jp pod/fsw '{.metadata.uid}')/volumes/kubernetes.io~csi/$(pv_of fs)/mount
  grep -qx "$TOKEN" "$FS_PUB/token" 2>/dev/null && pass "pod fsw wrote through the Filesystem PVC (file in kubelet's publish path $FS_PUB)" ||
    fail "token not in $FS_PUB/token"
  g=$(stat -c %g "$FS_PUB/token" 2>/dev/null)
  [ "$g" = 2345 ] && log_has fsw 'token gid=2345' && pass "fsGroup honoured: /data/token group 2345 in the pod and on the host ($(podlog fsw | grep -m1 '^/data ' ))" ||
    fail "fsGroup: file group on the host '$g', pod says: $(podlog fsw | head -n 3 | tr '\n' '|')"
else
  fail "pod fsw not Running or wrote nothing: $(jp pod/fsw '{.status.phase}') $(podlog fsw | tail -n 3 | tr '\n' '|')"
fi
if running_pod blk && until_ok 30 log_has blk WRITTEN; then
  BLK_PUB=$KROOT/plugins/kubernetes.io/csi/volumeDevices/publish/$(pv_of blk)/$(jp pod/blk '{.metadata.uid}')
  first=$(dd if="$BLK_PUB" bs=512 count=1 2>/dev/null | head -n1 | tr -d '\0')
  [ "$first" = "$TOKEN" ] && pass "pod blk wrote the first sector of the Block PVC (read back on the host from $BLK_PUB)" ||
    fail "block token not on $BLK_PUB (first line '$first')"
else
  fail "pod blk not Running or wrote nothing: $(jp pod/blk '{.status.phase}') $(podlog blk | tail -n 3 | tr '\n' '|')"
fi

step "a pod restored from a VolumeSnapshot reads the data written before it, through a read-only mount"
snapshot snap-fs fs
if waitjp volumesnapshot/snap-fs '{.status.readyToUse}' true; then
  pvc fs-restored loopvol 64Mi Filesystem "  dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: snap-fs}"
  sh_reader='cat /data/token; if touch /data/new 2>/dev/null; then echo WRITE-ALLOWED; else echo WRITE-REFUSED; fi;'
  sh_reader+=' grep " /data " /proc/mounts; echo DONE; exec sleep 3600'
  pod reader fs-restored "$sh_reader" ro
  if running_pod reader && until_ok 30 log_has reader DONE; then
    log_has reader "^$TOKEN\$" && pass "pod reader (PVC restored from snap-fs) read the token written by fsw" ||
      fail "pod reader did not read the token: $(podlog reader | tr '\n' '|')"
    log_has reader WRITE-REFUSED && log_has reader ' /data [a-z0-9]+ ro[ ,]' &&
      pass "read-only mount: writing refused, mounted $(podlog reader | grep ' /data ' | awk '{print $3, $4}' | cut -c1-60)" ||
      fail "read-only mount: $(podlog reader | tr '\n' '|')"
  else
    fail "pod reader not Running: $(jp pod/reader '{.status.phase}') $(podlog reader | tr '\n' '|')"
  fi
else
  fail "VolumeSnapshot snap-fs not readyToUse: $(jp volumesnapshot/snap-fs '{.status.error.message}')"
fi

step "online expansion of an xfs PVC seen inside the running pod"
size_kb() { podlog xfsg | awk '/^SIZE/ {s=$2} END {print s+0}'; }
sized() { [ "$(size_kb)" -gt 0 ]; }
if running_pod xfsg && until_ok 30 sized; then
  before=$(size_kb)
  kn patch pvc xfs --type merge -p '{"spec":{"resources":{"requests":{"storage":"600Mi"}}}}' >/dev/null
  grown() { [ "$(size_kb)" -gt $((before + 200 * 1024)) ]; }
  if waitjp pvc/xfs '{.status.capacity.storage}' 600Mi && until_ok 30 grown; then
    pass "xfs PVC grown 300Mi -> 600Mi while in use: df in the pod $before KiB -> $(size_kb) KiB"
  else
    fail "online expansion: PVC capacity $(jp pvc/xfs '{.status.capacity.storage}'), conditions $(jp pvc/xfs '{.status.conditions[*].type}'), df in pod $before -> $(size_kb) KiB"
  fi
else
  fail "pod xfsg not Running: $(jp pod/xfsg '{.status.phase}') $(podlog xfsg | tail -n 3 | tr '\n' '|')"
fi

beats() { wc -l <"$FS_PUB/beat" 2>/dev/null || echo 0; }
beating() { local b; b=$(beats); sleep 3; [ "$(beats)" -gt "$b" ]; }
all_running() { local p; for p in fsw blk reader xfsg; do [ "$(jp "pod/$p" '{.status.phase}')" = Running ] || return 1; done; }

step "kubelet restarted while the pods run"
"$LAB/down.sh" kubelet >/dev/null
NODE_NAME=$NODE "$LAB/node-up.sh" >/dev/null 2>&1 || fail "node-up.sh (kubelet restart) failed"
k wait --for=condition=Ready "node/$NODE" --timeout=60s >/dev/null 2>&1
sleep 10
if all_running && beating && grep -qx "$TOKEN" "$FS_PUB/token"; then
  pass "kubelet restarted (pid $(cat "$RUN/kubelet.pid")): pods Running, fsw still writing, data intact"
else
  fail "after the kubelet restart: $(kn get pod -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}'), beats $(beats)"
fi

# Per node: the driver. Central: the node agent (the kubelet's socket and the node's pool), then the controller (the
# central sidecars' socket); each comes back with the same arguments.
if [ "$MODE" = central ]; then
  KILLED="driver controller"; step "node agent, then controller, killed with SIGKILL under the running pods, then restarted"
else
  KILLED=driver; step "driver killed with SIGKILL under the running pods, then restarted"
fi
[ -s "$RUN/restarts.log" ] && fail "sidecars exited before the driver was killed: $(cat "$RUN/restarts.log")"
for p in $KILLED; do
  kill -KILL "$(cat "$RUN/$PFX-$p.pid")"
  sleep 2
  "$LAB/down.sh" "$PFX-$p" >/dev/null
  "start_$p"
  until_ok 60 "${p}_up" || fail "$p did not come back"
done
# csi-lib-utils makes csi-provisioner, csi-snapshotter and csi-resizer exit when they lose the driver's connection
# (10 to 40 s later); supervise restarts them as kubelet would.
sleep 45
echo "sidecar restarts after the SIGKILL: $(tr '\n' ';' <"$RUN/restarts.log")"
if all_running && beating && grep -qx "$TOKEN" "$FS_PUB/token" &&
  [ "$(dd if="$BLK_PUB" bs=512 count=1 2>/dev/null | head -n1 | tr -d '\0')" = "$TOKEN" ]; then
  pass "$(for p in $KILLED; do printf '%s ' "$p (now pid $(cat "$RUN/$PFX-$p.pid"))"; done)SIGKILLed and restarted: pods Running, fsw still writing, Filesystem and Block data intact"
else
  fail "after the driver restart: $(kn get pod -o jsonpath='{range .items[*]}{.metadata.name}={.status.phase} {end}'), beats $(beats)"
fi

step "teardown after the restarts: pods, snapshots and PVCs deleted, proven at the driver and the kernel"
kn delete pod --all --wait=true --timeout="${TIMEOUT}s" >/dev/null 2>&1 || fail "pods not deleted"
no_mounts() { [ "$(vol_mounts)" = 0 ]; }
until_ok "$TIMEOUT" no_mounts
m=$(vol_mounts)
unstaged=$(tail -n +"$((KUBELET_LINES + 1))" "$RUN/kubelet.log" | grep -cE 'UnmountDevice succeeded|UnmapDevice succeeded' || true)
[ "$m" = 0 ] && [ "$(pool_loops)" = 0 ] &&
  pass "pods gone: kubelet unpublished and unstaged every volume ($unstaged UnmountDevice/UnmapDevice), no CSI mount and no loop device of the pool left" ||
  fail "$m CSI mounts and $(pool_loops) pool loop devices left: $(losetup -a | grep -F "$DATA/")"
left=$(delete_all); DELETED=${left%%|*}; left=${left#*|}
jl=$(journal list 2>&1)
if [ -z "$left" ] && grep -qx '0 record(s)' <<<"$jl"; then
  pass "$DELETED PVs and snapshot contents deleted; the driver's journal list: 0 record(s)"
else
  fail "left after ${TIMEOUT}s: '$left'; journal list: $(head -n 12 <<<"$jl")"
fi
