"""``make bench``: run every benchmark, each in a fresh process, and rewrite docs/performance.md.

Exit status 0 when every benchmark ran, whether or not it met its target (a missed target is
reported as FAIL on the page); 1 when a benchmark could not run (its section says why).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from harness import PYTHON, REPO
from machine import describe
from report import Section, render_page, verdict

HERE = Path(__file__).resolve().parent
#: (module, section title), in the order of the page.
BENCHMARKS = [
    ("bulk_throughput", "Bulk throughput (issue 5)"),
    ("memory_peak", "Memory (issue 5)"),
    ("supervisor_masking", "Secret masking with many agents (issue 5)"),
    ("parse_cost", "DAG parse cost (issue 7)"),
    ("call_overhead", "Per-call overhead (issue 7)"),
    ("token_reuse", "Token reuse (issue 7)"),
]
TIMEOUT = 300.0


def run_one(module: str, title: str, workdir: Path) -> Section:
    """Run ``benchmarks/<module>.py`` in its own interpreter; a crash or timeout becomes the section's error."""
    output, log = workdir / f"{module}.json", workdir / f"{module}.log"
    started = time.monotonic()
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [PYTHON, str(HERE / f"{module}.py"), "--output", str(output)],
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            returncode = process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            process.terminate()  # the benchmark turns SIGTERM into SystemExit and stops its emulator
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            return Section(
                title, seconds=time.monotonic() - started, error=f"timed out after {TIMEOUT:.0f} s"
            )
    if returncode != 0 or not output.exists():
        tail = log.read_text(errors="replace").strip().splitlines()[-15:]
        error = f"exited with {returncode}:\n\n```\n" + "\n".join(tail) + "\n```"
        return Section(title, seconds=time.monotonic() - started, error=error)
    return Section.load(output)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--only", action="append", choices=[m for m, _ in BENCHMARKS], help="run just this one (repeatable)"
    )
    parser.add_argument("--page", type=Path, default=REPO / "docs" / "performance.md", help="page to write")
    options = parser.parse_args()
    selected = [(m, t) for m, t in BENCHMARKS if not options.only or m in options.only]
    machine = describe()
    started = time.monotonic()
    sections = []
    with tempfile.TemporaryDirectory(prefix="connect-fed-bench-run-") as workdir:
        for module, title in selected:
            print(f"== {module}", flush=True)
            section = run_one(module, title, Path(workdir))
            sections.append(section)
            if section.error:
                print(f"   COULD NOT RUN: {section.error}", flush=True)
            for figure in section.figures:
                mark = verdict(figure.passed)
                print(f"   {figure.name}: {figure.value}" + (f"  [{figure.target}: {mark}]" if mark else ""))
            for note in section.notes:
                print(f"   note: {note}")
            print(f"   ({section.seconds:.0f} s)", flush=True)
    total = time.monotonic() - started
    if options.only:
        print(f"Ran a subset in {total:.0f} s; {options.page} left as it was.")
    else:
        options.page.write_text(render_page(sections, machine, total))
        print(f"Wrote {options.page} ({total:.0f} s in all).")
    return 1 if any(section.error for section in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
