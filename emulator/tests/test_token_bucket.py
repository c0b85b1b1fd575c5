"""The emulator's own token bucket, AWS's throttling model, judged on a fake clock (no sleeping, no timing)."""

from __future__ import annotations

import re
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest

from amazon_connect_emulator.token_bucket import (
    DEFAULT_BURST,
    DEFAULT_REQUESTS_PER_SECOND,
    TokenBucket,
    validate,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import FakeClock

# Rates whose interval per token, 1/rate seconds, is exact in binary floating point, so the clock can
# be put exactly on (or just short of) the moment a token is back.
EXACT_RATES = [0.5, 2.0, 8.0]


def takes(bucket: TokenBucket, attempts: int) -> list[bool]:
    return [bucket.try_take() for _ in range(attempts)]


@pytest.fixture
def t0(clock: FakeClock) -> FakeClock:
    clock.now = 0.0
    return clock


def test_the_default_is_getfederationtokens_quota() -> None:
    assert (DEFAULT_REQUESTS_PER_SECOND, DEFAULT_BURST) == (2.0, 5)


@pytest.mark.parametrize("rate", EXACT_RATES)
@pytest.mark.parametrize("burst", [1, 5, 50])
def test_starts_full_admits_exactly_the_burst_then_refuses(t0: FakeClock, rate: float, burst: int) -> None:
    bucket = TokenBucket(rate, burst, clock=t0)
    assert takes(bucket, burst + 3) == [True] * burst + [False] * 3


@pytest.mark.parametrize("rate", EXACT_RATES)
def test_one_token_is_back_after_exactly_one_interval_and_not_before(t0: FakeClock, rate: float) -> None:
    bucket = TokenBucket(rate, 5, clock=t0)
    assert takes(bucket, 5) == [True] * 5
    t0.now = 1 / rate - 1e-9
    assert not bucket.try_take()
    t0.now = 1 / rate
    assert takes(bucket, 2) == [True, False]


@pytest.mark.parametrize("rate", EXACT_RATES)
def test_after_the_burst_the_rate_is_sustained(t0: FakeClock, rate: float) -> None:
    bucket = TokenBucket(rate, 3, clock=t0)
    assert takes(bucket, 3) == [True] * 3
    for k in range(1, 21):
        t0.now = k / rate
        assert takes(bucket, 2) == [True, False], f"at token {k}"


def test_a_partial_refill_admits_only_whole_tokens(t0: FakeClock) -> None:
    bucket = TokenBucket(2.0, 5, clock=t0)
    assert takes(bucket, 5) == [True] * 5
    t0.now = 1.25  # 2.5 tokens back
    assert takes(bucket, 3) == [True, True, False]
    t0.now = 1.5  # the half token left over and another half make one
    assert takes(bucket, 2) == [True, False]


def test_a_long_idle_refills_up_to_the_burst_and_no_further(t0: FakeClock) -> None:
    bucket = TokenBucket(2.0, 5, clock=t0)
    assert takes(bucket, 5) == [True] * 5
    t0.now = 3600.0
    assert takes(bucket, 6) == [True] * 5 + [False]


def test_a_refused_request_takes_nothing(t0: FakeClock) -> None:
    bucket = TokenBucket(2.0, 2, clock=t0)
    assert takes(bucket, 2) == [True, True]
    t0.now = 0.25
    assert takes(bucket, 1000) == [False] * 1000  # hammering while empty runs up no debt
    t0.now = 0.5
    assert takes(bucket, 2) == [True, False]  # the token is back on time
    t0.now = 1.5
    assert takes(bucket, 3) == [True, True, False]


def test_the_clocks_origin_does_not_matter(clock: FakeClock) -> None:
    clock.now = 1e6
    bucket = TokenBucket(4.0, 2, clock=clock)
    assert takes(bucket, 3) == [True, True, False]
    clock.now += 0.25
    assert takes(bucket, 2) == [True, False]


def test_an_int_rate_is_accepted(t0: FakeClock) -> None:
    bucket = TokenBucket(1, 1, clock=t0)
    assert takes(bucket, 2) == [True, False]
    t0.now = 1.0
    assert bucket.try_take()


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """Let threads interleave every microsecond, so a race in the bucket would show."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(before)


@pytest.mark.usefixtures("frequent_thread_switches")
def test_threads_at_a_frozen_clock_get_exactly_the_burst(clock: FakeClock) -> None:
    burst, threads, attempts = 100, 16, 40
    bucket = TokenBucket(2.0, burst, clock=clock)
    start = threading.Barrier(threads, timeout=30)

    def worker(_: int) -> int:
        start.wait()
        return sum(bucket.try_take() for _ in range(attempts))

    with ThreadPoolExecutor(max_workers=threads) as pool:
        admitted = list(pool.map(worker, range(threads)))
    assert sum(admitted) == burst
    assert not bucket.try_take()


RATE_MESSAGE = (
    "requests_per_second must be a finite number > 0 (GetFederationToken's quota is about 2 per "
    "account and region), got {}."
)
BURST_MESSAGE = "burst must be a whole number >= 1 (GetFederationToken's is about 5), got {}."


@pytest.mark.parametrize(
    ("requests_per_second", "burst", "expected"),
    [
        (0, 5, RATE_MESSAGE.format("0")),
        (-1.5, 5, RATE_MESSAGE.format("-1.5")),
        (float("nan"), 5, RATE_MESSAGE.format("nan")),
        (float("inf"), 5, RATE_MESSAGE.format("inf")),
        ("2", 5, RATE_MESSAGE.format("'2'")),
        (None, 5, RATE_MESSAGE.format("None")),
        (True, 5, RATE_MESSAGE.format("True")),
        (1e-320, 5, RATE_MESSAGE.format("1e-320")),  # a token would take longer than a float holds
        (10**400, 5, RATE_MESSAGE.format(10**400)),  # beyond any float
        (2.0, 0, BURST_MESSAGE.format("0")),
        (2.0, -3, BURST_MESSAGE.format("-3")),
        (2.0, 2.5, BURST_MESSAGE.format("2.5")),
        (2.0, 5.0, BURST_MESSAGE.format("5.0")),
        (2.0, "5", BURST_MESSAGE.format("'5'")),
        (2.0, True, BURST_MESSAGE.format("True")),
    ],
)
def test_bad_limits_are_refused_naming_the_value(
    requests_per_second: object, burst: object, expected: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        validate(requests_per_second, burst)
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        TokenBucket(requests_per_second, burst)  # type: ignore[arg-type]
