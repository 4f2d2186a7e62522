"""Every nginx example of the catalogue through the real ``nginx -t``.

``good`` and ``fixed`` examples must be valid nginx, and so must ``bad`` ones:
the rules target configurations that load but behave badly. The exceptions are
the rules that are about configurations nginx refuses (NGX001 syntax, NGX002
missing include, NGX003 include loop, NGX005 duplicate listen, NGX006 TLS listen without a
certificate, NGX010-NGX012 directives
nginx refuses, NGX106 zone conflict): their ``bad``
examples must fail, with the message nginx gives for that cause, which
cross-checks the rule against nginx.
"""

from __future__ import annotations

import functools
import re
from fnmatch import fnmatch
from typing import Any

import pytest
from conftest import nginx_binary
from nginx_harness import nginx_t

from tlslint import catalogue

pytestmark = pytest.mark.nginx

# Rule -> what nginx -t says about its bad examples (1.22.1 and later).
REFUSED_BY_NGINX = {
    "NGX001": r'is not terminated by ";"|unexpected end of file|unexpected "[{};]"'
    r"|unexpected end of parameter|has no opening",
    "NGX002": r'open\(\) "[^"]+" failed \(2: No such file or directory\)',
    # nginx.conf including itself from http{} meets its own events{} first; a
    # loop through files valid in that context ends with EMFILE.
    "NGX003": r'"events" directive is not allowed here|\(24: Too many open files\)',
    # A line that the version does not accept (the examples are refused by 1.22.1).
    "NGX004": r"unknown directive|invalid number of arguments|invalid value|invalid parameter"
    r'|is not allowed here|duplicate "[^"]+" address and port pair',
    "NGX005": r"a duplicate default server for|a duplicate listen |duplicate listen options for "
    r'|duplicate "[^"]+" address and port pair',
    # `http2 on;` before 1.25.1 (the examples that have it without valid-on are for 1.22).
    "NGX305": r'unknown directive "http2"',
    "NGX106": r"conflicts with already declared size|is already declared for a different use",
    "NGX006": r'no "ssl_certificate" is defined for the "listen \.\.\. ssl" directive',
    # The analyzer's rules: nginx's own words for each reason it refuses a directive.
    "NGX010": r'unknown directive "',
    "NGX011": r"directive is not allowed here",
    "NGX012": r'invalid number of arguments in|it must be "on" or "off"'
    r'|has no opening "\{"|is not terminated by ";"'
    r'|invalid value "|directive invalid (value|number)|invalid session cache "'
    r"|invalid URL prefix|(invalid port|no host|invalid host) in upstream|cannot have URI part"
    r'|upstream "[^"]+" may not have port',
}

# Rules whose examples leave certificates out on purpose.
WITHOUT_ADDED_CERTIFICATES = frozenset({"NGX006"})

ENTRIES = catalogue.load_entries()
EXAMPLES = [
    pytest.param(code, index, key, example, id=f"{code}-{index}-{key}")
    for code, entry in ENTRIES.items()
    if entry["target"] == "nginx"
    for index, example in enumerate(entry["examples"])
    for key in ("bad", "good", "fixed")
    if key in example
]


def accepted_by_installed_nginx(valid_on: str | None) -> bool:
    """Whether the installed nginx is in an example's ``valid-on`` range."""
    if valid_on is None:
        return True
    from nginx_harness import nginx_version

    from tlslint.nginx_versions import parse_version

    installed = tuple(nginx_version(nginx_binary()))
    operator, bound = valid_on[:2] if valid_on.startswith(">=") else valid_on[:1], valid_on.lstrip("<>=")
    threshold = parse_version(bound)
    return installed >= threshold if operator == ">=" else installed < threshold


def declared_directives(example: dict[str, Any]) -> list[str]:
    """The directives (or name patterns) an example declares in `nginx.extra-directives`:
    a third-party module's, which the installed nginx is not built with."""
    entries = example.get("settings", {}).get("nginx", {}).get("extra-directives", [])
    return [entry if isinstance(entry, str) else entry["name"] for entry in entries]


def without_declared(text: str, declared: list[str]) -> str:
    """``text`` without the lines of the declared directives."""
    kept = [
        line
        for line in text.splitlines(keepends=True)
        if not any(fnmatch(line.strip(), f"{d} *") for d in declared)
    ]
    return "".join(kept)


@pytest.mark.parametrize(("code", "index", "key", "example"), EXAMPLES)
def test_example_under_nginx(code: str, index: int, key: str, example: dict[str, Any]) -> None:
    nginx_binary()
    run = functools.partial(
        nginx_t,
        files=example.get("files"),
        name=example.get("path", "nginx.conf"),
        version_note=f"rules/{code}.yaml examples[{index}].{key}",
        # NGX006 is about the certificates left out: the harness must not supply them.
        add_missing_certificates=code not in WITHOUT_ADDED_CERTIFICATES,
    )
    result = run(example[key])
    declared = declared_directives(example)
    if declared and key != "bad":
        # The module is not in this nginx: it refuses a declared directive, and nothing else.
        unknown = re.search(r'unknown directive "([^"]+)"', result.errors[0] if result.errors else "")
        assert unknown and any(fnmatch(unknown[1], d) for d in declared), result.describe()
        result = run(without_declared(example[key], declared))
    accepted = accepted_by_installed_nginx(example.get("valid-on"))
    if not accepted:
        assert not result.ok, (
            f"nginx accepts examples[{index}].{key} outside its valid-on range {example['valid-on']}\n"
            f"{result.describe()}"
        )
        return
    if key == "bad" and code in REFUSED_BY_NGINX:
        assert not result.ok, (
            f"nginx accepts a {code} example that the rule says it refuses\n{result.describe()}"
        )
        assert result.errors, result.describe()
        assert re.search(REFUSED_BY_NGINX[code], result.errors[0]), result.describe()
    else:
        assert result.ok, f"rules/{code}.yaml examples[{index}].{key} is not valid nginx\n{result.describe()}"
        assert not result.errors, result.describe()


def test_every_nginx_rule_has_examples_here() -> None:
    covered = {param.values[0] for param in EXAMPLES}
    assert covered == {code for code, entry in ENTRIES.items() if entry["target"] == "nginx"}
