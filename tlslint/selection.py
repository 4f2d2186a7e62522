"""Which rules run: ``select``, ``extend-select`` and ``ignore``, layered as ruff layers them.

The settings file is one layer and the command line another, applied in that order
over the default (every rule but the opt-in ones). Within a layer the most specific
selector decides for each rule (a code or rule name over a longer prefix, over a
shorter one, over ALL), and ``ignore`` beats ``select`` at the same specificity. A
layer that gives ``select`` starts the selection afresh: ``--select NGX102`` runs
NGX102 whatever the file's ``ignore`` says (only ``--ignore`` beside it removes rules
from it); a layer without one adjusts what the layers before it selected.
Per-file ignores and suppression comments apply afterwards, to the findings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tlslint import catalogue

ALL = "ALL"


class SelectionError(ValueError):
    """A selection that names no rule or leaves none to run, worded for the user."""


@dataclass(frozen=True, slots=True)
class RuleSelection:
    """One layer's selectors as written (codes, prefixes, rule names, ALL)."""

    select: tuple[str, ...] | None = None  # None: this layer does not start afresh
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    origin: str = ""  # where it was written, for messages: a settings file, "command line"

    @property
    def empty(self) -> bool:
        return self.select is None and not self.extend_select and not self.ignore


# A selector as a code prefix: "" for ALL, a rule name as its code. Its specificity is
# the prefix's length, so a code beats NGX10, which beats NGX, which beats ALL.
_Prefix = str


def prefixes(selectors: Iterable[str], names: Mapping[str, str]) -> tuple[_Prefix, ...]:
    result = []
    for selector in selectors:
        wanted = selector.strip()
        result.append("" if wanted.upper() == ALL else names.get(wanted, wanted.upper()))
    return tuple(result)


@dataclass(frozen=True, slots=True)
class _Layer:
    select: tuple[_Prefix, ...] | None
    extend_select: tuple[_Prefix, ...]
    ignore: tuple[_Prefix, ...]


class Resolution:
    """The rules a run's layers select, decided once per code."""

    def __init__(self, layers: Sequence[RuleSelection]) -> None:
        index = catalogue.index()
        names = {meta.name: code for code, meta in index.items()}
        self._opt_in = frozenset(code for code, meta in index.items() if meta.opt_in)
        self._layers = [
            _Layer(
                prefixes(layer.select, names) if layer.select is not None else None,
                prefixes(layer.extend_select, names),
                prefixes(layer.ignore, names),
            )
            for layer in layers
            if not layer.empty
        ]
        self._decided = {code: self._decide(code) for code in index}

    def selects(self, code: str) -> bool:
        decided = self._decided.get(code)
        return decided if decided is not None else self._decide(code)  # a code no rule has

    def selected(self) -> list[str]:
        return [code for code, on in self._decided.items() if on]

    def _decide(self, code: str) -> bool:
        opt_in = code in self._opt_in
        on = not opt_in  # the default: every rule but the opt-in ones
        for layer in self._layers:
            # The most specific selector matching the code; ignore wins a tie.
            best, verdict = -1, None
            for chosen in (layer.select or (), layer.extend_select):
                for prefix in chosen:
                    # An opt-in rule runs only where a selector names it, never by prefix.
                    matches = prefix == code if opt_in else code.startswith(prefix)
                    if matches and len(prefix) > best:
                        best, verdict = len(prefix), True
            for prefix in layer.ignore:
                if code.startswith(prefix) and len(prefix) >= best:
                    best, verdict = len(prefix), False
            if layer.select is not None:
                on = verdict is True  # afresh: only what this layer selects
            elif verdict is not None:
                on = verdict
        return on


# An option's values as given: one per repetition (``--ignore A --ignore B,C``), or one string.
Given = str | Sequence[str] | None


def _joined(value: Given) -> str | None:
    """Repeated options add up, as in ruff: pre-commit ``args: [--ignore, A, --ignore, B]``
    must ignore both, not only the last."""
    return value if value is None or isinstance(value, str) else ",".join(value)


def command_line(select: Given, extend_select: Given, ignore: Given) -> RuleSelection:
    """The command line's layer from ``--select``, ``--extend-select`` and ``--ignore``,
    each given once or more (comma lists and repetitions combine).

    Raises SelectionError for a selector that names no rule, and for a ``--select``
    that names none at all (``--select "$RULES"`` with RULES unset would turn every
    check off)."""
    select, extend_select, ignore = _joined(select), _joined(extend_select), _joined(ignore)
    chosen = _selectors("--select", select) if select is not None else None
    if chosen is not None and not chosen:
        raise SelectionError(
            f"--select {select!r} names no rule, so nothing would be checked "
            "(leave --select out to run every rule)"
        )
    return RuleSelection(
        chosen,
        _selectors("--extend-select", extend_select) if extend_select is not None else (),
        _selectors("--ignore", ignore) if ignore is not None else (),
        "command line",
    )


def _selectors(option: str, value: str) -> tuple[str, ...]:
    """Comma-separated codes, prefixes or names; a typo is an error, never "no rules"."""
    selectors = tuple(s.strip() for s in value.split(",") if s.strip())
    problems = [f"{option}: {problem}" for s in selectors if (problem := selector_problem(s))]
    if problems:
        raise SelectionError("\n".join(problems))
    return selectors


def selector_problem(selector: str) -> str | None:
    """Why ``selector`` (a code, a code prefix, a rule name or ALL) selects no rule."""
    index = catalogue.index()
    wanted = selector.strip()
    if not wanted:
        return f"'{selector}' names no rule (an empty selector)"
    if wanted.upper() == ALL or any(meta.name == wanted for meta in index.values()):
        return None
    if any(code.startswith(wanted.upper()) for code in index):
        return None
    import difflib  # only to word an error

    candidates = [*index, *(meta.name for meta in index.values())]
    close = difflib.get_close_matches(wanted, candidates, n=1, cutoff=0.6)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    return f"'{selector}' is no rule code, code prefix or rule name{hint}"


def require_some(layers: Sequence[RuleSelection]) -> None:
    """Raise SelectionError when ``layers`` leave no rule to run: a check that checks
    nothing and says "All checks passed" hides a mistake."""
    if Resolution(layers).selected():
        return
    last = next((layer for layer in reversed(layers) if layer.select is not None), None)
    if last is not None and not last.select and not last.extend_select:
        where = "--select" if last.origin == "command line" else f"{last.origin}: 'select'"
        raise SelectionError(f"{where} is empty, so no rule would run (leave it out to run every rule)")
    # From the last layer that starts afresh: the ones before it decide nothing.
    starts = [i for i, layer in enumerate(layers) if layer.select is not None]
    given = [
        f"{key} = [{', '.join(values)}] ({layer.origin})"
        for layer in layers[starts[-1] if starts else 0 :]
        for key, values in (
            ("select", layer.select),
            ("extend-select", layer.extend_select),
            ("ignore", layer.ignore),
        )
        if values is not None and (values or key == "select")
    ]
    raise SelectionError(f"no rule would run, so nothing would be checked: {', '.join(given)}")
