"""Shell scripts that start an app server: ``docker-entrypoint.sh``, ``start.sh``, ``run.sh``.

Read, never run. The script is cut into commands as a POSIX shell would (quotes,
line continuations, comments, here-documents skipped) and followed from the top:

* ``NAME=value``, ``export NAME=value``, ``: "${NAME:=value}"`` set variables for
  the commands after them; ``$NAME``, ``${NAME}``, ``${NAME:-default}`` (and
  ``-``, ``=``, ``:=``, ``+``, ``:?``) are expanded with them. A variable the
  script never sets comes from the process's environment: the ``ENV`` of a
  Dockerfile that runs the script, else nothing known, so ``${PORT:-8000}`` is
  8000 (its default: the value when nothing sets ``PORT``) and a bare ``$PORT``
  stays unknown. An unknown value is never guessed: it is reported as not static
  (BKD103), like ``$PORT`` on any command line. A command substitution, a
  positional ``$1`` nobody gives and a variable set under ``if``/``case``/a loop
  are unknown after it.
* every command that starts gunicorn, uvicorn or hypercorn is a backend, with
  the same command-line reading as a Procfile or a Dockerfile (``exec``,
  ``python -m``, ``poetry run``/``uv run``, ``sh -c``...). A command in an
  ``if``/``case`` branch is taken, and its label names the branch: which branch
  runs depends on the environment or the arguments, so each one that starts a
  server is a way the script may start it, and each is checked (the
  ``celery``/``worker`` branches beside them start nothing tlslint reads).
  Nothing after an unconditional ``exec`` or ``exit`` at the top level runs.
* exported variables reach the server's environment (``GUNICORN_CMD_ARGS``,
  ``PORT``, ``UVICORN_*``), through ``tlslint.sources.python.environment``.
* ``"$@"`` on the server's command line is the script's arguments: a
  Dockerfile's CMD words where a Dockerfile runs the script
  (``ENTRYPOINT ["/docker-entrypoint.sh"]``), else unknown, and then every
  setting the command line does not give may be given there.

A sourced file (``. ./env.sh``) and functions' call sites are not followed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from tlslint.sources.nginx.model import SourceText
from tlslint.sources.python.commands import (
    COMMAND_KIND,
    Word,
    command_backend,
    find_programs,
    lex_shell,
    words_at,
)
from tlslint.sources.python.environment import EnvVar, apply_environment
from tlslint.sources.python.model import Backend, LoadedFile
from tlslint.sources.python.servers import SERVER_FACTS

SCRIPT_SUFFIXES = (".sh", ".bash")
SHEBANG = re.compile(rb"#![ \t]*\S*/(?:env[ \t]+(?:-\S+[ \t]+)*)?(?:sh|bash|dash|ash|ksh|zsh)\b")
_SERVER_WORD = re.compile(r"gunicorn|uvicorn|hypercorn")
_SPECIAL = re.compile(r"[\\'\"`#$)<\n]")
_CLOSING = {quote: re.compile(rf"(?:[^{quote}\\]|\\.)*{quote}", re.S) for quote in '"`'}
_HEREDOC = re.compile(r"<<-?[ \t]*(['\"]?)([A-Za-z_][\w.-]*)\1")
_ASSIGNMENT = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\+?=(.*)", re.S)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-]")
_DECLARERS = frozenset({"export", "readonly", "local", "declare", "typeset"})
_OPENERS = {"if": "if", "while": "loop", "until": "loop", "for": "loop", "select": "loop", "case": "case"}
_CLOSERS = frozenset({"fi", "done", "esac", "}"})
# Words in front of the script a Dockerfile runs: ["/usr/bin/tini", "--", "sh", "/start.sh"].
_SET, _UNSET, _UNKNOWN = "set", "unset", "unknown"
_REDIRECTION = re.compile(r"\d*[<>]")
_WRAPPERS = frozenset({"exec", "tini", "dumb-init", "--", "env", "sh", "bash", "dash", "ash", "zsh"})


@dataclass(frozen=True)
class Var:
    value: str | None  # None: not known before the script runs
    reason: str = ""  # why it is unknown
    raw: str = ""  # as written (quotes removed), for an unknown GUNICORN_CMD_ARGS
    exported: bool = False
    start: int = -1  # the assignment's word, where the script sets it
    end: int = -1


@dataclass(frozen=True)
class Runner:
    """A Dockerfile that runs the script: its environment and the script's arguments."""

    path: Path
    process: str  # "Dockerfile CMD"
    env: dict[str, EnvVar] = field(default_factory=dict)
    args: tuple[tuple[str, bool], ...] = ()  # (word, static)
    how: str = ""  # said after the script's name: "with compose api's env_file .env"


# --------------------------------------------------------------------------- files


def is_script(path: Path, head: bytes | None = None) -> bool:
    """A shell script by its name (``.sh``, ``.bash``) or, without a suffix, its shebang."""
    if path.suffix.lower() in SCRIPT_SUFFIXES:
        return True
    if path.suffix or head is None:
        return False
    return SHEBANG.match(head) is not None


def statements(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` ended by a newline outside quotes, ``$( )`` and continuations;
    here-document bodies are left out."""
    position, start, depth, length = 0, 0, 0, len(text)
    delimiters: list[tuple[str, bool]] = []
    while position < length:
        special = _SPECIAL.search(text, position)  # plain runs skipped at C speed
        if special is None:
            break
        position = special.start()
        char = text[position]
        if char == "\\":
            position += 2
        elif char == "'":
            close = text.find("'", position + 1)
            position = length if close == -1 else close + 1
        elif char in '"`':
            quoted = _CLOSING[char].match(text, position + 1)
            position = length if quoted is None else quoted.end()
        elif char == "#" and (position == start or text[position - 1] in " \t;&|()"):
            newline = text.find("\n", position)
            position = length if newline == -1 else newline
        elif char == "$":
            depth += text.startswith("$(", position)
            position += 1
        elif char == ")" and depth:
            depth -= 1
            position += 1
        elif char == "<" and (match := _HEREDOC.match(text, position)) is not None:
            delimiters.append((match.group(2), match.group(0).startswith("<<-")))
            position = match.end()
        elif char == "\n" and not depth:
            yield start, position
            position += 1
            for delimiter, tabs in delimiters:
                position = _after_heredoc(text, position, delimiter, tabs)
            delimiters = []
            start = position
        else:
            position += 1
    if start < length:
        yield start, length


def _after_heredoc(text: str, position: int, delimiter: str, tabs: bool) -> int:
    while position < len(text):
        newline = text.find("\n", position)
        end = len(text) if newline == -1 else newline
        line = text[position:end].rstrip("\r")
        position = end + 1
        if (line.lstrip("\t") if tabs else line) == delimiter:
            break
    return position


def starts_server(text: str) -> bool:
    """Whether some command of the script starts gunicorn, uvicorn or hypercorn (a sniff:
    nothing expanded)."""
    return any(
        any(find_programs(lex_shell(text, start, end)))
        for start, end in statements(text)
        if _SERVER_WORD.search(text, start, end)
    )


# --------------------------------------------------------------------------- reading


@dataclass
class _Frame:
    kind: str  # if | case | loop | group
    label: str
    saved: dict[str, Var]
    assigned: set[str] = field(default_factory=set)
    branch: str = ""
    expect_pattern: bool = False


@dataclass
class _Reader:
    source: SourceText
    runner: Runner | None
    env: dict[str, Var] = field(default_factory=dict)
    frames: list[_Frame] = field(default_factory=list)
    export_all: bool = False
    done: bool = False
    subshell: int = 0  # ( ... ) around the command
    backends: list[Backend] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.runner is not None:
            for name, variable in self.runner.env.items():
                origin = f"set by ENV in {self.runner.path.name}"
                value = variable.value if variable.static else None
                # Read inline (a shell-form CMD), the ENV's place is in this very file.
                start, end = (variable.start, variable.end) if self.inline else (-1, -1)
                self.env[name] = Var(value, origin, variable.value, exported=True, start=start, end=end)

    @property
    def name(self) -> str:
        return self.source.path.name

    @property
    def inline(self) -> bool:
        """A Dockerfile's own shell-form CMD / ENTRYPOINT, read as the shell runs it."""
        return self.runner is not None and self.runner.path == self.source.path

    # ----------------------------------------------------------------- structure

    def read(self) -> list[Backend]:
        text = self.source.text
        for start, end in statements(text):
            if self.done:
                break
            self._statement(lex_shell(text, start, end))
        return self.backends

    def _statement(self, words: list[Word]) -> None:
        current: list[Word] = []
        pattern: list[str] = []
        conditional = False  # after && or ||: it may not run
        for word in words:
            frame = self.frames[-1] if self.frames else None
            if frame is not None and frame.kind == "case" and frame.expect_pattern and not current:
                if word.text == "esac" and not word.operator:
                    self._close()
                elif word.operator and word.text == ")":
                    frame.expect_pattern = False
                    self._branch(frame, f"case {frame.label} in {'|'.join(pattern)}")
                    pattern = []
                elif not word.operator:
                    pattern.append(word.text)
                continue
            if word.operator:
                if current:
                    self._simple(current, conditional)
                current = []
                conditional = word.text in ("&&", "||")
                if word.text == ";;" and frame is not None and frame.kind == "case":
                    frame.expect_pattern = True
                elif word.text == "(":
                    self.subshell += 1
                elif word.text == ")" and self.subshell:
                    self.subshell -= 1
                continue
            current.append(word)
        if current:
            self._simple(current, conditional)

    def _open(self, kind: str, label: str) -> None:
        self.frames.append(_Frame(kind, label, dict(self.env)))

    def _branch(self, frame: _Frame, label: str) -> None:
        self.env = dict(frame.saved)
        frame.branch = label

    def _close(self) -> None:
        if not self.frames:
            return
        frame = self.frames.pop()
        self.env = dict(frame.saved)
        for name in frame.assigned:
            before = frame.saved.get(name)
            exported = self.export_all or (before is not None and before.exported)
            self.env[name] = Var(None, f"${name} is set under {frame.kind} in {self.name}", exported=exported)
        if self.frames:
            self.frames[-1].assigned |= frame.assigned

    def _simple(self, words: list[Word], conditional: bool = False) -> None:
        first = words[0].text
        if first in _OPENERS:
            kind = _OPENERS[first]
            label = self._raw(words[1:2] if kind == "case" else words[1:])
            self._open(kind, label)
            if kind == "case":
                self.frames[-1].expect_pattern = True
            elif kind == "if":
                self.frames[-1].branch = f"if {label}"
            return
        frame = self.frames[-1] if self.frames else None
        if first == "elif" and frame is not None:
            self._branch(frame, f"elif {self._raw(words[1:])}")
            return
        if first in ("then", "else", "do"):
            if first == "else" and frame is not None:
                self._branch(frame, f"else of if {frame.label}")
            words = words[1:]
            if not words:
                return
            first = words[0].text
        if first in _CLOSERS:
            self._close()
            return
        if first in ("{", "function"):
            self._open("group", "")
            if len(words) > 1:
                self._simple(words[1:])
            return
        self._command(words, conditional)

    def _raw(self, words: list[Word]) -> str:
        return self.source.text[words[0].start : words[-1].end] if words else ""

    # ----------------------------------------------------------------- commands

    def _command(self, words: list[Word], conditional: bool) -> None:
        prefix: dict[str, Var] = {}
        while words and (match := _ASSIGNMENT.fullmatch(words[0].text)) is not None:
            prefix[match.group(1)] = self._assigned(words[0], match.group(2))
            words = words[1:]
        if not words:
            for name, variable in prefix.items():
                self._set(name, variable)
            return
        first = words[0].text
        if first in _DECLARERS:
            exported = first == "export" or any(w.text.startswith("-") and "x" in w.text for w in words[1:])
            for word in words[1:]:
                if word.text.startswith("-"):
                    continue
                match = _ASSIGNMENT.fullmatch(word.text)
                if match is not None:
                    assigned = self._assigned(word, match.group(2))
                    self._set(match.group(1), replace(assigned, exported=exported))
                elif word.text in self.env and exported:
                    self.env[word.text] = replace(self.env[word.text], exported=True)
                elif exported:
                    unset = Var(None, f"${word.text} is not set in {self._where}", exported=True)
                    self._set(word.text, unset)
            return
        if first == "unset":
            for word in words[1:]:
                self._set(word.text, Var(None, f"${word.text} is unset in {self.name}"))
            return
        if first == "set" and any(w.text in ("-a", "-o") for w in words[1:]):
            self.export_all = self.export_all or any(w.text in ("-a", "allexport") for w in words[1:])
        for word in words:  # : "${PORT:=8000}" and any other ${NAME:=default}
            if not word.static:
                self._expand(word.text, assign=True)
        expanded, arguments_unknown = self._words(words)
        for server, index, segment in find_programs(expanded):
            self._start(server, index, segment, prefix, arguments_unknown)
        replaced = first == "exec" and len(words) > 1 and not _REDIRECTION.match(words[1].text)
        if (replaced or first == "exit") and not self.frames and not self.subshell and not conditional:
            self.done = True  # nothing after it runs

    def _assigned(self, word: Word, raw_value: str) -> Var:
        value, reason = (raw_value, "") if word.static else self._expand(raw_value)
        return Var(value, reason, raw_value, self.export_all, word.start, word.end)

    def _set(self, name: str, variable: Var) -> None:
        before = self.env.get(name)
        if before is not None and before.exported and not variable.exported:
            variable = replace(variable, exported=True)  # an inherited variable stays in the environment
        self.env[name] = variable
        if self.frames:
            self.frames[-1].assigned.add(name)

    # ----------------------------------------------------------------- expansion

    def _expand(self, text: str, *, assign: bool = False) -> tuple[str | None, str]:
        """``text`` with its variables expanded, or (None, why it cannot be)."""
        parts: list[str] = []
        position = 0
        while position < len(text):
            char = text[position]
            if char == "`" or text.startswith("$(", position):
                return None, f"{text} runs a command when the {self._runs} runs"
            if char == "$" and position + 1 == len(text):
                return None, f"{text}... runs a command when the {self._runs} runs"  # $( split off
            if char != "$":
                parts.append(char)
                position += 1
                continue
            if text[position + 1] == "{":
                close = _closing_brace(text, position + 2)
                if close < 0:
                    return None, f"{text} is not a complete expansion"
                value, reason = self._parameter(text[position + 2 : close], assign)
                position = close + 1
            else:
                match = _NAME.match(text, position + 1)
                if match is None:
                    parts.append(char)
                    position += 1
                    continue
                value, reason = self._variable(match.group())
                position = match.end()
            if value is None:
                return None, reason
            parts.append(value)
        return "".join(parts), ""

    def _parameter(self, body: str, assign: bool) -> tuple[str | None, str]:
        match = re.match(r"([A-Za-z_][A-Za-z0-9_]*|[0-9@*#?$!-])(:?[-=+?])?", body)
        word = body[match.end() :] if match is not None else body
        if match is None or (match.group(2) is None and word):  # ${#NAME}, ${NAME%x}, ${NAME/x/y}
            return None, f"${{{body}}} is computed when the {self._runs} runs"
        name, operator = match.group(1), match.group(2)
        state, value, reason = self._lookup(name)
        if operator is None:
            return self._variable(name)
        if state == _UNKNOWN:
            return None, reason
        unset = state == _UNSET or (operator.startswith(":") and value == "")
        if operator.endswith(("-", "=")):
            if not unset:
                return value, ""
            default, why = self._expand(word)
            if assign and operator.endswith("=") and default is not None:
                self._set(name, Var(default, raw=default, exported=self.export_all))
            return default, why
        if operator.endswith("+"):
            return ("", "") if unset else self._expand(word)
        return (value, "") if not unset else (None, f"${name} is not set in {self._where}")

    def _variable(self, name: str) -> tuple[str | None, str]:
        state, value, reason = self._lookup(name)
        if state == _UNSET:
            if name.isdigit() and self.runner is not None:
                return "", ""
            return None, f"${name} is not set in {self._where}"
        return value, reason

    @property
    def _runs(self) -> str:
        return "command" if self.inline else "script"

    @property
    def _where(self) -> str:
        return self.name + (f" nor in {self.runner.path.name}" if self.runner and not self.inline else "")

    def _lookup(self, name: str) -> tuple[str, str | None, str]:
        """(set | unset | unknown, the value, why it is unknown)."""
        if name.isdigit():
            if self.runner is None:
                return _UNKNOWN, None, f"${name} is an argument of {self.name}"
            index = int(name) - 1
            if index < 0 or index >= len(self.runner.args):
                return (_UNKNOWN, None, f"${name} is computed") if index < 0 else (_UNSET, None, "")
            text, static = self.runner.args[index]
            return (_SET, text, "") if static else (_UNKNOWN, None, f"${name} is {text}")
        if _positional(name):
            return _UNKNOWN, None, f"${name} is computed when the {self._runs} runs"
        known = self.env.get(name)
        if known is None:
            return _UNSET, None, ""
        if known.value is None:
            return _UNKNOWN, None, known.reason
        return _SET, known.value, ""

    def _words(self, words: list[Word]) -> tuple[list[Word], bool]:
        """The command's words after expansion; whether ``"$@"`` hides arguments."""
        out: list[Word] = []
        unknown_arguments = False
        for word in words:
            if word.static:
                out.append(word)
                continue
            if word.text in ("$@", "$*", "${@}", "${*}"):
                if self.runner is None:
                    unknown_arguments = True
                for text, static in self.runner.args if self.runner is not None else ():
                    out.append(replace(word, text=text, static=static, editable=False, reason=""))
                continue
            raw = word.raw(self.source)
            value, reason = self._expand(word.text)
            if value is None:
                why = f"expanded when the {self._runs} runs: {raw} ({reason})"
                out.append(replace(word, static=False, editable=False, reason=why))
                continue
            shown = raw.split("=", 1)[1] if raw.startswith("-") and "=" in raw else raw
            if not raw.startswith(('"', "'")) and value.split() != [value]:
                out.extend(words_at(value, word.start, word.end))  # an unquoted expansion is split
            else:
                out.append(replace(word, text=value, static=True, editable=False, shown=shown))
        return out, unknown_arguments

    # ----------------------------------------------------------------- backends

    def _start(
        self, server: str, index: int, words: list[Word], prefix: dict[str, Var], arguments_unknown: bool
    ) -> None:
        branches = [frame.branch for frame in self.frames if frame.branch]
        process = self.name + (f", {', '.join(branches)}" if branches else "")
        if self.runner is not None:
            process = self.runner.process if self.inline else f"{self.runner.process} runs {process}"
            process += f", {self.runner.how}" if self.runner.how else ""
        backend = command_backend(self.source, server, index, words, process)
        if self.runner is not None and not self.inline:
            backend.files.append(self.runner.path)
        env = {name: self._env_var(name, v) for name, v in {**self.env, **prefix}.items()}
        exported = {name: v for name, v in env.items() if name in prefix or self._exported(name)}
        given = set(backend.settings)
        backend = apply_environment(self.source, backend, index, words, exported)
        if arguments_unknown:
            # "$@" comes after everything the environment gives, and may give anything.
            reason = f'may be given as arguments of {self.name} ("$@")'
            names = set(SERVER_FACTS[server].python_names.values())
            settings = {name: v for name, v in backend.settings.items() if name in given}
            unknown = {name: reason for name in names if name not in given}
            backend = replace(
                backend, settings=settings, unknown={**backend.unknown, **unknown}, port_env=None
            )
        self.backends.append(backend)

    def _exported(self, name: str) -> bool:
        variable = self.env.get(name)
        return variable is not None and (variable.exported or self.export_all)

    def _env_var(self, name: str, variable: Var) -> EnvVar:
        if variable.value is None:
            return EnvVar(name, variable.raw, False, variable.start, variable.end, variable.reason)
        return EnvVar(name, variable.value, True, variable.start, variable.end)


def _positional(name: str) -> bool:
    return not (name[0].isalpha() or name[0] == "_")


def _closing_brace(text: str, position: int) -> int:
    depth = 1
    while position < len(text):
        if text[position] == "{":
            depth += 1
        elif text[position] == "}":
            depth -= 1
            if depth == 0:
                return position
        position += 1
    return -1


def read_inline(source: SourceText, words: list[Word], runner: Runner) -> list[Backend]:
    """The servers a Dockerfile's shell-form CMD / ENTRYPOINT starts (``/bin/sh -c`` runs
    it): its words expanded with the image's ENV as a script's are, ``$PORT`` included."""
    reader = _Reader(source, runner)
    reader._statement(words)
    return reader.backends


def load(source: SourceText, runner: Runner | None = None) -> LoadedFile:
    loaded = LoadedFile(source.path, COMMAND_KIND)
    loaded.backends = _Reader(source, runner).read()
    return loaded


# --------------------------------------------------------------------------- Dockerfiles


@dataclass(frozen=True)
class ScriptRun:
    script: str  # as the Dockerfile names it: "/docker-entrypoint.sh", "./start.sh"
    runner: Runner


def dockerfile_runs(source: SourceText, dockerfile: Path) -> list[ScriptRun]:
    """The scripts the final stage's ENTRYPOINT/CMD run, when they start no server themselves."""
    from tlslint.sources.python.commands import dockerfile_commands

    runs = []
    for command in dockerfile_commands(source):
        if any(find_programs(command.words)):
            continue
        words = [w for w in command.words if not w.operator]
        position = 0
        while position < len(words) and (
            words[position].text.rsplit("/", 1)[-1] in _WRAPPERS or words[position].text.startswith("-")
        ):
            if words[position].text == "-c" and position + 1 < len(words):
                inner = words[position + 1].text  # sh -c "/start.sh web"
                words = [*lex_shell(inner, 0, len(inner)), *words[position + 2 :]]
                position = 0
                continue
            position += 1
        if position >= len(words) or not words[position].static:
            continue
        args = tuple((w.text, w.static) for w in words[position + 1 :])
        runs.append(ScriptRun(words[position].text, Runner(dockerfile, command.process, command.env, args)))
    return runs
