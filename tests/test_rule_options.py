"""Rule options are checked against what their rule declares (rules/CODE.yaml) when
settings load: a value a rule cannot read is an error naming the file, the key and what
it takes, never a rule that silently stops reporting (tlslint.rule_options)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from helpers import cli

from tlslint import catalogue
from tlslint.rule_options import FORMATS, problem, types
from tlslint.settings import SettingsError, check_references, load_settings, validate

INDEX = catalogue.index()
OPTIONS = [(code, name, spec) for code, meta in INDEX.items() for name, spec in meta.options.items()]
WRONG_TYPED = ("banana", 7, 0.5, True)


def _fits(kind: str, value: Any) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def bad_values(spec: dict[str, Any]) -> list[Any]:
    """Values the declaration refuses, derived from it: other types, and whatever its
    format, enum or bounds leave out."""
    kinds = types(spec)
    bad: list[Any] = [["x"]]  # no option takes a list
    bad += [value for value in WRONG_TYPED if not any(_fits(kind, value) for kind in kinds)]
    if "enum" in spec or "format" in spec:
        bad.append("banana")
    if spec.get("format") is not None:
        least = spec.get("minimum")
        measure = FORMATS[spec["format"]].magnitude
        if isinstance(least, str) and (measure("0") or 0) < (measure(least) or 0):
            bad.append("0")  # a value of the format, below the minimum
    step = 1 if "integer" in kinds else 0.5
    if "integer" in kinds or "number" in kinds:
        if isinstance(spec.get("minimum"), (int, float)):
            bad.append(spec["minimum"] - step)
        if "maximum" in spec:
            bad.append(spec["maximum"] + step)
    if "number" in kinds:
        bad += [math.nan, math.inf]
    return bad


def test_every_option_can_be_refused_beyond_its_type() -> None:
    """A string option takes a format or an enum, and a number has a minimum: a new
    option must say what it takes, so that the test below covers it."""
    assert OPTIONS
    for code, name, spec in OPTIONS:
        kinds = types(spec)
        if "string" in kinds:
            assert "format" in spec or "enum" in spec, (code, name)
        if "integer" in kinds or "number" in kinds:
            assert isinstance(spec.get("minimum"), (int, float)), (code, name)


@pytest.mark.parametrize(("code", "name", "spec"), OPTIONS, ids=[f"{c}.{n}" for c, n, _ in OPTIONS])
def test_every_option_refuses_a_bad_value_naming_file_key_and_what_it_takes(
    tmp_path: Path, code: str, name: str, spec: dict[str, Any]
) -> None:
    for value in bad_values(spec):
        settings = tmp_path / ".tlslint.yaml"  # YAML: a list, NaN and inf written alike
        settings.write_text(f"rules:\n  {code}:\n    {name}: {_yaml(value)}\n", encoding="utf-8")
        with pytest.raises(SettingsError) as raised:
            load_settings(tmp_path)
        message = str(raised.value)
        assert message.startswith(f"{settings}: 'rules.{code}.{name}': "), (value, message)
        assert "it takes " in message, message


@pytest.mark.parametrize(("code", "name", "spec"), OPTIONS, ids=[f"{c}.{n}" for c, n, _ in OPTIONS])
def test_defaults_and_profiles_are_taken(code: str, name: str, spec: dict[str, Any]) -> None:
    for value in [spec["default"], *spec.get("profiles", {}).values()]:
        assert problem(value, spec) is None, (code, name, value)


def test_catalogue_examples_settings_are_valid() -> None:
    for code, entry in catalogue.load_entries().items():
        for example in entry["examples"]:
            settings = example.get("settings")
            if settings:
                validate(settings, f"{code} example")
                check_references(settings, f"{code} example")


def _yaml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return ".nan"
    if isinstance(value, float) and math.isinf(value):
        return ".inf"
    if isinstance(value, str):
        return f'"{value}"'
    return str(value)


# --- the brief's cases, end to end --------------------------------------------------------

CONFIG = """\
http {
    ssl_session_timeout 1m;
    server {
        listen 443 ssl;
        ssl_certificate     /etc/ssl/a.pem;
        ssl_certificate_key /etc/ssl/a.key;
    }
}
"""


@pytest.mark.parametrize(
    ("toml", "takes"),
    [
        ('[rules.NGX103]\nmin-size = "banana"\n', "a size as nginx reads it"),
        ('[rules.NGX104]\nmin = "banana"\n', "a time as nginx reads ssl_session_timeout"),
        ('[rules.NGX104]\nmin = "-5m"\n', "a time as nginx reads ssl_session_timeout"),
        ("[rules.NGX104]\nmin = 5\n", "5 is an integer: it takes a time"),
        ('[rules.NGX101]\nsize = "banana"\n', "a size as nginx reads it"),
        ('[rules.NGX101]\nsize = "16k"\n', '"16k" is below 32k'),
        ('[rules.NGX104]\nmin = "2d"\n', '"2d" is above max ("1d"): it may not exceed it'),
        ('[rules.NGX104]\nmax = "1m"\n', '"5m" is above max ("1m"): it may not exceed it'),
    ],
)
def test_a_bad_option_stops_the_run_with_exit_2(tmp_path: Path, toml: str, takes: str) -> None:
    (tmp_path / ".tlslint.toml").write_text(toml, encoding="utf-8")
    (tmp_path / "a.conf").write_text(CONFIG.replace("http {", "http {\n    ssl_session_cache builtin;"))
    for args in (("a.conf",), ("--diff", "a.conf")):
        result = cli(tmp_path, *args)
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stdout == ""
        assert result.stderr.startswith(f"tlslint: {tmp_path / '.tlslint.toml'}: 'rules.NGX10")
        assert takes in result.stderr
        assert "tlslint bug" not in result.stderr and "Traceback" not in result.stderr


def test_keepalive_requests_min_takes_an_integer_or_its_digits(tmp_path: Path) -> None:
    """NGX203's `min` was a string so that "" could mean nginx's default: the number
    itself, unambiguous, is taken too."""
    conf = CONFIG.replace("ssl_session_timeout 1m;", "keepalive_requests 1000;")
    (tmp_path / "a.conf").write_text(conf, encoding="utf-8")
    for written in ("10000", '"10000"'):
        (tmp_path / ".tlslint.toml").write_text(f"[rules.NGX203]\nmin = {written}\n", encoding="utf-8")
        result = cli(tmp_path, "-q", "--select", "NGX203", "a.conf")
        assert result.returncode == 1 and "NGX203" in result.stdout, result.stderr
    (tmp_path / ".tlslint.toml").write_text('[rules.NGX203]\nmin = ""\n', encoding="utf-8")
    assert cli(tmp_path, "-q", "--select", "NGX203", "a.conf").returncode == 0


# --- the formats read values as nginx does -------------------------------------------------

# Where each nginx rule's option is written by its fix, or compared with a directive's
# value: the line nginx must read it in. Every nginx rule option with a format or a
# number is here, so that its declaration is held to nginx.
LINE_OF = {
    ("NGX101", "size"): "http {{ ssl_session_cache shared:SSL:{}; }}",
    ("NGX102", "size"): "http {{ ssl_session_cache shared:SSL:{}; }}",
    ("NGX103", "min-size"): "http {{ ssl_session_cache shared:SSL:{}; }}",
    ("NGX104", "min"): "http {{ ssl_session_timeout {}; }}",
    ("NGX104", "max"): "http {{ ssl_session_timeout {}; }}",
    ("NGX202", "min"): "http {{ keepalive_timeout {}; }}",
    ("NGX203", "min"): "http {{ keepalive_requests {}; }}",
    ("NGX210", "connections"): "http {{ upstream u {{ server 127.0.0.1:8080; keepalive {}; }} }}",
    ("NGX212", "connections"): "http {{ upstream u {{ server 127.0.0.1:8080; keepalive {}; }} }}",
    ("NGX302", "protocols"): "http {{ ssl_protocols {}; }}",
    ("NGX303", "protocols"): "http {{ ssl_protocols {}; }}",
}
SAMPLES: dict[str, list[Any]] = {
    "nginx-size": ["10m", "10M", "512k", "32768", "32k", "31k", "16k", "0", "1g", "1.5m", "10 m", "banana"],
    "nginx-time": ["5m", "1h30m", "1d", "5", "1y", "0", "500ms", "-5m", "5 m", "1d1d", "banana"],
    "nginx-time-ms": ["75s", "1m30s", "500ms", "5", "0", "1y", "1M", "-5s", "banana"],
    "nginx-number": ["1000", "0", "-5", "1e3", "banana"],
    "ssl-protocols": ["TLSv1.2 TLSv1.3", "TLSv1.3", "SSLv3", "TLSv1.4", "TLSv1.2,TLSv1.3"],
    "integer": [1, 32, 0, -1],
}
# Refused on purpose though nginx takes it: the rules compare the canonical spelling.
STRICTER = {("ssl-protocols", "tlsv1.3")}


def test_every_nginx_option_has_its_line() -> None:
    numbered = {
        (code, name)
        for code, name, spec in OPTIONS
        if INDEX[code].target == "nginx" and ("format" in spec or "integer" in types(spec))
    }
    assert numbered == set(LINE_OF)
    assert {spec["format"] for _, _, spec in OPTIONS if "format" in spec} == set(FORMATS)


@pytest.mark.parametrize(("code", "name"), list(LINE_OF), ids=[f"{c}.{n}" for c, n in LINE_OF])
def test_what_an_option_takes_is_what_nginx_reads(code: str, name: str) -> None:
    from nginx_harness import nginx_t

    spec = INDEX[code].options[name]
    kind = spec.get("format", "integer")
    values = SAMPLES[kind] + (["tlsv1.3"] if kind == "ssl-protocols" else [])
    for value in values:
        ours = problem(value, spec) is None
        nginx = nginx_t(LINE_OF[(code, name)].format(value)).ok
        if (kind, value) in STRICTER:
            assert nginx and not ours, value
        else:
            assert ours == nginx, (value, problem(value, spec))
