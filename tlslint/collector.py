"""Pausing Python's cyclic garbage collector while large, long-lived data is built."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Pause the cyclic collector; it runs again as soon as the block ends.

    A run builds hundreds of thousands of long-lived objects (every directive
    links to its parent block; the cache loads every file's tree) and frees them
    together at the end: the collector would walk them again and again while
    they are built, for nothing. At 10,000 servers that was a third of a cold
    check, and most of loading the cache.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            # What the block built lives on: move it all to the oldest generation at
            # once (freeze moves every tracked object to the permanent generation,
            # unfreeze from there to the oldest, each a list splice) rather than let
            # the next young collections walk it generation by generation. It stays
            # collectable by a full collection. 25 ms at 1,000 servers, 0.4 s at 10,000.
            gc.freeze()
            gc.unfreeze()
            gc.enable()
