"""Request quota: a token bucket per key, like Connect's per-account, per-region API rate limit."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from amazon_connect_emulator.token_bucket import TokenBucket, validate

if TYPE_CHECKING:
    from collections.abc import Callable, Hashable


class Quota:
    """Token buckets keyed by caller scope (account and region), created full on first use. Thread-safe."""

    def __init__(
        self, requests_per_second: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        validate(requests_per_second, burst)
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
        validate(requests_per_second, burst)
        with self._lock:
            self._rate = requests_per_second
            self._burst = burst
            self._buckets.clear()

    def try_acquire(self, key: Hashable) -> bool:
        """Take one request from ``key``'s bucket; False means throttle."""
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, clock=self._clock)
        return bucket.try_take()
