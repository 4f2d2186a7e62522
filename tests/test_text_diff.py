"""The unified diff of a fixed file (tlslint.text_diff): difflib's output on ordinary
files, and on files of thousands of repeating lines the same hunks without difflib's
quadratic matching (3,000 servers: 35 s for one `--diff` before)."""

from __future__ import annotations

import difflib
import shutil
import subprocess
from pathlib import Path

import pytest

from tlslint import text_diff
from tlslint.findings import Edit
from tlslint.fixing import apply_edits


def servers(n: int, *, fixed: bool) -> list[str]:
    lines = ["http {\n"]
    for i in range(n):
        lines += ["    server {\n", "        listen 443 ssl;\n", f"        server_name h{i}.example.org;\n"]
        if fixed and i % 3 == 0:
            lines.append("        ssl_session_timeout 1d;\n")
        lines += ["        location / {\n", "            proxy_pass http://app;\n", "        }\n", "    }\n"]
    return [*lines, "}\n"]


@pytest.mark.parametrize("n", [3, 400])
def test_the_same_hunks_as_difflib(n: int) -> None:
    before, after = servers(n, fixed=False), servers(n, fixed=True)
    assert (len(before) + len(after) >= text_diff.LARGE) == (n == 400)  # both paths
    ours = list(text_diff.unified_lines(before, after, "a.conf", "a.conf"))
    assert ours == list(difflib.unified_diff(before, after, fromfile="a.conf", tofile="a.conf"))


def test_a_large_file_is_matched_in_short_stretches(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the lines between two anchors (lines unique on both sides) go to difflib."""
    stretches: list[int] = []
    real = difflib.SequenceMatcher

    def counting(junk: object, a: list[str], b: list[str]) -> difflib.SequenceMatcher[str]:
        stretches.append(len(a) + len(b))
        return real(None, a, b)

    monkeypatch.setattr(text_diff.difflib, "SequenceMatcher", counting)
    before, after = servers(3000, fixed=False), servers(3000, fixed=True)
    hunks = [line for line in text_diff.unified_lines(before, after, "a", "a") if line.startswith("@@")]
    assert len(hunks) == 1000
    assert stretches and max(stretches) < 20


@pytest.mark.skipif(shutil.which("patch") is None, reason="needs patch(1)")
def test_the_large_diff_applies_with_patch(tmp_path: Path) -> None:
    before, after = servers(3000, fixed=False), servers(3000, fixed=True)
    (tmp_path / "a.conf").write_text("".join(before))
    diff = "".join(text_diff.unified_lines(before, after, "a.conf", "a.conf"))
    subprocess.run(["patch", "-s", "-p0"], input=diff, text=True, cwd=tmp_path, check=True)
    assert (tmp_path / "a.conf").read_text() == "".join(after)


def test_apply_edits_in_one_pass_keeps_the_order_of_insertions_at_one_point() -> None:
    path = Path("a.conf")
    first, second = Edit(path, 2, 2, "A"), Edit(path, 2, 2, "B")
    # Applied from the end, the later of two insertions at one point lands first.
    assert apply_edits("xxyy", [first, second]) == "xxBAyy"
    assert apply_edits("xxyy", [Edit(path, 0, 1, "1"), Edit(path, 3, 4, "4")]) == "1xy4"
    # Overlapping edits keep the old one-at-a-time result.
    assert apply_edits("abcdef", [Edit(path, 0, 4, "X"), Edit(path, 2, 3, "Y")]) == "Xef"
