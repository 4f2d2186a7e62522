"""The real-world Apigee files of ../shared/corpus/apigee, read in place.

The expectations are those of the corpus's SOURCES.txt, pinned one by one.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from conftest import shared_path

from tlslint.discovery import YAML, classify
from tlslint.engine import RunResult, run
from tlslint.settings import from_mapping
from tlslint.sources.apigee.documents import ROUTE, ROUTE_CONFIG, load_source
from tlslint.sources.apigee.tree import Scalar, Seq
from tlslint.sources.text import read_source

ROUTE_01 = "01_hybrid-install_non-sni-client_apigee-route.yaml"
CONFIG_03 = "03_hybrid-install_apigee-route-config.yaml"
OVERRIDES_05 = "05_devrel-quickstart_apigeectl_overrides.yaml"
ROUTE_06 = "06_devrel-quickstart_wildcard-apigeeroute.yaml"
OVERRIDES_08 = "08_ahr_overrides-small-1.8-template.yaml"
BROKEN_09 = "09_egonzalezpozega_multiple-ingress_overrides.yaml"
ALL = [ROUTE_01, CONFIG_03, OVERRIDES_05, ROUTE_06, OVERRIDES_08, BROKEN_09]


@pytest.fixture(scope="module")
def corpus() -> Path:
    return shared_path("corpus", "apigee")


def check(corpus: Path, names: list[str], mapping: dict[str, Any] | None = None) -> RunResult:
    settings = from_mapping(mapping or {}, None)
    settings.base = corpus
    return run([corpus / name for name in names], settings)


def found(result: RunResult) -> list[tuple[str, str, int]]:
    return [(f.location.path.name, f.code, f.location.line) for f in result.findings]


REQUIRED = {"apigee": {"non-sni": "required"}}


@pytest.mark.parametrize("name", ALL)
def test_every_file_is_classified_and_loads(corpus: Path, name: str) -> None:
    path = corpus / name
    assert classify(path, explicit=False) == YAML
    assert classify(path, explicit=True) == YAML
    loaded = load_source(read_source(path, 2**20))
    assert loaded.problems == [] or name == BROKEN_09
    check(corpus, [name])  # no traceback, alone
    check(corpus, [name], REQUIRED)


def test_01_wildcard_route_with_a_placeholder_credential(corpus: Path) -> None:
    loaded = load_source(read_source(corpus / ROUTE_01, 2**20))
    (route,) = loaded.objects
    assert route.kind == ROUTE and route.name is not None and route.name.value == "custom-additional-route"
    spec = route.spec
    assert spec is not None
    hostnames = spec.get("hostnames")
    assert isinstance(hostnames, Seq) and [i.value for i in hostnames.items if isinstance(i, Scalar)] == ["*"]
    assert spec.scalar("enableNonSniClient") is not None and spec.scalar("enableNonSniClient").value is True  # type: ignore[union-attr]
    credential = spec.get("ports").items[0].get("tls").scalar("credentialName")  # type: ignore[union-attr]
    assert credential.raw == "<CREDENTIAL_NAME>" and credential.placeholder
    assert (credential.line, credential.column) == (29, 23)


def test_01_alone_is_clean_even_when_required(corpus: Path) -> None:
    # No virtual host to link; the placeholder credential is not a wrong value.
    assert found(check(corpus, [ROUTE_01], REQUIRED)) == []


def test_03_route_config_without_additional_gateways(corpus: Path) -> None:
    loaded = load_source(read_source(corpus / CONFIG_03, 2**20))
    (config,) = loaded.objects
    assert config.kind == ROUTE_CONFIG
    assert config.spec is not None and config.spec.get("additionalGateways") is None
    assert found(check(corpus, [CONFIG_03])) == []


def test_05_alone_says_once_that_routes_were_not_checked(corpus: Path) -> None:
    assert found(check(corpus, [OVERRIDES_05])) == [(OVERRIDES_05, "APG100", 15)]
    assert found(check(corpus, [OVERRIDES_05], REQUIRED)) == [(OVERRIDES_05, "APG100", 15)]


@pytest.mark.parametrize("mapping", [None, REQUIRED], ids=["auto", "required"])
def test_05_and_06_together_are_clean(corpus: Path, mapping: dict[str, Any] | None) -> None:
    result = check(corpus, [OVERRIDES_05, ROUTE_06], mapping)
    assert found(result) == []
    ws = result.workspace.apigee
    assert ws is not None
    (host,) = ws.hosts
    (route,) = ws.wildcard_routes()
    assert host.credential == "tls-hybrid-ingress"  # credentialName == virtualhosts[].sslSecret
    assert host.listed_names() == {"apigee-wildcard"} and route.name is not None
    assert route.name.value == "apigee-wildcard"


def test_06_alone_is_clean(corpus: Path) -> None:
    assert found(check(corpus, [ROUTE_06], REQUIRED)) == []


def test_08_alone_required_gives_apg101_and_apg103(corpus: Path) -> None:
    result = check(corpus, [OVERRIDES_08], REQUIRED)
    assert sorted(f.code for f in result.findings) == ["APG101", "APG103"]
    assert {f.location.line for f in result.findings} == {33}
    # The credential is unknowable ($ENV_GROUP, $ORG): no fix is offered, and no guess.
    assert all(f.fix is None for f in result.findings)


def test_08_under_auto_is_sni_only_and_silent(corpus: Path) -> None:
    # Nothing in the file suggests clients without SNI (no ClusterIP, no route).
    assert found(check(corpus, [OVERRIDES_08])) == []


def test_09_parse_error_and_duplicate_key_no_traceback(corpus: Path) -> None:
    result = check(corpus, [BROKEN_09])
    assert found(result) == [(BROKEN_09, "APG201", 7), (BROKEN_09, "APG205", 13)]
    parse_error, duplicate = result.findings
    assert parse_error.message.startswith("invalid YAML") and parse_error.location.column == 3
    assert "'virtualhosts' appears twice" in duplicate.message
    assert duplicate.related[0].location.line == 3


def test_09_is_never_written_by_fix(corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / BROKEN_09
    shutil.copyfile(corpus / BROKEN_09, copy)
    before = copy.read_bytes()
    from tlslint.fixing import apply_fixes

    settings = from_mapping(REQUIRED, None)
    settings.base = tmp_path
    outcome = apply_fixes(run([tmp_path], settings), settings, unsafe=True, write=True)
    assert outcome.written == [] and copy.read_bytes() == before


def test_the_whole_corpus_together(corpus: Path) -> None:
    result = check(corpus, ALL)
    codes = {(name, code) for name, code, _ in found(result)}
    # Two wildcard routes (01 and 06) in one namespace for the same gateways.
    assert (ROUTE_06, "APG106") in codes
    assert (BROKEN_09, "APG201") in codes and (BROKEN_09, "APG205") in codes
    assert len(result.files) == len(ALL)
