"""Python app-server configs read in a forked helper, while nginx is loaded here.

libcst costs 0.1 to 0.4 s to import and a few milliseconds a file to parse: on a
tree of 1,000 virtual hosts with a few app servers beside them, more than the rest
of the check. What a config yields (``LoadedFile``: values, their places, where a
fix would add a line) is plain data, so a helper forked while the nginx files are
read and built into configurations can import libcst, parse the configs, and send
that back pickled; this process never imports libcst for a check. The engine forks
it after the parallel nginx scan, which keeps both CPUs busy (a third process then
slowed it), and before the configurations are built here alone. A file the helper
does not deliver is loaded here, as it would have been (``tlslint.forks``: a helper
only saves time).
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from tlslint.sources.python.sniff import PYTHON_CONFIG, file_format
from tlslint.sources.text import SourceError, read_source

if TYPE_CHECKING:
    from tlslint.forks import Helper
    from tlslint.sources.nginx.model import SourceText
    from tlslint.sources.python.model import LoadedFile

Loaded = dict[Path, "tuple[SourceText, LoadedFile]"]  # by resolved path
# nginx files read meanwhile, below which a helper has nothing to overlap with (it
# would import libcst while this process waits for it).
MIN_FILES = 1


class Prefetch:
    """The helper loading the Python configs among the discovered backend files."""

    def __init__(self, helper: Helper | None) -> None:
        self.helper = helper
        self.loaded: Loaded | None = None

    @classmethod
    def start(cls, paths: list[Path], max_bytes: int, alongside: int) -> Prefetch:
        """A helper for the Python configs among ``paths``, unless fewer than
        ``MIN_FILES`` nginx files (``alongside``) are read meanwhile."""
        python = [path for path in paths if file_format(path) == PYTHON_CONFIG]
        if not python or alongside < MIN_FILES:
            return cls(None)
        from tlslint import forks

        if forks.available_cpus() < 2 or not forks.can_fork():
            return cls(None)
        return cls(forks.Helper.start(partial(_load, python, max_bytes)))

    def result(self) -> Loaded:
        """What the helper loaded (empty if it failed), once it is done."""
        if self.loaded is None:
            self.loaded = {}
            helper, self.helper = self.helper, None
            if helper is not None:
                try:
                    helper.drain(block=True)
                    for message in helper.messages():
                        self.loaded = pickle.loads(message)
                finally:
                    helper.stop()
        return self.loaded

    def stop(self) -> None:
        """Stop a helper whose result is not wanted (the run failed first)."""
        if self.helper is not None:
            self.helper.stop()
            self.helper = None


def _load(paths: list[Path], max_bytes: int) -> Iterator[bytes]:
    """In the helper: one message with every config that reads and parses."""
    from tlslint.sources.python import pyconfig

    loaded: Loaded = {}
    for path in paths:
        try:
            source = read_source(path, max_bytes)
        except SourceError:
            continue  # reported when this process reads it
        loaded[path.resolve()] = (source, pyconfig.load(source))
    yield pickle.dumps(loaded, protocol=pickle.HIGHEST_PROTOCOL)
