"""Where a federation token goes after it is fetched, and how it is read back."""

from __future__ import annotations

from airflow_connect_fed.destinations.base import TokenDestination, resolve_destination
from airflow_connect_fed.destinations.xcom import XComDestination

__all__ = ["TokenDestination", "XComDestination", "resolve_destination"]
