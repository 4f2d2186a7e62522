"""Rules that report an absent setting stay silent when an include that could
hold it was not followed (the include itself is reported as NGX002)."""

from __future__ import annotations

from pathlib import Path

from helpers import check_files, codes

SERVER = """server {
    listen 443 ssl;
    ssl_certificate     /etc/ssl/a.pem;
    ssl_certificate_key /etc/ssl/a.key;
    %s
}
"""


def test_missing_include_in_server_silences_absence_rules(tmp_path: Path) -> None:
    result = check_files(tmp_path, {"site.conf": SERVER % "include tls/session.conf;"}, {"select": ["NGX"]})
    found = codes(result)
    assert "NGX002" in found
    assert "NGX101" not in found and "NGX105" not in found


def test_templated_include_in_http_silences_absence_rules(tmp_path: Path) -> None:
    text = "events {}\nhttp {\n    include ${TLS_SNIPPET};\n" + SERVER % "" + "}\n"
    found = codes(check_files(tmp_path, {"nginx.conf": text}, {"select": ["NGX1"]}))
    assert "NGX101" not in found and "NGX105" not in found


def test_without_includes_the_absence_is_reported(tmp_path: Path) -> None:
    found = codes(check_files(tmp_path, {"site.conf": SERVER % ""}, {"select": ["NGX1"]}))
    assert "NGX101" in found and "NGX105" in found
