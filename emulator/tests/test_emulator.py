"""``ConnectEmulator`` itself: lifecycle, options, runtime setters, reset, and the Airflow connection helpers."""

from __future__ import annotations

import errno
import json
import re
import time
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


def test_session_durations_are_the_defaults_of_new_instances_profiles(
    connect_emulator: ConnectEmulator,
) -> None:
    """A second emulator in this process serves moto's same backends with its own profile defaults."""
    with ConnectEmulator(periodic_session_duration=15, max_session_duration=360) as emulator:
        instance_id = emulator.create_instance("short-sessions")["id"]
        emulator.create_user(instance_id, "Alice")
        credentials = emulator.credentials_for("Alice", emulator.create_federation_role())
        connect = emulator.client("connect", **credentials)
        [summary] = connect.list_authentication_profiles(InstanceId=instance_id)[
            "AuthenticationProfileSummaryList"
        ]
        described = connect.describe_authentication_profile(
            InstanceId=instance_id, AuthenticationProfileId=summary["Id"]
        )["AuthenticationProfile"]
        token = connect.get_federation_token(InstanceId=instance_id)["Credentials"]
    assert (described["PeriodicSessionDuration"], described["MaxSessionDuration"]) == (15, 360)
    issued = token["AccessTokenExpiration"].timestamp() - 15 * 60
    assert abs(issued - time.time()) < 60
    assert round(token["RefreshTokenExpiration"].timestamp() - issued) == 360 * 60


def test_set_session_durations(connect_emulator: ConnectEmulator, agent: Agent, federate: Federate) -> None:
    instance_id = agent.instance["id"]
    connect_emulator.set_session_durations(
        instance_id, periodic_session_duration=10, max_session_duration=360
    )
    token = federate(connect_emulator, instance_id, agent.credentials)["Credentials"]
    issued = token["AccessTokenExpiration"].timestamp() - 10 * 60
    assert round(token["RefreshTokenExpiration"].timestamp() - issued) == 360 * 60
    connect_emulator.set_session_durations(instance_id, max_session_duration=720)  # periodic stays 10
    token = federate(connect_emulator, instance_id, agent.credentials)["Credentials"]
    issued = token["AccessTokenExpiration"].timestamp() - 10 * 60
    assert round(token["RefreshTokenExpiration"].timestamp() - issued) == 720 * 60

    for options, message in [
        ({"periodic_session_duration": 9}, "periodic_session_duration must be a whole number of minutes from 10 to 60, got 9"),
        ({"periodic_session_duration": 61}, "periodic_session_duration must be a whole number of minutes from 10 to 60, got 61"),
        ({"max_session_duration": 359}, "max_session_duration must be a whole number of minutes from 360 to 720, got 359"),
        ({"max_session_duration": 721}, "max_session_duration must be a whole number of minutes from 360 to 720, got 721"),
        ({}, "give periodic_session_duration, max_session_duration or both; got neither"),
    ]:  # fmt: skip
        with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
            connect_emulator.set_session_durations(instance_id, **options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"^instance_id: Instance nowhere not found in account 123456789012"):
        connect_emulator.set_session_durations("nowhere", periodic_session_duration=10)

    connect_emulator.reset()  # profiles go with their instances

    instance_id = connect_emulator.create_instance("after-reset")["id"]
    connect = connect_emulator.client("connect")
    [summary] = connect.list_authentication_profiles(InstanceId=instance_id)[
        "AuthenticationProfileSummaryList"
    ]
    described = connect.describe_authentication_profile(
        InstanceId=instance_id, AuthenticationProfileId=summary["Id"]
    )
    profile = described["AuthenticationProfile"]
    assert (profile["PeriodicSessionDuration"], profile["MaxSessionDuration"]) == (60, 720)


def test_runtime_setters_validate(connect_emulator: ConnectEmulator) -> None:
    with pytest.raises(ValueError, match="got 2"):
        connect_emulator.set_fault_rate(2)
    with pytest.raises(ValueError, match=r"burst must be a whole number >= 1 .*, got 0"):
        connect_emulator.set_quota(1.0, 0)
    with pytest.raises(ValueError, match=r"^api_requests_per_second must be a finite number > 0 .*, got -1"):
        connect_emulator.set_api_quota(-1, 5)


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
        (
            "periodic_session_duration",
            9,
            "periodic_session_duration must be a whole number of minutes from 10 to 60, got 9",
        ),
        ("periodic_session_duration", 61, "got 61"),
        ("periodic_session_duration", 30.0, "got 30.0"),
        (
            "max_session_duration",
            359,
            "max_session_duration must be a whole number of minutes from 360 to 720, got 359",
        ),
        ("max_session_duration", 721, "got 721"),
        ("max_session_duration", True, "got True"),
        ("seed", "abc", "seed must be an integer or None, got 'abc'"),
        (
            "api_requests_per_second",
            float("nan"),
            "api_requests_per_second must be a finite number > 0 .*, got nan",
        ),
        (
            "api_burst",
            1.5,
            r"api_burst must be a whole number >= 1 \(each other Connect operation's is about 5\), got 1.5",
        ),
    ],
)
def test_bad_options_raise_value_error(option: str, value: object, expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        ConnectEmulator(**{option: value})  # type: ignore[arg-type]


# Users straight into the directory


def test_create_user_settings_and_defaults(connect_emulator: ConnectEmulator) -> None:
    instance_id = connect_emulator.create_instance("helpers")["id"]
    alice = connect_emulator.create_user(
        instance_id,
        "alice.doe@example.com",
        routing_profile_id="rp-sales",
        security_profile_ids=("sp-agent", "sp-supervisor"),
        hierarchy_group_id="hg-east",
        tags={"team": "blue"},
        first_name="Alice",
        last_name="Doe",
    )
    bob = connect_emulator.create_user(instance_id, "bob@example.com")
    connect = connect_emulator.client("connect")
    described = connect.describe_user(InstanceId=instance_id, UserId=alice["id"])["User"]
    assert described["Arn"] == alice["arn"]
    assert {
        name: described[name] for name in ("RoutingProfileId", "SecurityProfileIds", "HierarchyGroupId")
    } == {
        "RoutingProfileId": "rp-sales",
        "SecurityProfileIds": ["sp-agent", "sp-supervisor"],
        "HierarchyGroupId": "hg-east",
    }
    assert (described["Tags"], described["IdentityInfo"]) == (
        {"team": "blue"},
        {"FirstName": "Alice", "LastName": "Doe"},
    )
    defaults = connect.describe_user(InstanceId=instance_id, UserId=bob["id"])["User"]
    assert (defaults["RoutingProfileId"], defaults["SecurityProfileIds"], defaults["PhoneConfig"]) == (
        "emulator-basic-routing",
        ["emulator-agent"],
        {"PhoneType": "SOFT_PHONE"},
    )
    assert "HierarchyGroupId" not in defaults


def test_create_users_by_the_twenty_thousand_unthrottled_and_uncounted(
    connect_emulator: ConnectEmulator,
) -> None:
    instance_id = connect_emulator.create_instance("big")["id"]
    names = [f"agent.{i:05d}@example.com" for i in range(20_000)]
    created = connect_emulator.create_users(
        instance_id, [*names[:-1], {"Username": names[-1], "Tags": {"team": "last"}}]
    )
    assert len(created) == len({user["id"] for user in created}) == 20_000
    assert created[0]["arn"].endswith(f"/agent/{created[0]['id']}")
    assert connect_emulator.counters.operation("connect", "CreateUser") == 0
    found = connect_emulator.client("connect").search_users(
        InstanceId=instance_id, SearchFilter={"TagFilter": {"TagCondition": {"TagKey": "team"}}}
    )
    assert [user["Id"] for user in found["Users"]] == [created[-1]["id"]]
    assert (
        connect_emulator.client("connect").search_users(InstanceId=instance_id, MaxResults=1)[
            "ApproximateTotalCount"
        ]
        == 20_000
    )


@pytest.mark.parametrize(
    ("users", "message"),
    [
        (["ok@example.com", ""], "users[1]: Username must be a string of 1 to 100 characters, got ''"),
        (
            ["ok@example.com", {"Username": "x@example.com", "RoutingProfileId": 7}],
            "users[1]: RoutingProfileId must be a non-empty string, got 7",
        ),
        (
            [{"Username": "x@example.com", "SecurityProfileIds": []}],
            "users[0]: SecurityProfileIds must be a list of 1 to 10 non-empty strings, got []",
        ),
        (
            [{"Username": "x@example.com", "Tags": {"team": 1}}],
            "users[0]: Tags must be an object of 1 to 50 non-empty string keys with string values, got {'team': 1}",
        ),
        ([7], "users[0]: a user must be a username or a mapping of CreateUser fields, got 7"),
        (
            ["twice@example.com", "twice@example.com"],
            "Username 'twice@example.com' is given more than once; give each username once",
        ),
        (
            ["new@example.com", "alice@example.com"],
            "A user named 'alice@example.com' already exists in instance {instance_id}",
        ),
    ],
)
def test_create_users_refuses_bad_users_and_creates_none(
    connect_emulator: ConnectEmulator, users: list[object], message: str
) -> None:
    instance_id = connect_emulator.create_instance("checked")["id"]
    connect_emulator.create_user(instance_id, "alice@example.com")
    expected = message.replace("{instance_id}", instance_id)
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        connect_emulator.create_users(instance_id, users)  # type: ignore[arg-type]
    listed = connect_emulator.client("connect").list_users(InstanceId=instance_id)["UserSummaryList"]
    assert [user["Username"] for user in listed] == ["alice@example.com"]


def test_user_helpers_refuse_an_unknown_instance_and_user(connect_emulator: ConnectEmulator) -> None:
    unknown = (
        "instance_id: Instance nowhere not found in account 123456789012, region us-east-1; create it first"
    )
    with pytest.raises(ValueError, match=f"^{unknown}"):
        connect_emulator.create_user("nowhere", "alice@example.com")
    with pytest.raises(ValueError, match=f"^{unknown}"):
        connect_emulator.delete_user("nowhere", "alice@example.com")
    instance_id = connect_emulator.create_instance("deletes")["id"]
    with pytest.raises(ValueError, match=r"^Username must be a string of 1 to 100 characters, got 'uuu"):
        connect_emulator.create_user(instance_id, "u" * 101)
    connect_emulator.create_user(instance_id, "alice@example.com")
    connect_emulator.delete_user(instance_id, "alice@example.com")
    gone = f"username 'alice@example.com' is not a user of instance {instance_id}; nothing deleted"
    with pytest.raises(ValueError, match=f"^{re.escape(gone)}$"):
        connect_emulator.delete_user(instance_id, "alice@example.com")
    assert connect_emulator.client("connect").list_users(InstanceId=instance_id)["UserSummaryList"] == []
