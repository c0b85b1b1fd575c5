"""Request quota: a token bucket per key, like Connect's per-account, per-region API rate limit."""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable


def validate_quota(requests_per_second: float, burst: int) -> None:
    """Raise ValueError unless the rate is a finite number > 0 and the burst an integer >= 1."""
    if isinstance(requests_per_second, bool) or not isinstance(requests_per_second, (int, float)):
        raise ValueError(f"requests_per_second must be a number > 0, got {requests_per_second!r}")
    if not (math.isfinite(requests_per_second) and requests_per_second > 0):
        raise ValueError(f"requests_per_second must be a finite number > 0, got {requests_per_second!r}")
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(f"burst must be an integer >= 1, got {burst!r}")


class TokenBucket:
    """Holds up to ``burst`` tokens, refilled at ``requests_per_second``; one request takes one token.

    Not thread-safe on its own: ``Quota`` serialises access.
    """

    def __init__(self, requests_per_second: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = requests_per_second
        self._burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock()

    def try_take(self) -> bool:
        """Take a token if one is available; False means the caller is over quota."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._updated) * self._rate)
        self._updated = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


class Quota:
    """Thread-safe token buckets keyed by caller scope (e.g. account and region), created on first use."""

    def __init__(
        self, requests_per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        validate_quota(requests_per_second, burst)
        self._lock = threading.Lock()
        self._clock = clock
        self._rate = requests_per_second
        self._burst = burst
        self._buckets: dict[Hashable, TokenBucket] = {}

    @property
    def requests_per_second(self) -> float:
        return self._rate

    @property
    def burst(self) -> int:
        return self._burst

    def configure(self, requests_per_second: float, burst: int) -> None:
        """Change the limits; every bucket starts over full at the new burst."""
        validate_quota(requests_per_second, burst)
        with self._lock:
            self._rate = requests_per_second
            self._burst = burst
            self._buckets.clear()

    def try_acquire(self, key: Hashable) -> bool:
        """Take one request from ``key``'s bucket; False means throttle."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, self._clock)
            return bucket.try_take()

    def refill(self) -> None:
        """Forget all buckets, so every key starts with a full burst."""
        with self._lock:
            self._buckets.clear()
