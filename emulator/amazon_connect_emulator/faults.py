"""Fault injection: fail a configurable share of requests, reproducibly when seeded."""

from __future__ import annotations

import math
import random
import threading


def validate_fault_rate(rate: float) -> None:
    """Raise ValueError unless ``rate`` is a number from 0.0 to 1.0."""
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or math.isnan(rate) or not 0 <= rate <= 1:
        raise ValueError(f"fault_rate must be a number from 0.0 to 1.0, got {rate!r}")


class FaultInjector:
    """Decides per request whether to inject a fault, with probability ``rate``."""

    def __init__(self, rate: float = 0.0, seed: int | None = None) -> None:
        validate_fault_rate(rate)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise ValueError(f"seed must be an integer or None, got {seed!r}")
        self._lock = threading.Lock()
        self._rate = float(rate)
        self._seed = seed
        self._random = random.Random(seed)  # noqa: S311 - reproducible, not secret

    @property
    def rate(self) -> float:
        return self._rate

    def set_rate(self, rate: float) -> None:
        validate_fault_rate(rate)
        with self._lock:
            self._rate = float(rate)

    def should_fail(self) -> bool:
        with self._lock:
            return self._rate > 0 and self._random.random() < self._rate

    def reseed(self) -> None:
        """Restart the random sequence from the seed, so a reset emulator repeats its faults."""
        with self._lock:
            self._random = random.Random(self._seed)  # noqa: S311
