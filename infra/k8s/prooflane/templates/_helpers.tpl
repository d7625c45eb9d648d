{{/* Labels every object carries. */}}
{{- define "prooflane.labels" -}}
app.kubernetes.io/name: prooflane
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "prooflane.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag }}
{{- end }}

{{/* Configuration and secrets every prooflane container reads. */}}
{{- define "prooflane.env" -}}
envFrom:
  - configMapRef: { name: {{ .Release.Name }}-config }
  {{- if .Values.artifactStore.credentialsSecret }}
  - secretRef: { name: {{ .Values.artifactStore.credentialsSecret }} }
  {{- end }}
{{- end }}

{{- define "prooflane.podSecurity" -}}
securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 }
{{- end }}

{{- define "prooflane.containerSecurity" -}}
securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: [ALL] } }
{{- end }}

{{/* Mounts every prooflane container has: the shared volume, scratch space, Temporal's TLS files. */}}
{{- define "prooflane.mounts" -}}
- { name: shared, mountPath: /data }
- { name: tmp, mountPath: /tmp }
{{- if .Values.temporal.tls.enabled }}
- { name: temporal-tls, mountPath: /etc/temporal-tls, readOnly: true }
{{- end }}
{{- end }}

{{- define "prooflane.volumes" -}}
- name: shared
  persistentVolumeClaim: { claimName: {{ .Release.Name }}-shared }
- name: tmp
  emptyDir: {}
{{- if .Values.temporal.tls.enabled }}
- name: temporal-tls
  secret: { secretName: {{ .Values.temporal.tls.secretName }} }
{{- end }}
{{- end }}
