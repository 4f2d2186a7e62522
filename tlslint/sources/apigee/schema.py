"""JSON Schemas (Draft 2020-12, shipped in ``tlslint/schemas``) for the Apigee
parts of a file: each ``virtualhosts[]`` and ``ingressGateways[]`` entry and
each ``ApigeeRoute`` / ``ApigeeRouteConfig``.

Errors are reported at the node they concern, an unknown key with the known
key it most resembles (``tlslint.sources.manifests``). A placeholder
(``${VAR}``, ``{{ }}``...) is never a wrong value.
"""

from __future__ import annotations

from tlslint.sources.apigee.documents import SCHEMA_VIOLATION, ApigeeFile
from tlslint.sources.apigee.tree import Node, Scalar, Seq
from tlslint.sources.manifests import SCHEMAS as SCHEMAS
from tlslint.sources.manifests import Problem, node_kind, problem_at
from tlslint.sources.manifests import validate_node as validate_manifest_node

VIRTUAL_HOST = "apigee-virtualhost.schema.json"
INGRESS_GATEWAY = "apigee-ingressgateway.schema.json"
ROUTE = "apigee-route.schema.json"


def validate_file(file: ApigeeFile) -> list[Problem]:
    problems: list[Problem] = []
    for overrides in file.overrides:
        for key, name in (("virtualhosts", VIRTUAL_HOST), ("ingressGateways", INGRESS_GATEWAY)):
            pair = overrides.root.pair(key)
            if pair is None:
                continue
            node = pair.value
            if isinstance(node, Scalar) and (node.placeholder or node.value is None):
                continue
            if not isinstance(node, Seq):
                message = f"'{key}' must be a list of entries, not {node_kind(node)}"
                problems.append(problem_at(node, message, key, SCHEMA_VIOLATION))
                continue
            for index, item in enumerate(node.items):
                problems.extend(validate_node(item, name, f"{key}[{index}]"))
    for obj in file.objects:
        object_name = obj.name
        label = f"{obj.kind} '{object_name.raw}'" if object_name is not None and object_name.raw else obj.kind
        # Routes are applied with kubectl, which reads `yes`/`on` as booleans (YAML 1.1).
        problems.extend(validate_node(obj.node, ROUTE, label, anchor=obj.anchor, yaml11=True))
    return problems


def validate_node(
    node: Node, schema: str, where: str, anchor: str | None = None, yaml11: bool = False
) -> list[Problem]:
    return validate_manifest_node(node, schema, where, SCHEMA_VIOLATION, anchor, yaml11)
