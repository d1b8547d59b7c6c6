"""Located scenario diagnostics (file:line:col) that are collected and raised together."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Issue", "ScenarioError", "did_you_mean"]


@dataclass(frozen=True)
class Issue:
    """One problem in a scenario file; ``line``/``col`` are 1-based, ``path`` may be empty."""

    file: str
    line: int
    col: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"


class ScenarioError(ValueError):
    """A scenario file is invalid; carries every :class:`Issue` found (at least one)."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        collected = list(issues)
        if not collected:
            raise ValueError("ScenarioError needs at least one Issue")
        self.issues: list[Issue] = collected
        super().__init__(self._text())

    @classmethod
    def single(cls, file: str, line: int, col: int, path: str, message: str) -> ScenarioError:
        """Build an error holding exactly one issue."""
        return cls([Issue(file, line, col, path, message)])

    def _text(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)

    def __str__(self) -> str:
        return self._text()

    def __reduce__(self) -> tuple[type[ScenarioError], tuple[list[Issue]]]:
        # ValueError pickles via ``args`` (the joined text); rebuild from the issues instead.
        return (type(self), (self.issues,))


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest candidate, or ``""`` if none is close."""
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {matches[0]!r}?)" if matches else ""
