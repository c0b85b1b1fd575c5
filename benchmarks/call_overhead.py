"""Per-call overhead (issue 7): ``ConnectFederationHook.get_federation_token`` vs a raw boto3 call.

Both call GetFederationToken as the same IAM user (mapped to the Connect user of the same name) on
one emulator process whose quota is out of reach. One hook instance is reused, as a task making
several calls would; its Connect client is cached. Hook and raw calls alternate one by one (hook
first, then raw first) so drift in the machine's load hits both alike.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import statistics
import time
from typing import TYPE_CHECKING, Any
from unittest import mock

import boto3
from emulator_process import REGION, EmulatorProcess
from harness import main

if TYPE_CHECKING:
    from collections.abc import Callable

    from report import Section

CALLS = 200
#: One call per block: hook and raw calls alternate one by one, so the machine's drift hits both alike.
BLOCKS = CALLS
DRIFT_WINDOW = 20
WARMUP = 10
PROFILED = 20
DIAGNOSTIC_BLOCKS = BLOCKS
TARGET = 1.10
CONN_ID = "bench"
CALLER = "bench-caller"


def _timed(call: Callable[[], Any], n: int) -> list[float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return times


def _alternating(
    first: Callable[[], Any], second: Callable[[], Any], blocks: int, n: int
) -> tuple[list[list[float]], list[list[float]]]:
    """Time n calls of each per block; even blocks run ``first`` first, odd blocks ``second`` first."""
    a: list[list[float]] = []
    b: list[list[float]] = []
    for block in range(blocks):
        if block % 2 == 0:
            a.append(_timed(first, n))
            b.append(_timed(second, n))
        else:
            b.append(_timed(second, n))
            a.append(_timed(first, n))
    return a, b


def _no_mask(self: Any) -> None:
    """Stands in for FederationToken.mask in the diagnostic blocks."""


def _profile_shares(call: Callable[[], Any], n: int) -> tuple[float, dict[str, float]]:
    """Profile n hook calls: total seconds, and the cumulative seconds of a few parts of the hook."""
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(n):
        call()
    profiler.disable()
    stats: dict[tuple[str, int, str], tuple[Any, ...]] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    parts = {
        "botocore API call (HTTP, signing, parsing)": ("botocore/client.py", "_make_api_call"),
        "secret masking (FederationToken.mask)": ("airflow_connect_fed/token.py", "mask"),
        "re.compile (any caller)": ("re/__init__.py", "compile"),
        "FederationToken.from_dict": ("airflow_connect_fed/token.py", "from_dict"),
        "botocore_log.install": ("airflow_connect_fed/botocore_log.py", "install"),
        "InstanceRef.parse": ("airflow_connect_fed/instance.py", "parse"),
    }
    found = {}
    for label, (path, name) in parts.items():
        found[label] = sum(
            value[3]
            for (filename, _, function), value in stats.items()
            if filename.endswith(path) and function == name
        )
    total = sum(value[2] for value in stats.values())
    return total, found


def measure(section: Section) -> None:
    from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook

    with EmulatorProcess(100_000, 100_000) as emulator:
        instance_id = emulator.create_instance("overhead")
        caller = emulator.create_caller(CALLER)
        emulator.create_users(instance_id, [CALLER])
        os.environ.update(emulator.airflow_connection_env(CONN_ID, caller))
        hook = ConnectFederationHook(aws_conn_id=CONN_ID)
        raw = boto3.session.Session().client(
            "connect",
            endpoint_url=emulator.url,
            region_name=REGION,
            aws_access_key_id=caller.access_key_id,
            aws_secret_access_key=caller.secret_access_key,
        )

        def hook_call() -> Any:
            return hook.get_federation_token(instance_id)

        def raw_call() -> Any:
            return raw.get_federation_token(InstanceId=instance_id)

        _timed(hook_call, WARMUP)
        _timed(raw_call, WARMUP)
        per_block = CALLS // BLOCKS
        hook_blocks, raw_blocks = _alternating(hook_call, raw_call, BLOCKS, per_block)
        profiled_seconds, parts = _profile_shares(hook_call, PROFILED)
        # Diagnostic only: the same hook with FederationToken.mask stubbed out, to see what the rest costs.
        with mock.patch("airflow_connect_fed.token.FederationToken.mask", _no_mask):
            unmasked_blocks, raw_again = _alternating(hook_call, raw_call, DIAGNOSTIC_BLOCKS, per_block)
        counts = emulator.federation_counts()
    hook_times = [t for block in hook_blocks for t in block]
    raw_times = [t for block in raw_blocks for t in block]
    hook_median, raw_median = statistics.median(hook_times), statistics.median(raw_times)
    ratio = hook_median / raw_median
    section.add(
        "Hook get_federation_token, per call",
        f"{1000 * hook_median:.2f} ms median (p90 {1000 * statistics.quantiles(hook_times, n=10)[-1]:.2f} ms)",
        f"{CALLS} calls of one reused hook, the connection's own identity, alternating one by one "
        f"with the raw calls; {WARMUP} warm-up calls each first.",
    )
    section.add(
        "Raw boto3 get_federation_token, per call",
        f"{1000 * raw_median:.2f} ms median (p90 {1000 * statistics.quantiles(raw_times, n=10)[-1]:.2f} ms)",
        "one boto3 Connect client with the same credentials, default config.",
    )
    section.add(
        "Hook / raw",
        f"{ratio:.3f}x ({1000 * (hook_median - raw_median):+.2f} ms per call)",
        "ratio of the medians.",
        f"<= {TARGET:.2f}x",
        ratio <= TARGET,
    )
    first, last = statistics.median(hook_times[:DRIFT_WINDOW]), statistics.median(hook_times[-DRIFT_WINDOW:])
    raw_first, raw_last = (
        statistics.median(raw_times[:DRIFT_WINDOW]),
        statistics.median(raw_times[-DRIFT_WINDOW:]),
    )
    section.add(
        "Drift, first calls -> last calls",
        f"hook {1000 * first:.2f} -> {1000 * last:.2f} ms; raw {1000 * raw_first:.2f} -> {1000 * raw_last:.2f} ms",
        f"medians of the first and the last {DRIFT_WINDOW} calls of each.",
    )
    unmasked = statistics.median(t for block in unmasked_blocks for t in block)
    raw_again_median = statistics.median(t for block in raw_again for t in block)
    section.add(
        "Diagnostic: hook with masking stubbed out",
        f"{1000 * unmasked:.2f} ms vs raw {1000 * raw_again_median:.2f} ms ({unmasked / raw_again_median:.3f}x)",
        f"{DIAGNOSTIC_BLOCKS * per_block} more calls each, alternating, with FederationToken.mask replaced by a "
        "no-op: not a supported configuration, only to attribute the overhead.",
    )
    per_call = {label: 1000 * seconds / PROFILED for label, seconds in parts.items()}
    section.notes.append(
        f"Where a hook call's time goes (cProfile of {PROFILED} more calls, after the {WARMUP + CALLS} "
        f"hook calls above; {1000 * profiled_seconds / PROFILED:.2f} ms per call under the profiler): "
        + "; ".join(f"{label} {ms:.2f} ms" for label, ms in per_call.items())
        + ". The emulator answered "
        f"{counts.succeeded} of {counts.received} GetFederationToken requests."
    )
    section.notes.append(
        "Each hook call registers its two tokens with Airflow's secret masker through the public mask_secret, "
        "which recompiles one regex of every secret the process holds: a process's n-th call pays for the "
        "2n tokens before it (see 'Secret masking with many agents'). The stubbed-out diagnostic shows what "
        "the hook costs without it. A task makes one or a few calls; many calls belong in several tasks."
    )
    if counts.succeeded != counts.received:
        raise RuntimeError(f"some calls failed at the emulator: {counts}")


if __name__ == "__main__":
    main(measure, "Per-call overhead (issue 7)")
