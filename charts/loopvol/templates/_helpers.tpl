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
