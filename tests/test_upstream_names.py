"""Which upstream nginx gives each ``*_pass`` (tlslint.nginx_upstream_names), against nginx -t.

Every case runs through the real ``nginx -t`` (Debian's 1.22.1 here) and through tlslint:
NGX012 names the passes nginx refuses (``upstream "backend" may not have port 8080``), and
the upstream rules link a pass to ``upstream backend {}`` only where nginx does. The order
matters: an upstream{} declared below its first pass takes that pass's entry, and a pass
with another port than that first one stays an implicit upstream, resolved by DNS at start
(nginx -t: "host not found in upstream", since the harness gives the name no address).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import check_files
from nginx_harness import nginx_t

from tlslint.checks._upstream import pass_targets

pytestmark = pytest.mark.nginx

UPSTREAM = "upstream backend { server 127.0.0.1:8081; }"
USE, IMPLICIT, REFUSED = "use", "implicit", "refused"
UNJUDGED = "unjudged"  # a target tlslint does not follow (variables in the host part)

HTTP, HTTPS, FASTCGI = "proxy_pass http://backend", "proxy_pass https://backend", "fastcgi_pass backend"
# (passes above the upstream{}, passes below it, what nginx makes of each pass in order).
CASES = {
    "port, upstream first": ([], [f"{HTTP}:8080"], [REFUSED]),
    "port, upstream below": ([f"{HTTP}:8080"], [], [REFUSED]),
    "no port, upstream below": (["proxy_pass http://backend/"], [], [USE]),
    "the default port written": ([], ["proxy_pass https://backend:443"], [REFUSED]),
    "name in other case": ([], ["proxy_pass http://BackEnd:8080"], [REFUSED]),
    "http and https above": ([HTTP, HTTPS], [], [USE, IMPLICIT]),
    "http and https below": ([], [HTTP, HTTPS], [USE, USE]),
    "port, then none, above": ([f"{HTTP}:8080", HTTP], [], [REFUSED, USE]),
    "none, then port, above": ([HTTP, f"{HTTP}:8080"], [], [USE, IMPLICIT]),
    "none, then :80, above": ([HTTP, f"{HTTP}:80"], [], [USE, USE]),
    "two ports above": ([f"{HTTP}:8080", f"{HTTP}:9090"], [], [REFUSED, IMPLICIT]),
    "fastcgi, none then port": ([FASTCGI, f"{FASTCGI}:9000"], [], [USE, USE]),
    "fastcgi, port then none": ([f"{FASTCGI}:9000", FASTCGI], [], [REFUSED, USE]),
    "proxy then fastcgi port": ([HTTP, f"{FASTCGI}:9000"], [], [USE, IMPLICIT]),
    "grpc port above": (["grpc_pass grpc://backend:50051"], [], [REFUSED]),
    "grpc port below, no scheme": ([], ["grpc_pass backend:50051"], [REFUSED]),
    "grpcs then grpc above": (["grpc_pass grpcs://backend", "grpc_pass grpc://backend"], [], [USE, USE]),
    "uwsgi port": ([], ["uwsgi_pass uwsgi://backend:3031"], [REFUSED]),
    "scgi port": ([], ["scgi_pass backend:4000"], [REFUSED]),
    "memcached port": ([], ["memcached_pass backend:11211"], [REFUSED]),
    "in an if": ([], ["if ($arg_x) { proxy_pass http://backend:8080; }"], [REFUSED]),
    "a variable: matched per request": ([], ["set $to http://backend:8080; proxy_pass $to"], [IMPLICIT]),
    "a variable, no port": ([], ["set $to http://backend; proxy_pass $to"], [USE]),
    "variables in the URL": ([], [f"{HTTP}:8080$request_uri"], [UNJUDGED]),
}  # fmt: skip


def _text(above: list[str], below: list[str]) -> tuple[str, list[int]]:
    """The configuration, and the line of each pass (above first)."""
    lines = ["events {}", "http {"]
    where: list[int] = []
    for port, passes in ((18080, above), (None, None), (18081, below)):
        if passes is None:
            lines.append(f"    {UPSTREAM}")
            continue
        if not passes:
            continue
        lines += ["    server {", f"        listen 127.0.0.1:{port};"]
        for number, line in enumerate(passes):
            where.append(len(lines) + 1)
            body = line if line.endswith("}") else line + ";"
            lines.append(f"        location /{number} {{ {body} }}")
        lines.append("    }")
    lines.append("}")
    return "\n".join(lines) + "\n", where


@pytest.mark.parametrize(("above", "below", "outcomes"), CASES.values(), ids=CASES.keys())
def test_nginx_and_tlslint_agree_on_the_upstream_of_each_pass(
    tmp_path: Path, above: list[str], below: list[str], outcomes: list[str]
) -> None:
    text, lines = _text(above, below)
    refused = [line for line, outcome in zip(lines, outcomes, strict=True) if outcome == REFUSED]
    implicit = [line for line, outcome in zip(lines, outcomes, strict=True) if outcome == IMPLICIT]
    literal_implicit = [line for line in implicit if "$" not in text.splitlines()[line - 1]]

    result = nginx_t(text, kind="main")
    if refused:  # nginx stops at the first, while reading
        assert not result.ok and "may not have port" in result.errors[0], result.describe()
        assert result.errors[0].endswith(f"nginx.conf:{refused[0]}"), result.describe()
    elif literal_implicit:  # the implicit upstream's name is resolved at start
        assert not result.ok and 'host not found in upstream "backend"' in result.errors[0], result.describe()
        assert result.errors[0].endswith(f"nginx.conf:{literal_implicit[0]}"), result.describe()
    else:
        assert result.ok and not result.errors, result.describe()

    checked = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX012"]})
    assert [f.location.line for f in checked.findings] == refused
    for finding in checked.findings:
        assert finding.message.startswith('upstream "'), finding.message
        assert "may not have port" in finding.message and "is the name of upstream backend" in finding.message
    [config] = checked.workspace.nginx
    linked = {t.directive.line: t.upstream is not None for t in pass_targets(config)}
    for line, outcome in zip(lines, outcomes, strict=True):
        assert linked.get(line) == {USE: True, IMPLICIT: False, REFUSED: None, UNJUDGED: None}[outcome], (
            line,
            outcome,
            linked,
        )


def test_the_refusal_names_the_way_out(tmp_path: Path) -> None:
    text, _ = _text([], ["proxy_pass http://backend:8080/api/"])
    [finding] = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX012"]}).findings
    assert finding.message.startswith('upstream "backend" may not have port 8080: ')
    assert 'pass "http://backend/api/" to use it' in finding.message
    assert "(line 3)" in finding.message  # where the upstream{} is


STREAM = """\
events {{}}
stream {{
{first}
    server {{
        listen 127.0.0.1:18090;
        proxy_pass {target};
    }}
{second}
}}
"""
STREAM_UPSTREAM = "    upstream backend { server 127.0.0.1:8081; }"


@pytest.mark.parametrize(
    ("target", "upstream_first", "refused"),
    [("backend:8080", True, True), ("backend:8080", False, True), ("backend", False, False)],
)
def test_stream_passes_follow_the_same_rule(
    tmp_path: Path, target: str, upstream_first: bool, refused: bool
) -> None:
    first, second = (STREAM_UPSTREAM, "") if upstream_first else ("", STREAM_UPSTREAM)
    text = STREAM.format(first=first, second=second, target=target)
    result = nginx_t(text, kind="main")
    assert result.ok is not refused, result.describe()
    if refused:
        assert 'upstream "backend" may not have port 8080' in result.errors[0], result.describe()
    found = check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX012"]}).findings
    assert [f.location.line for f in found] == ([6] if refused else [])


def test_an_upstream_in_http_does_not_refuse_a_stream_pass(tmp_path: Path) -> None:
    text = (
        "events {}\nhttp {\n    upstream backend { server 127.0.0.1:8081; }\n}\n"
        "stream {\n    server {\n        listen 127.0.0.1:18090;\n"
        "        proxy_pass backend:8080;\n    }\n}\n"
    )
    assert check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX012"]}).findings == []


def test_upstream_rules_leave_a_refused_pass_to_ngx012(tmp_path: Path) -> None:
    """The tester's case: at 1.22 NGX211 used to offer keep-alive lines for it."""
    text = (
        "upstream localhost { server 127.0.0.1:8081; keepalive 8; }\n"
        "server {\n    listen 8080;\n    location / { proxy_pass http://localhost:8080; }\n}\n"
    )
    for version in ("1.22", "1.29.7"):
        found = check_files(tmp_path, {"site.conf": text}, {"nginx": {"version": version}}).findings
        assert [(f.code, f.location.line) for f in found if f.code.startswith("NGX2")] == []
        assert [(f.code, f.location.line) for f in found if f.code == "NGX012"] == [("NGX012", 4)]


def test_a_pass_the_upstream_misses_is_ngx212s_with_the_reason(tmp_path: Path) -> None:
    text = (
        "server {\n    listen 8080;\n"
        "    location / { proxy_pass http://localhost; }\n"
        "    location /b { proxy_pass https://localhost; }\n"
        "}\n"
        "upstream localhost { server 127.0.0.1:8081; keepalive 8; }\n"
    )
    found = check_files(
        tmp_path, {"site.conf": text}, {"select": ["NGX211", "NGX212"], "nginx": {"version": "1.22"}}
    )
    by_line = {f.location.line: f for f in found.findings}
    assert by_line[3].code == "NGX211"  # the first pass is the upstream's
    bypassed = by_line[4]
    assert bypassed.code == "NGX212" and bypassed.fix is None
    assert "does not use upstream localhost (line 6)" in bypassed.message
    assert "implicit upstream for localhost:443" in bypassed.message
    assert bypassed.fix_note == "declare upstream localhost above the first server that passes to localhost"
    assert nginx_t(text.replace("8080", "18080"), kind="http").ok  # localhost resolves: nginx starts


def test_one_files_own_tree_is_read_the_same_way() -> None:
    """The fix screen (tlslint.fix_analysis) checks a fixed file on its own: a fix that made
    an upstream{} of a name passed with a port would be refused there too."""
    from tlslint.nginx_analysis import Problem, check_tree
    from tlslint.nginx_directives import ROOT_CONTEXTS, table_for
    from tlslint.sources.nginx.model import SourceText
    from tlslint.sources.nginx.parser import parse_text

    for above, below, outcomes in CASES.values():
        text, lines = _text(above, below)
        problems: list[Problem] = []
        check_tree(parse_text(SourceText(Path("nginx.conf"), text)).directives, ROOT_CONTEXTS["main"],
                   table_for(None), problems)  # fmt: skip
        refused = [line for line, outcome in zip(lines, outcomes, strict=True) if outcome == REFUSED]
        assert [p.directive.line for p in problems] == refused, text
        assert all("may not have port" in p.reason for p in problems)
