"""The machine and software a benchmark run measured on, for the report's header."""

from __future__ import annotations

import os
import platform
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def describe() -> dict[str, str]:
    """Name -> value, in report order; ``date`` is when the run started (UTC)."""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "CPU": cpu_model(),
        "Cores": f"{usable_cores()} usable ({os.cpu_count()} online)",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Airflow": _version("apache-airflow"),
        "Amazon provider": _version("apache-airflow-providers-amazon"),
        "boto3 / botocore": f"{_version('boto3')} / {_version('botocore')}",
        "moto (emulator)": _version("moto"),
        "airflow-connect-fed": _version("airflow-connect-fed"),
    }
