"""Client-side pacing to the GetFederationToken quota (about 2 requests/s, burst 5, per account and region)."""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING, Any

from airflow_connect_fed.exceptions import InvalidInputError

#: GetFederationToken's quota per account and region, the defaults of
#: ``[connect_federation] requests_per_second`` and ``burst``.
DEFAULT_REQUESTS_PER_SECOND = 2.0
DEFAULT_BURST = 5

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


def configured_pacing(requests_per_second: float | None, burst: int | None) -> tuple[float, int]:
    """The given rate and burst, else ``[connect_federation]``'s, else the quota's; checked."""
    if requests_per_second is None:
        requests_per_second = _configured("requests_per_second", float, DEFAULT_REQUESTS_PER_SECOND)
    if burst is None:
        burst = _configured("burst", int, DEFAULT_BURST)
    validate_pacing(requests_per_second, burst)
    return requests_per_second, burst


def configured_shared_quota_conn_id(conn_id: str | None) -> str | None:
    """``shared_quota_conn_id`` if given, else ``[connect_federation] shared_quota_conn_id`` (``None``: unset)."""
    from airflow.providers.common.compat.sdk import conf

    if conn_id is not None:
        return conn_id
    return conf.get("connect_federation", "shared_quota_conn_id", fallback="") or None


def _configured(option: str, kind: type, default: float) -> Any:
    from airflow.providers.common.compat.sdk import conf

    text = conf.get("connect_federation", option, fallback="") or ""
    if not text:
        return kind(default)
    try:
        return kind(text)
    except ValueError:
        raise InvalidInputError(
            f"[connect_federation] {option} is {text!r}, not a {kind.__name__}; "
            f"GetFederationToken's quota is about {DEFAULT_REQUESTS_PER_SECOND:g} requests/s, burst {DEFAULT_BURST}."
        ) from None
