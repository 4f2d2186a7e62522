"""A cache of parsed nginx files, like ruff's: ``.tlslint_cache/`` beside the settings.

- Keyed per file on (resolved path, size, mtime, ctime, inode), all from the one stat:
  a hit reads nothing. ctime is there because no user can set it: an in-place edit
  that keeps the size and restores the mtime (``cp -p``, ``touch -d``) still misses.
- Holds each file's tree flat (``tlslint.sources.nginx.flat``: strings and packed
  integers, through ``marshal``), which loads faster than unpickling a tree and
  three times as fast as parsing the file again.
- Namespaced by tlslint's version *and* a fingerprint of its own files, so a
  cache is never trusted across versions, editable installs included.
- Signed: a pack in a pull request's working tree is data from the pull request
  (and ``marshal`` is not safe against crafted input). Every pack carries an
  HMAC made with a key kept outside the repository (``$XDG_CACHE_HOME/tlslint/key``,
  mode 0600); a pack that does not verify is ignored and rewritten. Safe to
  delete at any time. A key is linked into place only once written whole; a key file
  of another size is replaced, and one that is not a regular file means no cache.
- Read only as regular files (never through a symlink, never waiting on a FIFO) and
  up to a size bound: anything else is a miss.
- Packed in shards, by a hash of each file's path (``SHARDS`` files, each signed):
  a run that changed one file of 10,000 rewrites the one shard that holds it, not
  the whole cache (35 MB), and a shard whose files are as they were is not written.
- Cross-file rules never come from the cache: they run on every check, over
  the cached models.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import marshal
import os
import stat
import sys
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from tlslint import __version__, collector
from tlslint.paths import user_cache_dir
from tlslint.sources.nginx.flat import Flat, flatten, unflatten
from tlslint.sources.nginx.model import ParsedFile

DIRECTORY_NAME = ".tlslint_cache"
PACK_PREFIX, PACK_SUFFIX = "nginx-trees.", ".pack"  # nginx-trees.a7.pack
# Shards of the pack: at 10,000 files one changed file rewrites 1/256 of it (about
# 140 kB), a small tree keeps a small shard per file, and a warm run opens at most 256.
SHARDS = 256
_MAC_SIZE = 32
KEY_SIZE = 32
# The most a shard may hold: at 10,000 hosts (tests/bench/realistic.py) the largest is
# 130 kB; one file at max-file-size (16 MiB) flattens to about 40 MB.
SHARD_LIMIT = 128 * 2**20
# One key per file: what must match for a cached parse to stand for the file
# (path, size, mtime, ctime, inode).
StatKey = tuple[str, int, int, int, int]
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)


def shard_of(key: StatKey) -> int:
    """A file's shard, by its path: stable across runs and processes."""
    return zlib.crc32(key[0].encode("utf-8", "surrogateescape")) % SHARDS


def shard_name(shard: int) -> str:
    return f"{PACK_PREFIX}{shard:02x}{PACK_SUFFIX}"


def stat_key(path: Path) -> StatKey | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (str(path), info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino)


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


def signing_key() -> bytes | None:
    """The signing key, made on first use; None where it cannot be kept or trusted.

    A key is never seen half-written: it is written to a temporary file, then linked
    into place, and a first run that loses the race to another takes the other's key.
    A regular file of another size (a run killed or out of space before the key was
    linked this way) is replaced; anything else there (a FIFO, a directory) means no
    cache. An empty key would verify whatever anyone signs with ``b""``.
    """
    path = _key_file()
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    except _NotAKey as bad:
        if not bad.replaceable:
            return None
        try:
            path.unlink()
        except FileNotFoundError:
            pass  # another run replaced it first
        except OSError:
            return None
    except OSError:
        return None
    try:
        return _make_key(path)
    except (OSError, _NotAKey):
        return None


class _NotAKey(Exception):
    def __init__(self, replaceable: bool) -> None:
        super().__init__()
        self.replaceable = replaceable


def _read_key(path: Path) -> bytes:
    """The key at ``path``; FileNotFoundError, or _NotAKey for a file that is not one."""
    # Not O_NOFOLLOW: the user's own directory, where a key may be a symlink to theirs.
    descriptor = os.open(path, _OPEN_FLAGS)
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise _NotAKey(replaceable=False)
        key = os.read(descriptor, KEY_SIZE + 1)
    finally:
        os.close(descriptor)
    if len(key) != KEY_SIZE:
        raise _NotAKey(replaceable=True)
    return key


def _make_key(path: Path) -> bytes:
    """A new key linked into place whole, or the key another run linked there first."""
    import tempfile  # only on first use

    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".key.", suffix=".tmp")  # mode 0600
    try:
        _write_all(handle, os.urandom(KEY_SIZE))
        os.fsync(handle)
        try:
            os.link(temporary, path)  # fails if another run linked its key first
        except FileExistsError:
            pass
        except OSError:  # a file system without hard links: replace (the last run's wins)
            os.replace(temporary, path)
    finally:
        os.close(handle)
        with contextlib.suppress(OSError):
            os.unlink(temporary)
    # Whichever key is in place now, ours or the winner's: runs that race share one.
    return _read_key(path)


def _write_all(descriptor: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


@dataclass
class ModelCache:
    directory: Path
    entries: dict[StatKey, Flat] = field(default_factory=dict)
    used: dict[StatKey, Flat] = field(default_factory=dict)
    hits: int = 0
    # Each file is stat-ed once a run, before it is read: a file edited while it is
    # read then misses next time, rather than its new text standing for the old stat.
    keys: dict[Path, StatKey | None] = field(default_factory=dict)
    # The keys each shard file held when loaded; shards to write whatever they hold
    # (new parses this run, or a file that was not ours).
    loaded: dict[int, set[StatKey]] = field(default_factory=dict)
    changed: set[int] = field(default_factory=set)

    @classmethod
    def open(cls, base: Path) -> ModelCache:
        cache = cls(base / DIRECTORY_NAME / code_fingerprint())
        cache._load()
        return cache

    def _load(self) -> None:
        secret = signing_key()
        if secret is None:
            return
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        with collector.paused():
            for name in names:
                shard = _shard_number(name)
                if shard is not None:
                    self._load_shard(secret, shard)

    def _load_shard(self, secret: bytes, shard: int) -> None:
        self.loaded[shard] = set()
        self.changed.add(shard)  # until it proves ours: then rewritten (or removed) by save()
        payload = read_signed(self.directory / shard_name(shard), secret)
        if payload is None:
            return  # not ours (or damaged): never loaded
        try:
            entries = marshal.loads(payload)
        except Exception:  # a damaged shard is a cache miss, never an error
            return
        if isinstance(entries, dict):
            self.entries.update(entries)
            self.loaded[shard] = set(entries)
            self.changed.discard(shard)

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

    def forget(self, path: Path) -> None:
        """Drop ``path``'s tree: its text is not what the file holds (``--fix`` found other
        bytes on disk), though its stat matched (an edit within one tick of the clock).
        The next read stats the file again and parses it."""
        key = self.keys.pop(path, None)
        if key is None:
            return
        self.entries.pop(key, None)
        self.used.pop(key, None)
        self.changed.add(shard_of(key))

    def _kept(self) -> dict[StatKey, Flat]:
        """What this run used, and the entries of files it never stat-ed whose stat still
        matches: a run on one part of a tree (``tlslint edge/``, a pre-commit part) kept
        nothing of another's, and the next run there parsed it all again. A file this
        run stat-ed and did not use has changed: its old tree goes."""
        kept = dict(self.used)
        if self.entries.keys() <= kept.keys():  # a run over the whole tree: nothing else
            return kept
        looked_at = {str(path) for path in self.keys}
        for key, packed in self.entries.items():
            if key not in kept and key[0] not in looked_at and stat_key(Path(key[0])) == key:
                kept[key] = packed
        return kept

    def put(self, path: Path, parsed: ParsedFile) -> None:
        key = self.key(path)
        if key is not None:
            try:
                self.used[key] = flatten(parsed)
            except OverflowError:
                return
            self.changed.add(shard_of(key))

    def save(self) -> None:
        """Keep what this run used, and the trees of files it did not look at that are
        still as they were (bounded by the tree), atomically, rewriting only the shards
        whose files changed; errors are ignored."""
        by_shard: dict[int, dict[StatKey, Flat]] = {}
        for key, packed in self._kept().items():
            by_shard.setdefault(shard_of(key), {})[key] = packed
        stale = [
            shard
            for shard in {*self.loaded, *by_shard}
            if shard in self.changed or self.loaded.get(shard) != by_shard.get(shard, {}).keys()
        ]
        if not stale:
            return
        secret = signing_key()
        if secret is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            mark_cache_directory(self.directory.parent)
            for shard in sorted(stale):
                path = self.directory / shard_name(shard)
                entries = by_shard.get(shard)
                if not entries:
                    path.unlink(missing_ok=True)
                    continue
                write_signed(path, marshal.dumps(entries), secret)
        except (OSError, ValueError):
            return
        from tlslint.temporaries import remove_stale_temporaries

        remove_stale_temporaries(self.directory)  # what a killed run left


def write_signed(path: Path, payload: bytes, secret: bytes, limit: int = SHARD_LIMIT) -> None:
    """``payload`` after its HMAC, written atomically (a temporary file beside it, removed
    if anything fails); a payload ``read_signed`` would refuse is not kept at all."""
    import tempfile  # only when something is written

    if _MAC_SIZE + len(payload) > limit:
        path.unlink(missing_ok=True)
        return
    mac = hmac.new(secret, payload, hashlib.sha256).digest()
    from tlslint.temporaries import TEMP_MARK, TEMP_SUFFIX, try_lock

    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=TEMP_MARK, suffix=TEMP_SUFFIX)
    try:
        try_lock(handle, blocking=True)  # a new file: never waits; a sweep leaves it be
        with os.fdopen(handle, "wb") as stream:
            stream.write(mac)
            stream.write(payload)  # not mac + payload: a copy of the whole payload
        os.replace(temporary, path)
    except BaseException:  # a full disk, an interrupt: no temporary left behind
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def read_signed(path: Path, secret: bytes, limit: int = SHARD_LIMIT) -> memoryview | None:
    """What ``write_signed`` wrote at ``path``, or None when it is not ours (or damaged).

    Only a regular file up to ``limit`` bytes is read: the cache may come with a pull
    request, and a FIFO there would wait for a writer, a symlink to /dev/zero never end.
    """
    try:
        descriptor = os.open(path, _OPEN_FLAGS | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or not _MAC_SIZE <= info.st_size <= limit:
            return None
        blob = bytearray(info.st_size)
        view, done = memoryview(blob), 0
        while done < len(blob) and (count := os.readv(descriptor, [view[done:]])):
            done += count
    except OSError:
        return None
    finally:
        os.close(descriptor)
    mac, payload = bytes(view[:_MAC_SIZE]), view[_MAC_SIZE:done]  # a view: no copy
    if not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
        return None
    return payload


def _shard_number(name: str) -> int | None:
    """The shard a file of the cache directory holds, or None for another file."""
    if not (name.startswith(PACK_PREFIX) and name.endswith(PACK_SUFFIX)):
        return None
    digits = name[len(PACK_PREFIX) : -len(PACK_SUFFIX)]
    if len(digits) != 2 or not all(c in "0123456789abcdef" for c in digits):
        return None
    return int(digits, 16)


def mark_cache_directory(root: Path) -> None:
    """Git ignores it, and backup tools know it is a cache."""
    _create(root / ".gitignore", b"# created by tlslint: safe to delete\n*\n")
    _create(root / "CACHEDIR.TAG", b"Signature: 8a477f597d28d172789f06886806bc55\n# tlslint cache\n")


def _create(path: Path, data: bytes) -> None:
    """``path`` with ``data``, unless something is there: O_EXCL, so a symlink (one a
    pull request planted, dangling) is never written through."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o644)
    except FileExistsError:
        return
    try:
        _write_all(descriptor, data)
    finally:
        os.close(descriptor)
