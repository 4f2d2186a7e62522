"""ruamel.yaml's scanner, taking a tab where go-yaml (helm, kubectl) takes it.

ruamel reads a tab in block context as the start of a token everywhere outside flow
collections and quoted or block scalars: ``sslSecret: prod-tls<TAB>`` or
``minTLSProtocolVersion: 1.2<TAB># floor`` is "found character '\\t' that cannot start
any token". go-yaml, as libyaml before it, skips a tab as a separator wherever no simple
key can start (scannerc.go, yaml_parser_scan_to_next_token: "Tabs are allowed: in the
flow context; in the block context, but not at the beginning of the line or after '-',
'?', or ':' (complex value)"), keeps tabs between the words of a plain scalar, and ends
a block scalar's header (``|``, ``>-``) at a tab as at a space. YAML 1.2 allows tabs in
all these places too (s-separate-in-line is spaces or tabs; only s-indent is spaces).

The tabs go-yaml refuses stay errors: in the indentation (a line's leading blanks, up to
a plain scalar's indentation on its continuation lines), right after a block ``-`` or
``?``, or after the ``:`` of an explicit ``? key``: YAML 1.2 takes ``-<TAB>b`` (its
example 6.2), but the files are read by the tools that apply them. Held against the real
helm in tests/test_goyaml_reading.py. Still refused where go-yaml takes it: a tab ending a
tag (``!!str<TAB>v``) or a directive line.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.scanner import Scanner, ScannerError

_BLANKS = " \t"
_BREAKS = "\r\n\x85\u2028\u2029"


class GoYamlTabsScanner(Scanner):
    def scan_to_next_token(self) -> Any:
        # ruamel's own loop skips tabs in flow context only; where no simple key may
        # start (after a value, a `key:`, an anchor...), go-yaml skips them as spaces.
        if not self.allow_simple_key and self.reader.peek() in _BLANKS:
            self._skip_blanks()
        return super().scan_to_next_token()

    def scan_plain_spaces(self, indent: Any, start_mark: Any) -> Any:
        """The blanks after a word of a plain scalar, and the line breaks and leading blanks
        of the lines it continues on, folded (ruamel's, with go-yaml's tabs).

        go-yaml keeps a run of blanks holding a tab inside the scalar (``a<TAB>b`` is
        "a<TAB>b"), where ruamel ends the scalar at the tab; and on a continuation line it
        takes tabs among the leading blanks past the scalar's indentation (yaml_parser_scan_
        plain_scalar; one before it is "a tab character that violates indentation").
        """
        reader = self.reader
        run = self._blank_run()
        reader.forward(len(run))
        if reader.peek() not in _BREAKS:
            # Before a word the run is part of the scalar; before a comment or the end of
            # the text scan_plain ends the scalar (trailing blanks are no part of it).
            return [run] if run else []
        line_break = self.scan_line_break()
        self.allow_simple_key = True
        if self._document_mark():
            return None
        breaks = []
        while True:
            ch = reader.peek()
            while ch == " " or (ch == "\t" and reader.column >= indent):
                reader.forward()
                ch = reader.peek()
            if ch not in _BREAKS:
                break
            breaks.append(self.scan_line_break())
            if self._document_mark():
                return None
        # A single line break folds to a space; more keep all but the first.
        chunks = [line_break] if line_break != "\n" else [] if breaks else [" "]
        return chunks + breaks

    def scan_block_scalar_indicators(self, start_mark: Any) -> Any:
        """``|``, ``>-``, ``|2``...: a header may end at a tab (go-yaml takes it as blank)."""
        header = self.reader.prefix(2)
        try:
            return super().scan_block_scalar_indicators(start_mark)
        except ScannerError:
            if self.reader.peek() != "\t":
                raise
            # ruamel read a valid header and stopped at the tab after it.
            read = header[: len(header) - len(header.lstrip("+-0123456789"))]
            chomping = True if "+" in read else False if "-" in read else None
            digits = [int(ch) for ch in read if ch.isdigit()]
            return chomping, digits[0] if digits else None

    def scan_block_scalar_ignored_line(self, start_mark: Any) -> Any:
        self._skip_blanks()  # "|<TAB># comment": ruamel skips spaces only
        return super().scan_block_scalar_ignored_line(start_mark)

    def _blank_run(self) -> str:
        peek = self.reader.peek
        length = 0
        while peek(length) in _BLANKS:
            length += 1
        return str(self.reader.prefix(length)) if length else ""

    def _document_mark(self) -> bool:
        """At ``---`` or ``...`` opening a line: the scalar ends before it."""
        return self.reader.prefix(3) in ("---", "...") and self.reader.peek(3) in "\0 \t\r\n\x85\u2028\u2029"

    def _skip_blanks(self) -> None:
        while self.reader.peek() in _BLANKS:
            self.reader.forward()
