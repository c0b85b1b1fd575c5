"""Trying a failed store write again: an issued token is not dropped because its store hiccuped.

botocore already retries each request (its ``retries`` config); when its attempts run out on an
answer that may pass (HTTP 5xx, a throttling code, a lost connection), the destination waits and
writes again, with jittered exponential backoff ("full jitter": a random wait up to
``base * 2**n``, capped), at most ``attempts`` times and only while the token stays valid. Any other
answer (access denied, a bad name) fails at once.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from airflow_connect_fed._client.aws_error import AwsAnswer

if TYPE_CHECKING:
    from collections.abc import Callable

    from airflow_connect_fed.token import FederationToken

#: Error codes AWS answers when a caller is over a quota, or a resource is busy with another update.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "TooManyUpdates",
    }
)


def retryable(error: Exception) -> bool:
    """Whether a write that failed with ``error`` may succeed when tried again."""
    if isinstance(error, ClientError):
        answer = AwsAnswer.of(error)
        return answer.code in THROTTLING_CODES or (answer.status or 0) >= 500 or answer.status == 429
    return isinstance(error, (BotocoreConnectionError, HTTPClientError))


@dataclass(frozen=True)
class WriteRetry:
    """How many times a token write is tried, and how long to wait between tries.

    :param attempts: writes in all (each one botocore's own attempts), at least 1.
    :param base: seconds of the first backoff's ceiling, doubled after each try.
    :param cap: the longest wait, in seconds.
    :param sleep: waits (a fake clock's in tests).
    :param now: the current UTC time, to tell whether the token is still valid.
    :param jitter: a random factor in [0, 1].
    """

    attempts: int = 6
    base: float = 1.0
    cap: float = 20.0
    sleep: Callable[[float], None] = time.sleep
    now: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    jitter: Callable[[], float] = random.random

    def delay(self, error: Exception, attempt: int, token: FederationToken) -> float | str:
        """Seconds to wait before writing again after failed ``attempt`` (1-based), or why not to."""
        if not retryable(error):
            return ""
        if attempt >= self.attempts:
            return f" The store kept failing; {attempt} attempts made, the most allowed."
        wait: float = self.jitter() * min(self.cap, self.base * 2.0 ** (attempt - 1))
        if not token.is_valid(timedelta(seconds=wait), now=self.now()):
            return (
                f" The token expired at {token.access_token_expiration.isoformat()} before it could be "
                "stored; the next run gets a new one."
            )
        return wait
