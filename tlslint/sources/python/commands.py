"""Command lines that start gunicorn, uvicorn or hypercorn.

Read from a ``Procfile`` (``web: gunicorn app:app -b 0.0.0.0:$PORT``), a
``Dockerfile``'s ``CMD`` / ``ENTRYPOINT`` (shell form, and the JSON exec form;
an exec-form ENTRYPOINT takes CMD's words as arguments) and a systemd unit's
``ExecStart=``. Words are split as a POSIX shell would (quotes, backslashes,
line continuations) with the offset of every word kept, so a fix can replace
one value or add one flag. A word that the shell (or systemd) expands when the
command runs (``$PORT``, ``${WORKERS:-2}``, a backquote, a ``%i`` specifier)
is computed: reported as not verifiable, never guessed. A Dockerfile's shell-form
CMD / ENTRYPOINT is the exception: ``/bin/sh -c`` runs it with the image's ENV,
so it is read as a line of a script is (``tlslint.sources.python.scripts``).

Flags read (``--flag VALUE``, ``--flag=VALUE``, ``-fVALUE``): gunicorn
``-b/--bind``, ``--keep-alive``, ``-k/--worker-class``, ``-w/--workers``,
``--threads``, ``-t/--timeout``, ``-c/--config``; uvicorn ``--host``,
``--port``, ``--uds``, ``--fd``, ``--timeout-keep-alive``, ``--workers``;
hypercorn ``-b/--bind``, ``--insecure-bind``, ``--keep-alive``, ``-w``,
``-k``, ``-c/--config``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

from tlslint.findings import Location
from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.environment import (
    SERVER_ENV,
    EnvVar,
    apply_environment,
    procfile_env,
    systemd_env,
    unknown_environment,
)
from tlslint.sources.python.model import JSON, SHELL, Addition, Backend, LoadedFile, PythonRun, Value
from tlslint.sources.python.servers import (
    CONFIG,
    FD,
    KEEPALIVE,
    PORT,
    REPEATED,
    SERVER_FACTS,
    SERVERS,
    THREADS,
    TIMEOUT,
    WORKERS,
)
from tlslint.sources.python.sniff import DOCKERFILE, PROCFILE, SYSTEMD
from tlslint.sources.text import SourceError

COMMAND_KIND = "command"
_OPERATORS = ("&&", "||", ";;", ";", "|", "&", "(", ")")
_OPERATOR_STARTS = frozenset(op[0] for op in _OPERATORS)  # asked of each character of a word
_NUMERIC = frozenset({KEEPALIVE, WORKERS, THREADS, TIMEOUT, PORT, FD})
_SHELLS = frozenset({"sh", "bash", "dash", "ash", "zsh"})
# The app a server imports: module:attribute (`main:app`, `api.main:create_app()`); an
# address (`localhost:8000`, `unix:/run/app.sock`) has no identifier after its colon.
_APP = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*(?:\(.*\))?")
_INSTALLERS = frozenset({"install", "add", "pip", "pip3", "pipx"})  # `pip install gunicorn` starts nothing


@dataclass(frozen=True)
class Word:
    text: str  # after quote removal
    start: int  # raw span in the source text
    end: int
    static: bool = True  # nothing the shell expands at run time
    operator: bool = False
    style: str = SHELL
    editable: bool = True  # offsets are the word's own (not inside an `sh -c` string)
    shown: str = ""  # how a value a script expanded is shown: its expression (${PORT:-8000})
    reason: str = ""  # why it is not static, when more is known than "expanded"

    def raw(self, source: SourceText) -> str:
        return source.text[self.start : self.end]


# --------------------------------------------------------------------------- lexing


def _continued(text: str, position: int, end: int, escape: str | None) -> int:
    """Where a line continuation at ``position`` ends; 0 when there is none. A shell's is a
    backslash before the line break; a Dockerfile's (``escape``) its escape token, which
    ``# escape=`` may make a backquote, and blanks before the line break."""
    if escape is None:
        if text.startswith("\\\n", position):
            return position + 2
        return position + 3 if text.startswith("\\\r\n", position) else 0
    if text[position] != escape:
        return 0
    after = position + 1
    while after < end and text[after] in " \t":
        after += 1
    if text.startswith("\r\n", after):
        return after + 2
    return after + 1 if text.startswith("\n", after) else 0


def lex_shell(
    text: str, start: int, end: int, *, systemd: bool = False, escape: str | None = None
) -> list[Word]:
    """Shell words of ``text[start:end]`` with their offsets; ``escape``: a Dockerfile's
    escape token, whose line continuations Docker removes before a shell sees the line."""
    words: list[Word] = []
    position = start
    while position < end:
        char = text[position]
        joined = _continued(text, position, end, escape)
        if joined:
            position = joined
            continue
        if char in " \t\r\n":
            position += 1
            continue
        if char == "#" and not systemd:
            newline = text.find("\n", position, end)
            position = end if newline == -1 else newline
            continue
        operator = next((op for op in _OPERATORS if text.startswith(op, position)), None)
        if operator is not None and not systemd:
            words.append(Word(operator, position, position + len(operator), operator=True))
            position += len(operator)
            continue
        word_start = position
        parts: list[str] = []
        static = True
        while position < end:
            char = text[position]
            if char in " \t\r\n" or (
                not systemd
                and char in _OPERATOR_STARTS
                and any(text.startswith(op, position) for op in _OPERATORS)
            ):
                break
            joined = _continued(text, position, end, escape)
            if joined:
                position = joined
                continue
            if char == "\\":
                if position + 1 < end:
                    parts.append(text[position + 1])
                position += 2
                continue
            if char == "'":
                close = text.find("'", position + 1, end)
                close = end if close == -1 else close
                parts.append(text[position + 1 : close])
                position = close + 1
                continue
            if char == '"':
                position += 1
                while position < end and text[position] != '"':
                    joined = _continued(text, position, end, escape) if escape is not None else 0
                    if joined:
                        position = joined
                        continue
                    if text[position] == "\\" and position + 1 < end:
                        if text[position + 1] in '$`"\\':
                            parts.append(text[position + 1])
                        elif text[position + 1] != "\n":
                            parts.append(text[position : position + 2])
                        position += 2
                        continue
                    if text[position] in "$`":
                        static = False
                    parts.append(text[position])
                    position += 1
                position += 1
                continue
            if char in "$`":
                static = False
            if systemd and char == "%":
                if text.startswith("%%", position):
                    parts.append("%")
                    position += 2
                    continue
                static = False
            parts.append(char)
            position += 1
        words.append(Word("".join(parts), word_start, min(position, end), static))
    return words


_JSON_STRING = re.compile(r'"(?:[^"\\\n]|\\.)*"')


def lex_json(text: str, start: int, end: int, escape: str = "\\") -> list[Word] | None:
    """The strings of a JSON array ``text[start:end]`` (a Dockerfile exec form), or None;
    ``escape``: the Dockerfile's escape token, whose line continuations Docker removes."""
    lines = _counted_lines(text, start, end)
    raw = "\n".join(text[a:b] for a, b in lines)
    joined = re.sub(re.escape(escape) + r"[ \t]*\r?\n", "", raw)
    try:
        items = json.loads(joined)
    except ValueError:
        return None
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return None
    words = []
    for line_start, line_end in lines:
        for match in _JSON_STRING.finditer(text, line_start, line_end):
            value = json.loads(match.group())
            # No shell runs an exec form: $PORT reaches the server as written, unexpanded.
            reason = f"not expanded: the exec (JSON) form runs no shell, so {value} is passed as written"
            words.append(Word(value, match.start(), match.end(), "$" not in value, style=JSON, reason=reason))
    return words if len(words) == len(items) else None


def _counted_lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The lines of ``text[start:end]`` Docker reads: a comment line or an empty one inside
    a continued instruction is dropped (BuildKit allows them there)."""
    lines = []
    position = start
    while position <= end:
        line_end = text.find("\n", position, end)
        line_end = end if line_end == -1 else line_end
        stripped = text[position:line_end].strip()
        if position == start or (stripped and not stripped.startswith("#")):
            lines.append((position, line_end))
        position = line_end + 1
    return lines


# --------------------------------------------------------------------------- commands


@dataclass(frozen=True)
class Command:
    words: list[Word]
    process: str  # "Procfile web", "Dockerfile CMD", "app.service ExecStart"
    env: dict[str, EnvVar] = field(default_factory=dict)  # what the process's environment sets
    env_unknown: str = ""  # why the environment may hold anything else (a unit's EnvironmentFile=)


def _segments(words: list[Word]) -> Iterator[list[Word]]:
    current: list[Word] = []
    for word in words:
        if word.operator:
            if current:
                yield current
            current = []
        else:
            current.append(word)
    if current:
        yield current


# Debian and Ubuntu (up to bullseye / focal) install gunicorn for Python 3 as gunicorn3.
_ALIASES = {"gunicorn3": "gunicorn"}


def _program(word: Word) -> str | None:
    name = word.text.rsplit("/", 1)[-1]
    name = _ALIASES.get(name, name)
    return name if name in SERVERS else None


def find_programs(words: list[Word]) -> Iterator[tuple[str, int, list[Word]]]:
    """(server, index of the program word, the segment's words) for each start."""
    for segment in _segments(words):
        for index, word in enumerate(segment):
            server = _program(word)
            if (
                server is None
                and word.text.rsplit("/", 1)[-1].startswith("python")
                and index + 2 < len(segment)
                and segment[index + 1].text == "-m"
                and segment[index + 2].text in SERVERS
            ):
                server, index = segment[index + 2].text, index + 2
            if server is not None:
                if not any(w.text in _INSTALLERS for w in segment[:index]):
                    yield server, index, segment
                break
            script = _shell_script(segment, index)
            if script is not None and script.static:
                yield from find_programs(script_words(script))
                break


# `python`, `python3`, `python3.12`, `/usr/local/bin/python`; options before the file name,
# and those that take a value (`-X dev`, `-W ignore`).
_PYTHON = re.compile(r"python(?:\d+(?:\.\d+)?)?")
_PYTHON_VALUED = frozenset({"-X", "-W", "--check-hash-based-pycs"})


def find_python_runs(words: list[Word]) -> Iterator[tuple[int, list[Word]]]:
    """(index of FILE, the segment's words) for each ``python [options] FILE.py`` (behind
    ``exec``, ``poetry run`` and the like, or in a static ``sh -c`` script): FILE runs as
    ``__main__``. ``python -m ...``, ``-c`` and stdin run no file."""
    for segment in _segments(words):
        for index, word in enumerate(segment):
            if _program(word) is not None:
                break  # a server program (find_programs), not a Python file
            if _PYTHON.fullmatch(word.text.rsplit("/", 1)[-1]) and word.static:
                position = index + 1
                while position < len(segment) and segment[position].text.startswith("-"):
                    option = segment[position].text
                    if option in ("-m", "-c", "-") or option.startswith(("-m", "-c")):
                        position = len(segment)  # a module, a command string, stdin: no file
                        break
                    position += 2 if option in _PYTHON_VALUED else 1
                if position < len(segment):
                    found = segment[position]
                    if found.static and found.text.endswith(".py"):
                        yield position, segment
                break
            script = _shell_script(segment, index)
            if script is not None and script.static:
                yield from find_python_runs(script_words(script))
                break


def _shell_script(words: list[Word], index: int) -> Word | None:
    """The script of ``sh -c SCRIPT`` when ``words[index]`` starts one."""
    if index + 2 >= len(words) or words[index].text.rsplit("/", 1)[-1] not in _SHELLS:
        return None
    flag = words[index + 1].text
    return words[index + 2] if flag.startswith("-") and flag.endswith("c") else None


def _expanded_shell_script(words: list[Word]) -> Word | None:
    """The script of an exec form ``["sh", "-c", SCRIPT]`` that the shell must expand (a
    script without ``$`` is read as written, by ``find_programs``)."""
    if any(w.operator for w in words[:3]):
        return None
    script = _shell_script(words, 0)
    return script if script is not None and "$" in script.text else None


def script_words(script: Word) -> list[Word]:
    """The words of an ``sh -c "..."`` script: read, not edited."""
    return words_at(script.text, script.start, script.end)


def words_at(text: str, start: int, end: int) -> list[Word]:
    """The shell words of ``text``, a string the file does not hold as written (a quoted
    script, an expansion), each placed at ``start:end``: read, not editable."""
    return [replace(w, start=start, end=end, editable=False) for w in lex_shell(text, 0, len(text))]


def _flag_value(word: Word, flag: str, source: SourceText) -> tuple[str, int, int, bool]:
    """(value, start, end, editable) of ``--flag=VALUE`` or ``-fVALUE`` in one word."""
    value = word.text[len(flag) :].removeprefix("=")
    if not word.editable:
        return value, word.start, word.end, False
    raw = word.raw(source)
    prefix = word.text[: len(word.text) - len(value)]  # "--keep-alive=" or "-b"
    if raw.startswith(prefix):  # --keep-alive=5, --keep-alive='5'
        rest = raw[len(prefix) :]
        if rest == value or (
            len(rest) >= 2 and rest[0] == rest[-1] and rest[0] in "'\"" and rest[1:-1] == value
        ):
            return value, word.start + len(prefix), word.end, True
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" and raw[1:-1] == word.text:  # "--keep-alive=5"
        return value, word.start + 1 + len(prefix), word.end - 1, True
    return value, word.start, word.end, False


def _number(text: str) -> float | int | None:
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def _value(
    source: SourceText, flag: str, canonical: str, text: str, word: Word, span: tuple[int, int, bool],
    flag_line: int,
) -> Value:  # fmt: skip
    start, end, editable = span
    location = Location(source.path, *source.region(word.start, word.end))
    static = word.static
    value: object = text
    reason = "" if static else word.reason or f"expanded when the command runs: {text}"
    if static and canonical in _NUMERIC:
        value = _number(text)
        if value is None:
            static, reason = False, f"not a number ({text})"
    raw = source.text[start:end] if editable else word.shown or text
    # A value inside a word (--flag=VALUE, -fVALUE) is replaced as it is, unquoted.
    inside = (start, end) != (word.start, word.end)
    style = SHELL if inside else word.style
    form = ("{name}={value}" if flag.startswith("--") else "{name}{value}") if inside else ""
    return Value(
        flag, value if static else None, static, raw, location,
        start if editable and static else -1, end if editable and static else -1,
        style, flag_line, reason, form=form,
    )  # fmt: skip


def command_backend(source: SourceText, server: str, index: int, words: list[Word], process: str) -> Backend:
    facts = SERVER_FACTS[server]
    program = words[index]
    where = Location(source.path, *source.region(program.start, program.end))
    backend = Backend(
        server,
        source.path,
        f"{server} ({process})",
        where,
        files=[source.path],
        process=process,
        command=True,
    )
    binds: dict[str, list[Value]] = {}
    backend.app = next((w.text for w in words[index + 1 :] if w.static and _APP.fullmatch(w.text)), "")
    position = index + 1
    while position < len(words):
        word = words[position]
        position += 1
        text = word.text
        flag = ""
        span: tuple[int, int, bool]
        if text.startswith("--") and "=" in text:
            flag = text.split("=", 1)[0]
            if flag not in facts.flags:
                continue
            value, start, end, editable = _flag_value(word, flag, source)
            span, value_word = (start, end, editable), word
        elif text in facts.flags:
            flag = text
            if position >= len(words):
                break
            value_word = words[position]
            position += 1
            value = value_word.text
            raw = value_word.raw(source) if value_word.editable else ""
            span = (value_word.start, value_word.end, value_word.editable and bool(raw))
        elif text.startswith("-") and not text.startswith("--") and text[:2] in facts.flags and len(text) > 2:
            flag = text[:2]
            value, start, end, editable = _flag_value(word, flag, source)
            span, value_word = (start, end, editable), word
        else:
            continue
        canonical = facts.flags[flag]
        flag_line = source.position(word.start)[0]
        item = _value(source, flag, canonical, value, value_word, span, flag_line)
        if canonical in REPEATED:
            binds.setdefault(canonical, []).append(item)
        elif canonical == CONFIG:
            backend.config_ref = item
        else:
            backend.settings[canonical] = item
    for canonical, items in binds.items():
        first = items[0]
        static = all(i.static for i in items)
        reasons = [i.reason for i in items if i.reason]
        backend.settings[canonical] = replace(
            first,
            value=[i.value for i in items] if static else None,
            static=static,
            reason=reasons[0] if reasons else "",
            start=-1,
            end=-1,
        )
    if program.editable and not _has_keepalive(words[index + 1 :], facts.flags):
        flag = facts.keepalive_flag
        if program.style == JSON:
            comma = _separator(source, words[index + 1] if index + 1 < len(words) else None, program)
            template = f'{comma}"{flag}"{comma}"{{value}}"'
        else:
            template = f" {flag} {{value}}"
        backend.additions[KEEPALIVE] = Addition(source.path, program.end, template)
    return backend


_ITEM_SEPARATOR = re.compile(r",[ \t]*")


def _separator(source: SourceText, following: Word | None, program: Word) -> str:
    """The comma and blanks between the program and the next item of an exec-form list,
    as written (``","`` in ``["gunicorn","app:app"]``); ``", "`` where none is on its line."""
    if following is not None and following.editable and following.style == JSON:
        between = source.text[program.end : following.start]
        if _ITEM_SEPARATOR.fullmatch(between):
            return between
    return ", "


def _has_keepalive(words: list[Word], flags: dict[str, str]) -> bool:
    """Whether the command has a keep-alive flag already. Its value is edited where it was
    read; one left unread (``--keep-alive`` last) gets no flag added after the program,
    which would come before it, while the server takes the last one."""
    names = [flag for flag, canonical in flags.items() if canonical == KEEPALIVE]
    return any(w.text in names or w.text.startswith(tuple(f"{n}=" for n in names)) for w in words)


# --------------------------------------------------------------------------- files


def _procfile(source: SourceText) -> Iterator[Command]:
    text = source.text
    for match in re.finditer(r"^[ \t]*([A-Za-z0-9_.-]+)[ \t]*:[ \t]*(.*)$", text, re.M):
        yield Command(
            lex_shell(text, match.start(2), match.end(2)), f"Procfile {match.group(1)}", procfile_env()
        )


_INSTRUCTION = re.compile(r"^[ \t]*([A-Za-z]+)[ \t]+", re.M)
# A parser directive (`# escape=``), read only at the top of a Dockerfile (BuildKit's
# frontend/dockerfile/parser: directives.go).
_DIRECTIVE = re.compile(r"#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*")
_DIRECTIVES = frozenset({"syntax", "escape", "check"})


def escape_token(text: str) -> str:
    """A Dockerfile's escape token: ``\\``, or what an ``escape`` parser directive sets.

    Directives are read only before anything else: the first line that is none (an
    instruction, an empty line, a comment, an unknown or a repeated directive) ends them.
    A value other than a backslash or a backquote makes the build fail: the default is kept."""
    seen: set[str] = set()
    position = 1 if text.startswith("\ufeff") else 0
    while position <= len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end == -1 else line_end
        line, position = text[position:line_end], line_end + 1  # read up to the first line that is none
        match = _DIRECTIVE.fullmatch(line.strip())
        name = match.group(1).lower() if match else ""
        if match is None or name not in _DIRECTIVES or name in seen:
            break
        seen.add(name)
        if name == "escape":
            return match.group(2) if match.group(2) in ("\\", "`") else "\\"
    return "\\"


def _logical_lines(text: str) -> Iterator[tuple[str, int, int]]:
    """Dockerfile instructions: (keyword, start of arguments, end), continuations joined."""
    escape = escape_token(text)
    continued = re.compile(re.escape(escape) + r"[ \t]*$")
    position = 0
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end == -1 else line_end
        stripped = text[position:line_end].strip()
        if not stripped or stripped.startswith("#"):
            position = line_end + 1
            continue
        match = _INSTRUCTION.match(text, position, line_end)
        end = tail = line_end  # the instruction's end, and the end of its last line that counts
        while end < len(text) and continued.search(text, position, tail - text.endswith("\r", 0, tail)):
            following = end + 1
            next_end = text.find("\n", following)
            end = len(text) if next_end == -1 else next_end
            # Docker drops a comment line or an empty one inside a continued instruction.
            stripped = text[following:end].strip()
            if stripped and not stripped.startswith("#"):
                tail = end
        if match is not None:
            yield match.group(1).upper(), match.end(), end
        position = end + 1


def dockerfile_words(text: str, start: int, end: int) -> list[Word]:
    """The words of a Dockerfile instruction's arguments, its escape token honoured."""
    return lex_shell(text, start, end, escape=escape_token(text))


def _dockerfile_words(source: SourceText, start: int, end: int) -> list[Word] | None:
    text = source.text
    body = text[start:end].strip()
    escape = escape_token(text)
    if body.startswith("["):
        offset = text.index("[", start)
        words = lex_json(text, offset, len(text[:end].rstrip(" \t\r")), escape)
        if words is not None:
            return words
    return lex_shell(text, start, end, escape=escape)


def _dockerfile(source: SourceText) -> Iterator[Command]:
    """The final stage's command, with what it inherits from the stages it is built FROM
    (``FROM base``): their ENV, ENTRYPOINT and CMD; an ENTRYPOINT resets an inherited CMD."""
    from tlslint.sources.python.image import final_chain, final_env

    entry: tuple[list[Word], bool] | None = None
    cmd: tuple[list[Word], bool] | None = None
    env = final_env(source)
    for _, _, instructions in final_chain(source):
        cmd_inherited = cmd is not None
        for keyword, start, end in instructions:
            if keyword in ("CMD", "ENTRYPOINT"):
                words = _dockerfile_words(source, start, end) or []
                exec_form = bool(words) and words[0].style == JSON
                if keyword == "CMD":
                    cmd, cmd_inherited = (words, exec_form), False
                else:
                    entry = (words, exec_form)
                    if cmd_inherited:
                        cmd = None
    if entry is not None and entry[1] and cmd is not None and cmd[1]:
        yield Command([*entry[0], *cmd[0]], "Dockerfile ENTRYPOINT + CMD", env)
        return
    if entry is not None:
        yield Command(entry[0], "Dockerfile ENTRYPOINT", env)
        if not entry[1]:
            return  # a shell-form ENTRYPOINT ignores CMD
    if cmd is not None:
        yield Command(cmd[0], "Dockerfile CMD", env)


dockerfile_commands = _dockerfile  # what a shell script a Dockerfile runs is given (scripts.py)
logical_lines = _logical_lines  # a Dockerfile's instructions (image.py)


def _systemd(source: SourceText) -> Iterator[Command]:
    text = source.text
    env: dict[str, EnvVar] = {}
    files: list[str] = []
    for keyword, start, end in _unit_lines(text):
        if keyword == "Environment":
            systemd_env(text, start, end, env)
        elif keyword == "EnvironmentFile":
            files.extend(w.text.lstrip("-") for w in lex_shell(text, start, end, systemd=True))
    # systemd reads an EnvironmentFile= on the host when the unit starts (an absolute path;
    # `-` only makes a missing one no error): what it sets, GUNICORN_CMD_ARGS included, is
    # not the checkout's to tell, and it overrides Environment= (systemd.exec(5)).
    unknown = ""
    if files:
        named = ", ".join(files)
        unknown = (
            f"its unit's EnvironmentFile={named} is read on the host when it starts: "
            "what it sets is not known"
        )
        env = {name: variable for name, variable in env.items() if not SERVER_ENV.match(name)}
    for keyword, start, end in _unit_lines(text):
        if keyword != "ExecStart":
            continue
        words = lex_shell(text, start, end, systemd=True)
        if words:
            first = words[0]
            stripped = first.text.lstrip("-@:+!")
            if stripped != first.text:
                cut = len(first.text) - len(stripped)
                words[0] = replace(first, text=stripped, start=first.start + cut)
        yield Command(words, f"{source.path.name} ExecStart", env, unknown)


def _unit_lines(text: str) -> Iterator[tuple[str, int, int]]:
    for match in re.finditer(r"^[ \t]*([A-Za-z]+)[ \t]*=[ \t]*", text, re.M):
        end = text.find("\n", match.end())
        end = len(text) if end == -1 else end
        while text[match.end() : end].rstrip("\r \t").endswith("\\") and end < len(text):
            following = text.find("\n", end + 1)
            end = len(text) if following == -1 else following
        yield match.group(1), match.end(), end


_READERS = {PROCFILE: _procfile, DOCKERFILE: _dockerfile, SYSTEMD: _systemd}


def load(source: SourceText, fmt: str) -> LoadedFile:
    loaded = LoadedFile(source.path, COMMAND_KIND)
    commands = list(_READERS[fmt](source))  # lexed once for both
    loaded.backends = started(source, fmt, commands=commands)
    loaded.runs = python_runs(source, fmt, commands)
    return loaded


def python_runs(source: SourceText, fmt: str, commands: list[Command] | None = None) -> list[PythonRun]:
    """The Python files the file's commands (``commands``, else read from it) run as scripts
    (``CMD ["python", "main.py"]``): the workspace finds each (in the image's container for a
    Dockerfile) and links the servers it starts to this command (``tlslint.workspace.backends``)."""
    image = source.path if fmt == DOCKERFILE else None
    return [
        PythonRun(
            words[index].text,
            Location(source.path, *source.region(words[index].start, words[index].end)),
            command.process,
            source.path,
            image,
        )
        for command in (_READERS[fmt](source) if commands is None else commands)
        for index, words in find_python_runs(command.words)
    ]


def started(
    source: SourceText,
    fmt: str,
    env: dict[str, EnvVar] | None = None,
    how: str = "",
    commands: list[Command] | None = None,
) -> list[Backend]:
    """The servers the file's commands (``commands``, else read from it) start. ``env`` is
    set over the file's own (ENV, Environment=): a compose service's environment over its
    image's; ``how`` says so in their labels ("Dockerfile CMD, with compose api's env_file .env")."""
    found: list[Backend] = []
    for command in _READERS[fmt](source) if commands is None else commands:
        merged = {**command.env, **(env or {})}
        process = f"{command.process}, {how}" if how else command.process
        if fmt == DOCKERFILE and command.words and command.words[0].style != JSON:
            # The shell form runs under /bin/sh -c, which expands $PORT with the image's ENV:
            # read like a line of a script the image runs.
            from tlslint.sources.python.scripts import Runner, read_inline

            found.extend(read_inline(source, command.words, Runner(source.path, process, merged)))
            continue
        script = _expanded_shell_script(command.words) if fmt == DOCKERFILE else None
        if script is not None:
            # ["sh", "-c", "gunicorn --bind 0.0.0.0:$PORT ..."]: the shell expands $PORT
            # with the image's ENV, as in the shell form; its words are read, not edited.
            from tlslint.sources.python.scripts import Runner, read_inline

            found.extend(read_inline(source, script_words(script), Runner(source.path, process, merged)))
            continue
        for server, index, words in find_programs(command.words):
            backend = command_backend(source, server, index, words, process)
            backend = apply_environment(source, backend, index, words, merged)
            if command.env_unknown:
                backend = unknown_environment(backend, command.env_unknown)
            found.append(backend)
    return found


def validate_text(source: SourceText) -> None:
    """A Dockerfile's exec forms must stay JSON arrays; other command files always pass."""
    from tlslint.sources.python.sniff import file_format

    if file_format(source.path) != DOCKERFILE:
        return
    text = source.text
    for keyword, start, end in _logical_lines(text):
        if keyword in ("CMD", "ENTRYPOINT") and text[start:end].strip().startswith("["):
            offset = text.index("[", start)
            if lex_json(text, offset, len(text[:end].rstrip(" \t\r")), escape_token(text)) is None:
                line = source.position(start)[0]
                raise SourceError(source.path, line, f"{keyword} is no longer a JSON array")
