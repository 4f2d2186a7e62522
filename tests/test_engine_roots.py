"""Which file a configuration is checked from."""

from __future__ import annotations

from pathlib import Path

from helpers import check_files


def test_a_cycle_is_entered_from_the_main_configuration(tmp_path: Path) -> None:
    files = {
        "a.conf": "include nginx.conf;\n",
        "nginx.conf": "events {}\nhttp {\n    include a.conf;\n}\n",
    }
    result = check_files(tmp_path, files, {"select": ["NGX003"]})
    loops = [f for f in result.findings if f.code == "NGX003"]
    assert loops and all(f.location.path.name == "a.conf" for f in loops)
    assert "nginx.conf -> a.conf -> nginx.conf" in loops[0].message
