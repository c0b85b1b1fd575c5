"""Federation counters: outcomes per instance and overall, signed requests per service, reset, thread safety."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from amazon_connect_emulator import DEFAULT_ROOT_ACCESS_KEY, AwsCredentials, ConnectEmulator
from amazon_connect_emulator.counters import FederationCounters, FederationCounts

if TYPE_CHECKING:
    from botocore.config import Config
    from conftest import Agent, Federate, FederationError


def test_counts_start_at_zero() -> None:
    counters = FederationCounters()
    assert FederationCounts() == FederationCounts(received=0, succeeded=0, throttled=0, faulted=0, rejected=0)
    assert counters.totals() == FederationCounts()
    assert counters.for_instance("anything") == FederationCounts()
    assert (counters.requests(), counters.requests("sts")) == (0, 0)


def test_each_outcome_is_counted_per_instance_and_in_the_totals() -> None:
    counters = FederationCounters()
    for outcome in ("succeeded", "succeeded", "throttled", "faulted", "rejected"):
        counters.record("instance-a", outcome)
    counters.record("instance-b", "throttled")
    counters.record("instance-b", "throttled")

    assert counters.for_instance("instance-a") == FederationCounts(
        received=5, succeeded=2, throttled=1, faulted=1, rejected=1
    )
    assert counters.for_instance("instance-b") == FederationCounts(received=2, throttled=2)
    assert counters.for_instance("instance-c") == FederationCounts()
    assert counters.totals() == FederationCounts(received=7, succeeded=2, throttled=3, faulted=1, rejected=1)


def test_instances_are_told_apart_by_the_exact_id_sent() -> None:
    counters = FederationCounters()
    counters.record("Abc", "succeeded")
    counters.record("abc", "rejected")
    assert counters.for_instance("abc") == FederationCounts(received=1, rejected=1)
    assert counters.for_instance("Abc") == FederationCounts(received=1, succeeded=1)


def test_requests_are_counted_by_service() -> None:
    counters = FederationCounters()
    for service in ("sts", "connect", "sts", "iam"):
        counters.record_request(service)
    assert counters.requests() == 4
    assert [counters.requests(s) for s in ("sts", "connect", "iam", "ssm")] == [2, 1, 1, 0]
    assert counters.totals() == FederationCounts()  # requests are not federations


def test_requests_are_counted_by_operation_and_throttles_by_operation() -> None:
    counters = FederationCounters()
    counters.record_request("connect", "SearchUsers")
    counters.record_request("connect", "SearchUsers")
    counters.record_request("secretsmanager", "ListSecrets")
    counters.record_request("sts")  # an operation it could not name
    counters.record_throttle("SearchUsers")
    assert counters.operations() == {
        ("connect", "SearchUsers"): 2,
        ("secretsmanager", "ListSecrets"): 1,
        ("sts", "Unknown"): 1,
    }
    assert (counters.operation("connect", "SearchUsers"), counters.operation("connect", "ListUsers")) == (
        2,
        0,
    )
    assert (counters.requests(), counters.requests("connect")) == (4, 2)
    assert (counters.throttled_operation("SearchUsers"), counters.throttled_operation("ListUsers")) == (1, 0)
    assert counters.totals() == FederationCounts()  # throttles of other operations are not federations
    counters.reset()
    assert (counters.operations(), counters.throttled_operation("SearchUsers")) == ({}, 0)


def test_reset_zeroes_outcomes_and_requests() -> None:
    counters = FederationCounters()
    counters.record("instance-a", "succeeded")
    counters.record_request("connect")
    counters.reset()
    assert counters.totals() == FederationCounts()
    assert counters.for_instance("instance-a") == FederationCounts()
    assert counters.requests() == 0
    counters.record("instance-a", "faulted")  # counting goes on after a reset
    assert counters.totals() == FederationCounts(received=1, faulted=1)


def test_records_from_many_threads_are_all_kept() -> None:
    counters = FederationCounters()
    start = threading.Barrier(8, timeout=30)

    def record(worker: int) -> None:
        start.wait()
        for _ in range(500):
            counters.record(f"instance-{worker % 2}", "succeeded" if worker < 4 else "rejected")
            counters.record_request("connect")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(record, range(8)))
    assert counters.totals() == FederationCounts(received=4000, succeeded=2000, rejected=2000)
    assert counters.for_instance("instance-0") == FederationCounts(
        received=2000, succeeded=1000, rejected=1000
    )
    assert counters.requests("connect") == 4000


# Over HTTP: what the emulator counts


@pytest.mark.integration
def test_concurrent_federations_are_all_counted(
    connect_emulator: ConnectEmulator, agent: Agent, no_retries: Config
) -> None:
    connect_emulator.set_quota(requests_per_second=1000.0, burst=1000)
    connect = connect_emulator.client("connect", config=no_retries, **agent.credentials)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(lambda _: connect.get_federation_token(InstanceId=agent.instance["id"]), range(40))
        )
    assert len({response["Credentials"]["AccessToken"] for response in responses}) == 40
    assert connect_emulator.counters.totals() == FederationCounts(received=40, succeeded=40)


@pytest.mark.integration
def test_counters_by_outcome_and_instance(
    connect_emulator: ConnectEmulator, agent: Agent, federate: Federate, federation_error: FederationError
) -> None:
    instance_id = agent.instance["id"]
    federate(connect_emulator, instance_id, agent.credentials)
    federation_error(connect_emulator, "unknown-instance", agent.credentials)
    root: AwsCredentials = {"aws_access_key_id": DEFAULT_ROOT_ACCESS_KEY, "aws_secret_access_key": "testing"}
    federation_error(connect_emulator, instance_id, root)

    assert connect_emulator.counters.totals() == FederationCounts(received=3, succeeded=1, rejected=2)
    assert connect_emulator.counters.for_instance(instance_id) == FederationCounts(
        received=2, succeeded=1, rejected=1
    )
    assert connect_emulator.counters.for_instance("unknown-instance") == FederationCounts(
        received=1, rejected=1
    )

    connect_emulator.counters.reset()
    assert connect_emulator.counters.totals() == FederationCounts()
