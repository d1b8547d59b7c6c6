"""MapError: a road map file (OpenDRIVE, YAML roads) is invalid, located by file, road and lane."""

from __future__ import annotations

__all__ = ["MapError"]


class MapError(ValueError):
    """A map cannot be loaded; the message names the file and, where known, the road and lane.

    Attributes:
        file: the map file (or ``"<string>"``).
        road: road id the problem is in, or ``None``.
        lane: lane id (or lane name) the problem is in, or ``None``.
        line, col: 1-based position in the file where known (XML syntax errors), else ``None``.
        reason: the bare message.
    """

    def __init__(
        self,
        file: str,
        reason: str,
        *,
        road: str | None = None,
        lane: str | None = None,
        line: int | None = None,
        col: int | None = None,
    ) -> None:
        self.file = file
        self.road = road
        self.lane = lane
        self.line = line
        self.col = col
        self.reason = reason
        super().__init__(self._text())

    def _text(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}:{self.col or 0}"
        parts = [where]
        if self.road is not None:
            parts.append(f"road {self.road!r}")
        if self.lane is not None:
            parts.append(f"lane {self.lane!r}")
        return ": ".join(parts) + f": {self.reason}"

    def __str__(self) -> str:
        return self._text()

    def __reduce__(self) -> tuple:
        return (_rebuild, (self.file, self.reason, self.road, self.lane, self.line, self.col))


def _rebuild(file: str, reason: str, road: str | None, lane: str | None, line: int | None, col: int | None) -> MapError:
    return MapError(file, reason, road=road, lane=lane, line=line, col=col)
