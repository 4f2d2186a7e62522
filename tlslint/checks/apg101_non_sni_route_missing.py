"""APG101: non-SNI clients are wanted, and no wildcard ApigeeRoute exists."""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext
from tlslint.checks._apigee import apigee, host_location, new_file_path, quoted, route_label, route_location
from tlslint.findings import Edit, Finding, Fix, Related
from tlslint.workspace import Workspace
from tlslint.workspace.apigee import DEFAULT_APP, ApigeeWorkspace, Host, selector_values

CODE = "APG101"
ROUTE_NAME = "non-sni"
FILE_NAME = "non-sni-route.yaml"


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    ws = apigee(workspace)
    if ws is None or not ws.hosts:
        return
    want = ws.want()
    if want is None or ws.non_sni_routes():
        return
    if not ws.routes_scanned and any(h.gateway_entries() for h in ws.hosts):
        return  # the named route may exist elsewhere: APG100 says so
    host = ws.hosts[0]
    fix, note = _fix(ws, host)
    # A wildcard route on plain HTTP only (Apigee's http-client component) is there: say
    # what it lacks, never that no such route exists.
    plain = ws.plain_non_sni_routes()
    if plain:
        shown = ", ".join(route_label(r) for r in plain)
        serve = "serves" if len(plain) == 1 else "serve"
        missing = f"no ApigeeRoute for clients without SNI serves TLS: {shown} {serve} plain HTTP only"
    else:
        missing = (
            'no ApigeeRoute with hostnames ["*"] and enableNonSniClient: true is among the checked files'
        )
    related = tuple(Related(route_location(r, "ports"), "serves plain HTTP only: no TLS port") for r in plain)
    yield ctx.finding(
        host_location(host),
        f"{want.reason}, but {missing}: a client that sends no SNI matches no filter chain on the "
        "ingress gateway and its connection is reset",
        severity=want.severity,
        fix=fix,
        fix_note=note,
        anchor="apigee > non-sni-route",
        related=related,
    )


def _fix(ws: ApigeeWorkspace, host: Host) -> tuple[Fix | None, str]:
    if not host.credential:
        return None, (
            f"no fix: the credential name is unknown ({host.label} has no sslSecret; with "
            "sslCertPath set apigee.org so that '<org>-<envgroup>' can be used)"
        )
    path = new_file_path(ws, host.file.path, FILE_NAME)
    if path.exists() or path in ws.pending:
        # Never a second copy: the file is there, but this run did not read it.
        return None, f"no fix: {path} exists but is not among the checked files; check it too"
    taken = {str(r.name.value) for r in ws.routes if r.name is not None}
    name = ROUTE_NAME if ROUTE_NAME not in taken else f"{ROUTE_NAME}-wildcard"
    selector = {
        k: v
        for k, v in selector_values(host.selector).items()
        if v is not None and k in ("app", "ingress_name")
    }
    selector.setdefault("app", DEFAULT_APP)
    text = manifest(name, ws.namespace, host.credential, selector)
    return Fix(f"create {path.name}: the ApigeeRoute '{name}' for clients without SNI",
               (Edit(path, 0, 0, text),), safe=False), ""  # fmt: skip


def manifest(name: str, namespace: str, credential: str, selector: dict[str, str]) -> str:
    def value(text: str) -> str:
        return quoted(text, default=None)

    lines = [
        "# The wildcard route that serves TLS clients sending no SNI (tlslint APG101).",
        "# kubectl apply -f this file, then apply the virtual hosts again.",
        "apiVersion: apigee.cloud.google.com/v1alpha1",
        "kind: ApigeeRoute",
        "metadata:",
        f"  name: {value(name)}",
        f"  namespace: {value(namespace)}",
        "spec:",
        "  hostnames:",
        '  - "*"',
        "  ports:",
        "  - number: 443",
        "    protocol: HTTPS",
        "    tls:",
        f"      credentialName: {value(credential)}",
        "      mode: SIMPLE",
        "  selector:",
        *(f"    {key}: {value(v)}" for key, v in selector.items()),
        "  enableNonSniClient: true",
    ]
    return "\n".join(lines) + "\n"
