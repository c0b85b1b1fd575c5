"""Benchmark results (sections of figures with targets) and the docs/performance.md page built from them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path


@dataclass
class Figure:
    """One measured value; ``passed`` is None for a figure that has no target of its own."""

    name: str
    value: str
    method: str
    target: str = ""
    passed: bool | None = None


@dataclass
class Section:
    """The figures one benchmark produced, with notes on what limited them."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    error: str | None = None

    def add(self, name: str, value: str, method: str, target: str = "", passed: bool | None = None) -> None:
        self.figures.append(Figure(name, value, method, target, passed))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> Section:
        data: dict[str, Any] = json.loads(path.read_text())
        figures = [Figure(**figure) for figure in data.pop("figures")]
        return cls(figures=figures, **data)


def verdict(passed: bool | None) -> str:
    return "" if passed is None else ("PASS" if passed else "FAIL")


def render_page(sections: list[Section], machine: dict[str, str], total_seconds: float) -> str:
    """The whole docs/performance.md: machine, one table per benchmark, method notes."""
    lines = [
        "# Performance",
        "",
        "<!-- Written by `make bench` (benchmarks/run.py); edits here are overwritten. -->",
        "",
        "Every figure on this page was measured in one run of `make bench` "
        f"(`benchmarks/run.py`, {total_seconds:.0f} s in all) on {machine['date']}:",
        "",
    ]
    lines += [f"- {name}: {value}" for name, value in machine.items() if name != "date"]
    lines += [
        "",
        "All AWS calls go to the local emulator (`python -m amazon_connect_emulator`) over HTTP on "
        "loopback, in its own process unless a section says otherwise. Absolute times are this machine's; "
        "the ratios and the emulator's request counts are what carries over.",
        "",
        "To reproduce: `make bench`. It rewrites this page; the run exits non-zero only if a benchmark "
        "could not run (a missed target is reported here as FAIL, not as an error).",
    ]
    for section in sections:
        lines += ["", *render_section(section)]
    return "\n".join(lines) + "\n"


def render_section(section: Section, measured_apart: str = "") -> list[str]:
    """One benchmark's part of the page, from its ``## title`` line; ``measured_apart`` says when it was run alone."""
    lines = [f"## {section.title}", ""]
    if measured_apart:
        lines += [measured_apart, ""]
    if section.error is not None:
        return [*lines, f"**Could not run:** {section.error}"]
    lines += ["| Figure | Value | Target | Result |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {f.name} | {f.value} | {f.target or '-'} | {verdict(f.passed) or '-'} |" for f in section.figures
    ]
    lines += ["", f"Method ({section.seconds:.0f} s):", ""]
    lines += [f"- *{f.name}*: {f.method}" for f in section.figures if f.method]
    for note in section.notes:
        lines += ["", note]
    return lines


def replace_section(page: str, section: Section, measured_apart: str) -> str:
    """``page`` with this benchmark's part replaced by ``section``; the rest stays as the last full run wrote it.

    The part is found by its title, whichever issue the title names. A part not on the page yet is appended.
    """
    lines = page.rstrip("\n").split("\n")
    base = section.title.split(" (issue")[0]
    starts = [
        i for i, line in enumerate(lines) if line == f"## {base}" or line.startswith(f"## {base} (issue")
    ]
    new = render_section(section, measured_apart)
    if not starts:
        return "\n".join([*lines, "", *new]) + "\n"
    start = starts[0]
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    tail = ["", *lines[end:]] if end < len(lines) else []
    return "\n".join([*lines[:start], *new, *tail]) + "\n"
