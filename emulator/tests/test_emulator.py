"""``ConnectEmulator`` itself: lifecycle, options, runtime setters, reset, and the Airflow connection helpers."""

from __future__ import annotations

import errno
import json
from typing import TYPE_CHECKING

import pytest

from amazon_connect_emulator import DEFAULT_ROOT_ACCESS_KEY, ConnectEmulator
from amazon_connect_emulator.counters import FederationCounts

if TYPE_CHECKING:
    from conftest import Agent, Federate

pytestmark = pytest.mark.integration


# Reset


def test_reset_empties_everything_and_restores_limits(
    connect_emulator: ConnectEmulator, agent: Agent, federate: Federate
) -> None:
    federate(connect_emulator, agent.instance["id"], agent.credentials)
    connect_emulator.set_fault_rate(1.0)
    connect_emulator.set_quota(0.1, 1)

    connect_emulator.reset()

    connect = connect_emulator.client("connect")
    assert connect.list_instances()["InstanceSummaryList"] == []
    assert "ConnectFederation" not in {
        role["RoleName"] for role in connect_emulator.client("iam").list_roles()["Roles"]
    }
    assert connect_emulator.counters.totals() == FederationCounts()
    # Same alias, same username: nothing left from before, and the default quota (burst 5) is back.
    instance = connect_emulator.create_instance("emulator-test")
    connect_emulator.create_user(instance["id"], "Alice")
    credentials = connect_emulator.credentials_for("Alice", connect_emulator.create_federation_role())
    for _ in range(5):
        federate(connect_emulator, instance["id"], credentials)
    assert connect_emulator.counters.totals() == FederationCounts(received=5, succeeded=5)


# Helpers and options


def test_airflow_connection_points_at_the_emulator(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    connection = json.loads(connect_emulator.airflow_connection("connect_agent", **agent.credentials))
    assert connection == {
        "conn_type": "aws",
        "login": agent.credentials["aws_access_key_id"],
        "password": agent.credentials["aws_secret_access_key"],
        "extra": {
            "region_name": "us-east-1",
            "endpoint_url": connect_emulator.endpoint_url,
            "service_config": {
                service: {"endpoint_url": connect_emulator.endpoint_url}
                for service in ("sts", "connect", "secretsmanager", "ssm", "iam")
            },
            "aws_session_token": agent.credentials.get("aws_session_token"),
        },
    }
    env = connect_emulator.airflow_env("connect_agent")
    assert list(env) == ["AIRFLOW_CONN_CONNECT_AGENT"]
    assert json.loads(env["AIRFLOW_CONN_CONNECT_AGENT"])["login"] == DEFAULT_ROOT_ACCESS_KEY
    with pytest.raises(ValueError, match="'bad id'"):
        connect_emulator.airflow_connection("bad id")


def test_runtime_setters_validate(connect_emulator: ConnectEmulator) -> None:
    with pytest.raises(ValueError, match="got 2"):
        connect_emulator.set_fault_rate(2)
    with pytest.raises(ValueError, match=r"burst must be a whole number >= 1 .*, got 0"):
        connect_emulator.set_quota(1.0, 0)


def test_lifecycle() -> None:
    emulator = ConnectEmulator()
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.endpoint_url
    with emulator:
        url = emulator.endpoint_url
        assert url.startswith("http://127.0.0.1:")
        with pytest.raises(RuntimeError, match="already running"):
            emulator.start()
        identity = emulator.client("sts").get_caller_identity()
        assert identity["Account"] == "123456789012"
    with pytest.raises(RuntimeError, match="not running"):
        _ = emulator.endpoint_url
    emulator.stop()  # stopping twice is harmless


def test_a_taken_port_raises_os_error(connect_emulator: ConnectEmulator) -> None:
    taken_port = int(connect_emulator.endpoint_url.rsplit(":", 1)[1])
    with pytest.raises(OSError, match="in use") as raised:
        ConnectEmulator(port=taken_port).start()
    assert raised.value.errno == errno.EADDRINUSE


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("port", -1, "port must be an integer from 0 .* to 65535, got -1"),
        ("port", 70000, "got 70000"),
        ("host", "", "host must be .*, got ''"),
        ("region", "Mars", "region must be an AWS region name .*, got 'Mars'"),
        ("requests_per_second", -2.0, "requests_per_second must be a finite number > 0 .*, got -2.0"),
        ("requests_per_second", 0, "got 0"),
        ("burst", 0, "burst must be a whole number >= 1 .*, got 0"),
        ("fault_rate", 1.5, r"fault_rate must be a number from 0.0 to 1.0, got 1.5"),
        ("fault_rate", -0.1, "got -0.1"),
        ("root_access_key", "root", "root_access_key must be 16 to 128 .*, got 'root'"),
        ("token_ttl", 0, "token_ttl must be an integer number of seconds >= 1, got 0"),
        ("seed", "abc", "seed must be an integer or None, got 'abc'"),
    ],
)
def test_bad_options_raise_value_error(option: str, value: object, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        ConnectEmulator(**{option: value})  # type: ignore[arg-type]
