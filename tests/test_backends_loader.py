"""Reading app-server settings: Python configs (libcst, never run), TOML, command lines."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from helpers import settings_for, static_value

from tlslint import forks
from tlslint.discovery import BACKEND, NGINX, classify, discover
from tlslint.sources.python import load
from tlslint.sources.python.commands import escape_token
from tlslint.sources.python.model import Backend
from tlslint.sources.python.pyconfig import MAX_DEPTH
from tlslint.sources.python.servers import BIND, HOST, KEEPALIVE, PORT, THREADS, UDS, WORKER_CLASS, WORKERS
from tlslint.sources.python.sniff import DOCKERFILE, PROCFILE, PYTHON_CONFIG, SYSTEMD, TOML_CONFIG
from tlslint.sources.text import decode
from tlslint.workspace.backends import binding, load_backends, parse_address, same_endpoint


def backends(name: str, text: str, fmt: str, **options: Any) -> list[Backend]:
    source = decode(Path(name), textwrap.dedent(text).encode())
    loaded = load(source, fmt, **options)
    assert not loaded.problems, loaded.problems
    return loaded.backends


def only(name: str, text: str, fmt: str) -> Backend:
    found = backends(name, text, fmt)
    assert len(found) == 1, found
    return found[0]


# --------------------------------------------------------------------------- Python configs


def test_gunicorn_config_literals() -> None:
    backend = only(
        "gunicorn.conf.py",
        """\
        # gunicorn settings
        bind = ["0.0.0.0:8000", "unix:/run/app.sock"]
        workers = 2 * 4 + 1
        worker_class = 'gthread'
        threads: int = 8
        keepalive = 75  # above nginx's 60s
        timeout = 30
        """,
        PYTHON_CONFIG,
    )
    assert backend.server == "gunicorn"
    assert static_value(backend, BIND) == ["0.0.0.0:8000", "unix:/run/app.sock"]
    assert static_value(backend, WORKERS) == 9
    assert static_value(backend, WORKER_CLASS) == "gthread"
    assert static_value(backend, THREADS) == 8
    keepalive = backend.get(KEEPALIVE)
    assert keepalive is not None and keepalive.value == 75 and keepalive.location.line == 6
    assert (keepalive.location.column, keepalive.location.end_column) == (13, 15)
    assert KEEPALIVE not in backend.additions  # it is set: a fix edits its token


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (
            'keepalive = int(os.environ.get("KEEPALIVE", "2"))',
            'computed at run time: int(os.environ.get("KEEPALIVE", "2"))',
        ),
        ("keepalive = compute()", "computed at run time: compute()"),
        ('keepalive = f"{N}"', "computed at run time"),
        ("if DEBUG:\n    keepalive = 1", "assigned under a condition"),
        ("try:\n    keepalive = 5\nexcept Exception:\n    pass", "assigned under a condition"),
        ("keepalive = 5\nkeepalive += 1", "changed in place"),
        ("from defaults import keepalive", "imported from defaults"),
        ("for keepalive in (1, 2):\n    pass\nkeepalive, timeout = 3, 4", "unpacked"),
    ],
)
def test_computed_values_are_not_guessed(line: str, reason: str) -> None:
    backend = only("gunicorn.conf.py", "import os\n" + line + "\n", PYTHON_CONFIG)
    keepalive = backend.get(KEEPALIVE)
    assert keepalive is not None and not keepalive.static and keepalive.value is None
    assert reason in keepalive.reason
    assert not keepalive.editable


def test_a_star_import_hides_what_is_not_set_after_it() -> None:
    backend = only(
        "gunicorn.conf.py",
        "bind = '127.0.0.1:8000'\nfrom base_settings import *\nworkers = 3\n",
        PYTHON_CONFIG,
    )
    assert static_value(backend, WORKERS) == 3
    assert backend.get(BIND) is None and "from base_settings import *" in backend.unknown[BIND]
    assert "from base_settings import *" in backend.unknown[KEEPALIVE]


def test_what_the_main_guard_runs_is_no_setting() -> None:
    """gunicorn runs its config as module ``__config__``: the guarded body never runs there."""
    text = 'keepalive = 5\nif __name__ == "__main__":\n    keepalive = 4\n    threads = 8\n'
    backend = only("gunicorn.conf.py", text, PYTHON_CONFIG)
    assert static_value(backend, KEEPALIVE) == 5
    assert backend.get(THREADS) is None and THREADS not in backend.unknown


# g3 and g1 (found by a tester): the settings come through the module's namespace.
NAMESPACE_WRITES = [
    (
        'import os\n_settings = {\n    "bind": "0.0.0.0:8000",\n    "worker_class": "gthread",\n'
        '    "threads": 4,\n    "keepalive": 5,\n}\nglobals().update(_settings)\n',
        "all",
        "globals().update(_settings)",
    ),
    (
        "import os\n\n# every GUNICORN_* variable becomes a setting\nfor k, v in os.environ.items():\n"
        '    if k.startswith("GUNICORN_"):\n        key = k.split("_", 1)[1].lower()\n'
        "        locals()[key] = v\n",
        "all",
        "locals()[key] = v",
    ),
    ('keepalive = 5\nexec(open("extra.py").read())\n', "all", 'exec(open("extra.py").read())'),
    ("keepalive = 5\nvars().update(overrides)\n", "all", "vars().update(overrides)"),
    (
        "import sys\nkeepalive = 5\nfor k, v in load().items():\n    setattr(sys.modules[__name__], k, v)\n",
        "all",
        "setattr(sys.modules[__name__], k, v)",
    ),
    ("keepalive = 5\nload_settings(globals())\n", "all", "load_settings(globals())"),
    (
        "keepalive = 5\ndef apply(d):\n    globals().update(d)\napply(OVERRIDES)\n",
        "all",
        "run by the call on line 4",
    ),
    ('keepalive = 5\nglobals().update({"threads": 4})\n', "threads", 'globals().update({"threads": 4})'),
    ('keepalive = 5\ng = globals()\ng["threads"] = 4\n', "threads", 'g["threads"] = 4'),
    # after the write, an assignment is what gunicorn reads
    ("globals().update(d)\nbind = '0.0.0.0:8000'\nworker_class = 'gthread'\nthreads = 4\nkeepalive = 5\n"
     "workers = 2\ntimeout = 30\n", "none", ""),
    # read, not written; a server hook runs after the settings are read
    ('keepalive = 5\nprint(dict(globals()), globals().get("x"))\n', "none", ""),
    ("keepalive = 5\ndef post_fork(server, worker):\n    globals().update(worker.cfg)\n", "none", ""),
]  # fmt: skip


@pytest.mark.parametrize(("text", "unknown", "shown"), NAMESPACE_WRITES)
def test_a_namespace_write_makes_what_it_may_set_unknown(text: str, unknown: str, shown: str) -> None:
    """Never the defaults: a write tlslint does not run may set any name it may reach."""
    backend = only("gunicorn.conf.py", text, PYTHON_CONFIG)
    names = {"all": [BIND, KEEPALIVE, WORKER_CLASS, THREADS, WORKERS], "threads": [THREADS], "none": []}[
        unknown
    ]
    for name in names:
        value = backend.get(name)
        assert value is not None and not value.static and not value.editable, (name, value)
        assert "possibly set by `" in value.reason and shown in value.reason
        assert "which tlslint does not run" in value.reason
    for name in {BIND, KEEPALIVE, WORKER_CLASS, THREADS, WORKERS} - set(names):
        value = backend.get(name)
        assert value is None or value.static, (name, value)
    if unknown == "threads":
        assert static_value(backend, KEEPALIVE) == 5
        assert KEEPALIVE not in backend.additions  # set: a fix edits its token


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ('"5"', 5),
        ("' 5 '", 5),
        ('"0x10"', 16),
        ('"1_000"', 1000),
        ("True", 1),
        ("False", 0),
        ("5", 5),
        ('"05"', None),
        ('"5.5"', None),
        ("2.5", None),
        ("-1", None),
        ('"-1"', None),
        ("None", None),
    ],
)
def test_gunicorn_numbers_are_read_as_gunicorn_reads_them(written: str, read: int | None) -> None:
    """gunicorn/config.py validate_pos_int: int(value, 0) for a string; a bool is an int;
    a float or a negative number stops gunicorn (measured with gunicorn 27.0.1 --print-config)."""
    text = "".join(f"{name} = {written}\n" for name in ("keepalive", "threads", "workers", "timeout"))
    backend = only("gunicorn.conf.py", text, PYTHON_CONFIG)
    for name in (KEEPALIVE, THREADS, WORKERS, "timeout"):
        value = backend.get(name)
        assert value is not None
        if read is None:
            assert not value.static and f"not a number gunicorn accepts ({written})" in value.reason
        else:
            assert value.static and value.value == read and type(value.value) is int


def test_a_config_that_would_fail_or_write_when_imported_is_still_read(tmp_path: Path) -> None:
    """Nothing in the file runs: no marker file, no exit, no KeyError, no import."""
    marker = tmp_path / "EXECUTED"
    config = tmp_path / "gunicorn.conf.py"
    config.write_text(
        textwrap.dedent(
            f"""\
            import os, sys
            import module_that_does_not_exist
            open({str(marker)!r}, "w").write("ran")
            SECRET = os.environ["TLSLINT_TEST_MISSING_VARIABLE"]
            bind = "127.0.0.1:8000"
            worker_class = "gthread"
            keepalive = 3
            sys.exit("importing this config must never happen")
            raise SystemExit(1)
            """
        ),
        encoding="utf-8",
    )
    loaded = load_backends([config], settings_for(tmp_path))
    [backend] = loaded.workspace.backends
    assert static_value(backend, KEEPALIVE) == 3 and static_value(backend, BIND) == "127.0.0.1:8000"
    assert not marker.exists()
    # The same through the CLI, in a fresh interpreter.
    (tmp_path / "app.conf").write_text(
        "upstream app { server 127.0.0.1:8000; keepalive 8; }\n"
        "server { listen 80; location / { proxy_pass http://app; proxy_http_version 1.1;"
        ' proxy_set_header Connection ""; } }\n',
        encoding="utf-8",
    )
    ran = subprocess.run(
        [sys.executable, "-m", "tlslint", "--select", "BKD", "--nginx-version", "1.22", str(tmp_path)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "BKD101" in ran.stdout, ran.stdout + ran.stderr
    assert not marker.exists()
    assert "module_that_does_not_exist" not in sys.modules


def test_a_syntax_error_is_a_problem_not_a_crash() -> None:
    source = decode(Path("gunicorn.conf.py"), b"bind = '127.0.0.1:8000'\nkeepalive = (\n")
    loaded = load(source, PYTHON_CONFIG)
    assert loaded.backends == []
    assert loaded.problems and "does not parse as Python" in loaded.problems[0].message


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        # libcst points past the error ("2:14 ... error at 1:13"); CPython's words and line
        (b"print 'hello'\nkeepalive = 0\n", 1, "Missing parentheses in call to 'print'"),
        (b"bind = 'x'\nkeepalive = 0L\n", 2, "invalid decimal literal"),
        # a byte that is not UTF-8 was an encoder's message about surrogates, with no line
        (b"# ok\n# caf\xe9\nkeepalive = 0\n", 2, "byte 0xe9 is not UTF-8 and the file declares no encoding"),
        (b"# coding: ascii\n# caf\xe9\n", 2, "byte 0xe9 is not ascii, the encoding it declares"),
        (b"# coding: klingon\n# caf\xe9\n", 1, "unknown encoding 'klingon'"),
    ],
    ids=["python-2-print", "python-2-long", "not-utf-8", "not-the-declared", "unknown-encoding"],
)
def test_a_syntax_error_names_its_line(data: bytes, line: int, message: str) -> None:
    loaded = load(decode(Path("gunicorn.conf.py"), data), PYTHON_CONFIG)
    (problem,) = loaded.problems
    assert (problem.line, message in problem.message) == (line, True), problem


def test_a_declared_encoding_is_read() -> None:
    # Python reads it (PEP 263), so gunicorn does: the settings count.
    data = b"# -*- coding: latin-1 -*-\n# caf\xe9\nbind = '127.0.0.1:8000'\nkeepalive = 0\n"
    (backend,) = load(decode(Path("gunicorn.conf.py"), data), PYTHON_CONFIG).backends
    value = backend.get(KEEPALIVE)
    assert value is not None and (value.location.line, static_value(backend, KEEPALIVE)) == (4, 0)


PEP_263_FILES = {
    # python3 refuses these ("encoding problem: ..."); they passed as "All checks passed"
    "unknown-encoding": b"# -*- coding: foobar -*-\nkeepalive = 1\n",
    "utf-8-under-ascii": b"# coding: ascii\nbind = '127.0.0.1:8000'\n# caf\xc3\xa9\nkeepalive = 1\n",
    "bom-and-latin-1": b"\xef\xbb\xbf# coding: latin-1\nkeepalive = 1\n",
    "bom-and-utf8": b"\xef\xbb\xbf# coding: UTF8\nkeepalive = 1\n",  # CPython: "UTF8 with BOM"
    "second-line": b"#!/usr/bin/env python\n# vim: set fileencoding=foobar :\nkeepalive = 1\n",
    "not-a-text-encoding": b"# coding: hex\nkeepalive = 1\n",
    "utf-16": b"# coding: utf-16\nkeepalive = 1\n",
    "ebcdic": b"# coding: cp037\nkeepalive = 1\n",
    # read by python3, and by tlslint
    "bom-and-utf-8": b"\xef\xbb\xbf# -*- coding: utf-8 -*-\nkeepalive = 1\n",
    "latin-1": b"# coding: latin-1\n# caf\xe9\nkeepalive = 1\n",
    "latin-1-spelled-otherwise": b"# coding: ISO_8859_1\n# caf\xe9\nkeepalive = 1\n",
    "cp1252": b"# coding: cp1252\n# \x93quoted\x94\nkeepalive = 1\n",
    "after-code": b"keepalive = 1\n# coding: foobar\n",  # code on line 1: no declaration
    "third-line": b"\n\n# coding: foobar\nkeepalive = 1\n",
}


@pytest.mark.parametrize("data", PEP_263_FILES.values(), ids=PEP_263_FILES.keys())
def test_an_encoding_python_refuses_is_refused(data: bytes) -> None:
    """Python's own verdict (compile() of the bytes, as importlib reads gunicorn's config)
    is the reference: refused with a line, or read."""
    try:
        compile(data, "gunicorn.conf.py", "exec", dont_inherit=True)
        python_reads = True
    except SyntaxError:
        python_reads = False
    loaded = load(decode(Path("gunicorn.conf.py"), data), PYTHON_CONFIG)
    if python_reads:
        assert not loaded.problems, loaded.problems
        (backend,) = loaded.backends
        assert static_value(backend, KEEPALIVE) == 1
    else:
        (problem,) = loaded.problems
        assert problem.line > 0 and "does not parse as Python" in problem.message, problem
        assert loaded.backends == []


@pytest.mark.parametrize(
    ("data", "line", "message"),
    [
        (PEP_263_FILES["unknown-encoding"], 1, "unknown encoding 'foobar'"),
        (PEP_263_FILES["utf-8-under-ascii"], 3, "byte 0xc3 is not ascii, the encoding it declares"),
        (PEP_263_FILES["bom-and-latin-1"], 1, "(encoding problem: iso-8859-1 with BOM)"),
        (PEP_263_FILES["second-line"], 2, "unknown encoding 'foobar'"),
        (PEP_263_FILES["ebcdic"], 1, "declares cp037 (PEP 263), in which its code reads other than in UTF-8"),
    ],
    ids=["unknown", "mismatch", "bom", "second-line", "ebcdic"],
)
def test_an_encoding_problem_is_told_as_python_tells_it(data: bytes, line: int, message: str) -> None:
    (problem,) = load(decode(Path("gunicorn.conf.py"), data), PYTHON_CONFIG).problems
    assert (problem.line, message in problem.message) == (line, True), problem


def elif_chain(branches: int) -> str:
    return "import os\nenv = os.environ.get('E')\nif env == '0':\n    timeout = 0\n" + "".join(
        f"elif env == '{n}':\n    timeout = {n}\n" for n in range(1, branches)
    )


def test_long_flat_chains_that_python_compiles_are_read() -> None:
    """An implicit concatenation of 400 literals was an internal error (RecursionError in
    libcst's position metadata); a 151-term sum on one line and a 300-branch if/elif were
    "does not parse as Python: nested more than 100 levels deep". python3 compiles all three."""
    literals = ["'127.0.0.1:'", *["''"] * 398, "'8000'"]
    text = (
        "bind = (\n" + "".join(f"    {literal}\n" for literal in literals) + ")\n"
        + "workers = " + " + ".join(["1"] * 151) + "\n"
        + elif_chain(300)
        + "keepalive = 5\n"
    )  # fmt: skip
    compile(text, "gunicorn.conf.py", "exec")
    limit = sys.getrecursionlimit()
    loaded = load(decode(Path("gunicorn.conf.py"), text.encode()), PYTHON_CONFIG)
    assert sys.getrecursionlimit() == limit  # raised while libcst reads the tree, then put back
    assert not loaded.problems, loaded.problems
    (backend,) = loaded.backends
    assert (static_value(backend, BIND), static_value(backend, WORKERS)) == ("127.0.0.1:8000", 151)
    keepalive = backend.get(KEEPALIVE)
    assert keepalive is not None and (keepalive.value, keepalive.location.line) == (5, text.count("\n"))


CHAIN = MAX_DEPTH - 10  # the links a statement may chain, with the levels of its own above them


@pytest.mark.parametrize(
    "chain",
    [
        "keepalive = (\n" + "    '5'\n" * CHAIN + ")\n",
        "keepalive = " + " + ".join(["1"] * CHAIN) + "\n",
        elif_chain(CHAIN) + "keepalive = 5\n",
        "keepalive = " + " and ".join(["1"] * CHAIN) + "\n",
        "keepalive = " + "-" * CHAIN + "5\n",
        "import os\nkeepalive = os" + ".x" * CHAIN + "\n",
        "keepalive = a" + "[0]" * CHAIN + "\n",
        "keepalive = " + " if x else ".join(["5"] * CHAIN) + "\n",
    ],
    ids=["concatenation", "sum", "elif", "and", "unary", "attribute", "subscript", "conditional"],
)
def test_chains_up_to_the_depth_read_are_read(chain: str) -> None:
    loaded = load(decode(Path("gunicorn.conf.py"), chain.encode()), PYTHON_CONFIG)
    assert not loaded.problems, loaded.problems
    assert KEEPALIVE in loaded.backends[0].settings


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        # past the depth tlslint reads: valid Python, so not "does not parse as Python"
        ("bind = 'x'\nfmt = (\n" + "    'a'\n" * 2000 + ")\n", 3, f"not read: more than {MAX_DEPTH} levels"),
        ("bind = 'x'\nworkers = " + " + ".join(["1"] * 2000) + "\n", 2, f"not read: more than {MAX_DEPTH}"),
        (elif_chain(2000), 2 * MAX_DEPTH + 3, f"not read: more than {MAX_DEPTH} levels deep, counting"),
        # nesting: brackets, operands of other expressions
        ("bind = 'x'\nkeepalive = " + "[" * 150 + "]" * 150 + "\n", 2, "not read: nested more than 100"),
        ("keepalive = " + "f(" * 150 + ")" * 150 + "\n", 1, "not read: nested more than 100 levels deep"),
        # what CPython refuses itself
        ("bind = 'x'\nkeepalive = " + "(" * 300 + ")" * 300 + "\n", 2, "does not parse as Python: too many"),
    ],
    ids=["concatenation", "sum", "elif", "lists", "calls", "parentheses"],
)
def test_deeper_than_tlslint_reads_is_refused_at_its_line(text: str, line: int, message: str) -> None:
    (problem,) = load(decode(Path("gunicorn.conf.py"), text.encode()), PYTHON_CONFIG).problems
    assert (problem.line, message in problem.message) == (line, True), problem


def test_a_chain_python_itself_gives_up_on_is_refused_at_its_line() -> None:
    # CPython 3.11 and 3.12 give up on a 5,000-term sum (RecursionError "during ast
    # construction"; compile() too), 3.10 and 3.13 read it: either way, its line is told.
    text = "bind = 'x'\nworkers = " + " + ".join(["1"] * 5000) + "\nkeepalive = 5\n"
    (problem,) = load(decode(Path("gunicorn.conf.py"), text.encode()), PYTHON_CONFIG).problems
    assert problem.line == 2, problem
    said = problem.message
    assert "refuses it: maximum recursion depth" in said or "not read: more than" in said, said


def test_a_cr_only_file_is_read_with_python_lines() -> None:
    # libcst ends lines at CR, as Python does; positions were looked up by LF only
    # (an internal error: IndexError).
    source = decode(Path("gunicorn.conf.py"), b"bind = '127.0.0.1:8000'\rkeepalive = 0\r")
    (backend,) = load(source, PYTHON_CONFIG).backends
    value = backend.get(KEEPALIVE)
    assert value is not None and (value.location.line, static_value(backend, KEEPALIVE)) == (2, 0)
    assert source.text[value.start : value.end] == "0"


def test_uvicorn_run_and_config_calls() -> None:
    found = backends(
        "main.py",
        """\
        import uvicorn as uv
        from uvicorn import Config, run as serve

        config = Config("main:app", "0.0.0.0", 8001, timeout_keep_alive=10)
        if __name__ == "__main__":
            uv.run("main:app", host="0.0.0.0", port=8000, timeout_keep_alive=5)
            serve(app, uds="/run/app.sock")
            uv.run(app, **options)
        """,
        PYTHON_CONFIG,
    )
    assert [b.server for b in found] == ["uvicorn"] * 4
    config, run, served, spread = found
    assert (static_value(config, HOST), static_value(config, PORT), static_value(config, KEEPALIVE)) == (
        "0.0.0.0",
        8001,
        10,
    )
    assert (static_value(run, HOST), static_value(run, PORT), static_value(run, KEEPALIVE)) == (
        "0.0.0.0",
        8000,
        5,
    )
    assert static_value(served, UDS) == "/run/app.sock"
    assert [str(a) for a in binding(served).addresses] == ["unix:/run/app.sock"]
    assert spread.get(KEEPALIVE) is None and "**kwargs" in spread.unknown[KEEPALIVE]
    assert KEEPALIVE not in spread.additions  # a new keyword could clash with **options
    assert run.where.line == 6


@pytest.mark.parametrize(
    ("text", "main_only"),
    [
        ('if __name__ == "__main__":\n    uvicorn.run("main:app", port=8000, reload=True)\n', True),
        (
            'def main():\n    uvicorn.run("main:app", port=8000)\n\nif __name__ == "__main__":\n    main()\n',
            True,
        ),
        ('uvicorn.run("main:app", port=8000)\n', False),
        ('if __name__ == "__main__":\n    pass\nelse:\n    uvicorn.run("main:app", port=8000)\n', False),
        # main() is also used elsewhere (a console script may call it): not only the guard's
        (
            'def main():\n    uvicorn.run("main:app")\n\nif __name__ == "__main__":\n    main()\n'
            "cli = main\n",
            False,
        ),
        ('def main():\n    uvicorn.run("main:app")\n', False),
    ],
    ids=["guard", "function-the-guard-calls", "module-level", "else", "function-used-elsewhere", "uncalled"],
)
def test_a_run_under_the_main_guard_is_marked(text: str, main_only: bool) -> None:
    backend = only("main.py", "import uvicorn\n" + text, PYTHON_CONFIG)
    assert backend.main_only is main_only


@pytest.mark.parametrize(
    ("command", "app"),
    [
        ("web: uvicorn main:app --host 0.0.0.0", "main:app"),
        ("web: gunicorn -b localhost:8000 -k gthread 'api.main:create_app()'", "api.main:create_app()"),
        ("web: hypercorn --bind unix:/run/app.sock app.asgi:application", "app.asgi:application"),
        ("web: gunicorn -b 0.0.0.0:$PORT wsgi", ""),  # gunicorn's module-only form: not read
    ],
)
def test_the_app_a_command_imports(command: str, app: str) -> None:
    assert only("Procfile", command + "\n", PROCFILE).app == app


def test_hypercorn_python_config_and_serve_script() -> None:
    config = only("hypercorn_conf.py", 'bind = ["0.0.0.0:8080"]\nkeep_alive_timeout = 20\n', PYTHON_CONFIG)
    assert config.server == "hypercorn" and static_value(config, KEEPALIVE) == 20
    [script] = backends(
        "serve.py",
        """\
        import asyncio
        from hypercorn.asyncio import serve
        from hypercorn.config import Config

        async def main():
            config = Config()
            config.bind = ["127.0.0.1:9000"]
            config.keep_alive_timeout = 3
            await serve(app, config)
        """,
        PYTHON_CONFIG,
    )
    assert script.server == "hypercorn" and static_value(script, KEEPALIVE) == 3
    assert static_value(script, BIND) == ["127.0.0.1:9000"]


def test_hypercorn_toml() -> None:
    backend = only(
        "hypercorn.toml",
        """\
        # hypercorn
        bind = [
            "127.0.0.1:8000",  # local
            "unix:/run/h.sock",
        ]
        keep_alive_timeout = 7.5  # seconds
        workers = 2

        [logging]
        keep_alive_timeout = 1
        """,
        TOML_CONFIG,
    )
    keepalive = backend.get(KEEPALIVE)
    assert keepalive is not None and keepalive.value == 7.5 and keepalive.text == "7.5"
    assert static_value(backend, BIND) == ["127.0.0.1:8000", "unix:/run/h.sock"]
    assert backend.get(BIND) is not None and backend.get(BIND).location.line == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        '"keep_alive_timeout" = 120\n',
        "'keep_alive_timeout' = 120  # literal\n",
        '"keep\\u005falive_timeout" = 120\n',  # an escape in a quoted key: the same key
        'graceful_timeout = """\nkeep_alive_timeout = 5\n[logging]\n"""\nkeep_alive_timeout = 120\n',
        "access_log_format = '''x'''''\nkeep_alive_timeout = 120\n",  # quotes before the closing three
        'logconfig_dict = {a = "=", b = [1, "]"]}\nkeep_alive_timeout = 120\n',
    ],
)
def test_hypercorn_toml_keys_as_toml_reads_them(text: str) -> None:
    """A quoted key is the same key, and a line inside a string is no statement (hypercorn
    reads the keys tomllib gives it)."""
    source = 'bind = ["127.0.0.1:8000"]\n' + text + "workers = 2\n\n[logging]\nkeep_alive_timeout = 1\n"
    keepalive = only("hypercorn.toml", source, TOML_CONFIG).get(KEEPALIVE)
    assert keepalive is not None and keepalive.value == 120 and keepalive.text == "120"
    assert source[keepalive.start : keepalive.end] == "120"


def test_hypercorn_toml_dotted_key_is_no_top_level_setting() -> None:
    backend = only("hypercorn.toml", 'bind = ["127.0.0.1:8000"]\nkeep_alive_timeout.x = 1\n', TOML_CONFIG)
    assert backend.get(KEEPALIVE) is None and KEEPALIVE in backend.additions


# --------------------------------------------------------------------------- command lines


def test_procfile() -> None:
    web, api, other = backends(
        "Procfile",
        """\
        # processes
        web: gunicorn app:app -b 0.0.0.0:8000 --keep-alive=5 -k gevent -w 4
        api: python -m uvicorn main:app --host 127.0.0.1 --port "9000" --timeout-keep-alive 7
        worker: exec hypercorn app:app -b0.0.0.0:$PORT --keep-alive 3
        release: pip install gunicorn && python manage.py migrate
        """,
        PROCFILE,
    )
    assert (web.server, web.process) == ("gunicorn", "Procfile web")
    assert static_value(web, BIND) == ["0.0.0.0:8000"]
    assert (
        static_value(web, KEEPALIVE) == 5
        and static_value(web, WORKER_CLASS) == "gevent"
        and static_value(web, WORKERS) == 4
    )
    assert web.get(KEEPALIVE).text == "5"  # type: ignore[union-attr]  # the value inside --keep-alive=5
    assert (api.server, static_value(api, HOST), static_value(api, PORT), static_value(api, KEEPALIVE)) == (
        "uvicorn",
        "127.0.0.1",
        9000,
        7,
    )
    assert api.get(PORT).text == '"9000"'  # type: ignore[union-attr]
    bind = other.get(BIND)
    assert other.server == "hypercorn" and bind is not None and not bind.static
    assert "$PORT" in bind.reason
    assert not binding(other).addresses and binding(other).unknown


def test_dockerfile_final_stage_inherits_from_its_base_stage() -> None:
    """``FROM base`` inherits base's ENV, ENTRYPOINT and CMD (they used to be dropped at
    every FROM: uvicorn's default keep-alive was stated beside base's ENV of 120); an
    ENTRYPOINT resets a CMD inherited from the base, as Docker does."""
    [inherited] = backends(
        "Dockerfile",
        """\
        FROM python:3.12 AS base
        ENV UVICORN_TIMEOUT_KEEP_ALIVE=120
        CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]
        FROM base
        WORKDIR /app
        """,
        DOCKERFILE,
    )
    assert inherited.server == "uvicorn" and static_value(inherited, KEEPALIVE) == 120
    reset = backends(
        "Dockerfile",
        """\
        FROM python:3.12 AS base
        CMD ["uvicorn", "main:app", "--host", "0.0.0.0"]
        FROM base
        ENTRYPOINT ["/docker-entrypoint.sh"]
        """,
        DOCKERFILE,
    )
    assert reset == []


def test_dockerfile_exec_and_shell_forms() -> None:
    [exec_form] = backends(
        "Dockerfile",
        """\
        FROM python:3.12 AS build
        CMD ["uvicorn", "wrong:stage"]
        FROM python:3.12-slim
        ENTRYPOINT ["/docker-entrypoint.sh"]
        CMD ["gunicorn", "--bind", "0.0.0.0:8000", \\
             "--keep-alive", "4", "app:app"]
        """,
        DOCKERFILE,
    )
    assert exec_form.server == "gunicorn" and exec_form.process == "Dockerfile ENTRYPOINT + CMD"
    assert static_value(exec_form, KEEPALIVE) == 4 and exec_form.get(KEEPALIVE).text == '"4"'  # type: ignore[union-attr]
    [shell] = backends(
        "Dockerfile",
        """\
        FROM python:3.12-slim
        # a comment
        cmd uvicorn main:app \\
            --host 0.0.0.0 \\
            --port ${PORT:-8000}
        """,
        DOCKERFILE,
    )
    assert shell.server == "uvicorn" and static_value(shell, HOST) == "0.0.0.0"
    port = shell.get(PORT)  # /bin/sh -c expands it, as in a script: its default when nothing sets PORT
    assert port is not None and port.static and port.value == 8000 and port.text == "${PORT:-8000}"
    assert not port.editable
    [literal] = backends(
        "Dockerfile",
        'FROM x\nENV PORT=8000\nCMD ["gunicorn", "-b", "0.0.0.0:$PORT", "app:app"]\n',
        DOCKERFILE,
    )
    bind = literal.get(BIND)  # no shell: gunicorn is given "0.0.0.0:$PORT", not 8000
    assert bind is not None and not bind.static and "the exec (JSON) form runs no shell" in bind.reason
    [wrapped] = backends(
        "Dockerfile", 'FROM x\nCMD ["sh", "-c", "exec gunicorn app:app --keep-alive 9"]\n', DOCKERFILE
    )
    keepalive = wrapped.get(KEEPALIVE)
    assert keepalive is not None and keepalive.value == 9 and not keepalive.editable  # inside sh -c
    assert KEEPALIVE not in wrapped.additions


@pytest.mark.parametrize(
    ("head", "escape"),
    [
        ("# escape=`\n", "`"),
        ("\ufeff#escape = `\n", "`"),  # a BOM, blanks around the =
        ("# syntax=docker/dockerfile:1\n# ESCAPE=`\n", "`"),  # after another directive, any case
        ("# escape=\\\n", "\\"),
        ("# a comment\n# escape=`\n", "\\"),  # after a comment: a comment itself
        ("\n# escape=`\n", "\\"),  # after an empty line
        ("FROM python\n# escape=`\n", "\\"),  # after an instruction
        ("# escape=|\n", "\\"),  # refused by Docker: no such token
    ],
)
def test_dockerfile_escape_directive(head: str, escape: str) -> None:
    assert escape_token(head + "FROM python\n") == escape


def test_dockerfile_escape_directive_continues_lines_with_a_backquote() -> None:
    [shell] = backends(
        "Dockerfile",
        "# escape=`\nFROM python:3.12-slim\nENV GUNICORN_CMD_ARGS=--workers=2 `\n    PORT=8000\n"
        "CMD gunicorn -k gthread `\n    --keep-alive 5 `  \n    -b 127.0.0.1:8000 app:app\n",
        DOCKERFILE,
    )
    keepalive = shell.get(KEEPALIVE)
    assert keepalive is not None and keepalive.value == 5 and keepalive.editable
    assert static_value(shell, BIND) == ["127.0.0.1:8000"] and KEEPALIVE not in shell.additions
    [exec_form] = backends(
        "Dockerfile",
        '# escape=`\nFROM x\nCMD ["gunicorn", `\n  "--keep-alive", "4", "app:app"]\n',
        DOCKERFILE,
    )
    assert static_value(exec_form, KEEPALIVE) == 4
    # Without the directive a backquote is the shell's: the next line is an instruction.
    [plain] = backends("Dockerfile", "FROM x\nCMD gunicorn app:app `\n    --keep-alive 5\n", DOCKERFILE)
    assert plain.get(KEEPALIVE) is None


def test_dockerfile_comment_and_empty_lines_inside_a_continued_instruction_are_dropped() -> None:
    """BuildKit drops them, and the instruction goes on (they used to end it: no backend)."""
    [exec_form] = backends(
        "Dockerfile",
        'FROM x\nCMD ["gunicorn", \\\n# the worker\n  "-k", "gthread", \\\n\n'
        '  "--keep-alive", "4", "app:app"]\n',
        DOCKERFILE,
    )
    assert static_value(exec_form, KEEPALIVE) == 4 and static_value(exec_form, WORKER_CLASS) == "gthread"
    [shell] = backends(
        "Dockerfile",
        'FROM x\nCMD gunicorn app:app \\\n    # don\'t "quote" this \\\n    --keep-alive 3\n',
        DOCKERFILE,
    )
    assert static_value(shell, KEEPALIVE) == 3
    [commented] = backends(
        "Dockerfile", 'FROM x\nCMD ["gunicorn", \\\n#  "--keep-alive", "9",\n  "app:app"]\n', DOCKERFILE
    )
    assert commented.get(KEEPALIVE) is None


def test_no_flag_is_added_before_an_unread_keep_alive_flag() -> None:
    """The server takes the last flag: one added after the program would lose to it."""
    [backend] = backends("Dockerfile", "FROM x\nCMD gunicorn app:app --keep-alive\n", DOCKERFILE)
    assert backend.get(KEEPALIVE) is None and KEEPALIVE not in backend.additions


def test_systemd_exec_start() -> None:
    [unit] = backends(
        "app.service",
        """\
        [Unit]
        Description=app

        [Service]
        Environment=PORT=8000
        ExecStart=-/srv/venv/bin/gunicorn --bind unix:/run/%i.sock \\
            --keep-alive 10 app:app
        """,
        SYSTEMD,
    )
    bind = unit.get(BIND)
    assert bind is not None and not bind.static and "%i" in bind.reason  # a specifier
    assert static_value(unit, KEEPALIVE) == 10


def test_a_command_with_a_config_file_is_merged_with_it(tmp_path: Path) -> None:
    deploy = tmp_path / "deploy"
    deploy.mkdir()
    (deploy / "gunicorn.py").write_text(
        'bind = "127.0.0.1:8000"\nworker_class = "gthread"\nkeepalive = 30\n', encoding="utf-8"
    )
    procfile = tmp_path / "Procfile"
    procfile.write_text("web: gunicorn -c deploy/gunicorn.py --keep-alive 4 app:app\n", encoding="utf-8")
    loaded = load_backends([procfile], settings_for(tmp_path))
    [backend] = loaded.workspace.backends
    assert static_value(backend, KEEPALIVE) == 4  # the flag wins
    assert (
        static_value(backend, WORKER_CLASS) == "gthread" and static_value(backend, BIND) == "127.0.0.1:8000"
    )
    assert {p.name for p in backend.files} == {"Procfile", "gunicorn.py"}
    # A -c file that does not exist: what the command line does not set is unknown.
    procfile.write_text("web: gunicorn -c /etc/app/missing.py app:app\n", encoding="utf-8")
    [alone] = load_backends([procfile], settings_for(tmp_path)).workspace.backends
    assert "missing.py" in alone.unknown[KEEPALIVE] and not alone.additions


def test_gunicorn_reads_the_config_beside_it_by_default(tmp_path: Path) -> None:
    (tmp_path / "gunicorn.conf.py").write_text('bind = "0.0.0.0:5000"\nkeepalive = 7\n', encoding="utf-8")
    (tmp_path / "Procfile").write_text("web: gunicorn app:app -k gthread\n", encoding="utf-8")
    loaded = load_backends([tmp_path / "Procfile", tmp_path / "gunicorn.conf.py"], settings_for(tmp_path))
    [backend] = loaded.workspace.backends  # one backend, not two
    assert static_value(backend, KEEPALIVE) == 7 and static_value(backend, WORKER_CLASS) == "gthread"
    assert "reads gunicorn.conf.py by default" in backend.label


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    ("bound", "upstream", "same"),
    [
        ("0.0.0.0:8000", "127.0.0.1:8000", True),
        ("0.0.0.0:8000", "localhost:8000", True),
        ("0.0.0.0:8000", "10.0.0.5:8000", False),
        ("0.0.0.0:8000", "127.0.0.1:8001", False),
        ("127.0.0.1:8000", "localhost:8000", True),
        ("localhost:8000", "127.0.0.1:8000", True),
        ("[::]:8000", "[::1]:8000", True),
        ("[::]:8000", "127.0.0.1:8000", True),
        ("[::1]:8000", "127.0.0.1:8000", False),
        ("app.internal:8000", "APP.internal:8000", True),
        ("unix:/run/app.sock", "unix:/run/app.sock", True),
        ("unix:///run/app.sock", "unix:/run/app.sock", True),
        ("unix:/run/app.sock", "unix:/run/other.sock", False),
        ("127.0.0.1", "127.0.0.1:8000", True),  # gunicorn's default port
    ],
)
def test_addresses(bound: str, upstream: str, same: bool) -> None:
    backend_address = parse_address(bound)
    nginx_address = parse_address(upstream, default_port="80")
    assert backend_address is not None and nginx_address is not None
    assert same_endpoint(backend_address, nginx_address) is same


def test_fd_is_no_address() -> None:
    assert parse_address("fd://3") is None


# --------------------------------------------------------------------------- discovery


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("gunicorn.conf.py", "x = 1\n", BACKEND),  # by name
        ("gunicorn_config.py", "", BACKEND),
        ("main.py", "import uvicorn\nuvicorn.run(app)\n", BACKEND),
        ("serve.py", "from hypercorn.config import Config\n", BACKEND),
        ("views.py", "def index():\n    return 'hello'\n", None),
        ("hypercorn.toml", 'bind = ["x"]\n', BACKEND),
        ("settings.toml", "keep_alive_timeout = 5\n", BACKEND),
        ("settings.toml", '"keep_alive_timeout" = 5\n', BACKEND),  # a quoted key is the same key
        ("settings.toml", "'keep_alive_timeout' = 5\n", BACKEND),
        ("settings.toml", "\"keep_alive_timeout' = 5\n", None),
        ("pyproject.toml", "[tool.tlslint]\nselect = ['BKD']\n", None),
        ("Procfile", "web: gunicorn app:app\n", BACKEND),
        ("Procfile", "web: node server.js\n", None),
        ("Dockerfile", "FROM python\nCMD uvicorn main:app\n", BACKEND),
        ("Dockerfile", 'FROM nginx\nCMD ["nginx", "-g", "daemon off;"]\n', None),
        ("app.service", "[Service]\nExecStart=/usr/bin/hypercorn app:app\n", BACKEND),
        ("app.conf", "server { listen 80; }\n", NGINX),
    ],
)
def test_classification(tmp_path: Path, name: str, text: str, kind: str | None) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert classify(path, explicit=False) == kind


def test_discovery_walks_backend_files(tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "gunicorn.conf.py").write_text("bind = '127.0.0.1:8000'\n", encoding="utf-8")
    (tmp_path / "views.py").write_text("x = 1\n", encoding="utf-8")
    found = discover([tmp_path])
    assert [p.name for p in found.backend] == ["gunicorn.conf.py"]
    named = discover([tmp_path / "deploy" / "gunicorn.conf.py"])
    assert named.backend and not named.nginx  # a named Python config is not parsed as nginx


def test_libcst_is_imported_only_when_a_python_config_is_in_scope(tmp_path: Path) -> None:
    """And then by the forked helper that reads the configs while nginx is parsed, not by
    the run's own process (tlslint.sources.python.prefetch), where it can fork and there
    is nginx to parse meanwhile."""
    nginx_only = tmp_path / "nginx"
    nginx_only.mkdir()
    (nginx_only / "app.conf").write_text("server { listen 80; }\n", encoding="utf-8")
    (nginx_only / "Procfile").write_text("web: gunicorn app:app\n", encoding="utf-8")
    with_python = tmp_path / "python"
    with_python.mkdir()
    (with_python / "gunicorn.conf.py").write_text("keepalive = 5\n", encoding="utf-8")
    python_alone = tmp_path / "alone"
    python_alone.mkdir()
    (python_alone / "gunicorn.conf.py").write_text("keepalive = 5\n", encoding="utf-8")
    (with_python / "app.conf").write_text("server { listen 80; }\n", encoding="utf-8")
    code = (
        "import sys; from pathlib import Path; from tlslint.engine import run; from tlslint import forks; "
        "from tlslint.settings import Settings; result = run([Path(sys.argv[1])], Settings()); "
        "loaded = result.workspace.backends; "
        "print('libcst' in sys.modules, forks.available_cpus() > 1, len(loaded.backends) if loaded else 0)"
    )
    helped = str(forks.available_cpus() > 1)
    imported = str(not forks.available_cpus() > 1)
    for directory, expected in (
        (nginx_only, f"False {helped} 1"),
        (with_python, f"{imported} {helped} 1"),
        (python_alone, f"True {helped} 1"),  # nothing to do meanwhile: no helper
    ):
        ran = subprocess.run(
            [sys.executable, "-c", code, str(directory)],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert ran.stdout.strip() == expected, (directory, ran.stderr)


# --------------------------------------------------------------------------- environment


def test_gunicorn_cmd_args_in_a_dockerfile_env_sets_flags_under_the_command_line() -> None:
    backend = only(
        "Dockerfile",
        """\
        FROM python:3.12 AS build
        ENV PORT=9999
        FROM python:3.12-slim
        ENV GUNICORN_CMD_ARGS="--bind=0.0.0.0:5001 -k gthread --keep-alive 75" LANG=C.UTF-8
        CMD ["gunicorn", "--keep-alive", "80", "app:app"]
        """,
        DOCKERFILE,
    )
    assert (
        static_value(backend, BIND) == ["0.0.0.0:5001"] and static_value(backend, WORKER_CLASS) == "gthread"
    )
    assert static_value(backend, KEEPALIVE) == 80  # the command line wins over GUNICORN_CMD_ARGS
    assert not backend.get(BIND).editable  # type: ignore[union-attr]
    assert backend.get(BIND).location.line == 4  # type: ignore[union-attr]
    assert [str(a) for a in binding(backend).addresses] == ["0.0.0.0:5001"]


def test_port_in_the_environment_moves_gunicorns_default_bind() -> None:
    docker = only("Dockerfile", "FROM python\nENV PORT 5000\nCMD gunicorn app:app\n", DOCKERFILE)
    assert [str(a) for a in binding(docker).addresses] == ["0.0.0.0:5000"]
    unit = only(
        "app.service",
        '[Service]\nEnvironment="PORT=${APP_PORT}"\nExecStart=/usr/bin/gunicorn app:app\n',
        SYSTEMD,
    )
    assert binding(unit).addresses == () and "expanded" in binding(unit).unknown
    # A Procfile's platform (Heroku, Dokku, foreman, honcho) always sets PORT.
    web = only("Procfile", "web: gunicorn app:app\n", PROCFILE)
    assert binding(web).addresses == () and "platform" in binding(web).unknown
    bound = only("Procfile", "web: gunicorn app:app -b 127.0.0.1:8000\n", PROCFILE)
    assert [str(a) for a in binding(bound).addresses] == ["127.0.0.1:8000"]
    # uvicorn does not read PORT.
    uvicorn = only("Procfile", "web: uvicorn main:app\n", PROCFILE)
    assert [str(a) for a in binding(uvicorn).addresses] == ["127.0.0.1:8000"]


def test_uvicorn_reads_its_options_from_uvicorn_variables() -> None:
    backend = only(
        "api.service",
        """\
        [Service]
        Environment=UVICORN_PORT=9000 "UVICORN_TIMEOUT_KEEP_ALIVE=75"
        ExecStart=/usr/bin/uvicorn main:app --host 127.0.0.1
        """,
        SYSTEMD,
    )
    assert (
        static_value(backend, KEEPALIVE) == 75
        and static_value(backend, PORT) == 9000
        and static_value(backend, HOST) == "127.0.0.1"
    )
    flag = only(
        "Dockerfile", "FROM python\nENV UVICORN_PORT=9000\nCMD uvicorn main:app --port 9001\n", DOCKERFILE
    )
    assert static_value(flag, PORT) == 9001


def test_debians_gunicorn3_is_gunicorn(tmp_path: Path) -> None:
    text = "[Service]\nExecStart=/usr/bin/gunicorn3 -w 4 -b 127.0.0.1:5000 wsgi:app\n"
    unit = only("app.service", text, SYSTEMD)
    assert unit.server == "gunicorn" and static_value(unit, BIND) == ["127.0.0.1:5000"]
    (tmp_path / "app.service").write_text(text, encoding="utf-8")
    assert classify(tmp_path / "app.service", explicit=True) == BACKEND  # not read as nginx
