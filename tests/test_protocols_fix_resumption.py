"""NGX302's and NGX303's fix must not stop a virtual server resuming TLS 1.3 sessions.

Their fix sets `ssl_protocols TLSv1.2 TLSv1.3;`. Before nginx 1.29.2 a virtual server
whose ssl_session_tickets differs from its default server's never resumes a TLS 1.3
session (NGX101, _ticket_mismatch; measured on 1.22.1 in
tests/test_live_session_default.py). Where the default server lacks TLS 1.3 now (nginx's
default before 1.23.4, or a line without it), the fix lets TLS 1.3 in, and every client
that resumed in TLS 1.2 then makes a full TLS 1.3 handshake on every connection: a
tester measured 5 of 5 resumed before the fix on Debian's 1.22.1, 0 of 5 after, and the
fixer said `NGX101 appeared after a fix`. Such a fix is withheld, and its note says which
virtual server would lose and what to align first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from helpers import check_files, settings_for

from tlslint.engine import run
from tlslint.findings import Finding
from tlslint.fixing import apply_fixes

VHOST = "server[a.example@*:443]"
CERT = "ssl_certificate /etc/ssl/a.pem;\n        ssl_certificate_key /etc/ssl/a.key;"


def repro(vhost: str = "ssl_session_tickets off;", default: str = "", http: str = "") -> str:
    """The reported configuration: a shared cache in http{}, a catch-all default server
    and a virtual server with tickets off (nginx's default has them on)."""
    return f"""events {{}}
http {{
    ssl_session_cache shared:SSL:10m;
    {http}
    access_log /var/log/nginx/tls.log;
    server {{
        listen 443 ssl default_server;
        {CERT}
        {default}
        return 444;
    }}
    server {{
        listen 443 ssl;
        server_name a.example;
        {CERT}
        {vhost}
    }}
}}
"""


def _settings(version: str | None, select: list[str] | None = None) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    if version is not None:
        mapping["nginx"] = {"version": version}
    if select is not None:
        mapping["select"] = select
    return mapping


def lint(tmp_path: Path, text: str, version: str | None, select: list[str]) -> list[Finding]:
    return check_files(tmp_path, {"nginx.conf": text}, _settings(version, select)).findings


def fixed(tmp_path: Path, text: str, version: str | None) -> tuple[str, list[str], list[Finding]]:
    """Every rule's fixes, unsafe ones too: the text after, the fixer's messages, the findings."""
    check_files(tmp_path, {"nginx.conf": text})
    settings = settings_for(tmp_path, _settings(version))
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    return (tmp_path / "nginx.conf").read_text(), outcome.messages, outcome.result.findings


def tls13_errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.code == "NGX101" and "never resumes a TLS 1.3 session" in f.message]


@pytest.mark.parametrize("version", ["1.14.2", "1.18.0", "1.20.2", "1.22.1"])
def test_the_fix_is_withheld_where_it_would_stop_tls13_resuming(tmp_path: Path, version: str) -> None:
    found = {f.code: f for f in lint(tmp_path, repro(), version, ["NGX302", "NGX303"])}
    assert set(found) == {"NGX302", "NGX303"}
    for finding in found.values():
        assert finding.fix is None
        assert finding.fix_note.startswith("no automatic fix: the fix's ssl_protocols lets TLS 1.3 in")
        assert (
            f"TLS {VHOST} would then never resume a TLS 1.3 session: its ssl_session_tickets (off) "
            "differs from its default server server[*:443]'s (on)"
        ) in finding.fix_note
        assert "the same ssl_session_tickets first" in finding.fix_note
    # NGX303's note says how to drop the legacy protocols meanwhile, by hand.
    assert "set `ssl_protocols TLSv1.2;` by hand" in found["NGX303"].fix_note
    assert "by hand" not in found["NGX302"].fix_note


@pytest.mark.parametrize("version", ["1.18.0", "1.22.1", None])
def test_fix_unsafe_fixes_makes_no_finding_appear(tmp_path: Path, version: str | None) -> None:
    """The report: `--fix --unsafe-fixes` added the line to http{}, said `NGX101 appeared
    after a fix` and left an NGX101 error with no fix. An open version counts too: nginx
    before 1.23.4 is one it may run (from 1.23.4 nginx's default lets TLS 1.3 in: NGX101
    says so already, at info, and says the same after)."""
    before = tls13_errors(lint(tmp_path / "before", repro(), version, ["NGX101"]))
    text, messages, findings = fixed(tmp_path / "fixed", repro(), version)
    assert not [m for m in messages if "appeared after a fix" in m]
    assert "ssl_protocols" not in text
    assert [f.message for f in tls13_errors(findings)] == [f.message for f in before]
    assert len(before) == (1 if version is None else 0)


def test_either_way_round_the_tickets_differ(tmp_path: Path) -> None:
    """The default server with tickets off and the virtual server with them on: the same."""
    text = repro(vhost="", default="ssl_session_tickets off;")
    for finding in lint(tmp_path, text, "1.22.1", ["NGX302", "NGX303"]):
        assert finding.fix is None
        assert "its ssl_session_tickets (on) differs from its default server server[*:443]'s (off)" in (
            finding.fix_note
        )
    _, messages, findings = fixed(tmp_path / "fixed", text, "1.22.1")
    assert not [m for m in messages if "appeared after a fix" in m]
    assert tls13_errors(findings) == []


def test_an_explicit_line_without_tls13_after_1_23_4(tmp_path: Path) -> None:
    """Not only nginx's old default: a line the fix would extend with TLSv1.3, on 1.28."""
    text = repro(http="ssl_protocols TLSv1.2;")
    (finding,) = lint(tmp_path, text, "1.28.0", ["NGX302"])
    assert finding.fix is None and "never resume a TLS 1.3 session" in finding.fix_note
    _, messages, findings = fixed(tmp_path / "fixed", text, "1.28.0")
    assert not [m for m in messages if "appeared after a fix" in m]
    assert tls13_errors(findings) == []


@pytest.mark.parametrize(
    ("text", "version"),
    [
        # The same ssl_session_tickets on both: TLS 1.3 resumes, the fix costs nothing.
        pytest.param(repro(vhost="", default=""), "1.22.1", id="same-tickets"),
        pytest.param(repro(http="ssl_session_tickets off;", vhost=""), "1.22.1", id="both-off-in-http"),
        # From 1.29.2 each virtual server's own tickets count.
        pytest.param(repro(http="ssl_protocols TLSv1.2;"), "1.29.2", id="1.29.2"),
    ],
)
def test_the_fix_stays_where_it_costs_nothing(tmp_path: Path, text: str, version: str) -> None:
    (finding,) = lint(tmp_path, text, version, ["NGX302"])
    assert finding.fix is not None and not finding.fix.safe
    assert "ssl_protocols TLSv1.2 TLSv1.3" in finding.fix.description
    after, messages, findings = fixed(tmp_path / "fixed", text, version)
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in after
    assert not [m for m in messages if "appeared after a fix" in m]
    assert not [f for f in findings if f.code == "NGX302"]


def test_ngx303_on_a_default_that_has_tls13_already(tmp_path: Path) -> None:
    """On 1.23.4 nginx's default has TLSv1.3 and still TLSv1 and TLSv1.1: NGX303's fix
    lets in nothing new (the virtual server's TLS 1.3 loss is NGX101's already), so it is
    offered, and makes no finding appear."""
    (finding,) = lint(tmp_path, repro(), "1.23.4", ["NGX303"])
    assert finding.fix is not None
    before = tls13_errors(lint(tmp_path / "before", repro(), "1.23.4", ["NGX101"]))
    assert len(before) == 1
    after, messages, findings = fixed(tmp_path / "fixed", repro(), "1.23.4")
    assert "ssl_protocols TLSv1.2 TLSv1.3;" in after
    assert not [m for m in messages if "appeared after a fix" in m]
    assert len(tls13_errors(findings)) == 1  # the one that was there before


def test_several_virtual_servers_are_counted_once(tmp_path: Path) -> None:
    """One default server, three virtual servers with tickets off (10,000 in a generated
    tree): the note names the first and counts the others, each once."""
    vhosts = "".join(
        f"    server {{\n        listen 443 ssl;\n        server_name {name}.example;\n        {CERT}\n"
        "        ssl_session_tickets off;\n    }\n"
        for name in ("b", "c")
    )
    text = repro().replace("    access_log", vhosts + "    access_log")
    (finding,) = lint(tmp_path, text, "1.22.1", ["NGX302"])
    assert finding.fix is None
    assert "TLS server[b.example@*:443] and 2 more virtual servers would then never resume" in (
        finding.fix_note
    )
