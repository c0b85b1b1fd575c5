"""The client's pacing bucket for a Connect operation's quota: ``burst`` at once, then ``requests_per_second``.

A bucket holds up to ``burst`` tokens, starts full and refills continuously at the rate; every
attempt (retries included) takes one, and ``acquire()`` sleeps until one is there, so a process
never sends faster than the quota however many threads call. After a 429 ``drain()`` empties the
bucket and slows the rate by 10%, down to half the configured rate, so callers back off together;
after each answer that is not a 429, ``recover()`` gives back 5% of the configured rate, up to it.

AWS counts a request when it arrives, and the first one of a burst, which opens the connection,
arrives longer after its permit than the next ones: AWS's bucket, full until then, starts refilling
later than the client's. Given the answered request's permit, ``recover()`` takes that refill back,
so the request after a burst does not reach AWS a little early and get throttled.

``amazon-connect-emulator`` does not share this code: it models AWS's throttling bucket in its own
(``amazon_connect_emulator/token_bucket.py``), so the emulator independently judges whether this
pacing keeps to the quota.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

#: GetFederationToken's quota per account and region: the emulator's, and the defaults of
#: ``[connect_federation] requests_per_second`` and ``burst``.
DEFAULT_REQUESTS_PER_SECOND = 2.0
DEFAULT_BURST = 5


@dataclass(frozen=True)
class OperationQuota:
    """A Connect operation's own quota per account and region (AWS keeps one per API), as AWS sets it
    by default, and the prefix of the ``[connect_federation]`` options that pace the provider's calls of it.
    """

    operation: str
    requests_per_second: float
    burst: int
    option_prefix: str = ""
    #: The rate option's name after the prefix (the stores' options read ``<prefix>per_second``).
    rate_option: str = "requests_per_second"


GET_FEDERATION_TOKEN = OperationQuota("GetFederationToken", DEFAULT_REQUESTS_PER_SECOND, DEFAULT_BURST)
#: SearchUsers: 2 requests/s, burst 5 by default; ``[connect_federation] search_users_requests_per_second``
#: and ``search_users_burst``.
SEARCH_USERS = OperationQuota("SearchUsers", 2.0, 5, option_prefix="search_users_")
#: The authentication profile reads ``connect-fed check`` makes, once each: not paced, named in errors.
LIST_AUTHENTICATION_PROFILES = OperationQuota("ListAuthenticationProfiles", 2.0, 5)
DESCRIBE_AUTHENTICATION_PROFILE = OperationQuota("DescribeAuthenticationProfile", 2.0, 5)
#: Secrets Manager's writes (PutSecretValue with UpdateSecret and the replication calls: a combined 50
#: requests/s per account and region, not adjustable), which the bulk path paces its token writes to;
#: ``[connect_federation] secretsmanager_writes_per_second`` and ``secretsmanager_writes_burst``.
SECRETS_MANAGER_WRITES = OperationQuota(
    "PutSecretValue", 50.0, 50, option_prefix="secretsmanager_writes_", rate_option="per_second"
)
#: Parameter Store's PutParameter at its standard throughput (higher throughput is an account setting);
#: ``[connect_federation] ssm_writes_per_second`` and ``ssm_writes_burst``.
SSM_WRITES = OperationQuota("PutParameter", 3.0, 3, option_prefix="ssm_writes_", rate_option="per_second")


def validate(
    requests_per_second: object, burst: object, quota: OperationQuota = GET_FEDERATION_TOKEN
) -> None:
    """Raise ValueError unless the rate is a finite number > 0 and the burst a whole number >= 1;
    the message names ``quota``'s operation and its default."""
    if (
        isinstance(requests_per_second, bool)
        or not isinstance(requests_per_second, (int, float))
        or not math.isfinite(requests_per_second)
        or requests_per_second <= 0
    ):
        raise ValueError(
            f"requests_per_second must be a finite number > 0 ({quota.operation}'s quota is about "
            f"{quota.requests_per_second:g} per account and region), got {requests_per_second!r}."
        )
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(
            f"burst must be a whole number >= 1 ({quota.operation}'s is about {quota.burst}), got {burst!r}."
        )


#: A token this short of whole is whole: float rounding of the refill must not leave a caller waiting
#: a sleep too short to move the clock.
_ROUNDING = 1e-9


@dataclass(frozen=True)
class Permit:
    """A token taken from a :class:`TokenBucket`: how many the bucket held just before, and when (its clock)."""

    held: float
    taken_at: float


class TokenBucket:
    """Holds up to ``burst`` tokens, refilled at ``requests_per_second``; a request takes one. Thread-safe.

    ``full=False`` starts it empty (taking over from a bucket that was in use). ``acquire()`` sleeps
    until a token is there and returns a :class:`Permit`. ``drain()`` empties the bucket after a throttled answer and slows
    the rate by 10% (down to half the configured rate), so callers back off together instead of
    hammering a service that said no; ``recover()``, after each answer that was not throttled,
    gives back 5% of the configured rate, up to that rate.
    """

    def __init__(
        self,
        requests_per_second: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        full: bool = True,
    ) -> None:
        validate(requests_per_second, burst)
        self.rate = float(requests_per_second)
        self._max_rate = self.rate
        self._min_rate = self.rate / 2
        self.burst = burst
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(burst) if full else 0.0
        self._updated = clock()
        self._lock = threading.Lock()

    def acquire(self) -> Permit:
        """Take one token, sleeping until one is available."""
        while isinstance(taken := self._take(), float):
            self._sleep(taken)
        return taken

    def drain(self) -> None:
        """Empty the bucket and slow down (after a 429)."""
        with self._lock:
            self._refill()
            self._tokens = min(self._tokens, 0.0)
            self.rate = max(self.rate * 0.9, self._min_rate)

    def recover(self, permit: Permit | None = None) -> None:
        """Step the rate back toward the configured one (after an answer that was not a 429).

        With the answered request's ``permit``: take back the refill AWS's bucket could not keep
        while the request was on its way, being full (it counts the request on arrival, at the
        latest now).
        """
        with self._lock:
            if permit is not None:
                self._refill()
                overflow = permit.held + (self._updated - permit.taken_at) * self.rate - self.burst
                self._tokens -= min(1.0, max(0.0, overflow))
            self.rate = min(self._max_rate, self.rate + self._max_rate / 20)

    def _take(self) -> Permit | float:
        """Take a token and return its permit, or return the seconds until one will be there."""
        with self._lock:
            self._refill()
            if self._tokens >= 1 - _ROUNDING:
                permit = Permit(held=self._tokens, taken_at=self._updated)
                self._tokens -= 1
                return permit
            return (1 - self._tokens) / self.rate

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
