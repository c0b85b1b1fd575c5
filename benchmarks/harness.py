"""Running one benchmark module as its own process: an isolated environment, a JSON result file.

Each benchmark runs in a fresh interpreter so that process-wide state one leaves behind (Airflow's
secret masker patterns, botocore caches, tracemalloc) cannot skew the next.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from report import Section

if TYPE_CHECKING:
    from collections.abc import Callable

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def isolated_environment(airflow_home: Path) -> dict[str, str]:
    """This process's environment without AWS or Airflow settings, so nothing reaches real AWS."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "AIRFLOW"))}
    env.update(
        {
            "AIRFLOW_HOME": str(airflow_home),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AWS_CONFIG_FILE": os.devnull,
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_DEFAULT_REGION": "us-east-1",
        }
    )
    return env


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(f"stopped by signal {signum}")  # unwinds context managers: emulators get stopped


def main(measure: Callable[[Section], None], title: str) -> None:
    """Parse ``--output FILE``, run ``measure`` in an isolated environment and save its section."""
    parser = argparse.ArgumentParser(description=title)
    parser.add_argument("--output", type=Path, help="write the section as JSON here (default: print it)")
    options = parser.parse_args()
    signal.signal(signal.SIGTERM, _stop)
    home = Path(tempfile.mkdtemp(prefix="connect-fed-bench-"))
    env = isolated_environment(home / "airflow")
    os.environ.clear()
    os.environ.update(env)
    section = Section(title)
    started = time.monotonic()
    try:
        measure(section)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    section.seconds = time.monotonic() - started
    if options.output:
        section.save(options.output)
    else:
        for figure in section.figures:
            print(f"{figure.name}: {figure.value}  [{figure.target}] {figure.passed}")
        print(*section.notes, sep="\n")
