"""NGX105's fix follows the nginx version (facts/nginx.md §1, "Reloads").

A shared session cache keeps nginx's random ticket keys only since 1.23.2; before, only
an ssl_session_ticket_key file on the default server survives a reload. So adding the
cache fixes the finding on 1.23.2 and later only: before, no fix is offered; with the
version open, it is offered as unsafe and says it helps from 1.23.2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding, Severity
from tlslint.fixing import apply_fixes

SITE = (
    "events {}\nhttp {\n    server {\n        listen 443 ssl;\n        server_name a.example;\n"
    "        ssl_certificate a.crt;\n        ssl_certificate_key a.key;\n%s    }\n}\n"
)
NO_CACHE = SITE % ""
CACHE_NONE = SITE % "        ssl_session_cache none;\n"


def mapping(version: str | None) -> dict[str, Any]:
    return {"nginx": {"version": version}} if version is not None else {}


def tickets(tmp_path: Path, text: str, version: str | None) -> Finding:
    result = check_files(tmp_path, {"nginx.conf": text}, mapping(version))
    [finding] = [f for f in result.findings if f.code == "NGX105"]
    return finding


@pytest.mark.parametrize("version", ["1.18.0", "1.22.1"])
@pytest.mark.parametrize("text", [NO_CACHE, CACHE_NONE], ids=["no-cache", "cache-none"])
def test_before_1_23_2_no_cache_is_offered(tmp_path: Path, version: str, text: str) -> None:
    finding = tickets(tmp_path, text, version)
    assert finding.fix is None
    assert f"nginx.version {version} keeps no ticket keys in a shared session cache" in finding.message
    assert "no shared session cache keeps" not in finding.message  # a cache would keep none either
    assert "only ssl_session_ticket_key files on the default server survive reloads" in finding.fix_note
    assert "the same files on every node" in finding.fix_note


def test_with_the_version_open_the_cache_is_what_helps_from_1_23_2(tmp_path: Path) -> None:
    finding = tickets(tmp_path, NO_CACHE, None)
    assert finding.fix is not None and not finding.fix.safe
    assert finding.fix.description == (
        "add `ssl_session_cache shared:SSL:10m;` to http{}, which keeps the keys from nginx 1.23.2"
    )
    assert "a shared cache keeps and rotates them from nginx 1.23.2 only" in finding.message
    assert "nginx.version is not configured" in finding.message
    assert "only ssl_session_ticket_key files on the default server survive reloads" in finding.fix_note


def test_from_1_23_2_the_cache_is_a_safe_fix(tmp_path: Path) -> None:
    finding = tickets(tmp_path, NO_CACHE, "1.24.0")
    assert finding.fix is not None and finding.fix.safe
    assert finding.fix.description == "add `ssl_session_cache shared:SSL:10m;` to http{}"
    assert "1.23.2" not in finding.message


@pytest.mark.parametrize("version", ["1.18.0", "1.22.1", "1.24.0", None])
@pytest.mark.parametrize("unsafe", [False, True])
def test_no_ngx105_fix_leaves_its_warning(tmp_path: Path, version: str | None, unsafe: bool) -> None:
    """A finding the run counts as fixable does not stay a warning after its own fix (with
    every rule's fixes applied, as --fix does): where the version is open, what stays is
    the open question at info. One counted as not fixable is still there after --fix."""
    (tmp_path / "nginx.conf").write_text(NO_CACHE, encoding="utf-8")
    settings = settings_for(tmp_path, mapping(version))
    before = [f for f in run([tmp_path], settings).findings if f.code == "NGX105"]
    fixable = [f for f in before if f.fix is not None and (f.fix.safe or unsafe)]
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=unsafe, write=True)
    after = [f for f in outcome.result.findings if f.code == "NGX105"]
    if fixable:
        assert [f.severity for f in after] in ([], [Severity.INFO])
    else:  # NGX101 adds the same cache where it may: the finding stays, which is why none is offered
        assert len(after) == 1
