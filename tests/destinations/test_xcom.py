"""XComDestination: the token itself, only when asked for."""

from __future__ import annotations

from airflow_connect_fed.destinations import XComDestination
from tests.destinations.conftest import token
from tests.masker import redact


def test_the_xcom_value_is_the_token_and_reads_back_masked():
    value = XComDestination().write(token(), "agent-1")
    assert value == token().to_dict()
    read = XComDestination.read(value)
    assert read == token()
    assert redact(read.refresh_token) == "***"
    assert XComDestination().current() is None  # nothing to reuse
