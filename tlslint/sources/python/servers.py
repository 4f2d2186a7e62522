"""What gunicorn, uvicorn and hypercorn read, and their defaults.

Every default is from ../shared/facts/nginx.md §3 (read from the installed
packages: gunicorn 27.0.1, uvicorn 0.54.0, hypercorn 0.18.0):

* gunicorn ``keepalive`` / ``--keep-alive``: 2 s. The sync worker ignores it
  (it closes every connection after its response); gthread, gevent, eventlet
  and tornado honour it; ``uvicorn.workers.UvicornWorker`` maps it to uvicorn's
  ``timeout_keep_alive``. ``threads`` > 1 turns the sync worker into gthread.
  Any other worker class (``myapp.workers.QuietWorker``) decides for itself whether
  and how long a connection is kept: not known without running it.
* uvicorn ``timeout_keep_alive`` / ``--timeout-keep-alive``: 5 s.
* hypercorn ``keep_alive_timeout`` / ``--keep-alive``: 5 s.
* Default address: 127.0.0.1:8000 for all three.
"""

from __future__ import annotations

from dataclasses import dataclass

GUNICORN, UVICORN, HYPERCORN = "gunicorn", "uvicorn", "hypercorn"
SERVERS = (GUNICORN, UVICORN, HYPERCORN)

# Canonical setting names (what the checks ask for, whatever the server calls it).
BIND = "bind"  # a list of addresses (gunicorn, hypercorn)
INSECURE_BIND = "insecure_bind"  # hypercorn's plain-HTTP addresses beside TLS ones
HOST, PORT, UDS, FD = "host", "port", "uds", "fd"  # uvicorn
KEEPALIVE = "keepalive"  # the idle keep-alive timeout, in seconds
WORKER_CLASS = "worker_class"
WORKERS = "workers"
THREADS = "threads"
TIMEOUT = "timeout"
CONFIG = "config"  # -c / --config on a command line

REPEATED = frozenset({BIND, INSECURE_BIND})  # flags that may be given several times


@dataclass(frozen=True)
class Server:
    name: str
    keepalive_name: str  # as a Python config or call writes it
    keepalive_flag: str  # on the command line
    default_keepalive: float
    python_names: dict[str, str]  # config name / keyword -> canonical
    flags: dict[str, str]  # command-line flag -> canonical

    def keepalive_label(self, flag: bool = False) -> str:
        return self.keepalive_flag if flag else self.keepalive_name


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = "8000"
DEFAULT_BIND = f"{DEFAULT_HOST}:{DEFAULT_PORT}"

SERVER_FACTS: dict[str, Server] = {
    GUNICORN: Server(
        GUNICORN,
        "keepalive",
        "--keep-alive",
        2,
        {
            "bind": BIND, "keepalive": KEEPALIVE, "worker_class": WORKER_CLASS,
            "workers": WORKERS, "threads": THREADS, "timeout": TIMEOUT,
        },
        {
            "-b": BIND, "--bind": BIND, "--keep-alive": KEEPALIVE, "-k": WORKER_CLASS,
            "--worker-class": WORKER_CLASS, "-w": WORKERS, "--workers": WORKERS,
            "--threads": THREADS, "-t": TIMEOUT, "--timeout": TIMEOUT, "-c": CONFIG, "--config": CONFIG,
        },
    ),
    UVICORN: Server(
        UVICORN,
        "timeout_keep_alive",
        "--timeout-keep-alive",
        5,
        {
            "host": HOST, "port": PORT, "uds": UDS, "fd": FD,
            "timeout_keep_alive": KEEPALIVE, "workers": WORKERS,
        },
        {
            "--host": HOST, "--port": PORT, "--uds": UDS, "--fd": FD,
            "--timeout-keep-alive": KEEPALIVE, "--workers": WORKERS,
        },
    ),
    HYPERCORN: Server(
        HYPERCORN,
        "keep_alive_timeout",
        "--keep-alive",
        5,
        {
            "bind": BIND, "insecure_bind": INSECURE_BIND, "keep_alive_timeout": KEEPALIVE,
            "workers": WORKERS, "worker_class": WORKER_CLASS,
        },
        {
            "-b": BIND, "--bind": BIND, "--insecure-bind": INSECURE_BIND, "--keep-alive": KEEPALIVE,
            "-w": WORKERS, "--workers": WORKERS, "-k": WORKER_CLASS, "--worker-class": WORKER_CLASS,
            "-c": CONFIG, "--config": CONFIG,
        },
    ),
}  # fmt: skip

# gunicorn worker classes, as written in worker_class / -k.
SYNC = "sync"
_SYNC_NAMES = frozenset({"sync", "gunicorn.workers.sync.syncworker", "egg:gunicorn#sync"})
# uvicorn's workers for gunicorn: in uvicorn (deprecated) and in the uvicorn-worker package.
_UVICORN_WORKERS = frozenset(
    f"{module}.{name}"
    for module in ("uvicorn.workers", "uvicorn_worker")
    for name in ("uvicornworker", "uvicornh11worker")
)
# gunicorn's own workers that keep connections for `keepalive` seconds, by the names
# gunicorn/workers/__init__.py (SUPPORTED_WORKERS) and its entry points give them
# (eventlet: up to gunicorn 23).
_KEEPALIVE_WORKERS = frozenset(
    {"gthread", "gevent", "eventlet", "tornado", "gevent_wsgi", "gevent_pywsgi", "asgi"}
)

# gunicorn passes keepalive, workers, threads and timeout through ``validate_pos_int``
# (gunicorn/config.py): an int (a bool is one: True is 1), or a string read by
# ``int(value, 0)`` ("5", " 5 ", "0x10", "1_000"); not a float, not a negative number.
GUNICORN_WHOLE_NUMBERS = frozenset({KEEPALIVE, WORKERS, THREADS, TIMEOUT})


def gunicorn_pos_int(value: object) -> int | None:
    """The number gunicorn's ``validate_pos_int`` makes of ``value`` (a literal of a
    Python config); None where gunicorn refuses it (and does not start)."""
    if isinstance(value, int):  # bool included: int(True) is 1
        number = int(value)
    elif isinstance(value, str):
        try:
            number = int(value, 0)
        except ValueError:
            return None
    else:
        return None
    return number if number >= 0 else None


def is_sync(worker_class: str) -> bool:
    return worker_class.strip().lower() in _SYNC_NAMES


def becomes_gthread(worker_class: str) -> bool:
    """Whether gunicorn runs gthread instead of ``worker_class`` when ``threads`` > 1: its
    ``Config.worker_class`` does so for ``sync`` and any class whose path ends with
    ``SyncWorker`` (a subclass named ``myapp.QuietSyncWorker`` too), not for
    ``egg:gunicorn#sync``."""
    stripped = worker_class.strip()
    return stripped.lower() == SYNC or stripped.endswith("SyncWorker")


def is_uvicorn_worker(worker_class: str) -> bool:
    """uvicorn's own worker class (``uvicorn.workers.UvicornWorker``), which passes gunicorn's
    ``keepalive`` to uvicorn; a subclass of it is another class (it may change that)."""
    return worker_class.strip().lower() in _UVICORN_WORKERS


def is_known_keepalive_worker(worker_class: str) -> bool:
    """A gunicorn worker documented to keep connections for ``keepalive`` seconds: one of
    gunicorn's own (by short name, ``egg:gunicorn#NAME`` or its module path) or uvicorn's.
    Any other class (``myapp.workers.CustomWorker``, a subclass of one of these) decides
    for itself whether and how long it keeps a connection."""
    lowered = worker_class.strip().lower()
    short = lowered.removeprefix("egg:gunicorn#")
    return (
        short in _KEEPALIVE_WORKERS
        or (lowered.startswith("gunicorn.workers.") and not is_sync(lowered))
        or is_uvicorn_worker(lowered)
    )
