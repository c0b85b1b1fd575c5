"""Request counters that tests and benchmarks read: federations overall and per instance, every signed
request by service and operation, and throttled answers by operation."""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Callable

Outcome = Literal["succeeded", "throttled", "faulted", "rejected"]
#: The operation of a signed request the emulator cannot name (not Connect, no target, no Action).
UNKNOWN_OPERATION = "Unknown"


@dataclass(frozen=True)
class FederationCounts:
    """GetFederationToken requests by outcome; ``received`` is the sum of the other four.

    ``rejected`` counts client errors (4xx other than throttling), ``faulted`` injected 500s.
    """

    received: int = 0
    succeeded: int = 0
    throttled: int = 0
    faulted: int = 0
    rejected: int = 0


class FederationCounters:
    """Thread-safe tallies of federation outcomes, keyed by the InstanceId the caller sent, of every
    signed AWS request the emulator received, by service and operation, and of 429 answers by operation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, Outcome]] = Counter()
        self._requests: Counter[tuple[str, str]] = Counter()
        self._throttled: Counter[str] = Counter()

    def record_request(self, service: str, operation: str = UNKNOWN_OPERATION) -> None:
        with self._lock:
            self._requests[service, operation] += 1

    def requests(self, service: str | None = None) -> int:
        """Signed AWS requests received (any service, or ``service`` such as ``"sts"``)."""
        with self._lock:
            return sum(n for (s, _), n in self._requests.items() if service is None or s == service)

    def operation(self, service: str, operation: str) -> int:
        """Signed requests received for one operation, e.g. ``("connect", "SearchUsers")``,
        ``("secretsmanager", "ListSecrets")``, ``("sts", "AssumeRole")``."""
        with self._lock:
            return self._requests[service, operation]

    def operations(self) -> dict[tuple[str, str], int]:
        """Signed requests received by ``(service, operation)``."""
        with self._lock:
            return dict(self._requests)

    def record_throttle(self, operation: str) -> None:
        with self._lock:
            self._throttled[operation] += 1

    def throttled_operation(self, operation: str) -> int:
        """Connect requests for ``operation`` (e.g. ``"SearchUsers"``, ``"GetFederationToken"``)
        answered 429 ThrottlingException by its quota."""
        with self._lock:
            return self._throttled[operation]

    def record(self, instance_id: str, outcome: Outcome) -> None:
        with self._lock:
            self._counts[instance_id, outcome] += 1

    def totals(self) -> FederationCounts:
        """Counts over all instances."""
        return self._select(lambda _: True)

    def for_instance(self, instance_id: str) -> FederationCounts:
        """Counts for requests that named ``instance_id``."""
        return self._select(lambda requested: requested == instance_id)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._requests.clear()
            self._throttled.clear()

    def _select(self, include: Callable[[str], bool]) -> FederationCounts:
        by_outcome: Counter[Outcome] = Counter()
        with self._lock:
            for (instance_id, outcome), n in self._counts.items():
                if include(instance_id):
                    by_outcome[outcome] += n
        return FederationCounts(
            received=sum(by_outcome.values()),
            succeeded=by_outcome["succeeded"],
            throttled=by_outcome["throttled"],
            faulted=by_outcome["faulted"],
            rejected=by_outcome["rejected"],
        )
