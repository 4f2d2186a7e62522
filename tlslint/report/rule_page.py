"""A rule's page, ruff-style, from its catalogue entry (Markdown)."""

from __future__ import annotations

from typing import Any

# docs/fix-safety.md explains the model these labels come from.
_SAFETY = {
    "safe": "Safe: `tlslint --fix` applies it.",
    "unsafe": "Unsafe: only `tlslint --fix --unsafe-fixes` applies it.",
    "mixed": "Safe or unsafe, by case; the unsafe ones only with `--unsafe-fixes`.",
    "none": "There is no automatic fix.",
}


# Code-fence language of a rule's examples, by target.
# `paths` examples are shell sessions that build the tree (tests/test_reliability.py runs them).
_FENCES = {
    "nginx": "nginx",
    "apigee": "yaml",
    "backend": "python",
    "logs": "text",
    "live": "nginx",
    "any": "nginx",
    "paths": "sh",
}


def rule_page(entry: dict[str, Any]) -> str:
    lines = [f"# {entry['code']} {entry['name']}", ""]
    opt_in = " · opt-in: runs only when `select` names it" if entry.get("opt-in") else ""
    lines += [f"Severity: {entry['severity']} · target: {entry['target']}{opt_in}", ""]
    lines += ["## What it does", "", entry["summary"].strip(), ""]
    lines += ["## Why is this bad", "", entry["why"].strip(), ""]
    fence = _FENCES.get(entry["target"], "text")
    bad = [e for e in entry["examples"] if "bad" in e]
    good = [e for e in entry["examples"] if "good" in e]
    if bad:
        lines += ["## Example", ""]
        for example in bad:
            lines += _example(example, "bad", fence)
    fixed = [e for e in bad if "fixed" in e]
    if good or fixed:
        lines += ["## Use instead", ""]
        for example in fixed:
            command = "tlslint --fix --unsafe-fixes" if example.get("unsafe") else "tlslint --fix"
            lines += _example({**example, "title": f"after `{command}`"}, "fixed", fence)
        for example in good:
            lines += _example(example, "good", fence)
    lines += ["## Fix", "", entry["fix"].strip(), ""]
    lines += _fix_safety(entry)
    if entry.get("options"):
        from tlslint.rule_options import short

        lines += ["## Options", ""]
        for name, spec in entry["options"].items():
            kind = short(spec)
            default = spec["default"] if spec["default"] != "" else '""'
            lines.append(f"- `{name}` ({kind}, default `{default}`): {spec['description']}")
        lines.append("")
    if entry.get("references"):
        lines += ["## References", ""]
        lines += [f"- <{ref}>" for ref in entry["references"]]
        lines.append("")
    return "\n".join(lines)


def _fix_safety(entry: dict[str, Any]) -> list[str]:
    """The fix's safety, why, and the rewrites that nginx treats the same (docs/fix-safety.md)."""
    lines = ["## Fix safety", "", f"{_SAFETY[entry['fix-safety']]} {entry['fix-safety-reason'].strip()}", ""]
    equivalences = entry.get("fix-equivalence", [])
    if equivalences:
        lines += ["A safe fix changes an existing line only where the result means the same:", ""]
        lines += [f"- `{item['name']}`: {item['why'].strip()}" for item in equivalences]
        lines.append("")
    lines += ["See [fix safety](../fix-safety.md) for the model.", ""]
    return lines


def _example(example: dict[str, Any], key: str, fence: str) -> list[str]:
    out = []
    if example.get("title"):
        out += [f"{example['title'][0].upper()}{example['title'][1:]}:", ""]
    if example.get("near-miss"):
        out += [f"Near miss: {example['near-miss'].strip()}", ""]
    if example.get("settings"):
        import json

        out += [f"With settings `{json.dumps(example['settings'])}`:", ""]
    # multi-file: an nginx file beside an app-server file, a Gateway beside another, a kustomize tree
    several = fence == _FENCES["backend"] or bool(example.get("files"))
    if several and example.get("path"):
        out += [f"`{example['path']}`:", ""]
    out += [f"```{_path_fence(example.get('path'), fence)}", example[key].rstrip("\n"), "```", ""]
    if several and key != "fixed":
        for name, text in example.get("files", {}).items():
            out += [f"`{name}`:", "", f"```{_path_fence(name, 'text')}", text.rstrip("\n"), "```", ""]
    return out


_SUFFIX_FENCES = {".py": "python", ".conf": "nginx", ".toml": "toml", ".yaml": "yaml", ".yml": "yaml",
                  ".service": "ini"}  # fmt: skip


def _path_fence(path: str | None, default: str) -> str:
    """The fence of an example file by its name (app.conf, gunicorn.conf.py, Dockerfile)."""
    if not path:
        return default
    name = path.rsplit("/", 1)[-1]
    if name.lower().startswith(("dockerfile", "containerfile")):
        return "dockerfile"
    suffix = name[name.rfind(".") :] if "." in name else ""
    return _SUFFIX_FENCES.get(suffix, "text")  # a Procfile
