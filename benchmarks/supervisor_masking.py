"""What registering N agents' tokens with Airflow's secret masker costs in one task (issue 11, item 6).

The provider registers each agent's two tokens with Airflow's public ``airflow.sdk.log.mask_secret``,
one call per agent as its token arrives. In the task process that adds them to the task's masker and
sends one ``MaskSecret`` message to the supervisor, which writes the task's log file and registers them
with its own masker (``handle_mask_secret``); the task waits for its answer. Airflow's masker recompiles
one regex of every secret it holds for each value it adds, so each agent costs more than the one before.
When botocore's, urllib3's or http.client's DEBUG logging is on, each agent's AssumeRole
``SecretAccessKey`` and ``SessionToken`` are registered the same way (one more call per agent, before
the tokens), four secrets per agent in all.

Every measurement runs in a fresh interpreter (one child process per side, N and log level), so each
starts from the masker Airflow sets up on start-up, with nothing of the benchmark's in it, and no
private Airflow module is needed to reset it. Only Airflow's own functions are timed: the provider
calls ``mask_secret`` and adds nothing to what it costs.
"""

from __future__ import annotations

import base64
import gc
import importlib
import json
import math
import os
import secrets
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from harness import PYTHON, main
from machine import usable_cores

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from report import Section

SIZES = (50, 250, 1000)
#: At DEBUG each agent adds four secrets, one of them 356 characters long; N=1000 is left out (see the note).
DEBUG_SIZES = (50, 250)
#: One task of CHUNKED_TOTAL agents against CHUNKED_TOTAL // CHUNK tasks of CHUNK agents each.
CHUNKED_TOTAL, CHUNK = 1000, 250
#: The masking cost (task process + supervisor) a task may spend and still count as cheap: a chosen
#: budget to derive a chunk size from, not a target of the issue.
BUDGET_SECONDS = 5.0
#: The last agents whose median is shown next to the last agent's cost (a GC pass can land on any one).
LAST = 10
SIDES = ("task", "supervisor")
#: What each process has imported besides Airflow's masker. A task process is forked from its supervisor and
#: imports the operator's modules on top: here the amazon provider's base operator and hook, which the
#: provider's operator module imports (its own 16 modules add little, see "DAG parse cost"), so that
#: this benchmark does not depend on the provider's code, only on Airflow's.
PROCESS_MODULES = {
    "supervisor": ["airflow.sdk.execution_time.supervisor"],
    "task": [
        "airflow.sdk.execution_time.supervisor",
        "airflow.sdk.execution_time.task_runner",
        "airflow.providers.amazon.aws.operators.base_aws",
        "airflow.providers.amazon.aws.hooks.base_aws",
    ],
}
CHILD_TIMEOUT = 1200
_CHILD = "--child"


def _token() -> str:
    """A token as long as the emulator issues (64 characters)."""
    return secrets.token_urlsafe(48)


def _session_credentials() -> list[str]:
    """An AssumeRole SecretAccessKey (40 characters) and SessionToken (356, as moto issues them)."""
    return [secrets.token_urlsafe(30), base64.b64encode(os.urandom(266)).decode()]


def _register_function(side: str) -> Callable[[list[str]], None]:
    """Airflow's registration on ``side``, with the modules that process has loaded imported first.

    The modules matter: each regex compile leaves garbage, and a full garbage collection walks every
    object the process holds.
    """
    for module in PROCESS_MODULES[side]:
        importlib.import_module(module)
    if side == "task":
        from airflow.sdk.log import mask_secret

        return mask_secret

    from airflow.sdk.execution_time.comms import MaskSecret
    from airflow.sdk.execution_time.request_handlers import handle_mask_secret

    def supervisor(values: list[str]) -> None:
        handle_mask_secret(MaskSecret(value=values))

    return supervisor


def child(side: str, n: int, level: str) -> dict[str, Any]:
    """In a fresh interpreter: register N agents' secrets, one call per agent (two at DEBUG); time each agent."""
    register = _register_function(side)
    register([""])  # builds the masker and whatever it reads from the config; an empty value is skipped
    agents = [
        [*([_session_credentials()] if level == "debug" else []), [_token(), _token()]] for _ in range(n)
    ]
    collecting = {"seconds": 0.0, "started": 0.0, "passes": 0}

    def on_gc(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collecting["started"] = time.process_time()
        else:
            collecting["seconds"] += time.process_time() - collecting["started"]
            collecting["passes"] += info["generation"] == 2

    gc.collect()
    gc.callbacks.append(on_gc)
    times = []
    wall_started = time.perf_counter()
    for calls in agents:
        started = time.process_time()
        for values in calls:
            register(values)
        times.append(time.process_time() - started)
    wall = time.perf_counter() - wall_started
    gc.callbacks.remove(on_gc)
    return {
        "times": times,
        "wall_seconds": wall,
        "gc_seconds": collecting["seconds"],
        "full_collections": collecting["passes"],
    }


#: The 1-minute load average before and after each child: the machine may be busy with other work.
LOADS: list[float] = []


def _run_child(side: str, n: int, level: str) -> dict[str, Any]:
    started = time.monotonic()
    LOADS.append(os.getloadavg()[0])
    done = subprocess.run(
        [PYTHON, __file__, _CHILD, side, str(n), level],
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"masking child {side} N={n} {level} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if len(result["times"]) != n:
        raise RuntimeError(f"masking child {side} N={n} {level} timed {len(result['times'])} agents")
    LOADS.append(os.getloadavg()[0])
    print(
        f"{side} N={n} {level}: {sum(result['times']):.2f} s CPU, {result['wall_seconds']:.2f} s wall "
        f"({time.monotonic() - started:.0f} s with start-up; load {LOADS[-2]:.1f} -> {LOADS[-1]:.1f})",
        flush=True,
    )
    return result


def _prefix_sums(times: Sequence[float]) -> list[float]:
    sums, total = [], 0.0
    for t in times:
        total += t
        sums.append(total)
    return sums


def _largest_under(budget: float, task: Sequence[float], supervisor: Sequence[float]) -> tuple[int, bool]:
    """The most agents whose task + supervisor cost stays within budget, and whether it is below all measured.

    A task of n agents from a fresh masker costs what the first n agents of a longer run cost, so the
    prefix sums of one run give every smaller n.
    """
    both = [a + b for a, b in zip(_prefix_sums(task), _prefix_sums(supervisor), strict=True)]
    within = sum(1 for cost in both if cost <= budget)  # prefix sums increase, so these are the first ones
    return within, within < len(both)


def measure(section: Section) -> None:
    runs: dict[tuple[str, int, str], dict[str, Any]] = {}
    for n in SIZES:
        for side in SIDES:
            runs[side, n, "info"] = _run_child(side, n, "info")
    for n in DEBUG_SIZES:
        for side in SIDES:
            runs[side, n, "debug"] = _run_child(side, n, "debug")
    chunks = {
        side: [runs[side, CHUNK, "info"]]
        + [_run_child(side, CHUNK, "info") for _ in range(CHUNKED_TOTAL // CHUNK - 1)]
        for side in SIDES
    }

    def total(side: str, n: int, level: str) -> float:
        return float(sum(runs[side, n, level]["times"]))

    def totals(side: str, sizes: Sequence[int], level: str) -> str:
        values = " / ".join(f"{total(side, n, level):.2f}" for n in sizes)
        collected = " / ".join(f"{runs[side, n, level]['gc_seconds']:.2f}" for n in sizes)
        return f"{values} s (of which garbage collection {collected} s)"

    def last(side: str, sizes: Sequence[int], level: str) -> str:
        values = " / ".join(f"{1000 * runs[side, n, level]['times'][-1]:.1f}" for n in sizes)
        medians = " / ".join(
            f"{1000 * statistics.median(runs[side, n, level]['times'][-LAST:]):.1f}" for n in sizes
        )
        return f"{values} ms (median of the last {LAST}: {medians} ms)"

    sizes, debug_sizes = " / ".join(map(str, SIZES)), " / ".join(map(str, DEBUG_SIZES))
    fresh = (
        "from the masker a fresh interpreter starts with (one child process per side, N and level, which "
        "first imports what that process holds: Airflow's supervisor, and for a task process also its task "
        "runner and the amazon provider's base operator and hook; a full garbage collection walks all of it)"
    )
    section.add(
        f"Task process, N = {sizes}: total",
        totals("task", SIZES, "info"),
        "CPU seconds (time.process_time) of Airflow's airflow.sdk.log.mask_secret([access_token, "
        "refresh_token]) once per agent, 64-character tokens as the emulator issues them, "
        f"{fresh}; no supervisor attached, so this is the task's own masker. Garbage collection: CPU "
        "seconds inside gc passes (gc.callbacks) during the registrations.",
    )
    section.add(
        "Task process: the last agent's mask_secret",
        last("task", SIZES, "info"),
        "CPU time of the N-th agent's call; it grows with the secrets registered before it.",
    )
    section.add(
        f"Supervisor, N = {sizes}: total",
        totals("supervisor", SIZES, "info"),
        "CPU seconds of Airflow's handle_mask_secret(MaskSecret(value=[access_token, refresh_token])) once "
        "per agent, the supervisor's handler of the task's message, from a fresh masker as above. The task's "
        "mask_secret waits for the supervisor's answer, so a task's wall time holds both sides.",
    )
    section.add(
        "Supervisor: the last agent's message",
        last("supervisor", SIZES, "info"),
        "CPU time of the N-th agent's handling.",
    )
    section.add(
        f"DEBUG logging, N = {debug_sizes}: task process total",
        totals("task", DEBUG_SIZES, "debug"),
        "as above with botocore's DEBUG logging on: per agent first mask_secret([SecretAccessKey, "
        "SessionToken]) (40 and 356 characters, as the emulator's moto issues them), then the tokens.",
    )
    section.add(
        f"DEBUG logging, N = {debug_sizes}: supervisor total",
        totals("supervisor", DEBUG_SIZES, "debug"),
        "as above: two MaskSecret messages per agent.",
    )
    section.add(
        "DEBUG logging: the last agent (task process; supervisor)",
        last("task", DEBUG_SIZES, "debug") + "; " + last("supervisor", DEBUG_SIZES, "debug"),
        "time of the N-th agent's two registrations.",
    )
    one_task = total("task", CHUNKED_TOTAL, "info") + total("supervisor", CHUNKED_TOTAL, "info")
    per_chunk = [
        sum(a["times"]) + sum(b["times"]) for a, b in zip(chunks["task"], chunks["supervisor"], strict=True)
    ]
    section.add(
        f"{CHUNKED_TOTAL} agents: 1 task vs {len(per_chunk)} tasks of {CHUNK}",
        f"{one_task:.1f} s vs {sum(per_chunk):.1f} s ({one_task / sum(per_chunk):.1f}x; per task of {CHUNK}: "
        + ", ".join(f"{cost:.1f}" for cost in per_chunk)
        + " s)",
        f"task process + supervisor masking CPU seconds; the 1-task figure is the N={CHUNKED_TOTAL} runs above, the "
        f"chunks are {len(per_chunk)} pairs of runs of N={CHUNK}, each with fresh maskers (one is the N={CHUNK} "
        "run above), as each mapped task has its own task process and supervisor.",
    )
    info_n, info_below = _largest_under(
        BUDGET_SECONDS,
        runs["task", max(SIZES), "info"]["times"],
        runs["supervisor", max(SIZES), "info"]["times"],
    )
    debug_n, debug_below = _largest_under(
        BUDGET_SECONDS,
        runs["task", max(DEBUG_SIZES), "debug"]["times"],
        runs["supervisor", max(DEBUG_SIZES), "debug"]["times"],
    )

    def agents(n: int, below: bool, measured: int) -> str:
        return f"{n} agents" if below else f"at least {measured} agents (all measured)"

    section.add(
        f"Largest task whose masking stays within {BUDGET_SECONDS:g} s",
        f"{agents(info_n, info_below, max(SIZES))}; at DEBUG {agents(debug_n, debug_below, max(DEBUG_SIZES))}",
        f"the largest n for which the first n agents of the N={max(SIZES)} runs (N={max(DEBUG_SIZES)} at DEBUG) "
        f"cost at most {BUDGET_SECONDS:g} s, task process and supervisor together. A task of n agents from a "
        "fresh masker does exactly what those first n agents did. The budget is a chosen one, not a target.",
    )

    small, large = CHUNK, CHUNKED_TOTAL
    both = {n: total("task", n, "info") + total("supervisor", n, "info") for n in (small, large)}
    growth = both[large] / both[small]
    exponent = math.log(growth) / math.log(large / small)
    collected = sum(runs[side, large, "info"]["gc_seconds"] for side in SIDES)
    full = sum(runs[side, large, "info"]["full_collections"] for side in SIDES)
    debug_both = {n: total("task", n, "debug") + total("supervisor", n, "debug") for n in DEBUG_SIZES}
    info_at = {n: total("task", n, "info") + total("supervisor", n, "info") for n in DEBUG_SIZES}
    section.notes.append(
        f"From N={small} to N={large} the masking time of one task grew {growth:.1f}x for "
        f"{large // small}x the agents (N^{exponent:.2f}): each value added recompiles a regex of every secret "
        "held (O(N) per agent, O(N^2) per task), and each compile leaves garbage that sets off garbage "
        f"collections over the whole process, which took {collected:.0f} s of the {both[large]:.0f} s at "
        f"N={large} ({full} full collections in the two processes). Splitting the agents over tasks, each "
        f"with its own task process and supervisor, divides that: {len(per_chunk)} tasks of {CHUNK} cost "
        f"{sum(per_chunk):.0f} s between them against {one_task:.0f} s for one task of {CHUNKED_TOTAL}."
    )
    section.notes.append(
        "With DEBUG logging on, the session credentials multiply the masking time: "
        + ", ".join(
            f"N={n}: {debug_both[n]:.1f} s against {info_at[n]:.1f} s ({debug_both[n] / info_at[n]:.1f}x)"
            for n in DEBUG_SIZES
        )
        + " (task process + supervisor); the 356-character session token makes each compile longer. "
        f"N={large} at DEBUG is not measured: N={max(DEBUG_SIZES)} already took "
        f"{debug_both[max(DEBUG_SIZES)]:.0f} s, and if it grew as at INFO ({growth:.1f}x from N={small} to "
        f"{large}), N={large} would take about {debug_both[max(DEBUG_SIZES)] * growth / 60:.0f} min."
    )
    walls = sum(run["wall_seconds"] for run in runs.values())
    cpus = sum(sum(run["times"]) for run in runs.values())
    section.notes.append(
        f"The figures are CPU seconds, which other load on the machine changes less than wall time: the 1-minute load "
        f"average was {min(LOADS):.1f} to {max(LOADS):.1f} around the children (on "
        f"{usable_cores()} usable cores), and their registrations took {walls:.0f} s of wall "
        f"time for {cpus:.0f} s of CPU. In a task the two sides run one after the other, so its wall time "
        "holds their sum, plus any wait for a core."
    )
    section.notes.append(
        "For scale: at the default pace of 2 requests/s (the quota), n agents take n / 2 s to fetch, so a "
        f"task of {info_n} agents spends about {info_n / 2:.0f} s fetching and at most {BUDGET_SECONDS:g} s "
        f"masking; one task of {large} spends {large / 2:.0f} s fetching and {both[large]:.0f} s masking. "
        "The masker is Airflow's; the provider calls only its public mask_secret and does not change it."
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == _CHILD:
        print(json.dumps(child(sys.argv[2], int(sys.argv[3]), sys.argv[4])))
    else:
        main(measure, "Secret masking with many agents (issue 11)")
