"""Which files an include reads, as nginx 1.22.1 reads them (``nginx -T`` was the oracle
for every case here): symlinks written for the server (``ln -s /etc/nginx/...``), a
symlinked main file, hidden and backup names, and what a glob matches that nginx
cannot read."""

from __future__ import annotations

import os
from pathlib import Path

from helpers import settings_for, write_files

from tlslint.discovery import discover
from tlslint.engine import RunResult, run
from tlslint.findings import Severity

SITE = (
    "server {{\n    listen 443 ssl;\n    server_name {name};\n"
    "    ssl_certificate a.crt;\n    ssl_certificate_key a.key;\n}}\n"
)
MAIN = "events {{}}\nhttp {{\n    ssl_session_cache shared:SSL:10m;\n    include {pattern};\n}}\n"


def check(base: Path, *targets: Path, mapping: dict[str, object] | None = None) -> RunResult:
    return run(list(targets) or [base], settings_for(base, mapping))


def located(result: RunResult, base: Path) -> list[tuple[str, str, int]]:
    return [(os.path.relpath(f.location.path, base), f.code, f.location.line) for f in result.findings]


def messages(result: RunResult, code: str) -> list[str]:
    return [f.message for f in result.findings if f.code == code]


# 1. sites-enabled/x -> /etc/nginx/sites-available/x, as `ln -s` makes it on the server


def test_absolute_symlinks_into_etc_nginx_are_read_in_the_tree(tmp_path: Path) -> None:
    # "default" exists on a host with Debian's nginx; "tlslint-absent" exists nowhere
    write_files(tmp_path, {
        "nginx.conf": MAIN.format(pattern="/etc/nginx/sites-enabled/*"),
        "sites-available/default": SITE.format(name="tree-default.test"),
        "sites-available/tlslint-absent": SITE.format(name="shop.test"),
    })  # fmt: skip
    (tmp_path / "sites-enabled").mkdir()
    (tmp_path / "sites-enabled" / "default").symlink_to("/etc/nginx/sites-available/default")
    (tmp_path / "sites-enabled" / "tlslint-absent").symlink_to("/etc/nginx/sites-available/tlslint-absent")
    for mapping in (None, {"nginx": {"roots": {"/etc/nginx": str(tmp_path)}}}):
        result = check(tmp_path, mapping=mapping)
        assert all(path.is_relative_to(tmp_path.resolve()) for path in result.files), result.files
        assert not [f for f in result.findings if f.code in ("SRC001", "NGX002")], located(result, tmp_path)
        texts = {os.path.relpath(p, tmp_path.resolve()) for p in result.texts}
        assert texts == {"nginx.conf", "sites-available/default", "sites-available/tlslint-absent"}
        assert result.exit_code(Severity.ERROR) == 0
        # a run on sites-enabled/ or on one link: the tree's copies, in nginx.conf's context
        for target in (tmp_path / "sites-enabled", tmp_path / "sites-enabled" / "tlslint-absent"):
            part = check(tmp_path, target, mapping=mapping)
            assert all(path.is_relative_to(tmp_path.resolve()) for path in part.files), part.files
            assert not [f for f in part.findings if f.code in ("SRC001", "NGX002")], located(part, tmp_path)
            assert part.exit_code(Severity.ERROR) == 0
            assert "nginx.conf" in {p.name for p in part.texts}  # the includer was found


def test_absolute_symlink_to_a_mapped_root_whose_target_is_missing(tmp_path: Path) -> None:
    write_files(tmp_path, {"deploy/nginx.conf": MAIN.format(pattern="sites-enabled/*")})
    (tmp_path / "deploy" / "sites-enabled").mkdir()
    (tmp_path / "deploy" / "sites-enabled" / "gone").symlink_to("/etc/nginx/sites-available/tlslint-gone")
    result = check(tmp_path, tmp_path / "deploy" / "nginx.conf")
    assert [(f.code, f.severity) for f in result.findings if f.code in ("NGX002", "SRC001")] == [
        ("NGX002", Severity.ERROR)
    ]
    (message,) = messages(result, "NGX002")
    assert "sites-enabled/gone" in message and "/etc/nginx/sites-available/tlslint-gone" in message
    assert result.exit_code(Severity.ERROR) == 2


def test_a_tree_under_the_prefix_itself_follows_its_links_as_they_are(tmp_path: Path) -> None:
    """Mapped to itself (the prefix is the directory checked), a link is the file system's."""
    write_files(
        tmp_path,
        {"nginx.conf": MAIN.format(pattern="sites-enabled/*"), "other/x": SITE.format(name="x.test")},
    )
    (tmp_path / "sites-enabled").mkdir()
    (tmp_path / "sites-enabled" / "x").symlink_to(tmp_path / "other" / "x")  # absolute, no root maps it
    result = check(tmp_path, tmp_path / "nginx.conf")
    assert {os.path.relpath(p, tmp_path.resolve()) for p in result.texts} == {"nginx.conf", "other/x"}


# 2. nginx -c link/nginx.conf resolves relative includes against link/


def test_symlinked_main_file_includes_beside_the_path_given(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "real/nginx.conf": MAIN.format(pattern="conf.d/*.conf"),
        "real/conf.d/a.conf": SITE.format(name="real.test"),
        "link/conf.d/a.conf": SITE.format(name="link.test"),
    })  # fmt: skip
    (tmp_path / "link" / "nginx.conf").symlink_to("../real/nginx.conf")
    result = check(tmp_path, tmp_path / "link" / "nginx.conf")
    assert {os.path.relpath(p, tmp_path.resolve()) for p in result.texts} == {
        "real/nginx.conf",
        "link/conf.d/a.conf",
    }


# 3. a directory run reads what its includer's glob loads there


def test_directory_run_reports_backup_named_files_the_include_loads(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "nginx.conf": "events {}\nhttp {\n    include sites-enabled/*;\n}\n",
        "sites-enabled/a": SITE.format(name="a.test"),
        "sites-enabled/a~": SITE.format(name="old.test").replace("443 ssl", "443 ssl default_server"),
    })  # fmt: skip

    def in_directory(result: RunResult) -> list[tuple[str, str, int]]:
        return [row for row in located(result, tmp_path) if row[0].startswith("sites-enabled")]

    whole = in_directory(check(tmp_path))
    assert any(row[0] == "sites-enabled/a~" for row in whole), whole
    assert in_directory(check(tmp_path, tmp_path / "sites-enabled")) == whole
    cwd = os.getcwd()
    os.chdir(tmp_path / "sites-enabled")
    try:
        inside = in_directory(check(tmp_path, Path(".")))
    finally:
        os.chdir(cwd)
    assert inside == whole


# 4. hidden files: nginx's glob never matches them, a walk never reads them


def test_hidden_conf_files_are_neither_walked_nor_matched(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "nginx.conf": MAIN.format(pattern="conf.d/*.conf"),
        "conf.d/a.conf": SITE.format(name="a.test"),
        "conf.d/.default.conf": SITE.format(name="hidden.test"),
    })  # fmt: skip
    (tmp_path / "conf.d" / ".#a.conf").symlink_to("root@host.1234:1700000000")  # an Emacs lock
    found = discover([tmp_path], base=tmp_path)
    assert sorted(os.path.relpath(p, tmp_path) for p in found.nginx) == ["conf.d/a.conf", "nginx.conf"]
    assert found.unreadable == []
    result = check(tmp_path)
    assert {os.path.relpath(p, tmp_path.resolve()) for p in result.texts} == {"nginx.conf", "conf.d/a.conf"}
    assert not [f for f in result.findings if f.code == "SRC001"]


def test_hidden_files_passed_by_pre_commit_are_skipped_as_walked(tmp_path: Path) -> None:
    """pre-commit passes every changed *.conf (--force-exclude): a hidden one is skipped
    as the walk skips it, so the hook and `tlslint .` agree."""
    write_files(
        tmp_path,
        {"conf.d/.default.conf": SITE.format(name="hidden.test"), "conf.d/a.conf": SITE.format(name="a")},
    )
    hook = discover(
        [tmp_path / "conf.d" / ".default.conf", tmp_path / "conf.d" / "a.conf"],
        base=tmp_path,
        force_exclude=True,
    )
    assert [p.name for p in hook.nginx] == ["a.conf"]
    named = discover([tmp_path / "conf.d" / ".default.conf"], base=tmp_path)  # asked for by name: read
    assert [p.name for p in named.nginx] == [".default.conf"]


# 5. and 6. a glob that matches what nginx cannot read: nginx does not start


def test_glob_matching_a_directory_is_an_error_at_the_include(tmp_path: Path) -> None:
    write_files(
        tmp_path, {"nginx.conf": MAIN.format(pattern="conf.d/*"), "conf.d/a.conf": SITE.format(name="a.test")}
    )
    (tmp_path / "conf.d" / "sub").mkdir()
    result = check(tmp_path, tmp_path / "nginx.conf")
    assert [(row[1], row[2]) for row in located(result, tmp_path) if row[1] in ("NGX002", "SRC001")] == [
        ("NGX002", 4)
    ]
    assert "conf.d/sub" in messages(result, "NGX002")[0]
    assert result.exit_code(Severity.ERROR) == 2
    assert "conf.d/a.conf" in {
        os.path.relpath(p, tmp_path.resolve()) for p in result.texts
    }  # the rest is read


def test_glob_matching_a_dangling_symlink_is_an_error_naming_the_match(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"nginx.conf": MAIN.format(pattern="sites-enabled/*"), "sites-enabled/a": SITE.format(name="a.test")},
    )
    (tmp_path / "sites-enabled" / "gone").symlink_to("../sites-available/gone")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for target in (tmp_path / "nginx.conf", tmp_path):
            result = check(tmp_path, target)
            assert [
                (row[0], row[1], row[2])
                for row in located(result, tmp_path)
                if row[1] in ("NGX002", "SRC001")
            ] == [("nginx.conf", "NGX002", 4)]
            assert messages(result, "NGX002") == [
                'include "sites-enabled/*" matches sites-enabled/gone, which is a dangling symlink '
                "(to ../sites-available/gone, which does not exist): nginx fails to open it"
            ]
            assert result.exit_code(Severity.ERROR) == 2
    finally:
        os.chdir(cwd)


# 7. include lines nginx refuses


def test_include_with_two_arguments_is_ngx012(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "nginx.conf": "events {}\nhttp {\n    include conf.d/*.conf conf.d/a.conf;\n}\n",
        "conf.d/a.conf": SITE.format(name="a.test"),
    })  # fmt: skip
    result = check(tmp_path, tmp_path / "nginx.conf")
    assert [(f.code, f.location.line) for f in result.findings if f.code.startswith("NGX0")] == [
        ("NGX012", 3)
    ]
    assert 'invalid number of arguments in "include" directive' in messages(result, "NGX012")[0]


def test_include_of_a_variable_is_a_missing_file_unless_named_so(tmp_path: Path) -> None:
    write_files(tmp_path, {"nginx.conf": "events {}\nhttp {\n    include $x.conf;\n}\n"})
    result = check(tmp_path, tmp_path / "nginx.conf")
    assert [(f.code, f.location.line) for f in result.findings if f.code.startswith("NGX0")] == [
        ("NGX002", 3)
    ]
    assert result.exit_code(Severity.ERROR) == 2
    write_files(tmp_path, {"$x.conf": SITE.format(name="dollar.test")})  # nginx opens it as named
    result = check(tmp_path, tmp_path / "nginx.conf")
    assert not [f for f in result.findings if f.code.startswith("NGX0")]
    assert "$x.conf" in {p.name for p in result.texts}


def test_templated_includes_stay_unresolved(tmp_path: Path) -> None:
    write_files(tmp_path, {
        "nginx.conf": (
            "events {}\nhttp {\n    include ${CONF_DIR}/a.conf;\n    include \"{{ .Values.x }}\";\n}\n"
        ),
        "templates/default.conf.template": "server {\n    listen 80;\n    include $SNIPPETS/x.conf;\n}\n",
    })  # fmt: skip
    result = check(tmp_path)
    assert not [f for f in result.findings if f.code == "NGX002"], located(result, tmp_path)
