"""A fix is written whole or not at all across its files (NGX107's move of a server's
ticket keys, cache or timeout to http{}: a removal in one file, an addition in another),
and the temporaries it writes through keep setuid/setgid bits and fit any legal name.

Found by a tester: with the includer not written (not named, read-only) the server's
lines were removed and never added anywhere, and the finding vanished with them."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import settings_for, write_files
from nginx_harness import make_certificate

from tlslint import fixing
from tlslint.engine import run
from tlslint.findings import Severity
from tlslint.fixing import apply_fixes

MAIN = "events {}\nhttp {\n%s    include conf.d/*.conf;\n}\n"
DEFAULT = (
    "server {\n    listen 443 ssl default_server;\n    server_name _;\n    ssl_reject_handshake on;\n}\n"
)
SITE = """server {
    listen 443 ssl;
    server_name a.example;
    ssl_certificate CERT;
    ssl_certificate_key KEY;
%s}
"""
KEYS = "    ssl_session_ticket_key tickets/current.key;\n    ssl_session_ticket_key tickets/previous.key;\n"
# (http{}'s lines, the site's own lines, --unsafe-fixes): the move of ticket keys is safe,
# that of a cache (taking its timeout along) too where the zone is large enough.
MOVES = {
    "ticket-keys": ("    ssl_session_cache shared:SSL:10m;\n", KEYS, False),
    "cache-and-timeout": ("", "    ssl_session_cache shared:SITE:20m;\n    ssl_session_timeout 4h;\n", True),
}


def _tree(root: Path, http: str, own: str) -> dict[str, bytes]:
    cert, key = make_certificate(root / "tls")
    write_files(
        root,
        {
            "nginx.conf": MAIN % http,
            "conf.d/00-default.conf": DEFAULT,
            # relative to the prefix, as nginx reads them: two trees hold the same text
            "conf.d/site.conf": (SITE % own)
            .replace("CERT", f"tls/{cert.name}")
            .replace("KEY;", f"tls/{key.name};"),
        },
    )
    (root / "tickets").mkdir()
    for name in ("current.key", "previous.key"):
        (root / "tickets" / name).write_bytes(os.urandom(80))
    return _snapshot(root)


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".tlslint_cache" not in path.parts
    }


def _tlslint(root: Path, *args: str, select: str = "NGX1") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    command = [sys.executable, "-m", "tlslint", "check", "--no-cache", "--select", select, *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, env=env)


def _uninterrupted(tmp_path: Path, move: str) -> dict[str, bytes]:
    """The tree after one --fix that nothing stopped."""
    http, own, unsafe = MOVES[move]
    root = tmp_path / "whole"
    _tree(root, http, own)
    done = _tlslint(root, "--fix", *(["--unsafe-fixes"] if unsafe else []), ".")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    after = _snapshot(root)
    assert after["conf.d/site.conf"].count(b"ssl_session") == 0, after["conf.d/site.conf"]
    return after


@pytest.mark.parametrize("move", sorted(MOVES))
@pytest.mark.parametrize("how", ["site-named-alone", "read-only-includer", "hard-linked-includer"])
def test_a_move_whose_includer_is_not_written_writes_nothing(tmp_path: Path, move: str, how: str) -> None:
    http, own, unsafe = MOVES[move]
    before = _tree(tmp_path, http, own)
    flags = ["--fix", *(["--unsafe-fixes"] if unsafe else [])]
    if how == "read-only-includer":
        (tmp_path / "nginx.conf").chmod(0o444)  # tlslint asks S_IWUSR itself: this holds as root too
        done = _tlslint(tmp_path, *flags, ".")
        reason = "the file is read-only"
    elif how == "hard-linked-includer":
        os.link(tmp_path / "nginx.conf", tmp_path / "nginx.conf.orig")
        before["nginx.conf.orig"] = before["nginx.conf"]
        done = _tlslint(tmp_path, *flags, ".")
        reason = "the file has 2 hard links"
    else:
        done = _tlslint(tmp_path, *flags, "conf.d/site.conf")
        reason = "the fix edits nginx.conf, which includes the paths given (conf.d/site.conf)"
    assert done.returncode == 2, done.stdout + done.stderr
    assert _snapshot(tmp_path) == before  # both files byte for byte: the removal is not written alone
    assert f"nginx.conf: SRC002 [error] not fixed: {reason}" in done.stdout
    assert "so a fix that also edits conf.d/site.conf is not written there either" in done.stdout
    assert "conf.d/site.conf:" in done.stdout and " NGX107 " in done.stdout  # its findings stand
    assert "fixed" not in done.stderr


def test_the_other_fixes_of_the_named_file_are_still_written(tmp_path: Path) -> None:
    """Only the fixes that edit the includer are withheld: the site's own fix (NGX201's
    keep-alive turned back on, unsafe) is written."""
    _tree(tmp_path, "    ssl_session_cache shared:SSL:10m;\n", KEYS + "    keepalive_timeout 0;\n")
    done = _tlslint(tmp_path, "--fix", "--unsafe-fixes", "conf.d/site.conf", select="NGX107,NGX201")
    assert done.returncode == 2, done.stdout + done.stderr
    site = (tmp_path / "conf.d/site.conf").read_text()
    assert "keepalive_timeout 0;" not in site and "keepalive_timeout" in site
    assert site.count("ssl_session_ticket_key") == 2
    assert "ssl_session_ticket_key" not in (tmp_path / "nginx.conf").read_text()


def _fail_for(monkeypatch: pytest.MonkeyPatch, name: str, written: list[str]) -> None:
    """``write_atomically`` failing for the file ``name`` (a full disk, say)."""
    real = fixing.write_atomically

    def failing(path: Path, data: bytes, expected: bytes | None = None) -> str:
        written.append(path.name)
        if path.name == name:
            return "cannot write: No space left on device"
        return real(path, data, expected)

    monkeypatch.setattr(fixing, "write_atomically", failing)


def test_the_addition_is_written_before_the_removal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A write failing for the removal's file (after the addition was renamed into place)
    leaves the keys twice, never nowhere; the next --fix ends as an uninterrupted run."""
    whole = _uninterrupted(tmp_path, "ticket-keys")
    root = tmp_path / "broken"
    _tree(root, *MOVES["ticket-keys"][:2])
    for name, data in whole.items():  # the same keys and certificate as the whole run
        if not name.endswith(".conf"):
            (root / name).write_bytes(data)
    written: list[str] = []
    _fail_for(monkeypatch, "site.conf", written)
    configured = settings_for(root, {"select": ["NGX1"]})
    outcome = apply_fixes(run([root], configured), configured, unsafe=False, write=True)
    assert written == ["nginx.conf", "site.conf"]
    assert outcome.unwritten == [(root / "conf.d/site.conf", "cannot write: No space left on device")]
    assert outcome.result.exit_code(Severity.ERROR) == 2
    assert (root / "nginx.conf").read_text().count("ssl_session_ticket_key") == 2
    assert (root / "conf.d/site.conf").read_text().count("ssl_session_ticket_key") == 2
    monkeypatch.undo()
    again = _tlslint(root, "--fix", ".")
    assert again.returncode in (0, 1), again.stdout + again.stderr
    assert _snapshot(root) == whole


def test_a_failed_addition_withholds_the_removal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    before = _tree(tmp_path, *MOVES["ticket-keys"][:2])
    monkeypatch.chdir(tmp_path)  # files are named relative to it
    written: list[str] = []
    _fail_for(monkeypatch, "nginx.conf", written)
    configured = settings_for(tmp_path, {"select": ["NGX1"]})
    outcome = apply_fixes(run([tmp_path], configured), configured, unsafe=False, write=True)
    assert written == ["nginx.conf"]
    assert outcome.unwritten == [
        (tmp_path / "nginx.conf", "cannot write: No space left on device"),
        (tmp_path / "conf.d/site.conf", "a fix here also edits nginx.conf, which was not written"),
    ]
    assert _snapshot(tmp_path) == before
    assert any(f.code == "NGX107" for f in outcome.result.findings)


def test_the_next_run_finishes_a_move_left_half_done(tmp_path: Path) -> None:
    """A run killed between its two renames leaves the keys in http{} and in the server
    (the addition is written first): T1 saw the next --fix leave them so, short of what
    one run makes. nginx reads the server's copy as it reads http{}'s (the same files in
    the same order): NGX107 reports the repeat (info) and --fix removes it, which ends
    where one run would have, and nginx loads it."""
    http, own, _ = MOVES["ticket-keys"]
    whole = _uninterrupted(tmp_path, "ticket-keys")
    root = tmp_path / "half"
    _tree(root, http, own)
    for name, data in whole.items():
        if name != "conf.d/site.conf":
            (root / name).write_bytes(data)  # http{} has the keys; the site still has them too
    found = _tlslint(root, ".")
    assert "NGX107 [info] ssl_session_ticket_key here repeats the keys this server inherits" in found.stdout
    done = _tlslint(root, "--fix", ".")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    assert _snapshot(root) == whole
    if shutil.which("nginx"):
        tested = subprocess.run(
            [
                "nginx",
                "-t",
                "-p",
                f"{root}/",
                "-c",
                "nginx.conf",
                "-g",
                f"pid {root}/x.pid; error_log stderr;",
            ],
            capture_output=True,
            text=True,
        )
        assert tested.returncode == 0, tested.stderr


def test_a_repeat_with_other_keys_or_order_is_no_repeat(tmp_path: Path) -> None:
    """Of ticket keys every line counts, in order (the first encrypts): the same files in
    another order are another setting, and NGX107 says nothing of a repeat."""
    swapped = KEYS.splitlines(keepends=True)
    _tree(tmp_path, "".join(reversed(swapped)), KEYS)
    found = _tlslint(tmp_path, ".")
    assert "repeats" not in found.stdout


@pytest.mark.parametrize("bits", [0o2755, 0o4755], ids=["setgid", "setuid"])
def test_setuid_and_setgid_bits_are_kept(tmp_path: Path, bits: int) -> None:
    """chown after chmod cleared them (the kernel does, for root too)."""
    if bits & stat.S_ISUID and os.geteuid() != 0:
        pytest.skip("only root keeps a setuid bit through chmod of a file it does not own")
    path = tmp_path / "nginx.conf"
    path.write_text("events {}\nhttp {\n    server {\n        listen 443 ssl;\n    }\n}\n")
    path.chmod(bits)
    configured = settings_for(tmp_path, {"select": ["NGX101"]})
    outcome = apply_fixes(run([tmp_path], configured), configured, unsafe=False, write=True)
    assert outcome.written == [path]
    assert "ssl_session_cache" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == bits


@pytest.mark.parametrize("length", [233, 234, 250, 255])
def test_a_file_with_a_long_name_is_fixed(tmp_path: Path, length: int) -> None:
    """The temporary `.<name>.tlslint-XXXXXXXX.tmp` was 22 bytes longer than the name:
    a name of 234 to 255 bytes (legal) could never be fixed."""
    name = "s" * (length - len(".conf")) + ".conf"
    write_files(tmp_path, {"nginx.conf": MAIN.replace("conf.d/*.conf", "sites/*.conf") % ""})
    site = tmp_path / "sites" / name
    site.parent.mkdir()
    site.write_text("server {\n    listen 443 ssl;\n    keepalive_timeout 0;\n}\n")
    configured = settings_for(tmp_path, {"select": ["NGX201"]})
    outcome = apply_fixes(run([tmp_path], configured), configured, unsafe=True, write=True)
    assert outcome.unwritten == [] and outcome.written == [site]
    assert "keepalive_timeout 0;" not in site.read_text()
    assert sorted(p.name for p in site.parent.iterdir()) == [name]  # no temporary left


def test_a_long_named_temporary_left_by_a_killed_run_is_removed(tmp_path: Path) -> None:
    """The temporary of a long name is cut short, and still found as one of tlslint's."""
    name = "é" * 120 + ".conf"  # 245 bytes: cut inside a two-byte character
    target = tmp_path / name
    prefix = fixing._temporary_prefix(target)
    assert prefix.startswith(".") and prefix.endswith(fixing.TEMP_MARK)
    with fixing._temporary(target, b"x", 0o644) as temporary:
        assert len(os.fsencode(Path(temporary).name)) <= 255
    assert list(tmp_path.iterdir()) == []  # removed once done with
    leftover = Path(temporary)
    leftover.write_bytes(b"x")  # as a killed writer leaves it: no lock held
    os.utime(leftover, (0, 0))
    fixing.remove_stale_temporaries(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_writing_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """SIGTERM (a cancelled CI job) arriving while a fixed file's temporary copy is beside
    it: the copy is removed on the way out, the files written are whole, the run says it
    stopped part-way and exits 143 (T8: a `.site.conf.tlslint-XXXX.tmp` was left, which
    `git add -A` commits)."""
    import signal

    from tlslint.check_command import run_quick
    from tlslint.quick_args import check_arguments

    root = tmp_path / "tree"
    before = _tree(root, *MOVES["ticket-keys"][:2])
    handler = signal.getsignal(signal.SIGTERM)
    locks = 0
    real_lock = fixing._try_lock

    def lock_then_terminate(handle: int, blocking: bool = False) -> bool:
        nonlocal locks
        locked = real_lock(handle, blocking=blocking)
        locks += 1
        if locks == 2:  # the second file's temporary is written and locked
            os.kill(os.getpid(), signal.SIGTERM)
        return locked

    monkeypatch.setattr(fixing, "_try_lock", lock_then_terminate)
    monkeypatch.chdir(root)
    arguments = check_arguments(["--no-cache", "--select", "NGX1", "--fix", "."], {})
    assert arguments is not None
    assert run_quick(arguments) == 143
    assert locks == 2
    assert "interrupted after fixing 1 file; run again to finish" in capsys.readouterr().err
    after = _snapshot(root)
    assert not [name for name in after if name.endswith(".tmp")]
    assert after["nginx.conf"].count(b"ssl_session_ticket_key") == 2  # the addition, written first
    assert after["conf.d/site.conf"] == before["conf.d/site.conf"]  # the removal, not written
    assert signal.getsignal(signal.SIGTERM) == handler  # put back
