{{/* Fully qualified app name: the release name, plus the chart name unless it contains it. */}}
{{- define "slokit-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "slokit-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "slokit-operator.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "slokit-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "slokit-operator.image" -}}
{{- if .Values.image.digest -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end -}}

{{/* The rules the controller needs on the objects it watches and writes. */}}
{{- define "slokit-operator.watchRules" -}}
- apiGroups: [slokit.dev]
  resources: [servicelevelobjectives]
  verbs: [get, list, watch]
- apiGroups: [slokit.dev]
  resources: [servicelevelobjectives/status]
  verbs: [get, patch]
- apiGroups: [slokit.dev]
  resources: [servicelevelobjectives/finalizers]
  verbs: [update]
- apiGroups: [monitoring.coreos.com]
  resources: [prometheusrules]
  verbs: [get, list, watch, create, update]
- apiGroups: [events.k8s.io]
  resources: [events]
  verbs: [create, patch]
{{- if .Values.gameDays.enabled }}
- apiGroups: [slokit.dev]
  resources: [gamedays]
  verbs: [get, list, watch]
- apiGroups: [slokit.dev]
  resources: [gamedays/status]
  verbs: [get, update]
- apiGroups: [chaos-mesh.org]
  resources: [networkchaos, podchaos, httpchaos, stresschaos]
  verbs: [get, list, watch, create, delete]
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list]
- apiGroups: [""]
  resources: [configmaps]
  verbs: [get, create, update, delete]
{{- end }}
{{- if .Values.sloth.enabled }}
- apiGroups: [sloth.slok.dev]
  resources: [prometheusservicelevels]
  verbs: [get, list, watch]
- apiGroups: [sloth.slok.dev]
  resources: [prometheusservicelevels/status]
  verbs: [patch]
- apiGroups: [sloth.slok.dev]
  resources: [prometheusservicelevels/finalizers]
  verbs: [update]
{{- end }}
{{- if .Values.pyrra.enabled }}
- apiGroups: [pyrra.dev]
  resources: [servicelevelobjectives]
  verbs: [get, list, watch]
- apiGroups: [pyrra.dev]
  resources: [servicelevelobjectives/status]
  verbs: [patch]
- apiGroups: [pyrra.dev]
  resources: [servicelevelobjectives/finalizers]
  verbs: [update]
{{- end }}
{{- end -}}
