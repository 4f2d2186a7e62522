"""The rule catalogue: ``rules/*.yaml``, one file per rule.

The YAML files are the single source of each rule's facts. Checking a repo
needs only code, name, severity and option defaults, so those are compiled
into ``rules/index.json`` (``python -m tlslint.catalogue`` rewrites it; a test
fails when it is stale) and ruamel.yaml is imported only for ``explain``,
``rules`` and the tests.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from tlslint.findings import Severity

INDEX_NAME = "index.json"


@dataclass(frozen=True, slots=True)
class RuleMeta:
    """A rule's catalogue entry as the checks need it (``rules/index.json``)."""

    code: str
    name: str
    severity: Severity
    target: str
    summary: str
    fix_safety: str
    options: dict[str, Any]  # option name -> {"default": ..., "profiles": {...}}
    opt_in: bool = False  # runs only when `select` names it

    def option_defaults(self, profile: str) -> dict[str, Any]:
        values = {}
        for name, spec in self.options.items():
            values[name] = spec.get("profiles", {}).get(profile, spec["default"])
        return values


def rules_dir() -> Path:
    packaged = Path(__file__).parent / "rules"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules"


@lru_cache(maxsize=1)
def index() -> dict[str, RuleMeta]:
    data = json.loads((rules_dir() / INDEX_NAME).read_text(encoding="utf-8"))
    return {code: _meta(entry) for code, entry in data.items()}


def _meta(entry: dict[str, Any]) -> RuleMeta:
    return RuleMeta(
        code=entry["code"],
        name=entry["name"],
        severity=Severity.parse(entry["severity"]),
        target=entry["target"],
        summary=entry["summary"].strip(),
        fix_safety=entry.get("fix-safety", "none"),
        options=entry.get("options", {}),
        opt_in=entry.get("opt-in", False),
    )


def load_entries(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """Every catalogue entry, validated against the rule schema."""
    import jsonschema
    from ruamel.yaml import YAML

    directory = directory or rules_dir()
    schema = json.loads((Path(__file__).parent / "schemas" / "rule.schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    yaml = YAML(typ="safe", pure=True)
    entries: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.yaml")):
        entry = yaml.load(path.read_text(encoding="utf-8"))
        problems = [f"{path.name}: {'/'.join(map(str, e.absolute_path))}: {e.message}"
                    for e in validator.iter_errors(entry)]  # fmt: skip
        if problems:
            raise ValueError("\n".join(problems))
        if entry["code"] != path.stem:
            raise ValueError(f"{path.name}: code {entry['code']} does not match the file name")
        entries[entry["code"]] = entry
    return entries


def compile_index(entries: dict[str, dict[str, Any]]) -> str:
    keys = ("code", "name", "severity", "target", "summary", "fix-safety", "options", "opt-in")
    compact = {code: {k: e[k] for k in keys if k in e} for code, e in sorted(entries.items())}
    return json.dumps(compact, indent=1, sort_keys=True) + "\n"


def main() -> None:
    directory = rules_dir()
    (directory / INDEX_NAME).write_text(compile_index(load_entries(directory)), encoding="utf-8")
    print(f"wrote {directory / INDEX_NAME}", file=sys.stderr)


if __name__ == "__main__":
    main()
