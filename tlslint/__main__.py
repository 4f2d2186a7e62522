"""``python -m tlslint`` and the ``tlslint`` console script."""

from __future__ import annotations

import sys


def run() -> None:
    # Answer --version before importing the CLI framework (~60 ms).
    if sys.argv[1:] == ["--version"]:
        from tlslint import __version__

        print(f"tlslint {__version__}")
        return
    from tlslint.cli import main

    main()


if __name__ == "__main__":
    run()
