"""docs/profiles.md's table is the catalogue's profile values, exactly."""

from __future__ import annotations

from conftest import ROOT

from tlslint import catalogue

PROFILES = ("intermediate", "modern", "throughput")


def render(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return "(nginx's default for the version)" if value == "" else str(value)


def expected_rows() -> list[str]:
    rows = []
    for code, entry in sorted(catalogue.load_entries().items()):
        for name, spec in (entry.get("options") or {}).items():
            profiles = spec.get("profiles")
            if not profiles:
                continue
            cells = [render(profiles.get(p, spec["default"])) for p in PROFILES]
            rows.append(f"| {code} | {name} | {' | '.join(cells)} |")
    return rows


def test_profile_table_matches_the_catalogue() -> None:
    text = (ROOT / "docs" / "profiles.md").read_text(encoding="utf-8")
    table = text.split("<!-- profile-table -->")[1].split("<!-- /profile-table -->")[0]
    rows = [line for line in table.strip().splitlines()[2:]]
    assert rows == expected_rows()
