"""nginx versions and the built-in defaults that changed between them.

Every value here is from ../shared/facts/nginx.md (docs, CHANGES and
measurements on 1.22.1 and 1.31.4). ``None`` as a version means "not
configured"; helpers then answer ``None`` where the versions disagree, and the
rules word their findings for that case.
"""

from __future__ import annotations

import contextlib
import re

Version = tuple[int, int, int]

# The oldest release whose behaviour the rules describe, and the newest known.
OLDEST_SUPPORTED: Version = (1, 18, 0)
NEWEST_KNOWN: Version = (1, 31, 4)

# SSLv3 leaves the default ssl_protocols (NGINX's admin guide: "starting in version 1.9.1,
# NGINX uses ... ssl_protocols TLSv1 TLSv1.1 TLSv1.2"; nginx.org configuring_https_servers,
# "Compatibility": from 0.7.65 and 0.8.19 the defaults were SSLv3, TLSv1, TLSv1.1 and TLSv1.2,
# before that SSLv2, SSLv3 and TLSv1). Older than the rules describe, but a setting may say so.
SSLV3_OUT_OF_DEFAULTS: Version = (1, 9, 1)
TLS13_PARAMETER: Version = (1, 13, 0)  # `ssl_protocols TLSv1.3` (CHANGES 1.13.0; nginx_history)
TICKET_KEYS_IN_SHARED_CACHE: Version = (1, 23, 2)
TLS13_IN_DEFAULT_PROTOCOLS: Version = (1, 23, 4)
LEGACY_TLS_OUT_OF_DEFAULTS: Version = (1, 27, 3)
HTTP2_DIRECTIVE: Version = (1, 25, 1)  # `http2 on;` appears, `ssl on;` is removed
# keepalive_timeout and keepalive_requests govern HTTP/2 connections too (from the
# server level); before, http2_idle_timeout and http2_max_requests did (facts §1).
HTTP2_KEEPALIVE: Version = (1, 19, 7)
KEEPALIVE_REQUESTS_1000: Version = (1, 19, 10)
UPSTREAM_KEEPALIVE_DEFAULT: Version = (1, 29, 7)
# keepalive_timeout (and keepalive_requests) in upstream{} appeared (facts §1; CHANGES
# 1.15.3). Before, an idle upstream connection had no timeout of nginx's own: it left the
# pool only when the backend closed it or a newer one evicted it (the pool full).
UPSTREAM_KEEPALIVE_TIMEOUT: Version = (1, 15, 3)
SNI_SESSION_DECISION: Version = (1, 29, 2)
# stream{} gains virtual servers: several servers on one address:port, chosen by SNI
# (`server_name`, `listen ... default_server`); before, nginx refuses a second server
# on a stream address:port (`duplicate "0.0.0.0:5432" address and port pair`, 1.22.1).
STREAM_VIRTUAL_SERVERS: Version = (1, 25, 5)

# Release numbers of up to 9 digits: int() reads them (past 4,300 digits it raises).
_VERSION_RE = re.compile(r"^\s*(?:nginx/)?(\d{1,9})\.(\d{1,9})(?:\.(\d{1,9}))?\s*$")

# Changes at a patch release: "1.25" (read as 1.25.0) cannot say which side of them it is.
PATCH_RELEASE_CHANGES: tuple[tuple[Version, str], ...] = (
    (UPSTREAM_KEEPALIVE_TIMEOUT, "upstream{} accepts keepalive_timeout"),
    (HTTP2_KEEPALIVE, "keepalive_timeout and keepalive_requests govern HTTP/2 connections"),
    (KEEPALIVE_REQUESTS_1000, "keepalive_requests defaults to 1000"),
    (TICKET_KEYS_IN_SHARED_CACHE, "the shared session cache keeps ticket keys"),
    (TLS13_IN_DEFAULT_PROTOCOLS, "the default ssl_protocols has TLSv1.3"),
    (HTTP2_DIRECTIVE, "`http2 on;` appears and `ssl on;` is gone"),
    (STREAM_VIRTUAL_SERVERS, "stream{} servers can share an address:port (virtual servers)"),
    (LEGACY_TLS_OUT_OF_DEFAULTS, "the default ssl_protocols drops TLSv1 and TLSv1.1"),
    (SNI_SESSION_DECISION, "each virtual server decides its own ssl_protocols"),
    (UPSTREAM_KEEPALIVE_DEFAULT, "every upstream keeps connections alive by default"),
)


# What `nginx -v` prints after "nginx version: ", for nginx and the builds that name their
# nginx core with certainty: a distribution's or NGINX Plus's suffix (`nginx/1.25.3
# (nginx-plus-r31-p1)`, `nginx/1.27.3 (Ubuntu)`) and OpenResty's X.Y.Z.N, which bundles
# nginx X.Y.Z ("the first part of the OpenResty release version numbers is the version of
# the bundled NGINX core", OpenResty's FAQ).
_LABEL = r"^\s*(?:[\w-]+ version:\s*)?"
_NGINX_BUILD_RE = re.compile(_LABEL + r"nginx/(\d{1,9}\.\d{1,9}(?:\.\d{1,9})?)(?:\s*\([^()]*\))?\s*$")
_OPENRESTY_RE = re.compile(_LABEL + r"openresty/(\d{1,9}\.\d{1,9}\.\d{1,9})\.\d{1,9}\s*$")
# Forks that number their own releases: their number is not nginx's (Angie 1.9.0 is no
# nginx 1.9.0; freenginx's releases part from nginx's after 1.25).
_OWN_NUMBERS_RE = re.compile(_LABEL + r"(angie|tengine|freenginx)/\S+\s*$", re.I)
_FOUR_PARTS_RE = re.compile(r"^\s*(\d{1,9}\.\d{1,9}\.\d{1,9})\.\d{1,9}\s*$")


def core_release(text: str) -> str:
    """The nginx release a version string names, as written (``1.22``, ``1.22.1``): the
    setting's own form, or a line of ``nginx -v`` for nginx (``nginx/1.25.3
    (nginx-plus-r31-p1)``) or OpenResty (``openresty/1.25.3.1`` → ``1.25.3``). Raises
    ValueError, saying why, for what names no nginx release with certainty (Angie's,
    Tengine's and freenginx's own numbers; a bare ``1.21.4.3``)."""
    if _VERSION_RE.match(text):
        return text
    for pattern in (_NGINX_BUILD_RE, _OPENRESTY_RE):
        match = pattern.match(text)
        if match is not None:
            return match.group(1)
    fork = _OWN_NUMBERS_RE.match(text)
    if fork is not None:
        raise ValueError(
            f"not an nginx version: {text!r} is {fork.group(1)}'s own release number, not nginx's; "
            "give the release of the nginx core it is built on (e.g. 1.27.1)"
        )
    four = _FOUR_PARTS_RE.match(text)
    if four is not None:
        raise ValueError(
            f"not an nginx version: {text!r} has four parts; for OpenResty write "
            f"openresty/{text.strip()} or its nginx core {four.group(1)}"
        )
    raise ValueError(
        f"not an nginx version: {text!r} (expected e.g. 1.22 or 1.22.1, or what `nginx -v` "
        "prints: nginx/1.25.3, openresty/1.25.3.1)"
    )


def _written(text: str) -> re.Match[str] | None:
    """``text`` read as the setting's own form (``1.25``, ``nginx/1.25.3``), after
    ``core_release`` where it names one; None for what no release is written in."""
    with contextlib.suppress(ValueError):
        text = core_release(text)
    return _VERSION_RE.match(text)


def parse_version(text: str) -> Version:
    """``"1.22"`` → (1, 22, 0); ``"nginx/1.22.1"`` → (1, 22, 1); ``"openresty/1.25.3.1"``
    → (1, 25, 3) (``core_release``)."""
    match = _VERSION_RE.match(core_release(text))
    assert match is not None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)


def partial_version_warning(text: str) -> str:
    """A warning for a version given without its patch number (``1.25``) when its
    minor series changed a default the rules use at a later patch release; else ''."""
    match = _written(text)
    if match is None or match.group(3) is not None:
        return ""
    series = (int(match.group(1)), int(match.group(2)))
    changes = [(v, what) for v, what in PATCH_RELEASE_CHANGES if v[:2] == series and v[2] > 0]
    if not changes:
        return ""
    listed = "; ".join(f"since {format_version(v)} {what}" for v, what in changes)
    return (
        f"nginx.version {text.strip()} is read as {series[0]}.{series[1]}.0, but within "
        f"{series[0]}.{series[1]} {listed}: give the exact release (`nginx -v`), "
        f"e.g. {format_version(changes[-1][0])}"
    )


def written_series(text: str) -> tuple[Version, Version] | None:
    """For a version written without its patch number (``1.25``): the series it names,
    [1.25.0, 1.26.0), as an image tag ``nginx:1.25`` names it; else None. The rules read
    the setting as the .0 release (``partial_version_warning``), but what the series
    leaves open is not settled by it: no safe fix across a change within it, and an
    image inside it agrees with it."""
    match = _written(text)
    if match is None or match.group(3) is not None:
        return None
    major, minor = int(match.group(1)), int(match.group(2))
    return (major, minor, 0), (major, minor + 1, 0)


def below_supported_warning(text: str) -> str:
    """A warning for a version older than the oldest release the rules describe
    (``1.10.3``, or a fork's own number taken for nginx's: Angie's ``1.7.0``); else ''."""
    match = _written(text)
    if match is None:
        return ""
    version = (int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
    if version >= OLDEST_SUPPORTED:
        return ""
    return (
        f"nginx.version {text.strip()} is older than {_below_supported()}; for a fork, give the release "
        "of its nginx core, not the fork's own number (Angie 1.x is not nginx 1.x)"
    )


def below_supported_image_warning(image: str, version: Version) -> str:
    """The same warning for an image that runs such a release (``FROM nginx:1.10.3`` at
    Dockerfile:1, ``nginx 1.10.3``); else ''. An image's nginx core is known (a fork's
    tag gives its core or nothing), so there is no fork to warn of."""
    if version >= OLDEST_SUPPORTED:
        return ""
    return f"{image} runs nginx {format_version(version)}, older than {_below_supported()}"


def _below_supported() -> str:
    return (
        f"{format_version(OLDEST_SUPPORTED)}, the oldest release tlslint's rules describe: they report "
        "the lines it refuses (NGX004) and its documented default ssl_protocols, and no fix writes what "
        f"it refuses, but other changes before {format_version(OLDEST_SUPPORTED)} are not followed"
    )


def at_least(version: Version | None, threshold: Version) -> bool | None:
    """Whether ``version`` ≥ ``threshold``; ``None`` when the version is unknown."""
    if version is None:
        return None
    return version >= threshold


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


def default_ssl_protocols(version: Version | None) -> tuple[str, ...] | None:
    if version is None:
        return None
    if version < (0, 7, 65) or (0, 8, 0) <= version < (0, 8, 19):
        return ("SSLv2", "SSLv3", "TLSv1")
    if version < SSLV3_OUT_OF_DEFAULTS:
        return ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2")
    if version < TLS13_IN_DEFAULT_PROTOCOLS:
        return ("TLSv1", "TLSv1.1", "TLSv1.2")
    if version < LEGACY_TLS_OUT_OF_DEFAULTS:
        return ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
    return ("TLSv1.2", "TLSv1.3")


def default_keepalive_requests(version: Version | None) -> int | None:
    if version is None:
        return None
    return 1000 if version >= KEEPALIVE_REQUESTS_1000 else 100


# Defaults that did not change across the supported versions.
SSL_SESSION_TIMEOUT_DEFAULT = "5m"
SSL_SESSION_TICKETS_DEFAULT = "on"
KEEPALIVE_TIMEOUT_DEFAULT = "75s"
UPSTREAM_KEEPALIVE_TIMEOUT_DEFAULT = "60s"
