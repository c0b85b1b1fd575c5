"""The emulator's quota: a token bucket per account and region, judged on a fake clock."""

from __future__ import annotations

import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from amazon_connect_emulator.quota import Quota

if TYPE_CHECKING:
    from conftest import FakeClock


def test_burst_then_refill_at_the_rate(clock: FakeClock) -> None:
    quota = Quota(requests_per_second=2.0, burst=5, clock=clock)
    assert [quota.try_acquire("a") for _ in range(6)] == [True] * 5 + [False]
    clock.now += 0.4  # 0.8 of a token
    assert not quota.try_acquire("a")
    clock.now += 0.1  # now a whole one
    assert quota.try_acquire("a")
    clock.now += 60  # refills up to the burst, not beyond
    assert [quota.try_acquire("a") for _ in range(6)] == [True] * 5 + [False]


def test_throttled_requests_take_nothing(clock: FakeClock) -> None:
    quota = Quota(requests_per_second=4.0, burst=1, clock=clock)
    assert quota.try_acquire("a")
    assert [quota.try_acquire("a") for _ in range(100)] == [False] * 100
    clock.now += 0.25  # exactly one interval after the token was taken, despite the refusals
    assert [quota.try_acquire("a") for _ in range(2)] == [True, False]


def test_threads_meeting_a_new_key_share_one_bucket(clock: FakeClock) -> None:
    """The first use of a key creates its bucket once, however many threads arrive together."""
    threads = 16
    quota = Quota(requests_per_second=2.0, burst=10, clock=clock)
    start = threading.Barrier(threads, timeout=30)

    def worker(_: int) -> int:
        start.wait()
        return sum(quota.try_acquire(("123456789012", "us-east-1")) for _ in range(5))

    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            admitted = sum(pool.map(worker, range(threads)))
    finally:
        sys.setswitchinterval(before)
    assert admitted == 10


def test_keys_have_separate_buckets_and_configure_refills(clock: FakeClock) -> None:
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
        (
            float("inf"),
            5,
            "requests_per_second must be a finite number > 0 (GetFederationToken's quota is about 2 per account and region), got inf.",
        ),
        (
            "2",
            5,
            "requests_per_second must be a finite number > 0 (GetFederationToken's quota is about 2 per account and region), got '2'.",
        ),
        (2.0, 2.5, "burst must be a whole number >= 1 (GetFederationToken's is about 5), got 2.5."),
        (2.0, True, "burst must be a whole number >= 1 (GetFederationToken's is about 5), got True."),
    ],
)
def test_bad_limits(requests_per_second: float, burst: int, expected: str) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        Quota(requests_per_second, burst)


def test_configure_refuses_bad_limits_and_keeps_the_old_ones(clock: FakeClock) -> None:
    quota = Quota(requests_per_second=1.0, burst=2, clock=clock)
    assert quota.try_acquire("a")
    with pytest.raises(ValueError, match=r"^burst must be a whole number >= 1 .*, got 0\.$"):
        quota.configure(requests_per_second=1.0, burst=0)
    with pytest.raises(
        ValueError, match=r"^requests_per_second must be a finite number > 0 .*, got -2\.0\.$"
    ):
        quota.configure(requests_per_second=-2.0, burst=3)
    assert (quota.requests_per_second, quota.burst) == (1.0, 2)
    assert [quota.try_acquire("a") for _ in range(2)] == [True, False]  # the bucket was not started over
