"""What gunicorn, uvicorn and hypercorn read, and their defaults.

Every default is from ../shared/facts/nginx.md §3 (read from the installed
packages: gunicorn 27.0.1, uvicorn 0.54.0, hypercorn 0.18.0):

* gunicorn ``keepalive`` / ``--keep-alive``: 2 s. The sync worker ignores it
  (it closes every connection after its response); gthread, gevent, eventlet
  and tornado honour it; ``uvicorn.workers.UvicornWorker`` maps it to uvicorn's
  ``timeout_keep_alive``. ``threads`` > 1 turns the sync worker into gthread.
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
_UVICORN_WORKER_WORDS = ("uvicornworker", "uvicornh11worker")
_KEEPALIVE_WORKERS = frozenset({"gthread", "gevent", "eventlet", "tornado", "gevent_wsgi", "gevent_pywsgi"})


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


def is_uvicorn_worker(worker_class: str) -> bool:
    lowered = worker_class.strip().lower()
    return any(word in lowered for word in _UVICORN_WORKER_WORDS)


def is_known_keepalive_worker(worker_class: str) -> bool:
    """A gunicorn worker documented to keep connections for ``keepalive`` seconds."""
    lowered = worker_class.strip().lower()
    short = lowered.rsplit(".", 1)[-1].removeprefix("egg:gunicorn#")
    return (
        short in _KEEPALIVE_WORKERS or lowered.startswith("gunicorn.workers.") or is_uvicorn_worker(lowered)
    )
