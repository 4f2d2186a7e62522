"""JSON Schemas (Draft 2020-12, in ``tlslint/schemas``) for the Kubernetes objects
tlslint reads: the Istio and Gateway API ``Gateway`` and ``ConfigMap`` data.

Errors are reported at the node they concern, an unknown key with the known
key it most resembles (``tlslint.sources.manifests``). Objects are read as
kubectl reads them (YAML 1.1): a plain ``off`` in ConfigMap data is the
boolean false, which the API server refuses there, and ``httpsRedirect: yes``
is true (a warning: YAML 1.2 tools such as kustomize keep the string). The ingress-nginx
ConfigMap's keys are checked against the controller's own key list once the
workspace knows which ConfigMap is the controller's.
"""

from __future__ import annotations

from tlslint.sources.kubernetes.documents import SCHEMA_VIOLATION, KubeFile
from tlslint.sources.manifests import Problem, validate_node

ISTIO_GATEWAY = "k8s-istio-gateway.schema.json"
GATEWAY_API_GATEWAY = "k8s-gateway-api-gateway.schema.json"
CONFIG_MAP = "k8s-configmap.schema.json"


def validate_file(file: KubeFile) -> list[Problem]:
    problems: list[Problem] = []
    for obj in file.objects:
        if obj.is_istio_gateway:
            schema = ISTIO_GATEWAY
        elif obj.is_gateway_api_gateway:
            schema = GATEWAY_API_GATEWAY
        elif obj.kind == "ConfigMap" and obj.api_version == "v1":
            schema = CONFIG_MAP
        else:
            continue
        # Manifests are applied with kubectl, which reads YAML 1.1: a plain `off` is false.
        problems.extend(validate_node(obj.node, schema, obj.label, SCHEMA_VIOLATION, obj.anchor, yaml11=True))
    return problems
