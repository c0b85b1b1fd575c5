"""Option validation, the quota's token buckets and the fault injector, without a server."""

from __future__ import annotations

import re

import pytest

from airflow_connect_fed.testing import ConnectEmulator
from airflow_connect_fed.testing.faults import FaultInjector
from airflow_connect_fed.testing.quota import Quota


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_refill_at_the_rate() -> None:
    clock = FakeClock()
    quota = Quota(requests_per_second=2.0, burst=5, clock=clock)
    assert [quota.try_acquire("a") for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.4  # 0.8 of a token
    assert not quota.try_acquire("a")
    clock.now += 0.1  # now a whole one
    assert quota.try_acquire("a")
    clock.now += 60  # refills up to the burst, not beyond
    assert [quota.try_acquire("a") for _ in range(6)] == [True] * 5 + [False]


def test_keys_have_separate_buckets_and_configure_refills() -> None:
    clock = FakeClock()
    quota = Quota(requests_per_second=1.0, burst=1, clock=clock)
    assert quota.try_acquire(("111111111111", "us-east-1"))
    assert not quota.try_acquire(("111111111111", "us-east-1"))
    assert quota.try_acquire(("111111111111", "eu-west-1"))
    quota.configure(requests_per_second=1.0, burst=3)
    assert (quota.requests_per_second, quota.burst) == (1.0, 3)
    assert [quota.try_acquire(("111111111111", "us-east-1")) for _ in range(4)] == [True] * 3 + [False]


@pytest.mark.parametrize(
    ("requests_per_second", "burst", "expected"),
    [
        (float("inf"), 5, "requests_per_second must be a finite number > 0, got inf"),
        ("2", 5, "requests_per_second must be a number > 0, got '2'"),
        (2.0, 2.5, "burst must be an integer >= 1, got 2.5"),
        (2.0, True, "burst must be an integer >= 1, got True"),
    ],
)
def test_bad_limits(requests_per_second: float, burst: int, expected: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        Quota(requests_per_second, burst)


def test_faults_follow_the_rate_and_repeat_with_a_seed() -> None:
    injector = FaultInjector(rate=0.5, seed=7)
    first = [injector.should_fail() for _ in range(200)]
    assert 60 < sum(first) < 140
    injector.reseed()
    assert [injector.should_fail() for _ in range(200)] == first
    assert not any(FaultInjector(rate=0.0).should_fail() for _ in range(100))
    assert all(FaultInjector(rate=1.0).should_fail() for _ in range(100))
    with pytest.raises(ValueError, match=r"fault_rate must be a number from 0\.0 to 1\.0, got nan"):
        injector.set_rate(float("nan"))


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("port", -1, "port must be an integer from 0 .* to 65535, got -1"),
        ("port", 70000, "got 70000"),
        ("host", "", "host must be .*, got ''"),
        ("region", "Mars", "region must be an AWS region name .*, got 'Mars'"),
        ("requests_per_second", -2.0, "requests_per_second must be a finite number > 0, got -2.0"),
        ("requests_per_second", 0, "got 0"),
        ("burst", 0, "burst must be an integer >= 1, got 0"),
        ("fault_rate", 1.5, r"fault_rate must be a number from 0.0 to 1.0, got 1.5"),
        ("fault_rate", -0.1, "got -0.1"),
        ("root_access_key", "root", "root_access_key must be 16 to 128 .*, got 'root'"),
        ("token_ttl", 0, "token_ttl must be an integer number of seconds >= 1, got 0"),
        ("seed", "abc", "seed must be an integer or None, got 'abc'"),
    ],
)
def test_bad_options_raise_value_error(option: str, value: object, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        ConnectEmulator(**{option: value})  # type: ignore[arg-type]
