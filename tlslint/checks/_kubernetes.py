"""Helpers of the Kubernetes gateway checks (GW, ING): the workspace, locations in
the controller configuration, and its edits (``tlslint.checks._yaml_edits``)."""

from __future__ import annotations

from tlslint.checks._yaml_edits import insert_key, location, pair_location, quoted, replace_scalar
from tlslint.findings import Edit, Location
from tlslint.sources.apigee.tree import Map, Scalar
from tlslint.sources.kubernetes.helm_values import plain_reads_as
from tlslint.sources.kubernetes.ingress_nginx import decode_bool
from tlslint.workspace import Workspace
from tlslint.workspace.ingress_nginx import ControllerConfig
from tlslint.workspace.kubernetes import KubernetesWorkspace, TlsServer


def kubernetes(workspace: Workspace) -> KubernetesWorkspace | None:
    ws = workspace.kubernetes
    return ws if ws is not None and ws.files else None


def config_location(config: ControllerConfig, key: str) -> Location:
    """The key's line, else the ``data:`` / ``config:`` line, else the object."""
    pair = config.pair(key)
    if pair is not None and not pair.merged:
        return pair_location(pair)
    own = config.holder.pair(config.key)
    return pair_location(own) if own is not None and not own.merged else location(config.holder)


def config_value(config: ControllerConfig, value: str, like: list[Scalar] | None = None) -> str:
    """``value`` written as ``like`` are (by default, the configuration's values): a
    ConfigMap string always quoted (data holds strings only), values as they come."""
    if like is None:
        data = config.data
        like = [p.value for p in data.pairs if isinstance(p.value, Scalar)] if data is not None else []
    if config.chart:
        text = quoted(value, like, default=None)
        # Plain, Helm would read another value (1000000 is printed "1e+06", off is "false").
        return quoted(value) if text == value and plain_reads_as(value) != value else text
    return quoted(value, [s for s in like if s.style in ("'", '"')])


def set_config(config: ControllerConfig, key: str, value: str) -> Edit | None:
    """Give ``key`` the string ``value``: replace its value (in its own quoting), or add the key."""
    pair = config.pair(key)
    if pair is not None:
        if pair.merged or not isinstance(pair.value, Scalar):
            return None
        return replace_scalar(pair.value, config_value(config, value, [pair.value]))
    text = config_value(config, value)
    data = config.data
    if data is not None:
        return insert_key(data, key, text)
    if config.holder.pair(config.key) is None and isinstance(config.holder, Map):
        return insert_key(config.holder, config.key, "{" + f"{key}: {text}" + "}")
    return None


def tickets_off_why(config: ControllerConfig) -> str:
    """Why ssl-session-tickets is off, for a message: nothing written (the default), a
    value that does not decode (ING102), or '' for ``"false"`` itself (it is in the file)."""
    written = config.text("ssl-session-tickets")
    if written is None:
        return " (the default since controller v0.40.0)"
    if decode_bool(written) is None:
        return f" (the default: {written!r} does not decode, ING102)"
    return ""


def server_location(server: TlsServer) -> Location:
    pair = server.node.pair("hostname" if server.api == "gateway-api" else "hosts")
    if pair is not None and not pair.merged:
        return pair_location(pair)
    return location(server.node)


def tls_location(server: TlsServer) -> Location:
    pair = server.node.pair("tls")
    return pair_location(pair) if pair is not None and not pair.merged else location(server.node)


def names_shown(names: list[str], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return shown + (f" and {len(names) - most} more" if len(names) > most else "")
