"""One quota, many processes (issue 12): in-process pacing vs the shared quota in Redis, side by side.

K processes (forked from this one after the imports, as a Celery prefork worker forks its task
processes) each run ``get_federation_tokens`` for their share of N agents, all started at once,
against an emulator process that enforces one GetFederationToken quota (Q requests/s, burst B)
and logs every request. Each K runs twice: with in-process pacing (every process believes it has
the quota to itself) and with the shared quota (an Airflow ``redis`` connection to a redis-server
started here, flushed before the run). Also: the shared limiter's own cost per permit and its Redis
commands per permit, the no-Redis alternative (a pool of one slot, simulated with a file lock), and
the Celery end-to-end test's wall time against N / quota.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from emulator_process import REGION, EmulatorProcess, FederationCounts
from harness import PYTHON, REPO, main

from airflow_connect_fed._client.shared_quota import SharedQuota, redis_client
from airflow_connect_fed._client.token_bucket import TokenBucket
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from airflow_connect_fed.token import FederationToken

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # tests.e2e.servers: the e2e tests' redis-server starter
from tests.e2e.servers import MissingServerError, RedisServer

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from report import Section

QUOTA = 10.0
BURST = 5
AGENTS = 120  # (N - B) / Q = 11.5 s of quota time per run, whatever K
PROCESSES = [1, 2, 4, 8]
POOL_PROCESSES = 4
TARGET_RATE, TARGET_THROTTLED = 0.95, 0.02
COST_PERMITS = 5000
COST_WARMUP = 100
CONN_ID = "bench"
QUOTA_CONN_ID = "connect_quota"
RUN_TIMEOUT = 180.0  # seconds for one run's processes to report
E2E_TEST = "tests/e2e/test_celery.py"
E2E_TIMEOUT = 600.0
IN_PROCESS, SHARED, POOL = "in-process", "shared quota", "pool of 1 (file lock)"
_FORK = multiprocessing.get_context("fork")


@dataclass(frozen=True)
class Job:
    instance_id: str
    role_arn: str
    users: list[str]
    mode: str
    lock_path: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What one process saw, on the system-wide monotonic clock."""

    began: float = 0.0  # after the start barrier
    first_attempt: float = 0.0  # its first GetFederationToken attempt asked for a permit
    ended: float = 0.0
    failed: int = 0
    errors: dict[str, int] = field(default_factory=dict)  # failed agents by error class
    error: str = ""


@dataclass(frozen=True)
class Run:
    mode: str
    processes: int
    seconds: float  # from the common start to the last process's end
    setup: float  # from the common start to the first GetFederationToken attempt of any process
    failed: int
    counts: FederationCounts
    redis_calls: int = 0  # EVAL/EVALSHA the Redis server executed during the run (shared quota only)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def busy(self) -> float:
        """Seconds during which some process was asking for permits: first attempt to last end."""
        return self.seconds - self.setup

    @property
    def ratio(self) -> float:
        """Requests answered 200 per second of the busy span, over the quota: the judged rate."""
        return self.counts.succeeded / self.busy / QUOTA

    @property
    def whole_ratio(self) -> float:
        """The same over the whole run, set-up included."""
        return self.counts.succeeded / self.seconds / QUOTA

    @property
    def throttled_share(self) -> float:
        return self.counts.throttled / max(1, self.counts.received)

    @property
    def met(self) -> bool:
        return self.ratio >= TARGET_RATE and self.throttled_share <= TARGET_THROTTLED and self.failed == 0

    def summary(self) -> str:
        return (
            f"rate {self.ratio:.2f} x quota ({self.counts.succeeded} in {self.busy:.1f} s; "
            f"{self.whole_ratio:.2f} with the {self.setup:.1f} s set-up); throttled "
            f"{100 * self.throttled_share:.1f}% ({self.counts.throttled} of {self.counts.received}); "
            f"failed agents {self.failed}"
            + (
                " (" + ", ".join(f"{n} {name}" for name, n in sorted(self.errors.items())) + ")"
                if self.errors
                else ""
            )
        )


# The processes


def _observe_first_attempt(first: list[float]) -> None:
    """Note when this process first asks for a permit; the limiters themselves run unchanged."""
    for limiter in (TokenBucket, SharedQuota):
        original = limiter.acquire

        def acquire(self: Any, _original: Any = original) -> Any:
            if not first:
                first.append(time.monotonic())
            return _original(self)  # the permit, which the answer's recover takes

        limiter.acquire = acquire  # type: ignore[method-assign]  # in this forked process only


@contextlib.contextmanager
def _slot(lock_path: str | None) -> Iterator[None]:
    """The pool slot: an exclusive lock on one file, held for the whole call (no-op without a path)."""
    if lock_path is None:
        yield
        return
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _process(job: Job, barrier: Any, outcomes: Any) -> None:
    """One chunk task: build the hook, wait for the common start, fetch this share's tokens."""
    first: list[float] = []
    try:
        _observe_first_attempt(first)
        hook = ConnectFederationHook(
            aws_conn_id=CONN_ID, shared_quota_conn_id=QUOTA_CONN_ID if job.mode == SHARED else None
        )
        barrier.wait()
        began = time.monotonic()
        with _slot(job.lock_path):
            results = hook.get_federation_tokens(
                job.instance_id, job.users, role_arn=job.role_arn, requests_per_second=QUOTA, burst=BURST
            )
        ended = time.monotonic()
        errors = Counter(
            type(results.get(user)).__name__
            for user in job.users
            if not isinstance(results.get(user), FederationToken)
        )
        outcomes.put(Outcome(began, first[0] if first else ended, ended, errors.total(), dict(errors)))
    except BaseException:  # reported, so the run fails loudly instead of waiting for a process that died
        barrier.abort()
        outcomes.put(Outcome(error=traceback.format_exc()[-2000:]))


def _chunks(users: list[str], k: int) -> list[list[str]]:
    size = -(-len(users) // k)
    return [users[i : i + size] for i in range(0, len(users), size)]


def run_processes(
    emulator: EmulatorProcess,
    redis: Any,
    world: tuple[str, str, list[str]],
    k: int,
    mode: str,
    workdir: Path,
    during: Callable[[], None] | None = None,
) -> Run:
    """K processes at once, each with its share of the agents; counted at the emulator (and Redis).

    ``during`` runs in a thread from the common start (a fault to inject mid-run)."""
    instance_id, role_arn, users = world
    time.sleep(2 * BURST / QUOTA)  # the emulator's bucket refills to its burst
    redis.flushdb()  # a fresh shared bucket (in-process runs do not touch it)
    redis.config_resetstat()
    lock_path = str(workdir / f"pool-{k}.lock") if mode == POOL else None
    jobs = [Job(instance_id, role_arn, chunk, mode, lock_path) for chunk in _chunks(users, k)]
    barrier, outcomes = _FORK.Barrier(len(jobs) + 1), _FORK.Queue()
    processes = [_FORK.Process(target=_process, args=(job, barrier, outcomes)) for job in jobs]
    mark = emulator.log_mark()
    for process in processes:
        process.start()
    try:
        # A broken barrier: a process failed before the start, and its outcome says why.
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=RUN_TIMEOUT)
        start = time.monotonic()
        if during is not None:
            threading.Thread(target=during, daemon=True).start()
        results = [outcomes.get(timeout=RUN_TIMEOUT) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
                process.join()
    errors = [result.error for result in results if result.error]
    if errors:
        raise RuntimeError(f"{len(errors)} of {k} processes ({mode}) failed:\n{errors[0]}")
    calls: dict[str, Any] = {}
    with contextlib.suppress(Exception):  # a Redis the run killed counts nothing
        calls = redis.info("commandstats")
    return Run(
        mode,
        k,
        seconds=max(r.ended for r in results) - start,
        setup=min(r.first_attempt for r in results) - start,
        failed=sum(r.failed for r in results),
        counts=emulator.federation_counts(mark),
        redis_calls=sum(calls.get(f"cmdstat_{name}", {}).get("calls", 0) for name in ("eval", "evalsha")),
        errors=dict(sum((Counter(r.errors) for r in results), Counter())),
    )


# The limiter's own cost


@dataclass(frozen=True)
class Cost:
    shared_us: list[float]
    bucket_us: list[float]
    requests: int  # requests redis-py sent for COST_PERMITS permits (one answer read for each)
    commands: dict[str, int]  # command -> calls the server executed for those permits
    cold_requests: int  # requests for the first permit on a Redis that has not cached the script
    cold_commands: dict[str, int]


class RequestCounter:
    """Counts requests redis-py sends: wraps ``AbstractConnection.send_packed_command``, calls it unchanged."""

    def __init__(self) -> None:
        self.requests = 0

    @contextlib.contextmanager
    def counting(self) -> Iterator[RequestCounter]:
        from redis.connection import AbstractConnection

        original = AbstractConnection.send_packed_command
        counter = self

        def send_packed_command(self: Any, *args: Any, **kwargs: Any) -> None:
            counter.requests += 1
            original(self, *args, **kwargs)

        AbstractConnection.send_packed_command = send_packed_command  # type: ignore[method-assign]
        try:
            yield self
        finally:
            AbstractConnection.send_packed_command = original  # type: ignore[method-assign]


def _commands(redis: Any) -> dict[str, int]:
    """Commands the server executed since its last CONFIG RESETSTAT, those in scripts included."""
    stats = redis.info("commandstats")
    return {
        name.removeprefix("cmdstat_"): int(value["calls"])
        for name, value in stats.items()
        if name.removeprefix("cmdstat_") not in {"info", "config|resetstat", "config"}
    }


def _timed(acquire: Any, permits: int) -> list[float]:
    times = []
    for _ in range(permits):
        began = time.perf_counter_ns()
        acquire()
        times.append((time.perf_counter_ns() - began) / 1000)
    return times


def limiter_cost(redis: Any) -> Cost:
    """``SharedQuota.acquire()`` while permits are available (burst larger than the calls), as the provider builds it."""
    redis.flushdb()
    redis.script_flush()  # the first permit then finds no cached script, as on a new Redis
    quota = SharedQuota(
        redis_client(QUOTA_CONN_ID), QUOTA_CONN_ID, "000000000000", REGION, QUOTA, 10 * COST_PERMITS
    )
    redis.config_resetstat()
    with RequestCounter().counting() as cold:
        quota.acquire()
    cold_commands = _commands(redis)
    _timed(quota.acquire, COST_WARMUP)
    shared = _timed(quota.acquire, COST_PERMITS)  # not counted: the counter's own cost stays out
    redis.config_resetstat()
    with RequestCounter().counting() as counted:
        for _ in range(COST_PERMITS):
            quota.acquire()
    commands = _commands(redis)
    bucket = TokenBucket(QUOTA, 10 * COST_PERMITS)
    _timed(bucket.acquire, COST_WARMUP)
    bucket_us = _timed(bucket.acquire, COST_PERMITS)
    return Cost(shared, bucket_us, counted.requests, commands, cold.requests, cold_commands)


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# The Celery end-to-end test


@dataclass(frozen=True)
class EndToEnd:
    returncode: int
    seconds: float
    timings: dict[str, Any] | None
    summary: str  # pytest's last line, e.g. "8 passed in 80.1s"
    failures: list[str]  # "FAILED test::name" lines and the first "E ..." line of each failure


def celery_e2e(workdir: Path) -> EndToEnd:
    """Run tests/e2e/test_celery.py as ``make test`` would; its fixture writes the timings JSON."""
    timings_path = workdir / "e2e-timings.json"
    env = dict(os.environ, CONNECT_FED_E2E_TIMINGS=str(timings_path))
    command = [PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", E2E_TEST]
    began = time.monotonic()
    try:
        done = subprocess.run(
            command, cwd=REPO, env=env, capture_output=True, text=True, timeout=E2E_TIMEOUT, check=False
        )
        returncode, output = done.returncode, done.stdout + done.stderr
    except subprocess.TimeoutExpired as expired:
        returncode = -1
        output = f"timed out after {E2E_TIMEOUT:.0f} s\n" + str(expired.stdout or "")
    seconds = time.monotonic() - began
    timings = json.loads(timings_path.read_text()) if timings_path.exists() else None
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    failures, in_failure = [], False
    for line in lines:
        if line.startswith("E ") and not in_failure:
            failures.append(line.removeprefix("E").strip())
            in_failure = True
        elif line.startswith("_____"):
            in_failure = False
        elif line.startswith(("FAILED ", "ERROR ")):
            failures.append(line)
    return EndToEnd(returncode, seconds, timings, lines[-1] if lines else "(no output)", failures)


# The benchmark


def _world(emulator: EmulatorProcess) -> tuple[str, str, list[str]]:
    instance_id = emulator.create_instance("fleet")
    role_arn = emulator.create_federation_role()
    users = [f"agent-{i:04d}" for i in range(AGENTS)]
    emulator.create_users(instance_id, users)
    os.environ.update(emulator.airflow_connection_env(CONN_ID, emulator.create_caller("airflow-worker")))
    return instance_id, role_arn, users


def _redis_server() -> RedisServer:
    try:
        return RedisServer()
    except MissingServerError as error:  # never a silent skip
        raise SystemExit(f"shared_quota needs redis-server: {error}") from None


def measure(section: Section) -> None:
    import redis as redis_py

    load_before = os.getloadavg()
    runs: list[Run] = []
    with (
        tempfile.TemporaryDirectory(prefix="connect-fed-bench-quota-") as tmp,
        _redis_server() as server,
        EmulatorProcess(QUOTA, BURST) as emulator,
    ):
        workdir = Path(tmp)
        os.environ[f"AIRFLOW_CONN_{QUOTA_CONN_ID.upper()}"] = f"redis://127.0.0.1:{server.port}?db=0"
        admin = redis_py.Redis(host="127.0.0.1", port=server.port, db=0)
        world = _world(emulator)
        cost = limiter_cost(admin)
        for k in PROCESSES:
            for mode in (IN_PROCESS, SHARED):
                runs.append(run_processes(emulator, admin, world, k, mode, workdir))
        pool = run_processes(emulator, admin, world, POOL_PROCESSES, POOL, workdir)
        admin.close()
    load_after_runs = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="connect-fed-bench-e2e-") as tmp:
        e2e = celery_e2e(Path(tmp))
    load_after = os.getloadavg()

    ideal = AGENTS / ((AGENTS - BURST) / QUOTA) / QUOTA
    for run in runs:
        shared = run.mode == SHARED
        section.add(
            f"K={run.processes}, {run.mode}",
            run.summary(),
            "" if run is not runs[0] and run is not runs[1] else _run_method(run.mode, ideal),
            f">= {TARGET_RATE:g} x quota, <= {100 * TARGET_THROTTLED:g}% throttled, 0 failed"
            if shared
            else "",
            run.met if shared else None,
        )
    shared_runs = [run for run in runs if run.mode == SHARED]
    section.add(
        "Shared limiter, time per permit (permits available)",
        f"median {statistics.median(cost.shared_us):.0f} µs, p99 {_percentile(cost.shared_us, 0.99):.0f} µs "
        f"(in-process TokenBucket: median {statistics.median(cost.bucket_us):.1f} µs, "
        f"p99 {_percentile(cost.bucket_us, 0.99):.1f} µs)",
        f"perf_counter around each of {COST_PERMITS} SharedQuota.acquire() calls after {COST_WARMUP} warm-up "
        f"calls, burst {10 * COST_PERMITS} so a permit is always there; the client is the provider's "
        "(RedisHook of the redis connection), the redis-server is on loopback; the same for TokenBucket.",
    )
    section.add(
        "Shared limiter, Redis round trips per permit (permits available)",
        f"{cost.requests / COST_PERMITS:.2f} ({cost.requests} requests for {COST_PERMITS} permits; the server "
        "ran "
        + ", ".join(f"{name} {calls}" for name, calls in sorted(cost.commands.items()))
        + f"); the first permit on a Redis without the cached script: {cost.cold_requests} ("
        + ", ".join(f"{name} {calls}" for name, calls in sorted(cost.cold_commands.items()))
        + ")",
        "requests counted by a wrapper around redis-py's AbstractConnection.send_packed_command (one answer "
        f"read per request) over {COST_PERMITS} more permits; what the server executed from its INFO "
        "commandstats, reset before them (Redis counts the commands a script runs too).",
    )
    section.add(
        "Shared limiter, Redis round trips per GetFederationToken request (contended)",
        ", ".join(
            f"K={run.processes}: {run.redis_calls / max(1, run.counts.received):.2f}" for run in shared_runs
        ),
        "EVAL/EVALSHA calls during each shared-quota run above / GetFederationToken requests the emulator "
        "received: each attempt runs the script once to take (reserving the next token when the bucket is "
        "empty, then sleeping until it is due) and once for its answer (recover, or drain after a 429).",
    )
    section.add(
        f"No Redis: pool of 1 slot, K={POOL_PROCESSES}",
        pool.summary(),
        f"{POOL_PROCESSES} processes as above with in-process pacing, each holding an exclusive lock on one "
        "file (fcntl.flock) for its whole get_federation_tokens call: one chunk at a time, as an Airflow pool "
        "of one slot per account and region runs one task at a time. It leaves out what a real pool adds "
        "while the slot is held or between holders (task start-up, DAG parsing, storing secrets, scheduler "
        "latency), so a real pool does no better than this.",
    )
    section.add(
        "Celery e2e: DAG run wall time vs N / quota",
        _e2e_value(e2e),
        f"`{E2E_TEST}` run by this benchmark (pytest, {e2e.seconds:.0f} s in all): PostgreSQL, CeleryExecutor "
        "on Redis, two workers, the shared quota at the emulator's quota; wall_seconds is the DAG run's "
        "start to end in the metadata DB, bulk tasks from the first mapped chunk's start to the last one's "
        "end, throttled counted at the emulator (from the test's timings JSON).",
    )
    section.notes.append(_table(runs))
    own = [run for run in runs if run.mode == IN_PROCESS]
    section.notes.append(
        f"With in-process pacing each of K processes sends at the full {QUOTA:g}/s. The emulator still answers "
        "200 at its quota and the hook's retries resend what it throttles, so the rate stays near the quota "
        "while the 429s grow with K ("
        + ", ".join(f"K={run.processes}: {100 * run.throttled_share:.0f}%" for run in own)
        + ") and agents fail once their retries are spent ("
        + ", ".join(f"K={run.processes}: {run.failed}" for run in own)
        + "). With the shared quota the same processes take turns on one bucket ("
        + ", ".join(f"K={run.processes}: {100 * run.throttled_share:.1f}%" for run in shared_runs)
        + " throttled)."
    )
    section.notes.append(
        "Set-up, from the common start to the first GetFederationToken attempt of any process: "
        + ", ".join(f"K={run.processes} {run.mode} {run.setup:.2f} s" for run in runs)
        + f"; pool {pool.setup:.2f} s. It holds K processes building their botocore sessions and clients "
        f"at once, on {os.cpu_count()} cores shared with the emulator and redis-server; the judged rate starts "
        "after it, as the quota is idle until someone asks."
    )
    missed = [run for run in shared_runs if not run.met]
    if missed:
        section.notes.append(
            "Shared quota below its target at "
            + ", ".join(f"K={run.processes}" for run in missed)
            + ". Read with the set-up times above and the machine's load below: the runs' processes share "
            f"{os.cpu_count()} cores with the emulator and redis-server."
        )
    section.notes.append(
        "Load average (1, 5, 15 min) at the start "
        + ", ".join(f"{v:.2f}" for v in load_before)
        + ", after the process runs "
        + ", ".join(f"{v:.2f}" for v in load_after_runs)
        + ", after the Celery e2e "
        + ", ".join(f"{v:.2f}" for v in load_after)
        + f", on {os.cpu_count()} cores."
    )
    for run in [*runs, pool]:
        if run.counts.succeeded + run.failed < AGENTS:
            raise RuntimeError(
                f"the emulator logged {run.counts} for {AGENTS} agents: the access log is incomplete"
            )


def _run_method(mode: str, ideal: float) -> str:
    if mode == IN_PROCESS:
        return (
            f"N={AGENTS} agents split evenly over K processes forked after the imports and released together "
            f"(a barrier after each built its hook); each calls get_federation_tokens(requests_per_second="
            f"{QUOTA:g}, burst={BURST}) for its share against one emulator process with a quota of {QUOTA:g}/s "
            f"burst {BURST}; pacing in each process only. Rate = GetFederationToken requests the emulator "
            "answered 200 / the span from the first process's first GetFederationToken attempt to the last "
            f"process's end, over the quota (pacing ceiling {ideal:.2f}); the figure with set-up divides by "
            "the time from the common start instead (set-up: sessions, clients, the Redis check, the first "
            "AssumeRole, which the quota cannot speed up). Throttled = 429s / requests, from the emulator's "
            "access log; failed = agents whose value is an error. One run per row."
        )
    return (
        "the same, with shared_quota_conn_id naming an Airflow redis connection to a redis-server on loopback "
        "(FLUSHDB before each run: a fresh bucket)."
    )


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(text.replace("|", "/").split())[:300]


def _e2e_value(e2e: EndToEnd) -> str:
    if e2e.returncode == 0:
        verdict = f"test passed ({e2e.summary})"
    else:
        verdict = f"test FAILED, pytest exit {e2e.returncode}: {e2e.summary}; " + "; ".join(
            _cell(line) for line in e2e.failures[:4]
        )
    if e2e.timings is None:
        return f"no timings written; {verdict}"
    t = e2e.timings
    ideal = t["n_over_quota_seconds"]
    share = t["throttled"] / max(1, t["get_federation_token_requests"])
    return (
        f"{t['wall_seconds']} s for {t['agents']} agents at {t['quota_rps']}/s (N / quota {ideal:g} s: "
        f"{t['wall_seconds'] / ideal:.2f}x); bulk tasks {t['refresh_seconds']} s "
        f"({t['refresh_seconds'] / ideal:.2f}x) in {t['chunks']} chunks on {t['workers']} workers; trigger to "
        f"success {t['trigger_to_success_seconds']} s; throttled {100 * share:.1f}% ({t['throttled']} of "
        f"{t['get_federation_token_requests']}); {verdict}"
    )


def _table(runs: list[Run]) -> str:
    by_key = {(run.processes, run.mode): run for run in runs}
    lines = [
        "Side by side (the rows above):",
        "",
        "| processes | in-process: rate / quota | throttled | failed | shared quota: rate / quota | throttled | failed |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for k in PROCESSES:
        own, shared = by_key[(k, IN_PROCESS)], by_key[(k, SHARED)]
        lines.append(
            f"| {k} | {own.ratio:.2f} | {100 * own.throttled_share:.1f}% | {own.failed} "
            f"| {shared.ratio:.2f} | {100 * shared.throttled_share:.1f}% | {shared.failed} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main(measure, "One quota, many processes (issue 12)")
