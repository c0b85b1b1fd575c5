"""The one registry of destination kinds, and the operator's destination argument."""

from __future__ import annotations

import pytest

from airflow_connect_fed.destinations import (
    DESTINATION_NAMES,
    DESTINATIONS,
    SecretsManagerDestination,
    XComDestination,
    resolve_destination,
)
from airflow_connect_fed.exceptions import InvalidDestinationError


def test_every_kind_once():
    assert sorted(DESTINATIONS) == ["secrets_backend", "secrets_manager", "ssm_parameter", "xcom"]
    assert all(cls.kind == kind for kind, cls in DESTINATIONS.items())
    assert DESTINATION_NAMES == ("secrets_backend", "xcom")


def test_names_and_objects():
    assert isinstance(resolve_destination("xcom"), XComDestination)
    store = SecretsManagerDestination("k")
    assert resolve_destination(store) is store
    with pytest.raises(InvalidDestinationError, match=r"Unknown destination 'vault'\. Use 'secrets_backend'"):
        resolve_destination("vault")
