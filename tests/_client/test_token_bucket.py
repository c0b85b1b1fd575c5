"""The client's pacing bucket: burst, refill, acquire sleeping, drain after a 429, recover, a permit's
flight taken back (fake clock)."""

from __future__ import annotations

import threading

import pytest

from airflow_connect_fed._client.token_bucket import Permit, TokenBucket


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def bucket(rate=2.0, burst=5) -> tuple[TokenBucket, FakeTime]:
    time = FakeTime()
    return TokenBucket(rate, burst, clock=time.clock, sleep=time.sleep), time


def test_burst_then_the_sustained_rate():
    b, time = bucket(rate=2.0, burst=5)
    for _ in range(5):
        b.acquire()
    assert time.now == 0
    for _ in range(10):
        b.acquire()
    assert time.now == pytest.approx(5.0)  # 10 more at 2/s


def test_refills_while_idle_up_to_burst():
    b, time = bucket(rate=2.0, burst=5)
    for _ in range(5):
        b.acquire()
    time.now += 100
    for _ in range(5):
        b.acquire()
    assert time.now == 100
    b.acquire()
    assert time.now == pytest.approx(100.5)


def test_drain_makes_everyone_wait_and_slows_down():
    b, time = bucket(rate=4.0, burst=5)
    b.drain()
    b.acquire()
    assert time.now == pytest.approx(1 / 3.6)
    for _ in range(20):
        b.drain()
    assert b.rate == 2.0  # never below half the configured rate


def test_threads_never_take_more_than_the_bucket_holds():
    def no_waiting(seconds: float) -> None:
        raise AssertionError(f"asked to wait {seconds} s")

    b = TokenBucket(1e-9, 800, sleep=no_waiting)
    threads = [threading.Thread(target=lambda: [b.acquire() for _ in range(100)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with pytest.raises(AssertionError, match="asked to wait"):
        b.acquire()  # all 800 were handed out exactly once


def test_recover_steps_back_to_the_configured_rate():
    b, _ = bucket(rate=10.0, burst=5)
    b.drain()
    b.drain()
    assert b.rate == pytest.approx(8.1)
    b.recover()
    assert b.rate == pytest.approx(8.6)
    for _ in range(10):
        b.recover()
    assert b.rate == 10.0


def test_the_first_permit_of_a_full_bucket_counts_from_its_answer():
    """AWS's bucket stays full until the request arrives (at the latest when it is answered): the
    refill of its flight is taken back, so the request after the burst is not early."""
    b, time = bucket(rate=2.0, burst=5)
    first = b.acquire()
    assert first == Permit(held=5.0, taken_at=0.0)
    time.now = 0.2  # answered
    b.recover(first)
    for _ in range(4):
        b.acquire()
    assert time.now == 0.2
    b.acquire()
    assert time.now == pytest.approx(0.7)  # 0.5 s after the first answer, not after its sending


def test_a_permit_of_a_bucket_with_room_takes_nothing_back():
    b, time = bucket(rate=2.0, burst=5)
    b.acquire()
    b.acquire()
    third = b.acquire()
    assert third.held == 3.0
    time.now = 0.2
    b.recover(third)  # 3 tokens + 0.4 refilled stay under the burst: AWS's bucket refilled as much
    b.acquire()
    b.acquire()
    b.acquire()
    assert time.now == pytest.approx(0.5)


def test_a_long_flight_takes_back_at_most_the_permits_token():
    b, time = bucket(rate=2.0, burst=5)
    first = b.acquire()
    time.now = 10.0
    b.recover(first)
    for _ in range(4):
        b.acquire()
    assert time.now == 10.0
    b.acquire()
    assert time.now == pytest.approx(10.5)


@pytest.mark.parametrize(
    ("rate", "burst", "message"),
    [
        (0, 5, "requests_per_second must be a finite number > 0 .*, got 0"),
        (2.0, 0, "burst must be a whole number >= 1 .*, got 0"),
    ],
)
def test_bad_values_are_value_errors(rate, burst, message):
    with pytest.raises(ValueError, match=message):
        TokenBucket(rate, burst)
