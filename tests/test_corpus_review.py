"""Every finding on the real-world corpus has been reviewed by hand (docs/corpus-review.md).

The review records, per corpus file, each finding's line, rule and severity by
``nginx.version``, with a verdict and the reason. This test makes the same runs and
fails on a finding the review does not list (a new finding, a new line, another
severity): that finding has not been read against its file yet.
"""

from __future__ import annotations

import re
from pathlib import Path

from conftest import ROOT, shared_path
from helpers import settings_for

from tlslint.engine import run

REVIEW = ROOT / "docs" / "corpus-review.md"
VERSIONS = (None, "1.22", "1.30")
NOT_CONFIGS = ("MANIFEST.tsv", "SOURCES.txt")
# Apigee files are checked alone and with their companions from the same source.
APIGEE_RUNS = [
    ["01_hybrid-install_non-sni-client_apigee-route.yaml"],
    ["03_hybrid-install_apigee-route-config.yaml"],
    ["01_hybrid-install_non-sni-client_apigee-route.yaml", "03_hybrid-install_apigee-route-config.yaml"],
    ["05_devrel-quickstart_apigeectl_overrides.yaml"],
    ["06_devrel-quickstart_wildcard-apigeeroute.yaml"],
    ["05_devrel-quickstart_apigeectl_overrides.yaml", "06_devrel-quickstart_wildcard-apigeeroute.yaml"],
    ["08_ahr_overrides-small-1.8-template.yaml"],
    ["09_egonzalezpozega_multiple-ingress_overrides.yaml"],
]
_ROW = re.compile(r"^\| (\d+) \| ([A-Z]{3}\d{3}) \| ([^|]+) \|")
_SEVERITY = re.compile(r"(error|warning|info) \(([^)]*)\)")


def reviewed() -> dict[tuple[str, int, str], set[tuple[str, str]]]:
    """(file, line, rule) -> {(severity, nginx.version)} as the review lists them."""
    rows: dict[tuple[str, int, str], set[tuple[str, str]]] = {}
    section = ""
    for line in REVIEW.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        match = _ROW.match(line)
        if match:
            cells = {(sev, v.strip()) for sev, vs in _SEVERITY.findall(match[3]) for v in vs.split(",")}
            rows[(section, int(match[1]), match[2])] = cells
    return rows


def runs() -> list[tuple[list[Path], str | None]]:
    nginx = shared_path("corpus", "nginx")
    apigee = shared_path("corpus", "apigee")
    found = [
        ([path], version)
        for path in sorted(nginx.iterdir())
        if path.name not in NOT_CONFIGS
        for version in VERSIONS
    ]
    return found + [([apigee / name for name in names], None) for names in APIGEE_RUNS]


def test_every_corpus_finding_is_reviewed() -> None:
    review = reviewed()
    missing = []
    for paths, version in runs():
        mapping = {"nginx": {"version": version}} if version else {}
        result = run(paths, settings_for(paths[0].parent, mapping))
        for finding in result.findings:
            key = (finding.location.path.name, finding.location.line, finding.code)
            if (str(finding.severity), version or "none") not in review.get(key, set()):
                missing.append(f"{key} {finding.severity} with nginx.version {version}: {finding.message}")
    assert missing == [], "findings docs/corpus-review.md does not review:\n" + "\n".join(missing)


def test_the_review_finds_no_contradicted_message() -> None:
    """Every reviewed finding was judged right: a wrong one is fixed, not recorded."""
    text = REVIEW.read_text(encoding="utf-8")
    verdicts = [line.split(" | ")[4] for line in text.splitlines() if _ROW.match(line)]
    assert verdicts and set(verdicts) == {"right"}
