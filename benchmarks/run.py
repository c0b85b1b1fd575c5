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
from report import Section, render_page, replace_section, verdict

HERE = Path(__file__).resolve().parent
#: (module, section title), in the order of the page.
BENCHMARKS = [
    ("bulk_throughput", "Bulk throughput (issue 5)"),
    ("memory_peak", "Memory (issue 5)"),
    ("supervisor_masking", "Secret masking with many agents (issue 11)"),
    ("parse_cost", "DAG parse cost (issue 7)"),
    ("call_overhead", "Per-call overhead (issue 7)"),
    ("token_reuse", "Token reuse (issue 7)"),
    ("shared_quota", "One quota, many processes (issue 12)"),
    ("roster", "Roster at contact-center scale (issue 24)"),
    ("emulator_scale", "The emulator at contact-center scale (issue 25)"),
    ("quota_exact", "Exactly at the quota, and losing Redis (issue 25)"),
]
TIMEOUT = 300.0
#: Modules that need longer: the masking benchmark registers 1000 agents' secrets in two processes, at
#: a cost that grows faster than N^2 (see its section).
TIMEOUTS = {
    "supervisor_masking": 2400.0,
    "shared_quota": 900.0,
    "roster": 900.0,
    "emulator_scale": 600.0,
    "quota_exact": 600.0,
}  # shared_quota runs the Celery e2e


def run_one(module: str, title: str, workdir: Path) -> Section:
    """Run ``benchmarks/<module>.py`` in its own interpreter; a crash or timeout becomes the section's error."""
    output, log = workdir / f"{module}.json", workdir / f"{module}.log"
    timeout = TIMEOUTS.get(module, TIMEOUT)
    started = time.monotonic()
    with log.open("w") as log_file:
        process = subprocess.Popen(
            [PYTHON, str(HERE / f"{module}.py"), "--output", str(output)],
            cwd=REPO,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.terminate()  # the benchmark turns SIGTERM into SystemExit and stops its emulator
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            return Section(
                title, seconds=time.monotonic() - started, error=f"timed out after {timeout:.0f} s"
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
    parser.add_argument(
        "--update-page",
        action="store_true",
        help="with --only: replace just those sections on the page, marked as measured apart from the rest",
    )
    options = parser.parse_args()
    if options.update_page and not options.only:
        parser.error("--update-page goes with --only (a full run rewrites the whole page)")
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
    if options.update_page:
        page = options.page.read_text()
        details = ", ".join(f"{name} {value}" for name, value in machine.items() if name != "date")
        for (module, _), section in zip(selected, sections, strict=True):
            if section.error:
                print(f"{module} could not run: its section on {options.page} is left as it was.")
                continue
            page = replace_section(
                page,
                section,
                f"*Measured on its own (`benchmarks/run.py --only {module} --update-page`) on {machine['date']}: "
                f"{details}. The other sections are from the full run described at the top.*",
            )
        options.page.write_text(page)
        print(f"Ran a subset in {total:.0f} s; updated {options.page}.")
    elif options.only:
        print(f"Ran a subset in {total:.0f} s; {options.page} left as it was.")
    else:
        options.page.write_text(render_page(sections, machine, total))
        print(f"Wrote {options.page} ({total:.0f} s in all).")
    return 1 if any(section.error for section in sections) else 0


if __name__ == "__main__":
    sys.exit(main())
