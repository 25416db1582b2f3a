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
