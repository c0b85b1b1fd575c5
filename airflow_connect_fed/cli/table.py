"""``--output table``: the AWS CLI's table layout, rebuilt so the package does not depend on awscli.

A response becomes sections: a dict's scalar keys (sorted) form a section, its nested values become
indented sub-sections, a list of dicts one section of rows. Tables wider than the terminal are
turned vertical: every one-row section becomes ``key | value`` rows. Column widths, centring and
borders follow awscli's ``table.py`` so the output is the same character for character.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_connect_fed.cli.color import Palette

_PADDING = 4  # two spaces each side of a cell


def text_width(text: str) -> int:
    """Terminal columns ``text`` takes: East Asian wide, full-width and ambiguous characters take two."""
    return sum(2 if unicodedata.east_asian_width(char) in "WFA" else 1 for char in text)


@dataclass
class Section:
    """A titled block of the table: optional column headers and rows of cells."""

    title: str = ""
    indent_level: int = 0
    headers: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)
    max_widths: list[int] = field(default_factory=list)

    def add_headers(self, headers: list[str]) -> None:
        self._widen(headers)
        self.headers = headers

    def add_row(self, row: list[Any]) -> None:
        cells = [str(cell) for cell in row]
        columns = len(self.rows[0]) if self.rows else len(self.headers or cells)
        if len(cells) != columns:
            raise ValueError(f"Row should have {columns} elements, instead it has {len(cells)}")
        self.rows.append(cells)
        self._widen(cells)

    def _widen(self, cells: list[str]) -> None:
        widths = [text_width(cell) for cell in cells]
        self.max_widths = [max(pair) for pair in zip_longest(self.max_widths, widths, fillvalue=0)]

    def total_width(self) -> int:
        """Width with borders, padding and the indentation of nested sections."""
        columns = sum(width + _PADDING for width in self.max_widths) + 2 + 2 * self.indent_level
        return max(text_width(self.title) + 2 + 2 * self.indent_level, columns)

    def column_widths(self, max_width: int) -> list[int]:
        """Padded column widths scaled to add up to exactly ``max_width``."""
        unscaled = [width + _PADDING for width in self.max_widths]
        if not unscaled:
            return unscaled
        scale = max_width / float(sum(unscaled))
        scaled = [round(scale * width) for width in unscaled]
        off_by = sum(scaled) - max_width
        while off_by != 0:
            order = range(len(scaled)) if off_by > 0 else reversed(range(len(scaled)))
            for i in order:
                step = 1 if off_by > 0 else -1
                scaled[i] -= step
                off_by -= step
                if off_by == 0:
                    break
        return scaled

    def vertical(self) -> Section:
        """A one-row section with headers as ``header | value`` rows (for narrow terminals)."""
        if len(self.rows) != 1 or not self.headers:
            return self
        turned = Section(self.title, self.indent_level)
        for header, cell in zip(self.headers, self.rows[0], strict=True):
            turned.add_row([header, cell])
        return turned


def render_table(title: str, data: Any, *, width: int, palette: Palette) -> str:
    """Render ``data`` under ``title`` (the operation name) as the AWS CLI's table output."""
    sections: list[Section] = []
    if not _build(sections, title, data, 0):
        return ""
    max_width = max(section.total_width() for section in sections)
    if max_width > width:
        sections = [section.vertical() for section in sections]
        max_width = max(section.total_width() for section in sections)
    lines = ["-" * max_width]
    for section in sections:
        lines.extend(_render_section(section, max_width, palette))
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> bool:
    return not isinstance(value, (list, dict))


def _build(sections: list[Section], title: str | None, data: Any, indent_level: int) -> bool:
    if not data:
        return False
    if title is not None:
        sections.append(Section(title, indent_level))
    if isinstance(data, list):
        if isinstance(data[0], dict):
            _build_from_list_of_dicts(sections, data, indent_level, title)
        else:
            for item in data:
                if _scalar(item):
                    sections[-1].add_row([item])
                elif all(_scalar(element) for element in item):
                    sections[-1].add_row(list(item))
                else:
                    _build(sections, None, item, 0)
    if isinstance(data, dict):
        _build_from_dict(sections, data, indent_level)
    return True


def _build_from_dict(sections: list[Section], data: dict[str, Any], indent_level: int) -> None:
    headers = sorted(key for key, value in data.items() if _scalar(value))
    nested = sorted(key for key, value in data.items() if not _scalar(value))
    if len(headers) == 1:
        sections[-1].add_row([headers[0], data[headers[0]]])
    elif headers:
        sections[-1].add_headers(headers)
        sections[-1].add_row([data[key] for key in headers])
    for key in nested:
        _build(sections, key, data[key], indent_level + 1)


def _build_from_list_of_dicts(
    sections: list[Section], items: list[dict[str, Any]], indent_level: int, title: str | None
) -> None:
    headers = sorted({key for item in items for key, value in item.items() if _scalar(value)})
    nested = sorted({key for item in items for key, value in item.items() if not _scalar(value)})
    sections[-1].add_headers(headers)
    for position, item in enumerate(items):
        if position and nested:
            sections.append(Section(title or "", indent_level))
            sections[-1].add_headers(headers)
        sections[-1].add_row([item.get(header, "") for header in headers])
        for key in nested:
            if key in item:
                _build(sections, key, item[key], indent_level + 1)


def _render_section(section: Section, max_width: int, palette: Palette) -> list[str]:
    border = palette.paint("|", "border") * section.indent_level
    inner_width = max_width - 2 * section.indent_level
    lines: list[str] = []
    if section.title:
        lines.append(_centred(section.title, inner_width, left_edge="|"))
        if not section.headers and not section.rows:
            lines.append("+" + "-" * (inner_width - 2) + "+")
    widths = section.column_widths(inner_width)
    if section.headers:
        lines.append(_line_break(widths))
        lines.append(_header_row(section.headers, widths))
    if section.rows and widths:
        lines.append(_line_break(widths))
        lines.extend(_row(row, widths, palette) for row in section.rows)
        lines.append(_line_break(widths))
    return [f"{border}{line}{border}" for line in lines]


def _centred(text: str, width: int, left_edge: str) -> str:
    start = width // 2 - text_width(text) // 2 - 1
    used = len(left_edge) + start + text_width(text)
    return left_edge + " " * start + text + " " * (width - 1 - used) + "|"


def _header_row(headers: list[str], widths: list[int]) -> str:
    cells = enumerate(zip(widths, headers, strict=False))
    return "".join(_centred(header, width, "" if position else "|") for position, (width, header) in cells)


def _row(cells: list[str], widths: list[int], palette: Palette) -> str:
    parts = []
    for position, (width, cell) in enumerate(zip(widths, cells, strict=False)):
        left_edge = "" if position else "|"
        padding = 2 if width - (text_width(cell) + 2 + len(left_edge) + 1) >= 0 else 0
        used = len(left_edge) + padding + text_width(cell)
        parts.append(left_edge + " " * padding + palette.paint(cell, "cell") + " " * (width - used - 1) + "|")
    return "".join(parts)


def _line_break(widths: list[int]) -> str:
    return (
        "+"
        + "+".join("-" * (width - (2 if position == 0 else 1)) for position, width in enumerate(widths))
        + "+"
    )
