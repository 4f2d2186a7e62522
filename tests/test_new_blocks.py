"""New blocks a fix inserts (NGX212's upstream, NGX213's map) are built by crossplane.build
from their payload, then indented and line-ended like the file around them."""

from __future__ import annotations

from pathlib import Path

import crossplane
from helpers import settings_for

from tlslint.engine import run
from tlslint.fixing import apply_fixes
from tlslint.nginx_edits import built_lines, statement


def _fix(tmp_path: Path, text: str, select: str) -> str:
    path = tmp_path / "nginx.conf"
    path.write_bytes(text.encode())
    settings = settings_for(tmp_path, {"select": [select]})
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert outcome.refused == []
    return path.read_bytes().decode()


def test_upstream_in_a_file_indented_with_tabs_and_crlf(tmp_path: Path) -> None:
    text = "http {\r\n\tserver {\r\n\t\tlisten 80;\r\n\t\tlocation / {\r\n"
    text += "\t\t\tproxy_pass http://127.0.0.1:3000;\r\n\t\t}\r\n\t}\r\n}\r\n"
    fixed = _fix(tmp_path, text, "NGX212")
    block = "\tupstream backend_127_0_0_1_3000 {\r\n\t\tserver 127.0.0.1:3000;\r\n\t\tkeepalive 32;\r\n"
    assert block + "\t}\r\n\r\n\tserver {" in fixed
    assert "\n" not in fixed.replace("\r\n", "")  # every line ending is the file's own


def test_map_in_a_file_indented_with_two_spaces(tmp_path: Path) -> None:
    text = (
        "http {\n  server {\n    listen 80;\n    location /api/ {\n      proxy_pass http://127.0.0.1:8536;\n"
        "      proxy_http_version 1.1;\n      proxy_set_header Upgrade $http_upgrade;\n"
        '      proxy_set_header Connection "upgrade";\n    }\n  }\n}\n'
    )
    fixed = _fix(tmp_path, text, "NGX213")
    assert "  map $http_upgrade $connection_upgrade {\n    default upgrade;\n    ''      '';\n  }\n" in fixed


def test_built_lines_are_crossplane_build_output() -> None:
    """The same text crossplane.build gives (quoting included), split into lines."""
    payload = statement(
        "upstream", "app", block=[statement("server", "unix:/run/app.sock"), statement("x", "a b")]
    )
    assert built_lines(payload, "    ") == crossplane.build([payload], indent=4).split("\n")
    assert built_lines(payload, "    ")[2] == "    x 'a b';"
    assert built_lines(payload, "\t") == ["upstream app {", "\tserver unix:/run/app.sock;", "\tx 'a b';", "}"]


def test_built_lines_of_one_shape_are_crossplane_build_output_for_each_payload() -> None:
    """Payloads of one shape share a template (built once by crossplane): each block is
    still the one crossplane.build writes, quotes where an argument needs them included."""
    import random

    rng = random.Random(5)
    pieces = [*"a1.:/[%", "{0}", "$x", "${y}", " ", "'", '"', "\\", ";", "}", "é", "\ue000"]
    for _ in range(3000):
        args = ["".join(rng.choice(pieces) for _ in range(rng.randrange(4))) for _ in range(4)]
        body = [statement("server", args[0], "fail_timeout=0"), statement("keepalive", args[1])]
        payload = statement(rng.choice(["upstream", "if"]), args[2], block=[*body, statement("x", *args[3:])])
        for unit in ("    ", "\t", "  "):
            expected = crossplane.build([payload], indent=len(unit), tabs=unit == "\t").split("\n")
            assert built_lines(payload, unit) == expected, payload
