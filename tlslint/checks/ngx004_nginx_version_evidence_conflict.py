"""NGX004 nginx-version-evidence-conflict: lines that no nginx version accepts together,
or that the declared version refuses.

``tlslint.nginx_inference`` finds them: a directive that appeared in 1.25.1 next to one
removed in 1.25.1, or ``ssl_certificate_compression`` (1.29.1) under ``nginx.version =
1.22`` or in a ``FROM nginx:1.22`` image. nginx refuses to start either way. The
``ssl`` and ``http2`` directives against a declared version are NGX304's and NGX305's
(with fixes); between two lines of the configuration they are reported here.

Two stream{} servers on one address:port are the same kind of line: stream has virtual
servers from 1.25.5, and before, nginx refuses the second server's listen (`duplicate
"0.0.0.0:5432" address and port pair`, measured on 1.22.1; for one host name twice, the
address it resolves to). They are reported where
nginx is known to be older (the setting, an image, or a line of the configuration);
where the version is open they prove nothing (nginx may be 1.25.5 or later).

A setting without its patch number (``1.27``) names its series, as an image tag does: a
line that appeared within it (``ssl_certificate_cache``, 1.27.4) does not contradict it,
though the rules read the setting as the .0 release. That is information, naming the
release the line needs, not an error.

The ``nginx.version`` setting wins over the deployment files' images; an image of
another release above a configuration is reported too, at the line naming it: every
version-dependent verdict and fix follows the setting, so one of the two is wrong.
"""

from __future__ import annotations

from collections.abc import Iterator

from tlslint.checks import RuleContext, file_location, related
from tlslint.findings import Finding, Location, Related, Severity
from tlslint.nginx_inference import Conflict
from tlslint.nginx_versions import STREAM_VIRTUAL_SERVERS, Version, format_version, written_series
from tlslint.version_range import DEPLOYMENT, DIRECTIVE, SETTING, Evidence, VersionRange
from tlslint.workspace import Workspace
from tlslint.workspace.nginx import Listen, NginxConfig, Server, message_address, resolution_note

CODE = "NGX004"
SERIES_NOTE = "no automatic fix: set nginx.version to the release that runs the file"
# Reported against a declared version by the rule that can fix them.
_OWNED = frozenset({"ssl", "http2"})


def check(ctx: RuleContext, workspace: Workspace) -> Iterator[Finding]:
    for config in workspace.nginx:
        inference = workspace.nginx_inference(config)
        for conflict in inference.conflicts:
            line, against = conflict.line, conflict.against
            assert line.directive is not None
            if against.kind != DIRECTIVE and _owned(line):
                continue
            if against.kind == DIRECTIVE:
                yield _between_lines(ctx, conflict)
            else:
                yield _against_declared(ctx, conflict, inference.declared.name())
        yield from _shared_stream_ports(ctx, config, workspace.nginx_versions(config))
        overruled = workspace.nginx_images_overruled.get(config.files[0])
        if overruled is not None:
            yield from _image_against_setting(ctx, config, workspace.nginx_declared, overruled)


def _owned(line: Evidence) -> bool:
    """An ``ssl`` or ``http2`` directive (not a listen parameter of that name)."""
    directive = line.directive
    return directive is not None and directive.name in _OWNED and line.what.startswith(f"`{directive.name}")


def _needs(line: Evidence) -> str:
    """``appeared in nginx 1.29.1`` / ``was removed in nginx 1.25.1``."""
    span = line.span
    assert span is not None
    if span.since is not None:
        return f"appeared in nginx {format_version(span.since)}"
    assert span.until is not None
    return f"was removed in nginx {format_version(span.until)}"


def _between_lines(ctx: RuleContext, conflict: Conflict) -> Finding:
    old, new = conflict.line, conflict.against  # old: refused from some release; new: needs it
    assert old.directive is not None and new.directive is not None
    assert old.span is not None and new.span is not None
    assert old.span.until is not None and new.span.since is not None
    message = (
        f"{old.what} {_needs(old)}, but {new.what} at {new.where} {_needs(new)}: no nginx release "
        f"accepts both, so nginx refuses to start on every version (before "
        f"{format_version(new.span.since)}: `{new.span.refusal}`; from {format_version(old.span.until)}: "
        f"`{old.span.refusal}`), and tlslint cannot tell which version it is for"
    )
    return ctx.finding(
        old.directive,
        message,
        related=[related(new.directive, f"{new.what} {_needs(new)}")],
        anchor=f"{old.directive.name}[versus {new.directive.name}]",
        fix_note="no automatic fix: keep the lines of the version you run (NGX304 and NGX305 fix "
        "`ssl on;` and `http2 on;` for a given version)",
    )


def _within_series(ctx: RuleContext, since: Version | None) -> str:
    """Where the setting names a series (``1.27``, ``written_series``) in which ``since``
    falls after its .0 release: what the message says of it; else ''."""
    series = written_series(ctx.settings.nginx_version_text)
    if series is None or since is None or not series[0] < since < series[1]:
        return ""
    return (
        f"nginx.version {ctx.settings.nginx_version_text.strip()} names a series whose releases "
        f"before {format_version(since)} refuse to start, and the rules read it as "
        f"{format_version(series[0])}"
    )


def _against_declared(ctx: RuleContext, conflict: Conflict, declared: str) -> Finding:
    line, against = conflict.line, conflict.against
    assert line.directive is not None and line.span is not None
    series = _within_series(ctx, line.span.since) if against.kind == SETTING else ""
    if series and line.span.since is not None:  # "1.27" with ssl_certificate_cache (1.27.4)
        return ctx.finding(
            line.directive,
            f"{line.what} {_needs(line)} (`{line.span.refusal}` before): {series}; give the exact "
            f"release (`nginx -v`), {format_version(line.span.since)} or later for this line",
            severity=Severity.INFO,  # the series holds the releases that run it
            anchor=f"{line.directive.name}[{against.kind}]",
            fix_note=SERIES_NOTE,
        )
    message = (
        f"{line.what} {_needs(line)}: {declared} refuses to start (`{line.span.refusal}`); "
        "remove the line, or declare the version it runs on"
    )
    notes: list[Related] = []
    if against.kind == DEPLOYMENT and against.path is not None:
        notes.append(Related(Location(against.path, against.line, 1), f"{against.what}: the image runs it"))
    return ctx.finding(
        line.directive,
        message,
        related=notes,
        anchor=f"{line.directive.name}[{against.kind}]",
        fix_note="no automatic fix: whether the line or the version is wrong is yours to say",
    )


def _image_against_setting(
    ctx: RuleContext, config: NginxConfig, setting: VersionRange, image: VersionRange
) -> Iterator[Finding]:
    """The image a deployment file runs ``config`` on, where the setting names another
    release: reported on the configuration's root file (what a hook run names; the
    deployment file is outside its scope), the image's line related."""
    declared = setting.exact
    evidence = image.low_by or image.high_by
    if declared is None or image.contains(declared) or evidence is None or evidence.path is None:
        return
    series = written_series(ctx.settings.nginx_version_text)
    low, high = image.low, image.high
    if series is not None and low is not None and high is not None and series[0] <= low and high <= series[1]:
        return  # "1.25" names the series: FROM nginx:1.25.3 lies in it and agrees
    yield ctx.finding(
        file_location(config.files[0]),
        f"the nginx.version setting is {format_version(declared)}, but {evidence.phrase()} runs "
        f"this configuration on nginx {image.label()}: tlslint judges it by the setting, so the "
        "rules that depend on the version, and their fixes, may be wrong for the nginx that "
        "runs it; correct the setting or the image",
        severity=Severity.WARNING,  # nothing here is refused yet: the verdicts may be wrong
        related=[Related(file_location(evidence.path, evidence.line), f"{evidence.what}: the image")],
        anchor=f"image[{evidence.what}]",
        fix_note="no automatic fix: which version runs is yours to say",
    )


SHARED_PORT_NOTE = (
    "no automatic fix: which server keeps the address:port, or which nginx runs the file, is yours to say"
)


def _shared_stream_ports(ctx: RuleContext, config: NginxConfig, versions: VersionRange) -> Iterator[Finding]:
    """A stream server listening on an address:port an earlier stream server has, on nginx
    known to be older than 1.25.5: nginx refuses its listen line."""
    stream = config.stream
    if stream is None or versions.at_least(STREAM_VIRTUAL_SERVERS) is not False:
        return
    older = versions.settled(STREAM_VIRTUAL_SERVERS)
    since = format_version(STREAM_VIRTUAL_SERVERS)
    # "1.25" names a series that has 1.25.5: information, as for a line from inside it.
    series = _within_series(ctx, STREAM_VIRTUAL_SERVERS) if versions.set_by_setting else ""
    for socket, servers in stream.groups.items():
        address = message_address(socket)
        if len(servers) < 2 or address is None:
            continue
        first = _listen_on(servers[0], socket)
        for server in servers[1:]:  # nginx stops at the first; each is refused in turn
            listen = _listen_on(server, socket)
            assert first.directive is not None and listen.directive is not None
            refusal = f'`duplicate "{address}" address and port pair`{resolution_note(socket, address)}'
            shared = (
                f"another stream server on {socket} (the first is {servers[0].label}): stream{{}} "
                f"has several servers on one address:port (virtual servers) only from nginx {since}"
            )
            message = (
                f"{shared} ({refusal} before): {series}; give the exact release (`nginx -v`), "
                f"{since} or later for these servers"
                if series
                else f"{shared}, and {older} refuses to start ({refusal}); give each server an "
                f"address:port of its own, or run nginx {since} or later and tell them apart by server_name"
            )
            yield ctx.finding(
                listen.directive,
                message,
                severity=Severity.INFO if series else None,
                related=[related(first.directive, f"the first stream server on {socket}")],
                anchor=f"stream > listen[{socket}]",
                fix_note=SERIES_NOTE if series else SHARED_PORT_NOTE,
            )


def _listen_on(server: Server, socket: str) -> Listen:
    return next(listen for listen in server.listens if listen.socket == socket)
