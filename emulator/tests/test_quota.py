"""The emulator's quota: a token bucket per account and region."""

from __future__ import annotations

import re
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
