#include "templates.hpp"

namespace sconectl::chart::detail {

namespace {

// Named templates are prefixed with the chart name (@CHART@), so the chart can be a sub-chart of
// another without clashes. Every value is quoted or passed through toYaml: a value that holds
// quotes, colons, newlines or "{{" reaches the rendered object unchanged (Helm does not template
// values).
constexpr const char* k_helpers = R"({{/*
Names and labels. Each takes a dict: root (the chart's top scope) and name (the service's key
in .Values.services).
*/}}
{{- define "@CHART@.fullname" -}}
{{- printf "%s-%s" .root.Release.Name .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "@CHART@.selectorLabels" -}}
app.kubernetes.io/name: {{ .name | quote }}
app.kubernetes.io/instance: {{ .root.Release.Name | quote }}
{{- end -}}

{{- define "@CHART@.labels" -}}
{{ include "@CHART@.selectorLabels" . }}
app.kubernetes.io/part-of: {{ .root.Chart.Name | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service | quote }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" | quote }}
{{- end -}}
)";

constexpr const char* k_deployment = R"({{- range $name, $service := .Values.services }}
{{- if $service.enabled }}
{{- $scope := dict "root" $ "name" $name }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "@CHART@.fullname" $scope | quote }}
  labels:
    {{- include "@CHART@.labels" $scope | nindent 4 }}
spec:
  replicas: {{ $service.replicaCount }}
  selector:
    matchLabels:
      {{- include "@CHART@.selectorLabels" $scope | nindent 6 }}
  template:
    metadata:
      {{- with $service.podAnnotations }}
      annotations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      labels:
        {{- include "@CHART@.selectorLabels" $scope | nindent 8 }}
        {{- with $service.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- with $service.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ $name | quote }}
          image: {{ $service.image | quote }}
          imagePullPolicy: {{ $service.imagePullPolicy | quote }}
          env:
            # The program's own environment comes from CAS after attestation, not from here.
            - name: SCONE_CONFIG_ID
              value: {{ $service.scone.configId | quote }}
            - name: SCONE_CAS_ADDR
              value: {{ $service.scone.casAddress | quote }}
            - name: SCONE_LAS_ADDR
              valueFrom:
                fieldRef:
                  fieldPath: status.hostIP
            - name: SCONE_LOG
              value: {{ $service.scone.log | quote }}
            {{- with $service.scone.casKey }}
            # The simulation runtime (no SGX) talks only to the CAS with this key.
            - name: SCONE_CAS_KEY
              value: {{ . | quote }}
            {{- end }}
            {{- with $service.scone.accessTokenSecret }}
            # The session's service access token, from a Secret that is not part of this chart.
            - name: SCONE_SERVICE_ACCESS_TOKEN
              valueFrom:
                secretKeyRef:
                  name: {{ . | quote }}
                  key: token
            {{- end }}
          {{- with $service.injectionVolumes }}
          # Injection files are written here after attestation: memory-backed, never on disk.
          volumeMounts:
            {{- range . }}
            - name: {{ .name | quote }}
              mountPath: {{ .mountPath | quote }}
            {{- end }}
          {{- end }}
          ports:
            - name: api
              containerPort: {{ $service.service.port }}
              protocol: TCP
          {{- with $service.resources }}
          resources:
            {{- toYaml . | nindent 12 }}
          {{- end }}
      {{- with $service.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $service.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $service.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $service.injectionVolumes }}
      volumes:
        {{- range . }}
        - name: {{ .name | quote }}
          emptyDir:
            medium: Memory
        {{- end }}
      {{- end }}
{{- end }}
{{- end }}
)";

constexpr const char* k_service = R"({{- range $name, $service := .Values.services }}
{{- if and $service.enabled $service.service.enabled }}
{{- $scope := dict "root" $ "name" $name }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "@CHART@.fullname" $scope | quote }}
  labels:
    {{- include "@CHART@.labels" $scope | nindent 4 }}
spec:
  type: {{ $service.service.type | quote }}
  selector:
    {{- include "@CHART@.selectorLabels" $scope | nindent 4 }}
  ports:
    - name: api
      port: {{ $service.service.port }}
      targetPort: api
      protocol: TCP
{{- end }}
{{- end }}
)";

constexpr const char* k_notes =
    R"(Release {{ .Release.Name }}: the confidential services of CAS namespace {{ .Values.mesh.namespace }}.

{{- range $name, $service := .Values.services }}
{{- if $service.enabled }}
  {{ $name }}: {{ printf "%s-%s" $.Release.Name $name | trunc 63 | trimSuffix "-" }}, policy {{ $service.scone.configId }}
{{- if eq (toString $service.scone.runtime) "sim" }}
    SIMULATION: runs on the simulation runtime, with no SGX and no hardware protection; it
    attests to CAS at {{ $service.scone.casAddress }} and needs no SGX node.
{{- end }}
{{- with $service.scone.accessTokenSecret }}
    Its service access token comes from Secret {{ . }}, which is not part of this chart:
    `sconectl apply -f mesh.yaml` writes it to target/k8s-secrets/ (kubectl apply -f it first).
{{- end }}
{{- end }}
{{- end }}

Each pod attests to CAS at {{ .Values.mesh.casAddress }} through the LAS on its node and receives
its program's environment and secrets from its policy. The pods need SGX nodes labelled
las.scontain.com/ok=true; see the nodeSelector and resources of each service in values.yaml.
)";

constexpr const char* k_helmignore = R"(# Patterns to ignore when building packages.
.DS_Store
.git/
.gitignore
*.swp
*.bak
*.tmp
*.orig
*~
)";

std::string with_chart_name(std::string text, const std::string& chart_name)
{
  const std::string marker = "@CHART@";
  for (auto at = text.find(marker); at != std::string::npos;
       at = text.find(marker, at + chart_name.size())) {
    text.replace(at, marker.size(), chart_name);
  }
  return text;
}

}  // namespace

fs::FileTree static_files(const std::string& chart_name)
{
  return {{".helmignore", k_helmignore},
          {"templates/NOTES.txt", k_notes},
          {"templates/_helpers.tpl", with_chart_name(k_helpers, chart_name)},
          {"templates/deployment.yaml", with_chart_name(k_deployment, chart_name)},
          {"templates/service.yaml", with_chart_name(k_service, chart_name)}};
}

}  // namespace sconectl::chart::detail
