"""DAG parse cost (issue 7): importing the provider's operator module vs the amazon provider's base operator.

A DAG file that uses GetFederationTokenOperator imports ``airflow_connect_fed.operators.federation_token``;
the least any AWS operator costs is ``airflow.providers.amazon.aws.operators.base_aws``, which ours imports.

Two measures, both in fresh interpreters: each import alone (wall time of ``python -c 'import X'``,
alternating A B B A), and the increment: import the base, then ours, in one interpreter, timing each
statement. On a shared machine the first swings by hundreds of milliseconds between runs; the second
times only the extra work, so it resolves a few percent.
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import tempfile
import time
from typing import TYPE_CHECKING

from harness import PYTHON, main

if TYPE_CHECKING:
    from report import Section

OURS = "airflow_connect_fed.operators.federation_token"
BASE = "airflow.providers.amazon.aws.operators.base_aws"
RUNS = 10
TARGET = 0.05
_MARK = "--- the base operator is imported ---"
_END = "--- ours is imported ---"
_INCREMENT = f"""
import sys, time
t0 = time.perf_counter()
import {BASE}
t1 = time.perf_counter()
before = set(sys.modules)
print({_MARK!r}, file=sys.stderr, flush=True)
import {OURS}
t2 = time.perf_counter()
print({_END!r}, file=sys.stderr, flush=True)
print(t1 - t0, t2 - t1, len(set(sys.modules) - before))
"""
_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|\s*(\S+)")


def _environment(pycache: str) -> dict[str, str]:
    """Bytecode cached (in a temp prefix, not the source tree), as an installed provider would have it."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = pycache
    return env


def _python(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run([PYTHON, *args], env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"`python {' '.join(args)}` failed:\n{done.stderr[-3000:]}")
    return wall, done


def measure(section: Section) -> None:
    with tempfile.TemporaryDirectory(prefix="connect-fed-pycache-") as pycache:
        env = _environment(pycache)
        _python(["-c", f"import {OURS}"], env)  # compile bytecode, write airflow.cfg: not measured
        alone: dict[str, list[float]] = {OURS: [], BASE: []}
        increments: list[tuple[float, float, int]] = []
        for i in range(RUNS):
            for module in (OURS, BASE) if i % 2 == 0 else (BASE, OURS):
                alone[module].append(_python(["-c", f"import {module}"], env)[0])
            out = _python(["-c", _INCREMENT], env)[1].stdout.split()
            increments.append((float(out[0]), float(out[1]), int(out[2])))
        importtime = _python(["-X", "importtime", "-c", _INCREMENT], env)[1].stderr
    wall = {m: statistics.median(samples) for m, samples in alone.items()}
    for module, label in ((BASE, "base"), (OURS, "ours")):
        section.add(
            f"`python -c 'import {module}'`",
            f"{1000 * wall[module]:.0f} ms (range {1000 * min(alone[module]):.0f}-{1000 * max(alone[module]):.0f})",
            f"{label}: median wall time of {RUNS} fresh interpreters, alternating A B B A with the other "
            "import; bytecode cached in a temp PYTHONPYCACHEPREFIX; AIRFLOW_HOME a temp dir whose airflow.cfg "
            "a warm-up run wrote.",
        )
    section.add(
        "Difference of the two",
        f"{100 * (wall[OURS] / wall[BASE] - 1):+.1f}% ({1000 * (wall[OURS] - wall[BASE]):+.0f} ms)",
        "ratio of the medians above; at this noise level it cannot resolve 5% (see the ranges).",
    )
    base_import = statistics.median(i[0] for i in increments)
    added = statistics.median(i[1] for i in increments)
    section.add(
        "Added cost of our import over the base's",
        f"{100 * added / base_import:+.1f}% ({1000 * added:.1f} ms on top of {1000 * base_import:.0f} ms; "
        f"{increments[0][2]} more modules)",
        f"one interpreter per run imports the base, then ours; median over {RUNS} runs of the time of "
        "`import ours` / median time of `import base` (the statement alone, without interpreter start-up).",
        f"<= {100 * TARGET:.0f}%",
        added / base_import <= TARGET,
    )
    self_times: dict[str, int] = {}  # a package re-entered while importing is listed twice
    for m in _IMPORTTIME.finditer(importtime.split(_MARK, 1)[1].split(_END, 1)[0]):
        self_times[m[3]] = self_times.get(m[3], 0) + int(m[1])
    added_modules = list(self_times.items())
    top = sorted(added_modules, key=lambda item: item[1], reverse=True)[:5]
    section.notes.append(
        f"Where the increment goes (one `python -X importtime` run): {len(added_modules)} modules, "
        f"{sum(t for _, t in added_modules) / 1000:.1f} ms self time; the largest "
        + ", ".join(f"`{name}` {us / 1000:.1f} ms" for name, us in top)
        + "."
    )


if __name__ == "__main__":
    main(measure, "DAG parse cost (issue 7)")
