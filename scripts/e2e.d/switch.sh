# Sourced by scripts/e2e (never run) when the central mode follows the per-node mode: objects made in the per-node
# mode are kept across the switch (docs/deploy.md, "Switching between the modes": their IDs carry no node, and the
# controller asks the agents where each one is), then used and deleted through the controller.
# shellcheck shell=bash

carry_make() { # in the per-node mode, its driver and sidecars running
  step "before switching to the central mode: a PVC and a VolumeSnapshot of it, made in the per-node mode and kept"
  CARRY=0
  pvc carry loopvol 64Mi
  if bound carry; then
    snapshot carry-snap carry
    if waitjp volumesnapshot/carry-snap '{.status.readyToUse}' true; then
      CARRY_VOL=$(handle_of carry)
      CARRY_SNAP=$(k get volumesnapshotcontent "$(jp volumesnapshot/carry-snap '{.status.boundVolumeSnapshotContentName}')" \
        -o jsonpath='{.status.snapshotHandle}')
      pass "PVC carry (volume $CARRY_VOL) and VolumeSnapshot carry-snap (snapshot $CARRY_SNAP) made in the per-node mode, kept for the central mode"
      CARRY=1
    else
      fail "VolumeSnapshot carry-snap not readyToUse: $(jp volumesnapshot/carry-snap '{.status.error.message}')"
    fi
  else
    fail "PVC carry not Bound"
  fi
}

carry_check() { # in the central mode, after the switch
  step "after the switch: the per-node objects through the controller (IDs without a node: found by asking the agents)"
  local left ds_caps
  ds_caps=$(k -n "$CHART_NS" get csistoragecapacity \
    -o jsonpath='{range .items[?(@.metadata.ownerReferences[0].kind=="DaemonSet")]}{.metadata.name} {end}' 2>/dev/null)
  [ -z "$ds_caps" ] && pass "the per-node CSIStorageCapacity objects are gone after docs/deploy.md's delete command" ||
    fail "per-node CSIStorageCapacity objects left after docs/deploy.md's delete command: $ds_caps"
  kn patch pvc carry --type merge -p '{"spec":{"resources":{"requests":{"storage":"128Mi"}}}}' >/dev/null
  carried_grown() { [ "$(k get pv "$(pv_of carry)" -o jsonpath='{.spec.capacity.storage}')" = 128Mi ]; }
  until_ok "$TIMEOUT" carried_grown && pass "per-node volume $CARRY_VOL grown to 128Mi through the controller (ControllerExpandVolume)" ||
    fail "per-node volume $CARRY_VOL not grown: PV capacity $(k get pv "$(pv_of carry)" -o jsonpath='{.spec.capacity.storage}'), PVC conditions $(jp pvc/carry '{.status.conditions}')"
  pvc carry-restored loopvol 64Mi Filesystem "  dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: carry-snap}"
  if bound carry-restored; then
    id_of_mode "$(handle_of carry-restored)" &&
      pass "PVC restored from the per-node snapshot $CARRY_SNAP through the controller: volume $(handle_of carry-restored)" ||
      fail "PVC carry-restored: volume handle '$(handle_of carry-restored)' is not $ID_FORM"
  else
    fail "PVC restored from the per-node snapshot $CARRY_SNAP not Bound"
  fi
  left=$(delete_all); left=${left#*|}
  [ -z "$left" ] && pass "per-node volume, per-node snapshot and the restored volume deleted through the controller (DeleteVolume, DeleteSnapshot)" ||
    fail "left after ${TIMEOUT}s: '$left'"
}
