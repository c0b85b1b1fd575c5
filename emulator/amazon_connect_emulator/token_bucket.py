"""AWS's API-throttling token bucket, as the emulator applies it to GetFederationToken.

AWS documents the model for its APIs' request rate limits
(https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html): per account and
region, a bucket holds at most a maximum number of tokens (the burst), each request removes one,
and the bucket refills at a set rate; refill tokens that find it full are discarded. Amazon
Connect limits each API per account and region by a steady-state rate and a burst, the maximum
bucket size, and answers over it with HTTP 429
(https://docs.aws.amazon.com/connect/latest/APIReference/best-practices-connect-apis.html);
GetFederationToken's default is 2 requests/s with a burst of 5
(https://docs.aws.amazon.com/connect/latest/adminguide/amazon-connect-service-limits.html).

So here: a bucket starts full, refills continuously at ``requests_per_second`` up to ``burst``,
admits a request while it holds at least one whole token and takes that token; a request
finding less is refused (the emulator answers 429 ThrottlingException) and takes nothing, so
a throttled caller runs up no debt.

This is the emulator's own code, written apart from the provider's pacing bucket on purpose:
the emulator judges whether the client's pacing keeps to the quota, which it could not do by
running the client's arithmetic. Instead of a token count it keeps the time at which the
bucket will be full again (each token taken pushes that time ``1 / requests_per_second``
later); a request is admitted if that time is at most ``burst - 1`` tokens' worth of refill
away. Standard library only: the emulator installs without Airflow or the provider.
"""

from __future__ import annotations

import math
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

#: GetFederationToken's default quota per account and region, the emulator's default.
DEFAULT_REQUESTS_PER_SECOND = 2.0
DEFAULT_BURST = 5
#: Every other Connect operation's own default quota per account and region (SearchUsers, ListUsers, ...).
DEFAULT_API_REQUESTS_PER_SECOND = 2.0
DEFAULT_API_BURST = 5


def validate(
    requests_per_second: object,
    burst: object,
    *,
    prefix: str = "",
    quota: str = "GetFederationToken's",
    names: tuple[str, str] = ("requests_per_second", "burst"),
    typical: tuple[float, int] = (DEFAULT_REQUESTS_PER_SECOND, DEFAULT_BURST),
) -> None:
    """Raise ValueError naming the value unless the rate is a finite number > 0 and the burst an int >= 1.

    ``prefix`` goes before the parameter ``names``, ``quota`` names whose quota it is, ``typical`` its
    usual rate and burst.
    """
    rate_name, burst_name = (f"{prefix}{name}" for name in names)
    if not _is_rate(requests_per_second):
        raise ValueError(
            f"{rate_name} must be a finite number > 0 ({quota} quota is about "
            f"{typical[0]:g} per account and region), got {requests_per_second!r}."
        )
    if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
        raise ValueError(
            f"{burst_name} must be a whole number >= 1 ({quota} is about {typical[1]}), got {burst!r}."
        )


def _is_rate(value: object) -> bool:
    """A finite number > 0 whose interval per token, ``1 / value`` seconds, is finite too."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        rate = float(value)
    except OverflowError:  # an int beyond any float
        return False
    return 0 < rate < math.inf and 1 / rate < math.inf


class TokenBucket:
    """One account and region's bucket: ``burst`` requests at once, then ``requests_per_second``. Thread-safe.

    ``clock`` is a monotonic clock in seconds; tests pass a fake one and move it by hand.
    """

    def __init__(
        self, requests_per_second: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        validate(requests_per_second, burst)
        self._clock = clock
        self._interval = 1.0 / requests_per_second  # seconds of refill per token
        self._tolerance = (burst - 1) * self._interval  # how far ahead "full" may be with a token left
        self._full_at = -math.inf  # full since ever: a new bucket starts full
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        """Admit one request and take its token, or refuse it (False: throttle) and take nothing."""
        with self._lock:
            now = self._clock()
            if self._full_at - now > self._tolerance:
                return False
            self._full_at = max(self._full_at, now) + self._interval
            return True
