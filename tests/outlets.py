"""Outlet events as a running task's context holds them, for operators that annotate their outlet Assets."""

from __future__ import annotations

from collections import defaultdict
from types import SimpleNamespace


class OutletEvents(defaultdict):
    """``context["outlet_events"]``: an event with an ``extra`` dict per Asset, keyed by the Asset's name
    (Airflow 3.0's Asset is not hashable)."""

    def __missing__(self, asset):
        return self.setdefault(asset.name, SimpleNamespace(extra={}))

    def __getitem__(self, asset):
        return super().__getitem__(asset.name) if asset.name in self else self.__missing__(asset)
