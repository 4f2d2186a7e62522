"""Find the files to check and say what each one is."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tlslint.deployment import is_deployment_file
from tlslint.kustomize import KUSTOMIZATION_NAMES
from tlslint.paths import remember
from tlslint.paths import resolved as resolve_path

# Here, not in the functions that use them: an import in a function costs two
# AttributeErrors each call (8,000 instructions), and discovery asks for every file.
from tlslint.sources.python.sniff import SHELL_SCRIPT, backend_format, file_format, script_format
from tlslint.sources.text import (
    listing_problem,
    not_a_file,
    read_head,
    read_problem,
    readable_head,
    sniff_head,
    yaml_lines,
)

if TYPE_CHECKING:
    from pathspec import PathSpec

NGINX = "nginx"
YAML = "yaml"  # Apigee hybrid overrides and ApigeeRoute manifests
BACKEND = "backend"  # gunicorn/uvicorn/hypercorn configs and the command lines that start them
KUBERNETES = "kubernetes"  # Istio / Gateway API gateways, ingress-nginx (tlslint.sources.kubernetes.sniff)
_APIGEE_AND_KUBERNETES = "yaml+kubernetes"  # a file both tiers read
YAML_SUFFIXES = (".yaml", ".yml")

ALWAYS_SKIPPED_DIRS = frozenset(
    {".git", ".hg", ".svn", ".tlslint_cache", "__pycache__", ".mypy_cache", ".ruff_cache",
     ".pytest_cache", ".tox", ".nox", "node_modules"}
)  # fmt: skip
# Suffixes that mark nginx configuration by name (the content may still say otherwise).
NGINX_SUFFIXES = (".conf", ".nginx", ".vhost")
# Suffixes that never mark nginx configuration, even in an nginx directory: other
# formats, templates (their placeholders are not nginx), binaries, editors' and
# package managers' backups. Any other file is read (its first UNKNOWN_SNIFF_BYTES).
_NOT_NGINX_SUFFIXES = frozenset(
    {".md", ".rst", ".txt", ".json", ".yaml", ".yml", ".toml", ".py", ".sh", ".pem",
     ".crt", ".key", ".csr", ".html", ".j2", ".jinja", ".jinja2", ".tmpl", ".tpl", ".erb",
     ".adoc", ".markdown", ".htm", ".css", ".scss", ".less", ".xml", ".svg", ".csv", ".tsv",
     ".log", ".ini", ".cfg", ".env", ".lock", ".properties", ".proto", ".sql", ".tf", ".hcl",
     ".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx", ".vue", ".go", ".rs", ".c", ".h", ".cc",
     ".cpp", ".hpp", ".java", ".kt", ".rb", ".php", ".pl", ".pm", ".lua", ".bash", ".zsh",
     ".fish", ".ps1", ".bat", ".cmd", ".pyi", ".pyc", ".ipynb", ".mustache", ".hbs", ".ejs",
     ".der", ".p12", ".pfx", ".cer", ".jks", ".pub", ".asc", ".gpg", ".sig", ".patch", ".diff",
     ".png", ".jpg", ".jpeg", ".gif", ".ico", ".webp", ".bmp", ".woff", ".woff2", ".ttf",
     ".otf", ".eot", ".pdf", ".zip", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".tar", ".7z",
     ".jar", ".whl", ".so", ".dylib", ".dll", ".exe", ".o", ".a", ".class", ".db", ".sqlite",
     ".mp3", ".mp4", ".wav", ".webm", ".bak", ".orig", ".old", ".rej", ".swp", ".swo", ".save",
     ".tmp", ".dpkg-dist", ".dpkg-old", ".dpkg-new", ".rpmnew", ".rpmsave"}
)  # fmt: skip
# Template suffixes a YAML manifest is kept under before it is rendered.
_TEMPLATE_SUFFIXES = frozenset({".tpl", ".tmpl", ".j2", ".jinja", ".jinja2", ".gotmpl", ".template"})
# Files that are never nginx whatever they hold (not even read).
_NOT_NGINX_NAMES = frozenset(
    {"readme", "license", "licence", "copying", "notice", "authors", "changelog", "makefile",
     "gemfile", "rakefile", "vagrantfile", "jenkinsfile", "caddyfile", "codeowners", "version"}
)  # fmt: skip
UNKNOWN_SNIFF_BYTES = 16 * 1024  # read of a file of unknown kind, to tell whether it is nginx
# A line that ends an nginx statement: `name args;`, `name args {` or a one-line
# block such as `server { listen 80; }`.
# Indentation is [^\S\n]*, not \s*: \s* would run over every following blank line
# from each line start, quadratic in a file of blank lines.
_STATEMENT = rb"[^\S\n]*[A-Za-z_][\w.-]*(?:\s[^\n#]*)?[;{}]\s*(?:#[^\n]*)?$"
# Such a line first, then any other from the newline before it: searched for as ``^``
# (re.M), a match is tried at every offset of the head; a leading newline is found first.
_FIRST_LINE_STATEMENT = re.compile(_STATEMENT, re.M)
_LATER_LINE_STATEMENT = re.compile(rb"\n" + _STATEMENT, re.M)
_INI_SECTION = re.compile(rb"^\[[^\]\n]+\]\s*$", re.M)
_LINE_OPENING_BRACKET = re.compile(rb"\n\[")
# Apigee YAML: top-level `virtualhosts:` / `ingressGateways:` (overrides), or an
# ApigeeRoute / ApigeeRouteConfig (alone, in a multi-document file or a `kind: List`).
_APIGEE_OVERRIDES = re.compile(rb"^(?:virtualhosts|ingressGateways)[ \t]*:", re.M)
_APIGEE_API = re.compile(rb"apiVersion[ \t]*:[ \t]*[\"']?apigee\.cloud\.google\.com/")
_APIGEE_KIND = re.compile(rb"kind[ \t]*:[ \t]*[\"']?ApigeeRoute(?:Config)?[\"']?[ \t]*(?:#[^\n]*)?\r?$", re.M)


@dataclass
class Discovered:
    """The files to check, by format, and the paths named on the command line."""

    nginx: list[Path] = field(default_factory=list)
    yaml: list[Path] = field(default_factory=list)  # Apigee hybrid YAML
    backend: list[Path] = field(default_factory=list)  # app servers (tlslint.sources.python.sniff)
    kubernetes: list[Path] = field(default_factory=list)  # gateways and ingress-nginx YAML
    kustomizations: list[Path] = field(default_factory=list)  # kustomization files (tlslint.kustomize)
    other_yaml: list[Path] = field(default_factory=list)  # named YAML of no format: a patch, maybe
    explicit: set[Path] = field(default_factory=set)
    missing: list[Path] = field(default_factory=list)  # named, and not checkable: ``missing_reason``
    # Found by walking, and could not be read: a directory, a special file, a candidate file.
    unreadable: list[tuple[Path, str]] = field(default_factory=list)
    empty: list[Path] = field(default_factory=list)  # paths given that hold no configuration
    # Dockerfiles and YAML that may name the nginx image (tlslint.deployment): read
    # for the version only, never checked or reported.
    deployment: list[Path] = field(default_factory=list)


def discover(
    paths: Iterable[Path],
    exclude: Iterable[str] = (),
    base: Path | None = None,
    *,
    force_exclude: bool = False,
    roots: Mapping[str, Path] | None = None,
) -> Discovered:
    """The files to check under ``paths``.

    With ``force_exclude`` (pre-commit passes every changed file that its pattern
    matches), a file named in ``paths`` is treated like one found by walking: skipped
    when ``exclude`` or a ``.gitignore`` matches it, or when its content is not a
    configuration that tlslint reads; it still counts as named. ``roots``: ``nginx.roots``
    (a symlink to an absolute path it or /etc/nginx maps is read in the tree, mapped as an
    include is, never followed on this host).
    """
    roots = roots or {}
    found = Discovered()
    excludes = _exclude_spec(list(exclude))
    base = (base or Path.cwd()).resolve()
    seen: set[Path] = set()
    gitignores: dict[Path, list[tuple[Path, PathSpec[Any]]]] = {}
    prefixes = _mapped_prefixes(roots)
    for path in paths:
        if os.path.islink(path) and _host_link(os.path.abspath(path), resolve_path(path.parent), prefixes):
            path = _in_tree(path, roots) or path  # sites-enabled/x -> /etc/nginx/...: the tree's copy
        if not os.path.exists(path) and not os.path.islink(path):  # os.path: no error where unreadable
            found.missing.append(path)
            continue
        if not_a_file(path):
            # A broken symlink, a FIFO, a socket or a device: never opened (reading
            # a FIFO would block). Named, it is reported (``missing_reason`` says
            # why); passed by pre-commit, it is skipped as a walked one is.
            if not force_exclude:
                found.missing.append(path)
            continue
        if path.is_dir():
            if listing_problem(path):
                found.missing.append(path)  # named: an error, as a missing path is
                continue
            unread = len(found.unreadable)
            walked = _walk(path, excludes, base, found.unreadable, roots)
            added = [_add(found, file, seen, explicit=False, resolved=real) for file, real in walked]
            if not any(added) and len(found.unreadable) == unread:  # something unread: not "empty"
                found.empty.append(path)
        elif not force_exclude:
            if not _add(found, path, seen, explicit=True):
                found.empty.append(path)  # a YAML file that is no Apigee configuration
        else:
            absolute = Path(os.path.abspath(path))
            if absolute.parent not in gitignores:
                gitignores[absolute.parent] = _ancestor_gitignores(absolute)
            directory = absolute.parent
            hidden = path.name.startswith(".")  # as the walk: nginx's glob never matches it
            if not hidden and not _ignored(path, False, gitignores[directory], excludes, base):
                _add(found, path, seen, explicit=True, sniff=True)
    return found


def missing_reason(path: Path) -> str:
    """Why a path in ``Discovered.missing`` was not checked, to print after it."""
    return not_a_file(path) or listing_problem(path) or "no such file or directory"


def _add(
    found: Discovered,
    path: Path,
    seen: set[Path],
    *,
    explicit: bool,
    sniff: bool = False,
    resolved: Path | None = None,
) -> bool:
    """Record ``path`` if it is configuration; whether it is (or was already).
    ``resolved``: where it resolves, when the walk knows."""
    resolved = resolved if resolved is not None else resolve_path(path)
    if resolved in seen:
        return True
    if path.name in KUSTOMIZATION_NAMES:  # rendered, never checked as a file
        seen.add(resolved)
        found.kustomizations.append(path)
        if explicit:
            found.explicit.add(resolved)
        return True
    named = explicit and not sniff
    kind = classify(path, explicit=named)
    if kind in (None, BACKEND) and is_deployment_file(path):
        found.deployment.append(path)
    if kind is None:
        if explicit and path.suffix.lower() in YAML_SUFFIXES:
            found.other_yaml.append(path)  # configuration only if a kustomization renders it
        elif not named and named_like_config(path) and not os.access(path, os.R_OK):
            # Skipped by its content, or unread? A candidate by name that cannot be read is
            # reported (os.access first: it costs no open for the many readable ones).
            found.unreadable.append((path, read_problem(path) or "cannot be read"))
        return False
    seen.add(resolved)
    if explicit:
        found.explicit.add(resolved)
    if kind == NGINX:
        found.nginx.append(path)
    if kind in (YAML, _APIGEE_AND_KUBERNETES):
        found.yaml.append(path)
    if kind in (KUBERNETES, _APIGEE_AND_KUBERNETES):
        found.kubernetes.append(path)
    if kind == BACKEND:
        found.backend.append(path)
    return True


def classify(path: Path, *, explicit: bool) -> str | None:
    """nginx for a file named so, or one whose content reads like nginx.

    A name alone is not enough while walking: supervisord keeps INI files in
    ``conf.d/*.conf``, and a ``nginx/`` directory holds a Dockerfile and a
    README beside the configuration. Reporting those as unparseable would fail
    every run on an ordinary repository.
    """
    name = path.name
    if path.suffix.lower() in YAML_SUFFIXES:
        # YAML is Apigee's, the Kubernetes gateways', or nobody's: CI files, other
        # manifests and kustomizations are skipped quietly, named or not.
        return _yaml_kind(path, explicit=explicit)
    if explicit and _yaml_template(path):
        # gateway.yaml.tpl named on the command line is a manifest with placeholders,
        # not nginx: its content decides as for YAML (walking still skips templates).
        return _yaml_kind(path, explicit=False)
    if name != "nginx.conf" and _is_backend(path):
        return BACKEND
    if explicit and name != "nginx.conf" and is_shell_script(path):
        return None  # named, a script that starts no app server holds nothing to check
    if name == "nginx.conf" or explicit:
        return NGINX
    if name.endswith(NGINX_SUFFIXES):
        return NGINX if _sniff_nginx(path, named_conf=True) else None
    if _unknown_kind(name):
        # sites-available/example.com, proxy_params beside an nginx.conf, a README:
        # nothing in the name, so the content decides (strictly).
        return NGINX if _sniff_unknown(path) else None
    return None


def _yaml_template(path: Path) -> bool:
    """A YAML file under a template suffix: ``x.yaml.tpl``, ``x.yml.j2``, ``x.yaml.gotmpl``."""
    suffixes = [s.lower() for s in path.suffixes[-2:]]
    return len(suffixes) == 2 and suffixes[0] in YAML_SUFFIXES and suffixes[1] in _TEMPLATE_SUFFIXES


def _unknown_kind(name: str) -> bool:
    """A name that says nothing of the file's format, so its content is read."""
    if name.startswith(".") or name.endswith("~"):
        return False  # hidden files, editors' backups
    suffix = os.path.splitext(name)[1].lower()
    return suffix not in _NOT_NGINX_SUFFIXES and name.lower() not in _NOT_NGINX_NAMES


def _is_backend(path: Path) -> bool:
    """A gunicorn/uvicorn/hypercorn config, Procfile, Dockerfile or systemd unit that
    starts one: by name, then the first bytes (tlslint.sources.python.sniff)."""
    return backend_format(path) is not None


def is_shell_script(path: Path) -> bool:
    """A shell script by name (``.sh``, ``.bash``) or, without a suffix, by its shebang."""
    return script_format(path) == SHELL_SCRIPT


def sniff_apigee(head: bytes) -> bool:
    """Whether the first bytes of a YAML file read like Apigee overrides or routes."""
    head = yaml_lines(head.removeprefix(b"\xef\xbb\xbf"))  # a UTF-8 BOM; CR line endings
    if _APIGEE_OVERRIDES.search(head):
        return True
    return _APIGEE_API.search(head) is not None and _APIGEE_KIND.search(head) is not None


def named_like_config(path: Path) -> bool:
    """Whether a file's name makes it a candidate: ``classify`` would read its content."""
    name = path.name
    if path.suffix.lower() in YAML_SUFFIXES or name.endswith(NGINX_SUFFIXES) or file_format(path) is not None:
        return True
    return _unknown_kind(name)


def _yaml_kind(path: Path, *, explicit: bool) -> str | None:
    head = read_head(path)
    if head is None:
        # Named, its read error is reported (by the Apigee tier); walked, as unreadable (SRC001).
        return YAML if explicit else None
    if b"\x00" in head:
        # It does not load (a NUL byte: binary, or UTF-16). Whose it is, its text before
        # the NUL says: Apigee's or a gateway's has its loading error reported, named or
        # walked; another, named, is reported by the Apigee tier; walked, it is skipped
        # as every file of no format is (a binary *.yaml of some other tool).
        kind = _yaml_kind_of(readable_head(head), path)
        return kind or (YAML if explicit else None)
    return _yaml_kind_of(head, path)


def _yaml_kind_of(head: bytes, path: Path) -> str | None:
    from tlslint.sources.kubernetes.sniff import sniff_kubernetes

    apigee, kubernetes = sniff_apigee(head), sniff_kubernetes(head, path)
    if apigee and kubernetes:
        return _APIGEE_AND_KUBERNETES
    return YAML if apigee else KUBERNETES if kubernetes else None


def _sniff_nginx(path: Path, *, named_conf: bool) -> bool:
    head = sniff_head(path)
    if head is None:
        return named_conf  # named like nginx: its read error or NUL byte is reported when parsing
    if _ini_section(head):
        return False
    return _nginx_statement(head)


def _nginx_statement(head: bytes) -> bool:
    """Whether a line of ``head`` ends an nginx statement."""
    return _FIRST_LINE_STATEMENT.match(head) is not None or _LATER_LINE_STATEMENT.search(head) is not None


def _ini_section(head: bytes) -> bool:
    # A line that starts with "[" first (memchr speed): the multi-line search tries every
    # offset of every .conf file's head, and nginx text almost never has one. A compiled
    # literal, not ``b"\n[" in head``: bytes' search for two bytes is no memchr (4 times
    # slower on a 1.4 KB head).
    bracket = head.startswith(b"[") or _LINE_OPENING_BRACKET.search(head) is not None
    return bracket and _INI_SECTION.search(head) is not None


def _sniff_unknown(path: Path) -> bool:
    head = sniff_head(path, UNKNOWN_SNIFF_BYTES)
    if head is None or _ini_section(head) or not _nginx_statement(head):
        return False  # the regular expressions first: most files stop here, unlexed
    from tlslint.sources.nginx.sniff import reads_as_nginx

    return reads_as_nginx(head, complete=len(head) < UNKNOWN_SNIFF_BYTES)


def _exclude_spec(patterns: list[str]) -> PathSpec[Any] | None:
    if not patterns:
        return None
    from pathspec import GitIgnoreSpec  # "gitwildmatch" is deprecated in pathspec 1.x

    return GitIgnoreSpec.from_lines(patterns)


def _walk(
    top: Path,
    excludes: PathSpec[Any] | None,
    base: Path,
    unreadable: list[tuple[Path, str]],
    roots: Mapping[str, Path],
) -> Iterator[tuple[Path, Path | None]]:
    ignores = _ancestor_gitignores(top.resolve())
    yield from _walk_dir(top, ignores, excludes, base, unreadable, roots)


def _walk_dir(
    directory: Path,
    ignores: list[tuple[Path, PathSpec[Any]]],
    excludes: PathSpec[Any] | None,
    base: Path,
    unreadable: list[tuple[Path, str]],
    roots: Mapping[str, Path],
) -> Iterator[tuple[Path, Path | None]]:
    """The files below ``directory``, each with where it resolves when the walk knows
    (None for a symlink)."""
    # A stack, not recursion: a tree thousands of levels deep must not exhaust
    # Python's. Symlinks to directories are not followed, so a symlink loop cannot
    # make the walk endless; FIFOs, sockets and devices are not files (never opened),
    # and those named like configuration are reported in ``unreadable``, as are
    # directories that cannot be listed.
    mapped = _mapped_prefixes(roots)
    here = os.getcwd()
    stack = [_level(directory, resolve_path(directory), ignores, unreadable)]
    while stack:
        level = stack[-1]
        entry = next(level.entries, None)
        if entry is None:
            stack.pop()
            continue
        name = entry.name
        is_dir = entry.is_dir(follow_symlinks=False)
        if is_dir and name in ALWAYS_SKIPPED_DIRS:
            continue
        if not is_dir and name[0] == ".":
            continue  # a hidden file (h5bp's conf.d/.default.conf, Emacs' .#x lock): nginx's glob skips it
        # The directory's Path, absolute path and place, each made once for all its
        # entries: per entry, Path(entry.path) parses the whole path and abspath asks
        # for the working directory.
        path = level.path / name
        absolute = level.inside + name  # os.path.join's result, for a third of its cost
        if entry.is_symlink():
            real = None
        else:
            # Below a resolved directory, an entry that is no symlink resolves beside it.
            real = remember(path, absolute, path if level.real is level.path else level.real / name, here)
        patterns = excludes is not None or level.ignores  # most trees have none: no call
        if patterns and _ignored(path, is_dir, level.ignores, excludes, base, absolute):
            continue
        if real is None and _host_link(absolute, level.real, mapped):
            # sites-enabled/x -> /etc/nginx/sites-available/x: the tree's copy, never this host's
            local = _in_tree(path, roots)
            if local is not None:
                yield local, None
            continue
        if is_dir:
            stack.append(_level(path, real or resolve_path(path), level.ignores, unreadable))
        elif _is_file(entry):
            yield path, real
        elif named_like_config(path):
            problem = not_a_file(path)  # '' for a symlink to a directory: not followed
            if problem:
                unreadable.append((path, problem))


@dataclass
class _Level:
    """A directory being walked: its entries left, and what each entry's path is made from."""

    entries: Iterator[os.DirEntry[str]]
    ignores: list[tuple[Path, PathSpec[Any]]]  # the .gitignore rules that apply inside it
    path: Path
    absolute: str
    inside: str  # ``absolute`` ending in "/": an entry's absolute path is it and the name
    real: Path  # where it resolves: ``path`` itself when that is already absolute and real


def _level(
    directory: Path, real: Path, ignores: list[tuple[Path, PathSpec[Any]]], unreadable: list[tuple[Path, str]]
) -> _Level:
    entries, ignores = _listing(directory, ignores, unreadable)
    absolute = os.path.abspath(directory)
    itself = os.fspath(directory) == absolute == os.fspath(real)
    inside = absolute if absolute.endswith("/") else absolute + "/"
    return _Level(entries, ignores, directory, absolute, inside, directory if itself else real)


def _mapped_prefixes(roots: Mapping[str, Path]) -> tuple[str, ...]:
    from tlslint.sources.nginx.loader import DEFAULT_PREFIXES

    return tuple(prefix.rstrip("/") + "/" for prefix in (*DEFAULT_PREFIXES, *roots))


def _in_tree(link: Path, roots: Mapping[str, Path]) -> Path | None:
    """The file in the tree that the symlink ``link`` to an absolute nginx path names,
    mapped as an include of it is (``nginx.roots``, /etc/nginx to the prefix a snippet
    in ``link``'s directory has), or None when the tree does not hold it."""
    from tlslint.sources.nginx.loader import mapped_link, prefix_for

    local = mapped_link(link, prefix_for(link), roots)
    return local if local is not None and os.path.isfile(local) else None


def _host_link(link: str, real_directory: Path, mapped: tuple[str, ...]) -> bool:
    """Whether the symlink ``link`` names an absolute path under an nginx prefix that
    include resolution maps into the tree (/etc/nginx, ``nginx.roots``): a checked tree's
    ``sites-enabled/x -> /etc/nginx/sites-available/x`` is never read on this host. A tree
    that is itself under that prefix (``tlslint /etc/nginx``) follows it."""
    try:
        target = os.readlink(link)
    except OSError:
        return False
    if not target.startswith("/"):
        return False
    here = os.fspath(real_directory) + "/"
    return any(target.startswith(prefix) and not here.startswith(prefix) for prefix in mapped)


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()  # a symlink is followed: a loop raises ELOOP
    except OSError:
        return False


def _listing(
    directory: Path, ignores: list[tuple[Path, PathSpec[Any]]], unreadable: list[tuple[Path, str]]
) -> tuple[Iterator[os.DirEntry[str]], list[tuple[Path, PathSpec[Any]]]]:
    """A directory's entries by name, and the .gitignore rules that apply inside it;
    one that cannot be listed is recorded in ``unreadable``."""
    local = _gitignore(directory)
    if local is not None:
        ignores = [*ignores, (directory.resolve(), local)]
    try:
        with os.scandir(directory) as scanned:
            entries = sorted(scanned, key=_NAME)
    except OSError:
        entries = []
        problem = listing_problem(directory)  # '' if it was removed meanwhile: nothing lost
        if problem:
            unreadable.append((directory, problem))
    return iter(entries), ignores


_NAME = attrgetter("name")  # a sort key that calls no Python function for each entry


def _ignored(
    path: Path,
    is_dir: bool,
    ignores: list[tuple[Path, PathSpec[Any]]],
    excludes: PathSpec[Any] | None,
    base: Path,
    absolute: str | None = None,
) -> bool:
    if excludes is None and not ignores:
        return False
    # "../x" normalised, symlinks not followed
    resolved = Path(absolute if absolute is not None else os.path.abspath(path))
    suffix = "/" if is_dir else ""
    if excludes is not None:
        try:
            relative = resolved.relative_to(base).as_posix()
        except ValueError:
            relative = path.as_posix()
        if excludes.match_file(relative + suffix):
            return True
    # As git does: a deeper .gitignore overrides the ones above it, so a
    # nested "!name" re-includes what an outer pattern ignored.
    ignored = False
    for root, spec in ignores:  # outermost first
        try:
            relative = resolved.relative_to(root).as_posix() + suffix
        except ValueError:
            continue
        if spec.match_file(relative):
            ignored = True
        elif any(p.include is False and p.match_file(relative) is not None for p in spec.patterns):
            ignored = False
    return ignored


def _gitignore(directory: Path) -> PathSpec[Any] | None:
    candidate = directory / ".gitignore"
    if not os.path.isfile(candidate):  # False where the directory cannot be read
        return None
    from pathspec import GitIgnoreSpec

    try:
        lines = candidate.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    return GitIgnoreSpec.from_lines(lines)


def _ancestor_gitignores(top: Path) -> list[tuple[Path, PathSpec[Any]]]:
    """.gitignore files above ``top`` up to the repository root."""
    found: list[tuple[Path, PathSpec[Any]]] = []
    for directory in top.parents:
        spec = _gitignore(directory)
        if spec is not None:
            found.append((directory, spec))
        if (directory / ".git").exists():
            break
    else:
        return []  # not inside a repository: its parents' ignores do not apply
    found.reverse()
    return found
