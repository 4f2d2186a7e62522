"""tlslint.finding_codec: findings through bytes come back whole (every field, including
the ones equality ignores), shared findings stay shared, and a payload of another layout
is refused rather than misread."""

from __future__ import annotations

import pickle
from dataclasses import fields
from pathlib import Path

import pytest

from tlslint import finding_codec
from tlslint.findings import Edit, Finding, Fix, Location, Related, Severity


def every_field(finding: Finding) -> tuple[object, ...]:
    """All of a finding's fields, ``compare=False`` ones too."""
    return tuple(getattr(finding, f.name) for f in fields(finding))


def sample() -> dict[tuple[str, int], list[Finding]]:
    site = Path("/etc/nginx/sites-enabled/a.conf")
    main = Path("/etc/nginx/nginx.conf")
    with_everything = Finding(
        "NGX101",
        "ssl-session-cache-missing",
        Severity.WARNING,
        "no ssl_session_cache: every handshake is a full one",
        Location(site, 3, 5, 3, 27),
        (Related(Location(main, 12, 1, 12, 9), "the http{} it inherits from"),),
        Fix(
            "add ssl_session_cache", (Edit(main, 10, 10, "ssl_session_cache shared:SSL:10m;\n"),), safe=False
        ),
        "http",
        "the zone size is the includer's to choose",
        ((site, "server:a"), (main, "http")),
    )
    bare = Finding("NGX302", "x", Severity.ERROR, "m", Location(Path("relative/b.conf"), 0))
    return {("one", 1): [with_everything, bare], ("two", 2): [with_everything], ("none", 0): []}


def test_round_trip_keeps_every_field() -> None:
    found = sample()
    back = finding_codec.loads(finding_codec.dumps(found))
    assert list(back) == list(found)
    for key, findings in found.items():
        assert [every_field(f) for f in back[key]] == [every_field(f) for f in findings]
        assert all(type(f.location.path) is type(Path()) for f in back[key])


def test_shared_finding_stays_shared() -> None:
    back = finding_codec.loads(finding_codec.dumps(sample()))
    assert back[("one", 1)][0] is back[("two", 2)][0]
    assert back[("one", 1)][1] is not back[("one", 1)][0]


def test_equal_paths_of_different_objects_are_one_entry() -> None:
    a = Location(Path("/x/y.conf"), 1)
    b = Location(Path("/x/y.conf"), 2)
    found = {"k": [Finding("C", "n", Severity.INFO, "m", a), Finding("C", "n", Severity.INFO, "m", b)]}
    _, table, _ = pickle.loads(finding_codec.dumps(found))
    assert table == ["/x/y.conf"]
    assert finding_codec.loads(finding_codec.dumps(found)) == found


def test_other_layout_is_refused() -> None:
    version, table, body = pickle.loads(finding_codec.dumps(sample()))
    older = pickle.dumps((version - 1, table, body))
    with pytest.raises(ValueError, match="layout"):
        finding_codec.loads(older)


def test_equal_texts_come_back_as_one_and_known_paths_are_taken() -> None:
    site = Path("/etc/nginx/sites-enabled/a.conf")
    messages = ["".join(["no ssl_", "session_cache"]) for _ in range(2)]  # equal, not one object
    places = [Location(Path(str(site)), line) for line in (1, 2)]  # equal paths, not one object
    found = {"k": [Finding("C", "n", Severity.INFO, m, at) for m, at in zip(messages, places, strict=True)]}
    back = finding_codec.loads(finding_codec.dumps(found), {str(site): site})
    assert back == found
    assert back["k"][0].message is back["k"][1].message
    assert all(f.location.path is site for f in back["k"])
