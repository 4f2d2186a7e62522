"""``python -m tlslint`` and the ``tlslint`` console script."""

from __future__ import annotations

import os
import sys


def run() -> None:
    args = sys.argv[1:]
    # Answer --version before importing the CLI framework (~30 ms).
    if args == ["--version"]:
        from tlslint import __version__

        print(f"tlslint {__version__}")
        return
    from tlslint import check_command
    from tlslint.quick_args import check_arguments

    check_command.kept_runs = []  # left to _leave, as the rest

    quick = check_arguments(args, os.environ)
    if quick is not None:  # the everyday `tlslint [check] PATHS [flags]`: no typer
        _leave(check_command.run_quick(quick))
    from tlslint.cli import main

    try:
        main()
    except SystemExit as done:
        _leave(done.code)
    _leave(0)


def _leave(code: object) -> None:
    """Exit without tearing down the run's objects one by one.

    A check of 10,000 servers holds millions of small objects; freeing them at
    interpreter shutdown took half a second, for a process about to end anyway.
    Everything that must outlive the run (output, the cache, fixed files) is
    written before ``main`` returns; the streams are flushed here.
    """
    if code is None:
        status = 0
    elif isinstance(code, int):
        status = code
    else:
        print(code, file=sys.stderr)
        status = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe (`tlslint | head`): nothing more to say
            status = status or 1
    os._exit(status)


if __name__ == "__main__":
    run()
