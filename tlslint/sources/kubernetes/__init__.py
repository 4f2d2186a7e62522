"""Kubernetes gateways: Istio and Gateway API ``Gateway`` objects, ingress-nginx's
controller ConfigMap, Helm values and ``Ingress`` annotations, and the objects
around them that tlslint reads (Service, Deployment, DaemonSet,
HorizontalPodAutoscaler, VirtualService, HTTPRoute).

Light to import: ruamel.yaml and jsonschema are imported when a file is read.
The texts are YAML, re-validated after a fix by the ``yaml`` format that
``tlslint.sources.apigee`` registers.
"""
