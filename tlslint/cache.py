"""A cache of parsed nginx files, like ruff's: ``.tlslint_cache/`` beside the settings.

- Keyed per file on (resolved path, size, mtime, inode): a hit reads nothing.
- Holds each file's tree flat (``tlslint.sources.nginx.flat``: strings and packed
  integers, through ``marshal``), which loads faster than unpickling a tree and
  three times as fast as parsing the file again.
- Namespaced by tlslint's version *and* a fingerprint of its own files, so a
  cache is never trusted across versions, editable installs included.
- Signed: a pack in a pull request's working tree is data from the pull request
  (and ``marshal`` is not safe against crafted input). Every pack carries an
  HMAC made with a key kept outside the repository (``$XDG_CACHE_HOME/tlslint/key``,
  mode 0600); a pack that does not verify is ignored and rewritten. Safe to
  delete at any time.
- Cross-file rules never come from the cache: they run on every check, over
  the cached models.
"""

from __future__ import annotations

import hashlib
import hmac
import marshal
import os
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tlslint import __version__, collector
from tlslint.paths import user_cache_dir
from tlslint.sources.nginx.flat import Flat, flatten, unflatten
from tlslint.sources.nginx.model import ParsedFile

DIRECTORY_NAME = ".tlslint_cache"
PACK_NAME = "nginx-trees.pack"
_MAC_SIZE = 32
# One key per file: what must match for a cached parse to stand for the file.
StatKey = tuple[str, int, int, int]


def stat_key(path: Path) -> StatKey | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (str(path), info.st_size, info.st_mtime_ns, info.st_ino)


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """tlslint's version and the state of its own files (an edited checkout differs)."""
    package = Path(__file__).resolve().parent
    digest = hashlib.blake2b(__version__.encode(), digest_size=12)
    digest.update(f"{sys.version_info[:2]}".encode())
    for path in sorted(package.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path.relative_to(package)}:{info.st_size}:{info.st_mtime_ns}".encode())
    return digest.hexdigest()


def _key_file() -> Path:
    return user_cache_dir() / "key"


def _secret() -> bytes | None:
    """The signing key, made on first use; None where it cannot be kept."""
    path = _key_file()
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        secret = os.urandom(32)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(secret)
        return secret
    except FileExistsError:
        return path.read_bytes()
    except OSError:
        return None


@dataclass
class ModelCache:
    directory: Path
    entries: dict[StatKey, Flat] = field(default_factory=dict)
    used: dict[StatKey, Flat] = field(default_factory=dict)
    dirty: bool = False
    hits: int = 0
    # Each file is stat-ed once a run, before it is read: a file edited while it is
    # read then misses next time, rather than its new text standing for the old stat.
    keys: dict[Path, StatKey | None] = field(default_factory=dict)

    @classmethod
    def open(cls, base: Path) -> ModelCache:
        cache = cls(base / DIRECTORY_NAME / code_fingerprint())
        cache._load()
        return cache

    def _load(self) -> None:
        secret = _secret()
        pack = self.directory / PACK_NAME
        if secret is None or not pack.is_file():
            return
        try:
            blob = pack.read_bytes()
        except OSError:
            return
        mac, payload = blob[:_MAC_SIZE], memoryview(blob)[_MAC_SIZE:]  # a view: no copy of the pack
        if not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
            self.dirty = True  # not ours (or damaged): never loaded, rewritten
            return
        try:
            with collector.paused():
                entries = marshal.loads(payload)
        except Exception:  # a damaged pack is a cache miss, never an error
            self.dirty = True
            return
        if isinstance(entries, dict):
            self.entries = entries

    def key(self, path: Path) -> StatKey | None:
        if path not in self.keys:
            self.keys[path] = stat_key(path)
        return self.keys[path]

    def contains(self, path: Path) -> bool:
        key = self.key(path)
        return key is not None and key in self.entries

    def get(self, path: Path) -> ParsedFile | None:
        key = self.key(path)
        if key is None:
            return None
        packed = self.entries.get(key)
        if packed is None:
            return None
        try:
            parsed = unflatten(path, packed)
        except ValueError:  # not what we wrote: a miss
            return None
        self.hits += 1
        self.used[key] = packed
        return parsed

    def put(self, path: Path, parsed: ParsedFile) -> None:
        key = self.key(path)
        if key is not None:
            try:
                self.used[key] = flatten(parsed)
            except OverflowError:
                return
            self.dirty = True

    def save(self) -> None:
        """Keep what this run used (bounded by the tree), atomically; errors are ignored."""
        if not self.dirty and len(self.used) == len(self.entries):
            return
        secret = _secret()
        if secret is None:
            return
        import tempfile  # only when something is written

        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            _mark_cache_directory(self.directory.parent)
            payload = marshal.dumps(self.used)
            mac = hmac.new(secret, payload, hashlib.sha256).digest()
            handle, temporary = tempfile.mkstemp(dir=self.directory, prefix=".pack-", suffix=".tmp")
            with os.fdopen(handle, "wb") as stream:
                stream.write(mac)
                stream.write(payload)  # not mac + payload: a copy of the whole pack
            os.replace(temporary, self.directory / PACK_NAME)
        except (OSError, ValueError):
            return


def _mark_cache_directory(root: Path) -> None:
    """Git ignores it, and backup tools know it is a cache."""
    ignore = root / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# created by tlslint: safe to delete\n*\n")
    tag = root / "CACHEDIR.TAG"
    if not tag.exists():
        tag.write_text("Signature: 8a477f597d28d172789f06886806bc55\n# tlslint cache\n")
