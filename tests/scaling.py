"""The scaling guard's machinery: catalogue examples replicated, work counted.

Each example of the catalogue becomes a tree of ``copies`` copies of itself
(``replicate``): the blocks of an nginx file (servers, upstreams, maps...)
side by side in one http{}, the virtual hosts of an overrides file in one list,
ApigeeRoute documents one after another, app-server files one directory per
copy. Each copy gets its own server names, upstream names, zones, variables,
secrets and unix sockets, so that nothing links copies that the example did
not link; what the example declares once outside its blocks (an http-level
``ssl_session_cache``, a ``log_format``, an ``ingressGateways`` entry) stays
once, and its names stay shared.

Two variants: ``distinct`` also gives each copy its own ports (a socket per
server, a backend per upstream); ``shared`` keeps the ports, so that every copy's
server is on the example's sockets, its maps are declared once, and only the
last copy keeps ``default_server`` (the default server is found last).

Work is counted, not timed (``count_run``): every Python line executed and
every function called while the rule runs, through ``sys.settrace``. The count
of a run is the same on an idle and a loaded machine, so a ratio of counts can
hold a tight threshold on a shared 2-core CI runner.
"""

from __future__ import annotations

import bisect
import cProfile
import itertools
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tlslint
from tlslint.settings import Settings
from tlslint.sources.nginx.lexer import COMMENT, QUOTED, WORD, scan
from tlslint.sources.nginx.model import Directive, SourceText
from tlslint.sources.nginx.parser import ParseError, parse_text

DISTINCT = "distinct"
SHARED = "shared"

# Blocks an nginx file has once, whatever it serves.
_SINGLETONS = frozenset({"http", "events", "stream", "mail", "types"})
# Blocks that declare a variable for the whole http{}: in the shared variant one
# declaration serves every copy.
_DECLARING = frozenset({"map", "geo", "split_clients"})
_PASSES = ("proxy_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass", "grpc_pass", "memcached_pass")
_ZONE_ARGUMENT = re.compile(r"^((?:keys_)?zone=)([^:]+)(.*)$")
_SHARED_CACHE = re.compile(r"^(shared:)([^:]+)(.*)$")
_URL = re.compile(r"^([a-z]+://)(\[[^\]]*\]|[^/:$]+)(?::(\d+))?(.*)$", re.S)
_ADDRESS_PORT = re.compile(r"^(.*:)(\d+)$")
_PORT_BASE = 20000
_OURS = str(Path(tlslint.__file__).parent)


@dataclass
class Tree:
    """A replicated example: files by relative path, and the settings to check them with."""

    files: dict[str, str]
    settings: dict[str, Any]


@dataclass
class _Names:
    """What each copy renames (the example's own names, less those it shares)."""

    upstreams: set[str] = field(default_factory=set)
    variables: set[str] = field(default_factory=set)
    zones: set[str] = field(default_factory=set)
    server_names: set[str] = field(default_factory=set)
    sockets: set[str] = field(default_factory=set)  # unix socket paths
    ports: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- nginx


def _descendants(directives: list[Directive]) -> Iterator[Directive]:
    for directive in directives:
        yield directive
        if directive.block:
            yield from _descendants(directive.block)


def _units(top: list[Directive], variant: str) -> tuple[list[Directive], list[Directive]]:
    """The blocks to replicate and the directives kept once, of a file's http{} (or top)."""
    http = next((d for d in top if d.name == "http" and d.block is not None), None)
    container = http.block if http is not None and http.block is not None else top
    kept = _SINGLETONS | _DECLARING if variant == SHARED else _SINGLETONS
    units = [d for d in container if d.block is not None and d.name not in kept]
    once = [d for d in _descendants(top) if not any(_within(d, unit) for unit in units)]
    return units, once


def _within(directive: Directive, unit: Directive) -> bool:
    return unit.start <= directive.start < unit.end


def _port_of(value: str) -> str | None:
    if value.isdigit():
        return value
    if value.startswith("unix:"):
        return None
    found = _ADDRESS_PORT.match(value)
    return found.group(2) if found else None


def _collect(units: list[Directive], once: list[Directive], names: _Names) -> None:
    for directive in (d for unit in units for d in _descendants([unit])):
        args = directive.args
        if directive.name == "upstream" and args:
            names.upstreams.add(args[0])
        elif directive.name in _DECLARING and args:
            names.variables.add(args[-1].lstrip("$"))
        elif directive.name == "server_name":
            names.server_names.update(a for a in args if a not in ("_", "") and not a.startswith("~"))
        elif directive.name in ("zone", "limit_conn", "proxy_cache", "fastcgi_cache") and args:
            names.zones.add(args[0])
        for arg in args:
            for pattern in (_ZONE_ARGUMENT, _SHARED_CACHE):
                found = pattern.match(arg)
                if found:
                    names.zones.add(found.group(2))
            if arg.startswith("unix:"):
                names.sockets.add(arg[5:].split(":")[0])
            url = _URL.match(arg)
            if url and directive.name in _PASSES and url.group(3):
                _add_port(names, url.group(3))
        if directive.name in ("listen", "server") and args:
            port = _port_of(args[0])
            if port is not None and (directive.name == "listen" or _in_upstream(directive)):
                _add_port(names, port)
    shared = {arg for d in once for arg in d.args}
    shared_text = " ".join(shared)
    names.upstreams -= shared
    names.server_names -= shared
    names.zones = {z for z in names.zones if z not in shared and f":{z}:" not in shared_text}
    names.variables = {v for v in names.variables if f"${v}" not in shared_text}


def _in_upstream(directive: Directive) -> bool:
    return directive.parent is not None and directive.parent.name == "upstream"


def _add_port(names: _Names, port: str) -> None:
    if port not in names.ports:
        names.ports.append(port)


def new_port(names: _Names, copy: int, port: str) -> str:
    return str(_PORT_BASE + copy * len(names.ports) + names.ports.index(port))


@dataclass
class _Copy:
    """How one copy renames a token."""

    names: _Names
    copy: int
    variant: str
    copies: int = 1

    def server_name(self, name: str) -> str:
        if name.startswith("*."):
            return f"*.c{self.copy}-{name[2:]}"
        if name.startswith("."):
            return f".c{self.copy}-{name[1:]}"
        return f"c{self.copy}-{name}"

    def name(self, name: str) -> str:
        return f"{name}_c{self.copy}"

    def socket(self, path: str) -> str:
        head, _, tail = path.rpartition("/")
        return f"{head}/c{self.copy}-{tail}"

    def port(self, port: str) -> str:
        if self.variant != DISTINCT or port not in self.names.ports:
            return port
        return new_port(self.names, self.copy, port)

    def variables(self, value: str) -> str:
        for variable in self.names.variables:
            value = re.sub(
                rf"\$(\{{)?{re.escape(variable)}(?(1)\}}|(?![A-Za-z0-9_]))",
                lambda m, v=variable: f"${{{self.name(v)}}}" if m.group(1) else f"${self.name(v)}",
                value,
            )
        return value

    def argument(self, directive: Directive, index: int, value: str) -> str:
        names = self.names
        name = directive.name
        if "$" in value and names.variables:
            value = self.variables(value)
        if name == "server_name" and value in names.server_names:
            return self.server_name(value)
        if name == "upstream" and index == 0 and value in names.upstreams:
            return self.name(value)
        if value in names.zones and (name in ("zone", "limit_conn", "proxy_cache", "fastcgi_cache")):
            return self.name(value) if index == 0 else value
        for pattern in (_ZONE_ARGUMENT, _SHARED_CACHE):
            found = pattern.match(value)
            if found and found.group(2) in names.zones:
                return f"{found.group(1)}{self.name(found.group(2))}{found.group(3)}"
        if value.startswith("unix:"):
            path, colon, rest = value[5:].partition(":")
            if path in names.sockets:
                return f"unix:{self.socket(path)}{colon}{rest}"
            return value
        if name in _PASSES:
            url = _URL.match(value)
            if url:
                scheme, host, port, rest = url.groups()
                host = self.name(host) if host in names.upstreams else host
                port = f":{self.port(port)}" if port else ""
                return f"{scheme}{host}{port}{rest}"
            return self.name(value) if value in names.upstreams else value
        if index == 0 and (name == "listen" or (name == "server" and _in_upstream(directive))):
            if value.isdigit():
                return self.port(value)
            found = _ADDRESS_PORT.match(value)
            if found:
                return f"{found.group(1)}{self.port(found.group(2))}"
        return value


# An argument as written: its directive, position, token kind, value and span.
_Slot = tuple[Directive, int, int, str, int, int]


def _slots(tokens: list[tuple[int, str, int, int]], unit: Directive) -> list[_Slot]:
    starts = [t[2] for t in tokens]
    slots: list[_Slot] = []
    for directive in _descendants([unit]):
        first = bisect.bisect_left(starts, directive.args_start)
        last = bisect.bisect_left(starts, directive.args_end)
        arguments = [t for t in tokens[first:last] if t[0] in (WORD, QUOTED)]
        slots += [(directive, i, kind, value, a, b) for i, (kind, value, a, b) in enumerate(arguments)]
    return slots


def _rewrite(text: str, slots: list[_Slot], unit: Directive, copy: _Copy) -> str:
    """The unit's text for one copy: every argument renamed in place, comments kept."""
    pieces: list[str] = []
    position = unit.start
    strip_default = copy.variant == SHARED and copy.copy < copy.copies - 1
    for directive, index, kind, value, start, end in slots:
        renamed = copy.argument(directive, index, value)
        if strip_default and directive.name == "listen" and value in ("default_server", "default"):
            renamed = ""
        if renamed == value:
            continue
        raw = text[start:end]
        if kind == QUOTED:
            if raw[1:-1] != value:  # escapes: left as written
                continue
            renamed = f"{raw[0]}{renamed}{raw[-1]}"
        pieces.append(text[position:start])
        pieces.append(renamed)
        position = end
    pieces.append(text[position : unit.end])
    return "".join(pieces)


def replicate_nginx(text: str, copies: int, variant: str, names: _Names | None = None) -> tuple[str, _Names]:
    """``copies`` copies of the example's blocks, in one file; raises ``ParseError``."""
    parsed = parse_text(SourceText(Path("example.conf"), text))
    tokens = [t for t in scan(text) if t[0] != COMMENT]
    units, once = _units(parsed.directives, variant)
    names = names or _Names()
    _collect(units, once, names)
    out: list[str] = []
    position = 0
    for unit in units:
        line_start = text.rfind("\n", 0, unit.start) + 1
        indent = text[line_start : unit.start] if not text[line_start : unit.start].strip() else ""
        out.append(text[position : unit.start])
        slots = _slots(tokens, unit)
        rendered = [_rewrite(text, slots, unit, _Copy(names, n, variant, copies)) for n in range(copies)]
        out.append(f"\n{indent}".join(rendered))
        position = unit.end
    out.append(text[position:])
    return "".join(out), names


# --------------------------------------------------------------------------- YAML (Apigee, Kubernetes)

# Keys whose values name something a copy must have its own of.
_YAML_NAME_KEYS = ("name", "sslSecret", "credentialName", "secretName", "host", "hostnames", "hosts",
                   "additionalGateways", "hostAliases")  # fmt: skip
_YAML_SCALAR = re.compile(
    rf"^[ \t-]*(?:{'|'.join(_YAML_NAME_KEYS)})[ \t]*:[ \t]*[\"']?([A-Za-z0-9*][\w.*-]*)[\"']?[ \t]*(?:#.*)?$"
)
_YAML_FLOW = re.compile(rf"^[ \t-]*(?:{'|'.join(_YAML_NAME_KEYS)})[ \t]*:[ \t]*\[([^\]]*)\]")
_YAML_ITEM = re.compile(r"^[ \t]*-[ \t]+[\"']?([A-Za-z0-9*][\w.*-]*)[\"']?[ \t]*(?:#.*)?$")
# ``{name: public, namespace: web}``: a name inside a flow mapping.
_YAML_IN_FLOW = re.compile(
    rf"[{{,][ \t]*(?:{'|'.join(_YAML_NAME_KEYS)})[ \t]*:[ \t]*[\"']?([A-Za-z0-9*][\w.*-]*)[\"']?[ \t]*[,}}]"
)
_YAML_LIST_KEY = re.compile(rf"^[ \t-]*(?:{'|'.join(_YAML_NAME_KEYS)})[ \t]*:[ \t]*(?:#.*)?$")


def _yaml_names(lines: list[str]) -> set[str]:
    found: set[str] = set()
    in_list = False
    for line in lines:
        scalar, flow, item = _YAML_SCALAR.match(line), _YAML_FLOW.match(line), _YAML_ITEM.match(line)
        found.update(_YAML_IN_FLOW.findall(line))
        if scalar:
            found.add(scalar.group(1))
        elif flow:
            found.update(v.strip().strip("\"'") for v in flow.group(1).split(",") if v.strip())
        elif item and in_list:
            found.add(item.group(1))
        if _YAML_LIST_KEY.match(line):
            in_list = True
        elif line.strip() and not line.lstrip().startswith("-"):
            in_list = False
    return {name for name in found if name != "*" and not name.startswith("*.")}


def _yaml_rename(text: str, names: set[str], copy: int) -> str:
    if not names:
        return text
    # A name as a word, or below a wildcard (``*.example.com``): each copy its own domain.
    pattern = re.compile(
        r"(?:(?<![\w.-])|(?<=\*\.))("
        + "|".join(map(re.escape, sorted(names, key=len, reverse=True)))
        + r")(?![\w-])"
    )
    return pattern.sub(lambda m: f"{m.group(1)}-c{copy}", text)


def _virtualhost_items(lines: list[str]) -> tuple[int, int, list[tuple[int, int]]] | None:
    """The span of the top-level ``virtualhosts:`` list and of each of its items."""
    start = next((i for i, line in enumerate(lines) if re.match(r"^virtualhosts[ \t]*:", line)), None)
    if start is None:
        return None
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end][0] in " \t-#"):
        end += 1
    items: list[tuple[int, int]] = []
    indent = None
    for index in range(start + 1, end):
        stripped = lines[index].lstrip(" ")
        if stripped.startswith("- ") or stripped.rstrip() == "-":
            column = len(lines[index]) - len(stripped)
            if indent is None:
                indent = column
            if column == indent:
                if items:
                    items[-1] = (items[-1][0], index)
                items.append((index, end))
    return start, end, items


def replicate_yaml(texts: dict[str, str], copies: int) -> dict[str, str]:
    """Each file's virtual hosts (an overrides file) or documents (manifests), ``copies`` times."""
    plans: dict[str, tuple[list[str], list[tuple[int, int]]]] = {}
    replicated: list[str] = []
    kept: list[str] = []
    for path, text in texts.items():
        lines = text.splitlines(keepends=True)
        spans = _yaml_units(lines)
        plans[path] = (lines, spans)
        inside = {i for a, b in spans for i in range(a, b)}
        replicated += [line for i, line in enumerate(lines) if i in inside]
        kept += [line for i, line in enumerate(lines) if i not in inside]
    names = _yaml_names(replicated) - _yaml_names(kept)
    out: dict[str, str] = {}
    for path, (lines, spans) in plans.items():
        pieces: list[str] = []
        position = 0
        for a, b in spans:
            pieces.append("".join(lines[position:a]))
            unit = "".join(lines[a:b])
            if unit and not unit.endswith("\n"):
                unit += "\n"
            separator = "---\n" if _documents(lines) else ""
            pieces.append(separator.join(_yaml_rename(unit, names, n) for n in range(copies)))
            position = b
        pieces.append("".join(lines[position:]))
        out[path] = "".join(pieces)
    return out


def _documents(lines: list[str]) -> bool:
    return not any(re.match(r"^virtualhosts[ \t]*:", line) for line in lines)


def _yaml_units(lines: list[str]) -> list[tuple[int, int]]:
    virtualhosts = _virtualhost_items(lines)
    if virtualhosts is not None:
        return virtualhosts[2]
    # Documents: from a line after each `---` (or the start) to the next.
    bounds = [0] + [i + 1 for i, line in enumerate(lines) if line.rstrip() == "---"]
    ends = [i for i, line in enumerate(lines) if line.rstrip() == "---"] + [len(lines)]
    return [(a, b) for a, b in zip(bounds, ends, strict=True) if any(line.strip() for line in lines[a:b])]


# --------------------------------------------------------------------------- examples


def example_files(example: dict[str, Any], key: str) -> dict[str, str]:
    return {example.get("path", "example.conf"): example[key], **example.get("files", {})}


def is_nginx(path: str) -> bool:
    return path.endswith(".conf") or path == "nginx.conf"


def is_yaml(path: str) -> bool:
    return path.endswith((".yaml", ".yml"))


def is_compose(path: str) -> bool:
    return Path(path).name in ("docker-compose.yml", "docker-compose.yaml", "compose.yml", "compose.yaml")


def replicate(example: dict[str, Any], key: str, copies: int, variant: str, *, split: bool = False) -> Tree:
    """The example's ``key`` text (with its other files) as a tree of ``copies`` copies.

    With ``split``, each copy is a directory of the example's files as written (for
    text that does not load, so that nothing can be replicated inside it).
    """
    files = example_files(example, key)
    settings = dict(example.get("settings", {}))
    if split:
        return Tree(
            {f"c{n:04d}/{path}": text for n in range(copies) for path, text in files.items()}, settings
        )
    out: dict[str, str] = {}
    names = _Names()
    nginx = {p: t for p, t in files.items() if is_nginx(p)}
    # A compose file is one document of services, which the copies' upstreams reach by
    # name, like the app-server files: replicated as documents, every copy's upstream
    # would reach every copy's service (n x n links no real stack has).
    yaml = {p: t for p, t in files.items() if is_yaml(p) and not is_compose(p)}
    others = {p: t for p, t in files.items() if p not in nginx and p not in yaml}
    for path, text in nginx.items():
        try:
            replicated, names = replicate_nginx(text, copies, variant, names)
        except (ParseError, ValueError):  # text nginx refuses: one file per copy
            replicated = text
        if replicated != text or copies == 1:
            out[path] = replicated
            continue
        # Nothing to replicate inside (no block, or no parse): one file per copy.
        stem, dot, suffix = path.rpartition(".")
        for number in range(copies):
            out[f"{stem}-c{number}{dot}{suffix}"] = text
    if yaml:
        out.update(replicate_yaml(yaml, copies))
    backends = settings.get("backends", [])
    if others and variant == DISTINCT:
        for number in range(copies):
            copy = _Copy(names, number, variant)
            for path, text in others.items():
                out[f"c{number:04d}/{path}"] = _rename_backend(text, copy)
        settings["backends"] = [
            {**entry, "upstream": copy.name(entry["upstream"]), "config": f"c{number:04d}/{entry['config']}"}
            for number in range(copies)
            for copy in [_Copy(names, number, variant)]
            for entry in backends
        ]
    else:
        out.update(others)
        if backends:
            settings["backends"] = [
                {**entry, "upstream": _Copy(names, number, variant).name(entry["upstream"])}
                for number in range(copies)
                for entry in backends
            ]
    return Tree(out, settings)


def _rename_backend(text: str, copy: _Copy) -> str:
    """An app-server file of one copy: the copy's port and unix socket."""
    for socket in copy.names.sockets:
        text = text.replace(socket, copy.socket(socket))
    if not copy.names.ports:
        return text
    pattern = re.compile(r"(?<!\d)(" + "|".join(map(re.escape, copy.names.ports)) + r")(?!\d)")
    return pattern.sub(lambda m: copy.port(m.group(1)), text)


# --------------------------------------------------------------------------- counting


@dataclass
class Counts:
    """Work of one run: lines run and calls made in the rule's check (0 for a rule
    the loaders report), and calls made in the whole run."""

    rule: int = 0
    run: int = 0


def write_tree(directory: Path, tree: Tree) -> None:
    for name, text in tree.files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


def _tracer() -> tuple[Any, Any]:
    """A work counter (each call of ``tick`` counts one and returns the count so far) and
    the ``sys.settrace`` function that ticks it: lines in tlslint's own code, one a call
    elsewhere."""
    tick = itertools.count().__next__

    def lines(frame: Any, event: str, arg: Any) -> Any:
        tick()
        return lines

    def calls(frame: Any, event: str, arg: Any) -> Any:
        tick()
        return lines if frame.f_code.co_filename.startswith(_OURS) else None

    return tick, calls


def count_run(directory: Path, settings: Settings, code: str) -> Counts:
    """Check ``directory`` with the rule ``code`` alone, counting its work.

    In the rule's check, every line run and every call made in tlslint's code, and
    every call into other code (``sys.settrace``: a quadratic loop shows even without
    a call in it). In the whole run, every call, C functions included (cProfile,
    a fraction of the cost of tracing lines through the YAML and Python parsers).

    Parsers count the characters they are given instead of their calls: ruamel.yaml's
    composer (three quarters of a profiled YAML run) and tlslint's nginx parser (a
    third of a profiled nginx run, the same code for every rule: ``count_parse``
    holds it linear once). What a run can get wrong there is to parse the same text
    again (a file per document, per include), which the characters show.
    """
    from ruamel.yaml.main import YAML

    from tlslint import engine, run_checks
    from tlslint.sources.nginx import parser

    counts = Counts()
    tick, calls = _tracer()
    profiler = cProfile.Profile()

    real_run, compose_all, parse_text = run_checks._run, YAML.compose_all, parser.parse_text

    def counted(check: Any, *args: Any) -> Any:
        before = tick()
        previous = sys.gettrace()
        sys.settrace(calls)
        try:
            return real_run(check, *args)
        finally:
            sys.settrace(previous)
            counts.rule += tick() - before - 1

    def composed(self: YAML, stream: str) -> Iterator[Any]:
        counts.run += len(stream)
        profiler.disable()
        try:
            documents = list(compose_all(self, stream))
        finally:
            profiler.enable()
        return iter(documents)

    def parsed(source: SourceText) -> Any:
        counts.run += len(source.text)
        profiler.disable()
        try:
            return parse_text(source)
        finally:
            profiler.enable()

    run_checks._run = counted  # type: ignore[assignment]
    YAML.compose_all = composed  # type: ignore[method-assign]
    parser.parse_text = parsed
    try:
        profiler.enable()
        try:
            engine.run([directory], settings)
        finally:
            profiler.disable()
    finally:
        run_checks._run = real_run  # type: ignore[assignment]
        YAML.compose_all = compose_all  # type: ignore[method-assign]
        parser.parse_text = parse_text
    counts.run += sum(entry.callcount for entry in profiler.getstats())
    return counts


def count_parse(text: str) -> int:
    """The calls tlslint's nginx parser makes for ``text`` (C functions included)."""
    from tlslint.sources.nginx import parser

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        parser.parse_text(SourceText(Path("guard.conf"), text))
    finally:
        profiler.disable()
    return sum(entry.callcount for entry in profiler.getstats())


@dataclass
class FixCounts:
    """Work of one ``--fix``: lines run in tlslint's fixing code, calls made elsewhere
    (difflib's matching of the short stretches between anchors included: how many lines
    reach it is tests/test_text_diff.py's), characters parsed; the re-checks between
    passes are not counted (they are the checks the check guard holds linear)."""

    changed: int = 0  # lines the fixes changed (added or removed, by the diff)
    work: int = 0


def count_fix(directory: Path, settings: Settings, *, unsafe: bool) -> FixCounts:
    """Check ``directory``, then count the work of applying its fixes (not written)."""
    from ruamel.yaml.main import YAML

    from tlslint import engine, fixing
    from tlslint.sources.nginx import parser

    result = engine.run([directory], settings)
    counts = FixCounts()
    tick, calls = _tracer()

    real_run, compose_all, parse_text = fixing.run, YAML.compose_all, parser.parse_text
    characters = 0

    def untraced(function: Any, size: int, *args: Any, **kwargs: Any) -> Any:
        nonlocal characters
        characters += size
        previous = sys.gettrace()
        sys.settrace(None)
        try:
            return function(*args, **kwargs)
        finally:
            sys.settrace(previous)

    def rechecked(*args: Any, **kwargs: Any) -> Any:
        return untraced(real_run, 0, *args, **kwargs)

    def composed(self: YAML, stream: str) -> Iterator[Any]:
        return iter(untraced(lambda: list(compose_all(self, stream)), len(stream)))

    def parsed(source: SourceText) -> Any:  # the fix screen parses each fixed file
        return untraced(parse_text, len(source.text), source)

    fixing.run = rechecked  # type: ignore[assignment]
    YAML.compose_all = composed  # type: ignore[method-assign]
    parser.parse_text = parsed
    previous = sys.gettrace()
    sys.settrace(calls)
    try:
        outcome = fixing.apply_fixes(result, settings, unsafe=unsafe, write=False)
    finally:
        sys.settrace(previous)
        fixing.run = real_run  # type: ignore[assignment]
        YAML.compose_all = compose_all  # type: ignore[method-assign]
        parser.parse_text = parse_text
    counts.changed = sum(
        1 for line in outcome.diff.splitlines() if line[:1] in "+-" and not line.startswith(("+++ ", "--- "))
    )
    counts.work = tick() + characters
    return counts
