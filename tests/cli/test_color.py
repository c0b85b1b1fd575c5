"""``--color``: on and off as asked, auto only on a terminal; what each style paints."""

from __future__ import annotations

import io

import pytest

from airflow_connect_fed.cli.color import Palette


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("color", "tty", "enabled"),
    [("auto", True, True), ("auto", False, False), ("on", False, True), ("off", True, False)],
)
def test_color_auto_follows_the_terminal(color, tty, enabled):
    palette = Palette.for_stream(color, _Stream(tty))
    assert palette.enabled is enabled
    assert (palette.paint("x", "error") != "x") is enabled


class _NoIsatty:
    """A stream-like object without ``isatty``, as some wrappers are."""

    def write(self, text: str) -> int:
        return len(text)


def test_auto_without_isatty_is_off():
    assert Palette.for_stream("auto", _NoIsatty()).enabled is False  # type: ignore[arg-type]
    assert Palette.for_stream("on", _NoIsatty()).enabled is True  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("style", "painted"),
    [
        ("cell", "\x1b[1m\x1b[34mtext\x1b[0m"),
        ("border", "\x1b[2m\x1b[33mtext\x1b[0m"),
        ("key", "\x1b[1m\x1b[34mtext\x1b[0m"),
        ("passed", "\x1b[32mtext\x1b[0m"),
        ("failed", "\x1b[1m\x1b[31mtext\x1b[0m"),
        ("skipped", "\x1b[33mtext\x1b[0m"),
        ("error", "\x1b[1m\x1b[31mtext\x1b[0m"),
    ],
)
def test_each_style_wraps_the_text_and_resets(style, painted):
    assert Palette(True).paint("text", style) == painted
    assert Palette(False).paint("text", style) == "text"


def test_empty_text_is_never_painted():
    assert Palette(True).paint("", "cell") == ""
