"""Test-wide setup: an isolated AIRFLOW_HOME, no real AWS credentials, and the emulator connection ``emu``."""

from __future__ import annotations

import logging
import os
import tempfile

import pytest
import structlog

_HOME = tempfile.mkdtemp(prefix="connect-fed-tests-")
os.environ["AIRFLOW_HOME"] = _HOME
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_SESSION_TOKEN", None)
# Fake keys only: nothing in the tests may reach AWS.
os.environ["AWS_ACCESS_KEY_ID"] = "AKIAUNITTESTCALLER00"
os.environ["AWS_SECRET_ACCESS_KEY"] = "unit-test-secret"
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@pytest.fixture
def log_messages(caplog):
    """The messages logged while the test runs, from structlog (Airflow >= 3.1) or stdlib logging."""
    caplog.set_level(logging.INFO)
    with structlog.testing.capture_logs() as captured:
        yield lambda: [entry["event"] for entry in captured] + [r.getMessage() for r in caplog.records]


@pytest.fixture
def emu_connection(connect_emulator, monkeypatch):
    """Airflow connection ``emu``: IAM user ``airflow-worker`` on the emulator; returns its credentials."""
    credentials = connect_emulator.create_iam_user_credentials("airflow-worker")
    for name, value in connect_emulator.airflow_env("emu", **credentials).items():
        monkeypatch.setenv(name, value)
    return credentials


@pytest.fixture
def emu_instance(connect_emulator, emu_connection):
    """The emulator, seeded: instance ``INSTANCE_ID`` with Connect users ``agent-1`` and ``airflow-worker``
    (connection ``emu``'s IAM user), role ``ConnectFederation``; counters zeroed after the seeding."""
    from tests.federation_answers import INSTANCE_ID

    connect_emulator.seed(instance_id=INSTANCE_ID, users=["agent-1", "airflow-worker"])
    connect_emulator.counters.reset()
    return connect_emulator
