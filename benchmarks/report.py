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
        "All AWS calls go to the local emulator (`python -m airflow_connect_fed.testing`) over HTTP on "
        "loopback, in its own process unless a section says otherwise. Absolute times are this machine's; "
        "the ratios and the emulator's request counts are what carries over.",
        "",
        "To reproduce: `make bench`. It rewrites this page; the run exits non-zero only if a benchmark "
        "could not run (a missed target is reported here as FAIL, not as an error).",
    ]
    for section in sections:
        lines += ["", f"## {section.title}", ""]
        if section.error is not None:
            lines += [f"**Could not run:** {section.error}"]
            continue
        lines += ["| Figure | Value | Target | Result |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {f.name} | {f.value} | {f.target or '-'} | {verdict(f.passed) or '-'} |"
            for f in section.figures
        ]
        lines += ["", f"Method ({section.seconds:.0f} s):", ""]
        lines += [f"- *{f.name}*: {f.method}" for f in section.figures if f.method]
        for note in section.notes:
            lines += ["", note]
    return "\n".join(lines) + "\n"
