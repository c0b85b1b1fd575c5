"""A stand-in for Airflow's ``Stats`` that records what the provider sends, set as ``metrics.Stats``."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from airflow_connect_fed import metrics


class RecordingStats:
    """Records each ``incr`` and ``timing`` as Airflow's ``Stats`` receives them."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, float, dict[str, str] | None]] = []

    def incr(self, stat: str, count: int = 1, rate: int = 1, *, tags: dict[str, str] | None = None) -> None:
        self.calls.append(("incr", stat, count, tags))

    def timing(self, stat: str, dt: timedelta, *, tags: dict[str, str] | None = None) -> None:
        self.calls.append(("timing", stat, dt.total_seconds(), tags))

    def counts(self) -> dict[str, int]:
        """Each counter's total above 0, by its name without the ``connect_federation.`` prefix."""
        totals: Counter[str] = Counter()
        for kind, stat, value, _ in self.calls:
            if kind == "incr":
                totals[stat.removeprefix(metrics.PREFIX)] += int(value)
        return dict(+totals)

    def tags(self, name: str) -> list[dict[str, str] | None]:
        """The tags each call of ``connect_federation.<name>`` carried."""
        return [tags for _, stat, _, tags in self.calls if stat == metrics.PREFIX + name]


def recording_stats(monkeypatch: pytest.MonkeyPatch) -> RecordingStats:
    """A :class:`RecordingStats` in place of the provider's ``Stats`` for this test."""
    stats = RecordingStats()
    monkeypatch.setattr(metrics, "Stats", stats)
    return stats
