"""The shared quota against a real redis-server: one bucket for every process, back-off, faults."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time

import pytest

from airflow_connect_fed._client import shared_quota
from airflow_connect_fed._client.shared_quota import SharedQuota, redis_client
from airflow_connect_fed._client.token_bucket import GET_FEDERATION_TOKEN, SEARCH_USERS
from airflow_connect_fed.exceptions import InvalidInputError, SharedQuotaError
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from airflow_connect_fed.token import FederationToken
from tests.e2e.servers import RedisServer

pytestmark = pytest.mark.integration


@pytest.fixture
def redis_server(monkeypatch):
    """A redis-server on loopback, as the connection ``connect_quota``."""
    with RedisServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_CONNECT_QUOTA", server.url())
        yield server


class Sleeps:
    """A sleep that records what it was asked to wait, and waits that long."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        time.sleep(seconds)


class Clock:
    """The quota's clock for when to ask a lost Redis again, moved by hand."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def quota(rate=10.0, burst=3, sleep=None, account="123456789012", operation=GET_FEDERATION_TOKEN, clock=None):
    return SharedQuota(
        redis_client("connect_quota"),
        "connect_quota",
        account,
        "us-east-1",
        rate,
        burst,
        quota=operation,
        sleep=sleep or Sleeps(),
        clock=clock or time.monotonic,
    )


def state(q: SharedQuota) -> dict[str, float]:
    raw = redis_client("connect_quota").hgetall(q.key)
    return {key.decode(): float(value) for key, value in raw.items()}


def test_burst_then_the_rate(redis_server):
    sleeps = Sleeps()
    q = quota(rate=10.0, burst=3, sleep=sleeps)
    for _ in range(3):
        q.acquire()
    assert sleeps.waits == []
    q.acquire()
    assert len(sleeps.waits) == 1
    assert 0.05 < sleeps.waits[0] <= 0.1


def test_the_first_permit_of_a_full_bucket_counts_from_its_answer(redis_server):
    """As in one process: AWS's bucket stays full until the request arrives, so the refill of the
    first permit's flight is taken back when it is answered; a permit of a bucket with room takes none."""
    q = quota(rate=1.0, burst=3)
    first = q.acquire()
    assert first.held == pytest.approx(3.0)
    time.sleep(0.05)  # the request's flight
    q.recover(first)
    assert state(q)["tokens"] == pytest.approx(2.0, abs=0.01)  # not 2.05
    second = q.acquire()
    assert second.held == pytest.approx(2.0, abs=0.01)
    time.sleep(0.05)
    q.recover(second)
    assert state(q)["tokens"] == pytest.approx(1.05, abs=0.02)


def test_waiting_callers_queue_with_one_script_call_each(redis_server):
    quota(account="000000000000").acquire()  # loads the script into Redis
    server = redis_client("connect_quota")
    server.config_resetstat()
    waits: list[float] = []
    first, second = (
        quota(rate=10.0, burst=2, sleep=waits.append),
        quota(rate=10.0, burst=2, sleep=waits.append),
    )
    for q in (first, second, first, second, first):
        q.acquire()  # the recorder does not sleep: each take after the burst reserves the next token
    assert waits == [pytest.approx(0.1, abs=0.02), pytest.approx(0.2, abs=0.02), pytest.approx(0.3, abs=0.02)]
    assert server.info("commandstats")["cmdstat_evalsha"]["calls"] == 5
    assert state(first)["tokens"] == pytest.approx(-3, abs=0.2)  # three reservations outstanding


def test_every_process_shares_one_bucket_per_account_and_region(redis_server):
    second_sleeps, other_sleeps = Sleeps(), Sleeps()
    first, second = quota(burst=2), quota(burst=2, sleep=second_sleeps)
    other_account = quota(burst=2, sleep=other_sleeps, account="210987654321")
    first.acquire()
    first.acquire()
    second.acquire()  # the bucket the first emptied
    assert second_sleeps.waits
    other_account.acquire()
    other_account.acquire()
    assert other_sleeps.waits == []


def test_each_operation_has_its_own_bucket_and_get_federation_token_keeps_its_key(redis_server):
    federation = quota(rate=10.0, burst=3)
    search = quota(rate=10.0, burst=3, operation=SEARCH_USERS)
    assert federation.key == "airflow-connect-fed:quota:123456789012:us-east-1"
    assert search.key == "airflow-connect-fed:quota:SearchUsers:123456789012:us-east-1"
    for _ in range(3):
        search.acquire()
    search.drain()
    assert state(search)["tokens"] <= 0
    assert state(search)["rate"] == pytest.approx(9.0)
    assert state(federation) == {}  # GetFederationToken's bucket: untouched, still full when first used


def test_a_429_anywhere_slows_everyone_and_they_recover(redis_server):
    first, second = quota(rate=10.0), quota(rate=10.0)
    first.drain()
    assert state(second)["rate"] == pytest.approx(9.0)
    assert state(second)["tokens"] <= 0.5
    for _ in range(10):
        first.drain()
    assert state(second)["rate"] == pytest.approx(5.0)  # never below half the configured rate
    for _ in range(30):
        second.recover()
    assert state(first)["rate"] == pytest.approx(10.0)  # never above it


@pytest.fixture
def fallbacks(monkeypatch, caplog):
    """The ``quota_fallback`` counts sent and the warnings logged."""
    sent: list[str] = []
    monkeypatch.setattr("airflow_connect_fed.metrics.incr", lambda name, *a, **k: sent.append(name))
    caplog.set_level(logging.WARNING)

    def seen() -> tuple[list[str], list[str]]:
        messages = [
            r.getMessage() for r in caplog.records if "Redis connection 'connect_quota'" in r.getMessage()
        ]
        return sent, messages

    return seen


def others_active(q: SharedQuota, count: int) -> None:
    """Record ``count`` other processes as active on ``q``'s bucket now, as their takes would."""
    client = redis_client("connect_quota")
    now = float(client.time()[0])
    client.zadd(q.key + ":processes", {f"other-host:{i}": now for i in range(count)})


def test_the_bucket_counts_the_processes_recently_active_on_it(redis_server):
    q = quota()
    q.acquire()
    assert q.processes == 1  # this process, however many threads or objects it takes permits with
    quota().acquire()
    others_active(q, 3)
    q.acquire()
    assert q.processes == 4
    client = redis_client("connect_quota")
    client.zadd(q.key + ":processes", {"other-host:0": 0.0})  # last seen long ago
    q.recover()
    assert q.processes == 3


def test_redis_killed_mid_run_paces_at_this_process_share_and_counts_one_fallback(redis_server, fallbacks):
    sleeps = Sleeps()
    q = quota(rate=20.0, burst=4, sleep=sleeps)
    others_active(q, 3)
    q.acquire()
    os.kill(redis_server.process.pid, signal.SIGKILL)
    redis_server.process.wait()
    began = time.monotonic()
    for _ in range(3):
        q.acquire()  # 5/s, burst 1, starting empty: one every 0.2 s
    q.drain()
    q.recover()
    assert time.monotonic() - began < 2.5
    sent, warnings = fallbacks()
    assert sent == ["quota_fallback"]
    assert len(warnings) == 1
    assert "stopped answering (ConnectionError" in warnings[0]
    assert (
        "5 requests/s, burst 1 (the configured 20/s, burst 4, divided among the 4 process(es)" in warnings[0]
    )
    assert sleeps.waits[:3] == [pytest.approx(0.2, abs=0.02)] * 3


def test_redis_returning_errors_falls_back_and_answering_again_is_used_again(redis_server, fallbacks):
    clock, admin = Clock(), redis_server.client()
    q = quota(rate=20.0, burst=2, clock=clock)
    q.acquire()
    admin.config_set("maxmemory", 1)  # every write refused: OOM command not allowed
    try:
        q.acquire()
        calls = admin.info("commandstats")["cmdstat_evalsha"]
        q.acquire()
        clock.now += shared_quota.RETRY_INTERVAL - 0.1
        q.recover()  # too early to ask Redis again
        assert admin.info("commandstats")["cmdstat_evalsha"] == calls
    finally:
        admin.config_set("maxmemory", 0)
    clock.now += 0.1
    before = state(q)["updated"]
    q.acquire()  # asks Redis again, which answers: the permit is the shared bucket's
    assert state(q)["updated"] > before
    sent, warnings = fallbacks()
    assert sent == ["quota_fallback"]
    assert "stopped answering (OutOfMemoryError" in warnings[0]
    assert "answers again; pacing on it again" in warnings[1]


def test_a_hanging_redis_costs_one_socket_timeout_then_it_comes_back(redis_server, fallbacks):
    clock = Clock()
    q = quota(rate=20.0, burst=2, clock=clock)
    q.acquire()
    os.kill(redis_server.process.pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        for _ in range(4):
            q.acquire()
        assert time.monotonic() - began < shared_quota.SOCKET_TIMEOUT + 1.0  # one timeout, then local pacing
    finally:
        os.kill(redis_server.process.pid, signal.SIGCONT)
    sent, warnings = fallbacks()
    assert sent == ["quota_fallback"]
    assert "stopped answering (TimeoutError" in warnings[0]
    clock.now += shared_quota.RETRY_INTERVAL
    q.acquire()
    assert "answers again" in fallbacks()[1][-1]
    assert state(q)["tokens"] < 2


def test_redis_restarted_mid_run_is_used_again(redis_server, fallbacks):
    clock = Clock()
    q = quota(rate=20.0, burst=2, clock=clock)
    q.acquire()
    os.kill(redis_server.process.pid, signal.SIGKILL)
    redis_server.process.wait()
    q.acquire()
    restarted = subprocess.Popen(
        [redis_server.binary, "--port", str(redis_server.port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not redis_server.ping() and time.monotonic() < deadline:
            time.sleep(0.05)
        q.acquire()  # not yet: the retry is not due
        assert state(q) == {}
        clock.now += shared_quota.RETRY_INTERVAL
        q.acquire()  # a new Redis without the script: loaded, and the bucket starts there
        assert state(q)["tokens"] == pytest.approx(1, abs=0.1)
        assert fallbacks()[0] == ["quota_fallback"]
    finally:
        restarted.kill()
        restarted.wait()


def test_threads_losing_redis_at_once_fall_back_once_to_one_bucket(fallbacks):
    """Every thread of a bulk fetch sees Redis fail at the same moment: one warning, one metric,
    one in-process bucket for all of them."""
    import redis

    threads_count = 8
    failing = threading.Barrier(threads_count)

    class DeadRedis:
        def register_script(self, _source):
            def run(**_):
                failing.wait(timeout=10)  # every thread inside the call before any fails
                raise redis.ConnectionError("Connection refused")

            return run

    # The fall-back bucket starts empty: at 1000/s every thread gets its permit within milliseconds.
    q = SharedQuota(
        DeadRedis(), "connect_quota", "123456789012", "us-east-1", 1000.0, threads_count, sleep=Sleeps()
    )
    threads = [threading.Thread(target=q.acquire, daemon=True) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert [thread for thread in threads if thread.is_alive()] == []
    sent, warnings = fallbacks()
    assert (sent, len(warnings)) == (["quota_fallback"], 1)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "shared_quota_conn_id 'connect_quota' names no Airflow connection"),
        (
            {"AIRFLOW_CONN_CONNECT_QUOTA": "aws://user:pw@host"},
            "is a 'aws' connection; the shared quota needs a 'redis' one",
        ),
        (
            {"AIRFLOW_CONN_CONNECT_QUOTA": "redis://127.0.0.1:9/0"},
            r"Redis connection 'connect_quota' \(127.0.0.1:9\) .* does not answer",
        ),
    ],
)
def test_bad_connections_are_refused_before_any_aws_call(
    monkeypatch, connect_emulator, emu_connection, env, message
):
    monkeypatch.delenv("AIRFLOW_CONN_CONNECT_QUOTA", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    instance = connect_emulator.create_instance("quota")
    role_arn = connect_emulator.create_federation_role()
    connect_emulator.counters.reset()
    hook = ConnectFederationHook(aws_conn_id="emu", shared_quota_conn_id="connect_quota")
    with pytest.raises(SharedQuotaError, match=message) as raised:
        hook.get_federation_tokens(instance["id"], ["agent-1"], role_arn=role_arn)
    assert "pw" not in str(raised.value)
    assert connect_emulator.counters.requests() == 0


def test_bad_pacing_values_are_refused(redis_server):
    with pytest.raises(InvalidInputError, match="requests_per_second must be a finite number > 0"):
        quota(rate=float("inf"))
    with pytest.raises(InvalidInputError, match="must name an Airflow redis connection, got ''"):
        redis_client("")


def test_bad_configured_rate_names_the_option(monkeypatch):
    from airflow_connect_fed._client.pacing import configured_pacing

    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__REQUESTS_PER_SECOND", "fast")
    with pytest.raises(InvalidInputError, match=r"\[connect_federation\] requests_per_second is 'fast'"):
        configured_pacing(None, None)
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__REQUESTS_PER_SECOND", "7.5")
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__BURST", "3")
    assert configured_pacing(None, None) == (7.5, 3)
    assert configured_pacing(1.0, None) == (1.0, 3)


def test_two_workers_share_the_quota_through_the_configured_connection(
    redis_server, monkeypatch, connect_emulator, emu_connection
):
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SHARED_QUOTA_CONN_ID", "connect_quota")
    connect_emulator.set_quota(10, 5)
    instance = connect_emulator.create_instance("shared")
    role_arn = connect_emulator.create_federation_role()
    users = [f"agent-{i:02d}" for i in range(40)]
    for user in users:
        connect_emulator.create_user(instance["id"], user)
    connect_emulator.counters.reset()
    results = {}

    def worker(chunk):
        hook = ConnectFederationHook(aws_conn_id="emu")
        results.update(
            hook.get_federation_tokens(
                instance["id"], chunk, role_arn=role_arn, requests_per_second=10, burst=5
            )
        )

    threads = [threading.Thread(target=worker, args=(users[i::2],)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == users
    assert all(isinstance(token, FederationToken) for token in results.values())
    counts = connect_emulator.counters.totals()
    assert counts.succeeded == len(users)
    # Each worker alone would send at 10/s: together, unshared, at 20/s against a quota of 10.
    assert counts.throttled <= 2
    keys = redis_client("connect_quota").keys("airflow-connect-fed:quota:*")
    key = b"airflow-connect-fed:quota:123456789012:us-east-1"
    assert sorted(keys) == [key, key + b":processes"]  # the bucket and the processes active on it


def test_a_single_call_takes_a_permit_too(redis_server, monkeypatch, connect_emulator, emu_connection):
    instance = connect_emulator.create_instance("single")
    role_arn = connect_emulator.create_federation_role()
    connect_emulator.create_user(instance["id"], "agent-1")
    hook = ConnectFederationHook(aws_conn_id="emu", shared_quota_conn_id="connect_quota")
    token = hook.get_federation_token(instance["arn"], connect_user="agent-1", role_arn=role_arn)
    assert token.instance_id == instance["id"]
    bucket = redis_client("connect_quota").hgetall("airflow-connect-fed:quota:123456789012:us-east-1")
    assert float(bucket[b"tokens"]) < 5  # one permit taken from the full burst


def test_listing_users_takes_its_permits_under_search_users_own_key(
    redis_server, connect_emulator, emu_connection
):
    instance = connect_emulator.create_instance("roster")
    connect_emulator.create_users(instance["id"], ["agent.one@example.com", "agent.two@example.com"])
    hook = ConnectFederationHook(aws_conn_id="emu", shared_quota_conn_id="connect_quota")
    assert hook.list_connect_users(instance["arn"]) == ["agent.one@example.com", "agent.two@example.com"]
    key = b"airflow-connect-fed:quota:SearchUsers:123456789012:us-east-1"
    assert sorted(redis_client("connect_quota").keys("airflow-connect-fed:quota:*")) == [
        key,
        key + b":processes",
    ]
    bucket = redis_client("connect_quota").hgetall(key)
    assert float(bucket[b"tokens"]) < 5  # one permit taken from the full burst
