{{/*
Chart name, cut at 63 characters (the DNS label limit).
Usage: {{ include "vllm.name" . }}
*/}}
{{- define "vllm.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Full resource name: release name, plus the chart name unless the release already contains it; cut at 63.
Usage: {{ include "vllm.fullname" . }}
*/}}
{{- define "vllm.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version for the helm.sh/chart label.
Usage: {{ include "vllm.chart" . }}
*/}}
{{- define "vllm.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Labels for every object's metadata (selector labels plus descriptive ones that may change).
Usage: labels: {{- include "vllm.labels" . | nindent 4 }}
*/}}
{{- define "vllm.labels" -}}
helm.sh/chart: {{ include "vllm.chart" . }}
{{ include "vllm.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: tradeoff-infra
{{- end }}

{{/*
Labels that select the vLLM pods; fixed for the release's life (Deployment selectors are immutable).
Usage: matchLabels: {{- include "vllm.selectorLabels" . | nindent 6 }}
*/}}
{{- define "vllm.selectorLabels" -}}
app.kubernetes.io/name: {{ include "vllm.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Image reference pinned by digest: repository[:tag]@sha256:...; fails without a digest.
Usage: image: {{ include "vllm.image" . }}
*/}}
{{- define "vllm.image" -}}
{{- $digest := required "image.digest is required: the image is pinned by digest, never by tag alone" .Values.image.digest }}
{{- if .Values.image.tag }}
{{- printf "%s:%s@%s" .Values.image.repository .Values.image.tag $digest }}
{{- else }}
{{- printf "%s@%s" .Values.image.repository $digest }}
{{- end }}
{{- end }}

{{/*
PromQL label matcher for this release's vLLM series (namespace + served model name).
Usage: vllm:num_requests_waiting{ {{- include "vllm.promSelector" . -}} }
*/}}
{{- define "vllm.promSelector" -}}
namespace="{{ .Release.Namespace }}",model_name="{{ .Values.model.name }}"
{{- end }}

{{/*
Seconds the startup probe allows a replica to load (period x failure threshold).
Usage: {{ include "vllm.startupSeconds" . }}
*/}}
{{- define "vllm.startupSeconds" -}}
{{- mul (int .Values.probes.startup.periodSeconds) (int .Values.probes.startup.failureThreshold) }}
{{- end }}

{{/*
Container security context of the vLLM server container.
Usage: securityContext: {{- include "vllm.containerSecurityContext" . | nindent 12 }}
*/}}
{{- define "vllm.containerSecurityContext" -}}
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Full name plus a component suffix, the full name shortened so the result stays within 63 characters.
Usage: name: {{ include "vllm.componentName" (list . "dashboard") }}
*/}}
{{- define "vllm.componentName" -}}
{{- $ctx := index . 0 }}
{{- $suffix := index . 1 }}
{{- $room := int (sub 62 (len $suffix)) }}
{{- printf "%s-%s" (include "vllm.fullname" $ctx | trunc $room | trimSuffix "-") $suffix }}
{{- end }}

{{/*
Pod condition the AWS Load Balancer Controller sets once the pod's target in the TargetGroupBinding's target
group is healthy: target-health.elbv2.k8s.aws/<binding name> (controller pkg/targetgroupbinding/utils.go, v3.5.0).
Usage: conditionType: {{ include "vllm.targetHealthCondition" . }}
*/}}
{{- define "vllm.targetHealthCondition" -}}
{{- printf "target-health.elbv2.k8s.aws/%s" (include "vllm.fullname" .) }}
{{- end }}

{{/*
Environment both weights-mirror commands read (charts/vllm/files/weights_mirror.py): which revision,
where it lives, which region's S3 endpoint (reached through the VPC's S3 gateway endpoint).
Usage: env: {{- include "vllm.weightsMirrorEnv" . | nindent 12 }}
*/}}
{{- define "vllm.weightsMirrorEnv" -}}
- name: SOURCE
  value: {{ required "model.source is required" .Values.model.source | quote }}
- name: REVISION
  value: {{ required "model.revision is required" .Values.model.revision | quote }}
- name: BUCKET
  value: {{ required "weightsMirror.bucket is required" .Values.weightsMirror.bucket | quote }}
- name: PREFIX
  value: {{ required "weightsMirror.objectPrefix is required" .Values.weightsMirror.objectPrefix | quote }}
- name: MARKER_KEY
  value: {{ required "weightsMirror.markerKey is required" .Values.weightsMirror.markerKey | quote }}
- name: AWS_REGION
  value: {{ required "weightsMirror.region is required" .Values.weightsMirror.region | quote }}
- name: AWS_DEFAULT_REGION
  value: {{ .Values.weightsMirror.region | quote }}
{{- end }}
