"""Findings of nginx configurations kept between runs: a configuration whose inputs are
unchanged since an earlier run is not checked again (``.tlslint_cache/``, beside the
parsed trees).

What the rules whose target is nginx find in one configuration is a function of that
configuration alone (tests/test_results_cache.py holds every rule to it: checking the
configurations one at a time gives a whole run's findings) and of what every run
shares. The key of a configuration's findings digests all of it:

- the configuration: its root and every file spliced into it, in order, each by the
  path it was read by, where that resolves, and its whole text; what each include of
  those files matched (in order), and which of those files did not parse; its prefix,
  context and load problems;
- the run: the settings (all of them), the nginx versions declared by the settings and
  the deployment files, the rule catalogue, crossplane's version (its analyzer table),
  and tlslint's own code (``cache.code_fingerprint``).

Nothing that is not in the key reaches the checks, so a hit stands for a check: the
same findings, in the same order. The text hashed is the one the tree cache gives,
which stands for the file while its stat key holds (size, mtime, ctime and inode,
``tlslint.cache``): an edit that keeps the size and puts the mtime back (``cp -p``)
changes the ctime, and misses. Entries are signed like the trees (pickle is not safe
to load from a pull request), read like them (a regular file, up to ``LIMIT`` bytes),
and a run keeps the newest ``MAX_ENTRIES``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint import collector, finding_codec
from tlslint.cache import (
    DIRECTORY_NAME,
    code_fingerprint,
    mark_cache_directory,
    read_signed,
    signing_key,
    write_signed,
)

if TYPE_CHECKING:
    from tlslint.findings import Finding
    from tlslint.settings import Settings
    from tlslint.sources.nginx.loader import NginxFiles
    from tlslint.version_range import VersionRange
    from tlslint.workspace.nginx import NginxConfig

SUFFIX = ".findings"
MAX_ENTRIES = 4096  # configurations; a run removes the oldest past this
# The most an entry may hold: one configuration of 10,000 hosts (tests/bench/realistic.py)
# takes 9.7 MB; a larger entry is neither written nor read.
LIMIT = 512 * 2**20

# A configuration's findings, by rule code.
Found = dict[str, "list[Finding]"]


@dataclass
class ResultStore:
    directory: Path
    new: dict[str, Found] = field(default_factory=dict)
    hits: int = 0

    @classmethod
    def open(cls, base: Path) -> ResultStore:
        return cls(base / DIRECTORY_NAME / code_fingerprint() / "results")

    def get(self, key: str) -> Found | None:
        secret = signing_key()
        if secret is None:
            return None
        payload = read_signed(self.directory / f"{key}{SUFFIX}", secret, LIMIT)
        if payload is None:
            return None  # not ours (or damaged): never unpickled
        try:
            with collector.paused():
                found: Found = finding_codec.loads(payload)
        except Exception:  # a damaged entry (or an older layout) is a miss, never an error
            return None
        self.hits += 1
        with contextlib.suppress(OSError):
            os.utime(self.directory / f"{key}{SUFFIX}")  # used: the last to be pruned
        return found

    def put(self, key: str, found: Found) -> None:
        self.new[key] = found

    def save(self) -> None:
        """Write this run's new entries atomically and prune the oldest; errors are ignored."""
        if not self.new:
            return
        secret = signing_key()
        if secret is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            mark_cache_directory(self.directory.parent.parent)
            for key, found in self.new.items():
                with collector.paused():
                    payload = finding_codec.dumps(found)
                write_signed(self.directory / f"{key}{SUFFIX}", payload, secret, LIMIT)
            self.new.clear()
            self._prune()
            from tlslint.temporaries import remove_stale_temporaries

            remove_stale_temporaries(self.directory)  # what a killed run left
        except (OSError, ValueError, pickle.PicklingError):
            return

    def _prune(self) -> None:
        entries = [entry for entry in os.scandir(self.directory) if entry.name.endswith(SUFFIX)]
        if len(entries) <= MAX_ENTRIES:
            return
        entries.sort(key=lambda entry: entry.stat().st_mtime_ns)
        for entry in entries[: len(entries) - MAX_ENTRIES]:
            with contextlib.suppress(OSError):
                os.unlink(entry.path)


def run_digest(settings: Settings, declared: VersionRange, overruled: VersionRange | None = None) -> bytes:
    """What every configuration's key shares: settings, declared versions (and an image
    the setting overrules: NGX004), catalogue, crossplane's version (tlslint's code names
    the directory)."""
    import crossplane

    from tlslint import catalogue

    digest = hashlib.blake2b(digest_size=32)
    # The working directory: messages name evidence files relative to it (Evidence.where).
    for part in (repr(settings), repr(declared), repr(overruled), crossplane.__version__, os.getcwd()):
        digest.update(part.encode("utf-8", "surrogateescape"))
        digest.update(b"\0")
    digest.update((catalogue.rules_dir() / catalogue.INDEX_NAME).read_bytes())
    return digest.digest()


def config_key(shared: bytes, config: NginxConfig, files: NginxFiles) -> str:
    """The key of ``config``'s findings (see the module's docstring)."""
    from tlslint.paths import resolved

    digest = hashlib.blake2b(shared, digest_size=24)

    def add(*parts: object) -> None:
        for part in parts:
            digest.update(str(part).encode("utf-8", "surrogateescape"))
            digest.update(b"\0")

    add("config", config.context, config.prefix, config.incomplete, len(config.files))
    for path in config.files:
        parsed = files.parsed.get(path)
        if parsed is None:  # cannot be: the expander spliced it
            add("unparsed", path)
            continue
        source = parsed.source
        add("file", source.path, path, source.bom, source.newline, len(source.text))
        digest.update(source.text.encode("utf-8", "surrogateescape"))
        for directive in parsed.includes:
            matched = files.resolve_include(directive, config.prefix)
            add("include", directive.start, matched.problem, matched.templated, len(matched.paths))
            for included in matched.paths:
                add(included, resolved(included) in files.parsed)
            for unread, message in (*matched.unreadable, *matched.refused):
                add(unread, message)
    for problem in config.problems:
        add("problem", problem.kind, problem.path, problem.line, problem.message, problem.unread)
    return digest.hexdigest()
