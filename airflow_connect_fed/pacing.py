"""Client-side pacing to the GetFederationToken quota (about 2 requests/s, burst 5, per account and region)."""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING

from airflow_connect_fed.exceptions import InvalidInputError

if TYPE_CHECKING:
    from collections.abc import Callable


class TokenBucket:
    """A thread-safe token bucket: ``acquire()`` blocks until a request may be sent.

    ``drain()`` empties the bucket after a throttled answer and slows the rate by
    10% (down to half the configured rate), so callers back off together instead
    of hammering a service that said no; ``recover()``, after each answer that was
    not throttled, gives back 5% of the configured rate, up to that rate.
    """

    def __init__(
        self,
        requests_per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        validate_pacing(requests_per_second, burst)
        self.rate = float(requests_per_second)
        self._max_rate = self.rate
        self._min_rate = self.rate / 2
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst)
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Take one token, sleeping until one is available."""
        while True:
            with self._lock:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                wait = (1 - self._tokens) / self.rate
            self._sleep(wait)

    def drain(self) -> None:
        """Empty the bucket and slow down (after a 429)."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)
            self.rate = max(self.rate * 0.9, self._min_rate)

    def recover(self) -> None:
        """Step the rate back toward the configured one (after an answer that was not a 429)."""
        with self._lock:
            self.rate = min(self._max_rate, self.rate + self._max_rate / 20)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now


def validate_pacing(requests_per_second: object, burst: object) -> None:
    """Refuse a rate that is not a finite number > 0 or a burst that is not a whole number >= 1."""
    if (
        isinstance(requests_per_second, bool)
        or not isinstance(requests_per_second, (int, float))
        or not math.isfinite(requests_per_second)
        or requests_per_second <= 0
    ):
        raise InvalidInputError(
            f"requests_per_second must be a finite number > 0 (GetFederationToken's quota is about 2 per "
            f"account and region), got {requests_per_second!r}."
        )
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise InvalidInputError(
            f"burst must be a whole number >= 1 (GetFederationToken's is about 5), got {burst!r}."
        )
