{{/* The socket directory kubelet and the registrar agree on: <kubelet>/plugins/<driver>. */}}
{{- define "loopvol.socketDir" -}}
{{ .Values.kubeletDir }}/plugins/{{ .Values.driverName }}
{{- end -}}

{{- define "loopvol.labels" -}}
app.kubernetes.io/name: loopvol
{{- end -}}
