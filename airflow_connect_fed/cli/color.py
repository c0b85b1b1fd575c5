"""ANSI colors for ``--color on|off|auto``: auto colors a stream only when it is a terminal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TextIO

Style = Literal["cell", "border", "key", "passed", "failed", "skipped", "error"]

_RESET = "\x1b[0m"
_CODES: dict[Style, str] = {
    "cell": "\x1b[1m\x1b[34m",  # bright blue, as the AWS CLI colors table cells
    "border": "\x1b[2m\x1b[33m",  # dim yellow, as the AWS CLI colors nested table borders
    "key": "\x1b[1m\x1b[34m",
    "passed": "\x1b[32m",
    "failed": "\x1b[1m\x1b[31m",
    "skipped": "\x1b[33m",
    "error": "\x1b[1m\x1b[31m",
}


@dataclass(frozen=True)
class Palette:
    """Paints text when enabled; a disabled palette returns text unchanged."""

    enabled: bool

    @classmethod
    def for_stream(cls, color: str, stream: TextIO) -> Palette:
        """The palette for ``--color`` (on, off or auto) writing to ``stream``."""
        if color == "auto":
            return cls(_is_terminal(stream))
        return cls(color == "on")

    def paint(self, text: str, style: Style) -> str:
        return f"{_CODES[style]}{text}{_RESET}" if self.enabled and text else text


def _is_terminal(stream: TextIO) -> bool:
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())
