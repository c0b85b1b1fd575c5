"""Peak memory of ``get_federation_tokens`` as the number of users grows (issue 5).

One emulator process (a high quota, so 100 users take a second) serves a fresh benchmark child per
N and per measure: tracemalloc in one child, peak RSS (``ru_maxrss``) in another, because tracemalloc's
own bookkeeping would show up in RSS. Each child first makes a one-user call, so one-time imports
and caches are not charged to the measured call.
"""

from __future__ import annotations

import gc
import json
import os
import re
import resource
import subprocess
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING, Any

from emulator_process import EmulatorProcess
from harness import PYTHON, REPO, main

if TYPE_CHECKING:
    from collections.abc import Callable

    from report import Section

QUOTA = 200.0
BURST = 50
#: Within one task's chunk (fan_out.DEFAULT_CHUNK_SIZE): larger lists belong in several tasks, because
#: Airflow's masker costs O(N^2) for N agents in one process.
SIZES = (25, 50, 100)
#: "Flat": peak minus the returned tokens grows at most 25% from the smallest N to the largest (16x).
FLAT_FACTOR = 1.25
CONN_ID = "bench"
_CHILD = "--child"


def _users(n: int) -> list[str]:
    return [f"agent-{i:04d}" for i in range(n)]


def child(n: int, mode: str) -> dict[str, Any]:
    """In a fresh interpreter: measure one get_federation_tokens call for N users."""
    from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
    from airflow_connect_fed.token import FederationToken

    hook = ConnectFederationHook(aws_conn_id=CONN_ID)

    def call(users: list[str]) -> dict[str, Any]:
        return hook.get_federation_tokens(
            os.environ["BENCH_INSTANCE_ID"],
            users,
            role_arn=os.environ["BENCH_ROLE_ARN"],
            requests_per_second=QUOTA,
            burst=BURST,
        )

    call(["warmup"])
    users = _users(n)
    gc.collect()
    if mode == "rss":
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        results = call(users)
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        ok = sum(isinstance(r, FederationToken) for r in results.values())
        return {"rss_before_kib": before, "rss_delta_kib": after - before, "seconds": seconds, "ok": ok}
    tracemalloc.start()
    results = call(users)
    peak = tracemalloc.get_traced_memory()[1]
    (largest,) = tracemalloc.take_snapshot().statistics("lineno")[:1]
    gc.collect()  # the call's garbage cycles (clients, sessions) go first, so what follows is the dict alone
    current = tracemalloc.get_traced_memory()[0]
    ok = sum(isinstance(r, FederationToken) for r in results.values())
    del results
    gc.collect()
    without_results = tracemalloc.get_traced_memory()[0]
    retained = tracemalloc.take_snapshot().statistics("filename")[:3]
    tracemalloc.stop()
    return {
        "peak": peak,
        "results": current - without_results,
        "retained_other": without_results,
        "retained_top": [(str(stat.traceback[0].filename), stat.size) for stat in retained],
        "ok": ok,
        "largest_live": (str(largest.traceback[0]), largest.size),
    }


def _run_child(n: int, mode: str, env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, __file__, _CHILD, str(n), mode],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"memory child N={n} {mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["ok"] != n:
        raise RuntimeError(f"memory child N={n} {mode} got {result['ok']} tokens for {n} users")
    return result


def _mib(n_bytes: float) -> str:
    return f"{n_bytes / 2**20:.2f}"


def _short(path: str) -> str:
    """A path from the site-packages or stdlib directory on, or relative to the repository."""
    path = re.sub(r".*/lib/python3\.\d+/(site-packages/)?", "", path)
    return path.removeprefix(f"{REPO}/")


def measure(section: Section) -> None:
    with EmulatorProcess(QUOTA, BURST) as emulator:
        instance_id = emulator.create_instance("memory")
        role_arn = emulator.create_federation_role()
        emulator.create_users(instance_id, [*_users(max(SIZES)), "warmup"])
        env = {
            **os.environ,
            **emulator.airflow_connection_env(CONN_ID, emulator.create_caller("airflow-worker")),
            "BENCH_INSTANCE_ID": instance_id,
            "BENCH_ROLE_ARN": role_arn,
        }
        traced = {n: _run_child(n, "tracemalloc", env) for n in SIZES}
        rss = {n: _run_child(n, "rss", env) for n in SIZES}
    small, large = min(SIZES), max(SIZES)
    sizes = " / ".join(map(str, SIZES))

    def each(value: Callable[[int], str], unit: str = "") -> str:
        return " / ".join(value(n) for n in SIZES) + unit

    working = {n: traced[n]["peak"] - traced[n]["results"] for n in SIZES}
    section.add(
        f"tracemalloc peak, N = {sizes}",
        each(lambda n: _mib(traced[n]["peak"]), " MiB")
        + " ("
        + each(lambda n: f"{traced[n]['peak'] / n / 1024:.0f}", " KiB/user")
        + ")",
        "peak traced memory of the call, tracemalloc started just before it, in a fresh child per N after a "
        "one-user warm-up call; emulator quota and client pace 200/s, burst 50.",
    )
    section.add(
        "Returned dict",
        each(lambda n: _mib(traced[n]["results"]), " MiB")
        + " ("
        + each(lambda n: f"{traced[n]['results'] / n:.0f}", " B/user")
        + ")",
        "memory freed by deleting the returned dict (the call's garbage collected first): linear by design.",
    )
    section.add(
        "Peak minus the returned dict",
        each(lambda n: _mib(working[n]), " MiB")
        + f" ({working[large] / working[small]:.2f}x from N={small} to {large})",
        f"judged: flat means at most {FLAT_FACTOR:g}x from the smallest N to the largest ({large // small}x the users).",
        f"<= {FLAT_FACTOR:g}x",
        working[large] / working[small] <= FLAT_FACTOR,
    )
    section.add(
        "Marginal peak per extra user",
        f"{(traced[large]['peak'] - traced[small]['peak']) / (large - small) / 1024:.1f} KiB/user "
        f"(returned dict {(traced[large]['results'] - traced[small]['results']) / (large - small) / 1024:.1f})",
        f"difference of the peaks at N={large} and N={small} / difference of N.",
    )
    section.add(
        "Peak RSS delta",
        each(lambda n: _mib(1024 * rss[n]["rss_delta_kib"]), " MiB")
        + " ("
        + each(lambda n: f"{1024 * rss[n]['rss_delta_kib'] / n / 1024:.1f}", " KiB/user")
        + f"; {rss[small]['rss_before_kib'] / 1024:.0f} MiB before the call)",
        "ru_maxrss after the call minus before it, in another fresh child per N without tracemalloc.",
    )
    where, size = traced[large]["largest_live"]
    if "json/" in where:
        cause = (
            ": JSON parsed during the measured call, although the warm-up call had parsed botocore's "
            "service models and endpoint data already, so the call loads them again (it builds new botocore "
            "sessions, which share no loader with the warm-up call's)"
        )
    else:
        cause = ""
    section.notes.append(
        f"What sets the peak: when the call returns, the largest live allocation is `{_short(where)}`, "
        f"{_mib(size)} MiB{cause}. Each user's tokens are registered with the secret masker as they arrive, "
        "through Airflow's public mask_secret (one regex of all of them, recompiled per value)."
    )
    section.notes.append(
        "What stays after the call besides the dict: "
        + each(lambda n: _mib(traced[n]["retained_other"]), " MiB")
        + f" (largest holders by file at N={large}: "
        + ", ".join(f"`{_short(path)}` {_mib(size)} MiB" for path, size in traced[large]["retained_top"])
        + "). That includes the masker's hold on every token (its escaped pattern in one regex), kept for the "
        "life of the process, by design."
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == _CHILD:
        print(json.dumps(child(int(sys.argv[2]), sys.argv[3])))
    else:
        main(measure, "Memory (issue 5)")
