{{/* The socket directory kubelet and the registrar agree on: <kubelet>/plugins/<driver>. */}}
{{- define "loopvol.socketDir" -}}
{{ .Values.kubeletDir }}/plugins/{{ .Values.driverName }}
{{- end -}}

{{- define "loopvol.labels" -}}
app.kubernetes.io/name: loopvol
{{- end -}}

{{/* The headless Service a ServiceMonitor selects: its labels, and the ServiceMonitor's selector. */}}
{{- define "loopvol.metricsLabels" -}}
app.kubernetes.io/name: loopvol
app.kubernetes.io/component: metrics
{{- end -}}

{{/* Every series gets the node its driver runs on: one driver per node, so a node names a pool. */}}
{{- define "loopvol.nodeRelabeling" -}}
- sourceLabels: [__meta_kubernetes_pod_node_name]
  targetLabel: node
  action: replace
{{- end -}}

{{/* "true" in the central deployment mode (a controller Deployment and node agents), "" in the per-node mode. */}}
{{- define "loopvol.central" -}}
{{- if eq .Values.deployment.mode "central" }}true{{ end -}}
{{- end -}}

{{/*
The node agents' pods: the DaemonSet's pod labels in the central mode, and the controller's --agents-selector.
The DaemonSet's own selector stays app.kubernetes.io/name=loopvol in both modes (a selector cannot change).
*/}}
{{- define "loopvol.agentLabels" -}}
app.kubernetes.io/name: loopvol
app.kubernetes.io/component: node
{{- end -}}

{{/*
The controller's pods. Not app.kubernetes.io/name=loopvol: the DaemonSet, the metrics Service and the PodMonitor
select that label, and none of them is about the controller.
*/}}
{{- define "loopvol.controllerLabels" -}}
app.kubernetes.io/name: loopvol-controller
app.kubernetes.io/component: controller
app.kubernetes.io/part-of: loopvol
{{- end -}}

{{/* The label selector (key=value,...) of a label map rendered by one of the definitions above. */}}
{{- define "loopvol.selector" -}}
{{- $pairs := list }}
{{- range $key, $value := fromYaml . }}
{{- $pairs = append $pairs (printf "%s=%s" $key $value) }}
{{- end }}
{{- join "," $pairs }}
{{- end -}}

{{/* Where the TLS Secret is mounted, read-only, in the controller and the agents; the --tls-* flags name its files. */}}
{{- define "loopvol.tlsDir" -}}
/etc/loopvol/tls
{{- end -}}

{{- define "loopvol.tlsArgs" -}}
- --tls-cert={{ include "loopvol.tlsDir" . }}/tls.crt
- --tls-key={{ include "loopvol.tlsDir" . }}/tls.key
- --tls-ca={{ include "loopvol.tlsDir" . }}/ca.crt
{{- end -}}

{{/* The Secret of a role ("agent" or "controller"): the one given in deployment.tls.existingSecrets, or the chart's. */}}
{{- define "loopvol.tlsSecret" -}}
{{- $given := get .root.Values.deployment.tls.existingSecrets .role }}
{{- $given | default (printf "loopvol-%s-tls" .role) }}
{{- end -}}

{{/*
The TLS material the chart makes (central mode, no existingSecrets), computed once per render and kept in .Values
so that the Secrets and the pods' checksum annotations see the same certificates. An install generates a CA (its
key is used here and then dropped: nothing in the cluster can sign more), an agent certificate with serverName as
its DNS name, and a controller certificate. An upgrade reuses the Secrets it finds (lookup), as long as both hold
the three files, share one CA, and the agent's was made for the same serverName; so certificates do not rotate on
every upgrade. helm template cannot look anything up and generates new ones each time.
*/}}
{{- define "loopvol.generatedTls" -}}
{{- if not (hasKey .Values "loopvolGeneratedTls") }}
{{- $name := .Values.deployment.tls.serverName }}
{{- $agent := lookup "v1" "Secret" .Release.Namespace "loopvol-agent-tls" }}
{{- $controller := lookup "v1" "Secret" .Release.Namespace "loopvol-controller-tls" }}
{{- $agentData := get $agent "data" | default dict }}
{{- $controllerData := get $controller "data" | default dict }}
{{- $agentName := get (get (get $agent "metadata" | default dict) "annotations" | default dict) "loopvol.csi.dev/server-name" }}
{{- $complete := true }}
{{- range $key := list "ca.crt" "tls.crt" "tls.key" }}
{{- if not (and (get $agentData $key) (get $controllerData $key)) }}{{ $complete = false }}{{ end }}
{{- end }}
{{- if and $complete (eq (get $agentData "ca.crt") (get $controllerData "ca.crt")) (eq $agentName $name) }}
{{- $_ := set .Values "loopvolGeneratedTls" (dict "agent" $agentData "controller" $controllerData) }}
{{- else }}
{{- $days := int .Values.deployment.tls.validityDays }}
{{- $ca := genCA "loopvol-ca" $days }}
{{- $a := genSignedCert $name nil (list $name) $days $ca }}
{{- $c := genSignedCert "loopvol-controller" nil (list "loopvol-controller") $days $ca }}
{{- $_ := set .Values "loopvolGeneratedTls" (dict
    "agent" (dict "ca.crt" ($ca.Cert | b64enc) "tls.crt" ($a.Cert | b64enc) "tls.key" ($a.Key | b64enc))
    "controller" (dict "ca.crt" ($ca.Cert | b64enc) "tls.crt" ($c.Cert | b64enc) "tls.key" ($c.Key | b64enc))) }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
A pod annotation that changes when the generated certificates change, so that the controller and the agents restart
onto one CA together. Nothing for existingSecrets: whoever renews those restarts the pods (docs/deploy.md).
*/}}
{{- define "loopvol.tlsChecksum" -}}
{{- if not (or .Values.deployment.tls.existingSecrets.agent .Values.deployment.tls.existingSecrets.controller) }}
{{- include "loopvol.generatedTls" . }}
{{- printf "checksum/tls: %s" (.Values.loopvolGeneratedTls | toJson | sha256sum) }}
{{- end }}
{{- end -}}

{{/* A container of the controller's pod: no privilege to gain, nothing written outside its volumes. */}}
{{- define "loopvol.restricted" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop: [ALL]
{{- end -}}

{{/* The SnapshotMetadata service's objects: the Service, the generated TLS Secret's prefix and the ClusterRole. */}}
{{- define "loopvol.snapshotMetadataName" -}}
loopvol-snapshot-metadata
{{- end -}}

{{/* The names the sidecar's certificate carries: the Service, alone and in the release's namespace. */}}
{{- define "loopvol.snapshotMetadataDnsNames" -}}
{{- $service := include "loopvol.snapshotMetadataName" . }}
{{- list $service (printf "%s.%s" $service .Release.Namespace) (printf "%s.%s.svc" $service .Release.Namespace) | join "," }}
{{- end -}}

{{/* The Secret the sidecar mounts: the one given in snapshotMetadata.tls.existingSecret, or the chart's. */}}
{{- define "loopvol.snapshotMetadataSecret" -}}
{{- .Values.snapshotMetadata.tls.existingSecret | default (printf "%s-tls" (include "loopvol.snapshotMetadataName" .)) }}
{{- end -}}

{{/*
The sidecar's TLS material the chart makes (no existingSecret), computed once per render into .Values: a CA of its
own (its key is dropped: nothing can sign more) and a server certificate for the Service's names. Not the agents'
CA: every backup client trusts this one, and it must vouch for nothing else. An upgrade reuses the Secret it finds
when it holds the three files and was made for the same names.
*/}}
{{- define "loopvol.snapshotMetadataTls" -}}
{{- if not (hasKey .Values "loopvolSnapshotMetadataTls") }}
{{- $names := include "loopvol.snapshotMetadataDnsNames" . }}
{{- $found := lookup "v1" "Secret" .Release.Namespace (include "loopvol.snapshotMetadataSecret" .) }}
{{- $data := get $found "data" | default dict }}
{{- $madeFor := get (get (get $found "metadata" | default dict) "annotations" | default dict) "loopvol.csi.dev/dns-names" }}
{{- if and (get $data "ca.crt") (get $data "tls.crt") (get $data "tls.key") (eq $madeFor $names) }}
{{- $_ := set .Values "loopvolSnapshotMetadataTls" $data }}
{{- else }}
{{- $days := int .Values.snapshotMetadata.tls.validityDays }}
{{- $ca := genCA "loopvol-snapshot-metadata-ca" $days }}
{{- $dns := list }}
{{- range splitList "," $names }}{{ $dns = append $dns . }}{{ end }}
{{- $cert := genSignedCert (index $dns 1) nil $dns $days $ca }}
{{- $_ := set .Values "loopvolSnapshotMetadataTls" (dict
    "ca.crt" ($ca.Cert | b64enc) "tls.crt" ($cert.Cert | b64enc) "tls.key" ($cert.Key | b64enc)) }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The CA clients trust for the sidecar, base64 (the SnapshotMetadataService's caCert): the generated one, caCert, or
the given Secret's ca.crt read at install. Fails when none is known.
*/}}
{{- define "loopvol.snapshotMetadataCa" -}}
{{- $tls := .Values.snapshotMetadata.tls }}
{{- if not $tls.existingSecret }}
{{- include "loopvol.snapshotMetadataTls" . }}
{{- get .Values.loopvolSnapshotMetadataTls "ca.crt" }}
{{- else if $tls.caCert }}
{{- $tls.caCert }}
{{- else }}
{{- $found := lookup "v1" "Secret" .Release.Namespace $tls.existingSecret }}
{{- get (get $found "data" | default dict) "ca.crt" | required (printf "snapshotMetadata.tls.caCert: the CA of Secret %s is needed for the SnapshotMetadataService object; give it, or install the Secret (with ca.crt) first" $tls.existingSecret) }}
{{- end }}
{{- end -}}

{{/* Where the sidecar's TLS Secret is mounted, read-only; --tls-cert and --tls-key name its files. */}}
{{- define "loopvol.snapshotMetadataTlsDir" -}}
/etc/snapshot-metadata/tls
{{- end -}}
