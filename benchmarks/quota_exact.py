"""Exactly at the quota, and losing the shared quota's Redis (issue 25).

Exact quota: one process forked after the imports (fresh: no connection open yet) runs
``get_federation_tokens`` for N agents at exactly the emulator's GetFederationToken quota (rate and
burst), several times, with in-process pacing and with the shared quota in Redis; each run is judged
on its 429s (target 0) and the rate it reached over the quota.

Redis lost: K processes share the quota in Redis at the emulator's quota; the redis-server is
SIGKILLed a few seconds into the run. Judged on agents lost and the share of requests throttled.
"""

from __future__ import annotations

import os
import signal
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from emulator_process import EmulatorProcess
from harness import main
from shared_quota import CONN_ID, IN_PROCESS, QUOTA_CONN_ID, SHARED, Run, _redis_server, run_processes

if TYPE_CHECKING:
    from report import Section

QUOTA = 10.0
BURST = 5
AGENTS = 150
REPEATS = 4
LOSS_PROCESSES = 4
LOSS_AGENTS = 160
KILL_AFTER = 4.0  # seconds after the common start
TARGET_RATIO, TARGET_LOSS_THROTTLED = 0.95, 0.10


def _world(emulator: EmulatorProcess, alias: str, agents: int) -> tuple[str, str, list[str]]:
    instance_id = emulator.create_instance(alias)
    role_arn = emulator.create_federation_role(f"Federation{alias}")
    users = [f"agent.{i:04d}@example.com" for i in range(agents)]
    emulator.create_users(instance_id, users)
    return instance_id, role_arn, users


def measure(section: Section) -> None:
    import redis as redis_py

    exact: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="connect-fed-bench-exact-") as tmp,
        _redis_server() as server,
        EmulatorProcess(QUOTA, BURST) as emulator,
    ):
        workdir = Path(tmp)
        os.environ[f"AIRFLOW_CONN_{QUOTA_CONN_ID.upper()}"] = f"redis://127.0.0.1:{server.port}?db=0"
        os.environ.update(emulator.airflow_connection_env(CONN_ID, emulator.create_caller("airflow-worker")))
        admin = redis_py.Redis(host="127.0.0.1", port=server.port, db=0)
        world = _world(emulator, "exact", AGENTS)
        for mode in (IN_PROCESS, SHARED):
            exact += [run_processes(emulator, admin, world, 1, mode, workdir) for _ in range(REPEATS)]
        loss_world = _world(emulator, "loss", LOSS_AGENTS)
        process = server.process
        assert process is not None

        def kill() -> None:
            time.sleep(KILL_AFTER)
            os.kill(process.pid, signal.SIGKILL)

        loss = run_processes(emulator, admin, loss_world, LOSS_PROCESSES, SHARED, workdir, during=kill)
        admin.close()

    ideal = AGENTS / ((AGENTS - BURST) / QUOTA) / QUOTA
    for mode in (IN_PROCESS, SHARED):
        runs = [run for run in exact if run.mode == mode]
        throttled = [run.counts.throttled for run in runs]
        ratios = [run.ratio for run in runs]
        lost = sum(run.failed for run in runs)
        section.add(
            f"Exactly at the quota, {mode}",
            f"throttled per run {throttled}; quota ratio per run {', '.join(f'{r:.3f}' for r in ratios)}; "
            f"failed agents {lost}",
            f"{REPEATS} runs, each a fresh process forked after the imports calling get_federation_tokens("
            f"requests_per_second={QUOTA:g}, burst={BURST}) for {AGENTS} agents against an emulator process "
            f"with the same quota ({QUOTA:g}/s, burst {BURST}), "
            + (
                "pacing in the process"
                if mode == IN_PROCESS
                else "the shared quota in a redis-server (flushed)"
            )
            + ". Throttled = 429s in the emulator's access log; quota ratio = 200s / the span from the first "
            f"GetFederationToken attempt to the end / the quota (pacing ceiling {ideal:.3f}).",
            f"0 throttled in every run, quota ratio >= {TARGET_RATIO:g}",
            all(t == 0 for t in throttled) and min(ratios) >= TARGET_RATIO and lost == 0,
        )
    section.add(
        f"Redis SIGKILLed mid-run, K={LOSS_PROCESSES}",
        f"agents lost {loss.failed} of {LOSS_AGENTS}; throttled {100 * loss.throttled_share:.1f}% "
        f"({loss.counts.throttled} of {loss.counts.received}); rate {loss.ratio:.2f} x quota",
        f"{LOSS_PROCESSES} processes forked after the imports, each get_federation_tokens for its share of "
        f"{LOSS_AGENTS} agents with the shared quota at the emulator's quota ({QUOTA:g}/s, burst {BURST}); the "
        f"redis-server is SIGKILLed {KILL_AFTER:g} s after the common start. Throttled = 429s / requests at the "
        "emulator; lost = agents whose value is an error.",
        f"0 lost, <= {100 * TARGET_LOSS_THROTTLED:g}% throttled",
        loss.failed == 0 and loss.throttled_share <= TARGET_LOSS_THROTTLED,
    )


if __name__ == "__main__":
    main(measure, "Exactly at the quota, and losing Redis (issue 25)")
