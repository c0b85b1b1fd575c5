"""The emulator over real HTTP with boto3: Connect users, GetFederationToken, errors, quota, faults, reset."""

from __future__ import annotations

import errno
import json
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from amazon_connect_emulator import DEFAULT_ROOT_ACCESS_KEY, AwsCredentials, ConnectEmulator
from amazon_connect_emulator.counters import FederationCounts

if TYPE_CHECKING:
    from conftest import FakeClock

pytestmark = pytest.mark.integration

NO_RETRIES = Config(retries={"total_max_attempts": 1})  # "max_attempts": 1 would still retry once
ROOT_REFUSAL = (
    "Provided identity: Principal: arn:aws:iam::123456789012:root User: arn:aws:iam::123456789012:root "
    "cannot be used for federation with Amazon Connect"
)


@dataclass(frozen=True)
class Agent:
    instance: dict[str, str]
    user: dict[str, str]
    role_arn: str
    credentials: AwsCredentials


@pytest.fixture
def agent(connect_emulator: ConnectEmulator) -> Agent:
    """Connect user "Alice" in instance "emulator-test", and a session of the federation role named Alice."""
    instance = connect_emulator.create_instance("emulator-test")
    user = connect_emulator.create_user(instance["id"], "Alice")
    role_arn = connect_emulator.create_federation_role()
    return Agent(instance, user, role_arn, connect_emulator.credentials_for("Alice", role_arn))


def federate(emulator: ConnectEmulator, instance_id: str, credentials: AwsCredentials) -> dict[str, Any]:
    connect = emulator.client("connect", config=NO_RETRIES, **credentials)
    response: dict[str, Any] = connect.get_federation_token(InstanceId=instance_id)
    return response


def federation_error(emulator: ConnectEmulator, instance_id: str, credentials: AwsCredentials) -> ClientError:
    with pytest.raises(ClientError) as raised:
        federate(emulator, instance_id, credentials)
    return raised.value


def error_of(error: ClientError) -> tuple[int, str, str]:
    status = error.response["ResponseMetadata"]["HTTPStatusCode"]
    return status, error.response["Error"]["Code"], error.response["Error"]["Message"]


# Connect users


def test_create_describe_and_list_users(connect_emulator: ConnectEmulator) -> None:
    instance = connect_emulator.create_instance("users")
    alice = connect_emulator.create_user(instance["id"], "Alice")
    bob = connect_emulator.create_user(instance["id"], "bob")
    connect = connect_emulator.client("connect")

    described = connect.describe_user(InstanceId=instance["id"], UserId=alice["id"])["User"]
    assert described["Id"] == alice["id"]
    assert described["Arn"] == f"{instance['arn']}/agent/{alice['id']}" == alice["arn"]
    assert described["Username"] == "Alice"
    assert described["SecurityProfileIds"] == ["emulator-agent"]
    assert described["PhoneConfig"] == {"PhoneType": "SOFT_PHONE"}
    assert described["LastModifiedRegion"] == "us-east-1"
    assert abs(described["LastModifiedTime"].timestamp() - time.time()) < 60

    summaries = connect.list_users(InstanceId=instance["id"])["UserSummaryList"]
    assert [(s["Id"], s["Username"]) for s in summaries] == [(alice["id"], "Alice"), (bob["id"], "bob")]

    first_page = connect.list_users(InstanceId=instance["id"], MaxResults=1)
    second_page = connect.list_users(
        InstanceId=instance["id"], MaxResults=1, NextToken=first_page["NextToken"]
    )
    assert [s["Username"] for s in first_page["UserSummaryList"] + second_page["UserSummaryList"]] == [
        "Alice",
        "bob",
    ]
    assert "NextToken" not in second_page


def test_users_are_kept_per_instance(connect_emulator: ConnectEmulator) -> None:
    first = connect_emulator.create_instance("first")
    second = connect_emulator.create_instance("second")
    connect_emulator.create_user(first["id"], "Alice")
    connect_emulator.create_user(second["id"], "Alice")  # the same username in another instance is fine
    connect = connect_emulator.client("connect")
    assert len(connect.list_users(InstanceId=first["id"])["UserSummaryList"]) == 1
    assert len(connect.list_users(InstanceId=second["id"])["UserSummaryList"]) == 1


def test_create_user_in_unknown_instance_is_404(connect_emulator: ConnectEmulator) -> None:
    with pytest.raises(ClientError) as raised:
        connect_emulator.create_user("no-such-instance", "Alice")
    status, code, message = error_of(raised.value)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert "no-such-instance" in message


def test_duplicate_username_is_409(connect_emulator: ConnectEmulator) -> None:
    instance = connect_emulator.create_instance("dupes")
    connect_emulator.create_user(instance["id"], "Alice")
    with pytest.raises(ClientError) as raised:
        connect_emulator.create_user(instance["id"], "Alice")
    status, code, message = error_of(raised.value)
    assert (status, code) == (409, "DuplicateResourceException")
    assert "'Alice'" in message


def test_describe_unknown_user_is_404(connect_emulator: ConnectEmulator) -> None:
    instance = connect_emulator.create_instance("nobody")
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("connect").describe_user(InstanceId=instance["id"], UserId="missing-user")
    status, code, message = error_of(raised.value)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert "missing-user" in message


# GetFederationToken: success


def test_federation_for_an_assumed_role_session(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    first = federate(connect_emulator, agent.instance["id"], agent.credentials)
    second = federate(connect_emulator, agent.instance["id"], agent.credentials)

    assert first["UserId"] == agent.user["id"]
    assert first["UserArn"] == (
        f"arn:aws:connect:us-east-1:123456789012:instance/{agent.instance['id']}/agent/{agent.user['id']}"
    )
    assert first["SignInUrl"] == "https://emulator-test.my.connect.aws/auth/sign-in"
    credentials = first["Credentials"]
    for name in ("AccessTokenExpiration", "RefreshTokenExpiration"):
        assert abs(credentials[name].timestamp() - (time.time() + 43200)) < 60
    tokens = {credentials["AccessToken"], credentials["RefreshToken"]}
    tokens |= {second["Credentials"]["AccessToken"], second["Credentials"]["RefreshToken"]}
    assert len(tokens) == 4
    assert all(len(token) >= 40 for token in tokens)


def test_federation_for_an_iam_user(connect_emulator: ConnectEmulator) -> None:
    instance = connect_emulator.create_instance("iam-users")
    user = connect_emulator.create_user(instance["id"], "bob.smith")
    credentials = connect_emulator.create_iam_user_credentials("bob.smith")
    response = federate(connect_emulator, instance["id"], credentials)
    assert (response["UserId"], response["UserArn"]) == (user["id"], user["arn"])


def test_wire_format_is_json_with_epoch_timestamps(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    status, headers, body = signed_get(
        connect_emulator, f"/user/federate/{agent.instance['id']}", agent.credentials
    )
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert set(body) == {"Credentials", "SignInUrl", "UserArn", "UserId"}
    assert set(body["Credentials"]) == {
        "AccessToken",
        "AccessTokenExpiration",
        "RefreshToken",
        "RefreshTokenExpiration",
    }
    assert isinstance(body["Credentials"]["AccessTokenExpiration"], (int, float))

    status, headers, body = signed_get(connect_emulator, "/user/federate/unknown", agent.credentials)
    assert (status, headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")
    assert set(body) == {"Message"}


def signed_get(
    emulator: ConnectEmulator, path: str, credentials: AwsCredentials
) -> tuple[int, Any, dict[str, Any]]:
    """A SigV4-signed GET sent with urllib, to see the raw status, headers and JSON body."""
    url = emulator.endpoint_url + path
    request = AWSRequest(method="GET", url=url)
    signer_credentials = Credentials(
        credentials["aws_access_key_id"],
        credentials["aws_secret_access_key"],
        credentials.get("aws_session_token"),
    )
    SigV4Auth(signer_credentials, "connect", emulator.region).add_auth(request)
    raw = urllib.request.Request(url, headers=dict(request.headers.items()), method="GET")  # noqa: S310
    try:
        with urllib.request.urlopen(raw, timeout=10) as response:  # noqa: S310
            return response.status, response.headers, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.load(error)


# GetFederationToken: errors


def test_unknown_instance_is_404(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    error = federation_error(connect_emulator, "00000000-0000-0000-0000-000000000000", agent.credentials)
    status, code, message = error_of(error)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert "00000000-0000-0000-0000-000000000000" in message


def test_username_must_match_the_session_name_exactly(
    connect_emulator: ConnectEmulator, agent: Agent
) -> None:
    lower_case = connect_emulator.credentials_for("alice", agent.role_arn)
    status, code, message = error_of(federation_error(connect_emulator, agent.instance["id"], lower_case))
    assert (status, code) == (404, "UserNotFoundException")
    assert "'alice'" in message
    assert "arn:aws:sts::123456789012:assumed-role/ConnectFederation/alice" in message


def test_federating_through_a_second_role_is_409(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    federate(connect_emulator, agent.instance["id"], agent.credentials)
    other_role = connect_emulator.create_federation_role("OtherFederation")
    through_other = connect_emulator.credentials_for("Alice", other_role)

    status, code, message = error_of(federation_error(connect_emulator, agent.instance["id"], through_other))
    assert (status, code) == (409, "DuplicateResourceException")
    assert agent.role_arn in message
    assert other_role in message
    # The first role keeps working, with a new session too.
    fresh_session = connect_emulator.credentials_for("Alice", agent.role_arn)
    assert federate(connect_emulator, agent.instance["id"], fresh_session)["UserId"] == agent.user["id"]


def test_instance_id_over_100_characters_is_400(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    status, code, message = error_of(federation_error(connect_emulator, "x" * 101, agent.credentials))
    assert (status, code) == (400, "InvalidParameterException")
    assert "1 to 100 characters, got 101" in message


@pytest.mark.parametrize("access_key", [DEFAULT_ROOT_ACCESS_KEY, "AKIAUNKNOWNTOMOTO000"])
def test_root_identity_is_refused(connect_emulator: ConnectEmulator, agent: Agent, access_key: str) -> None:
    root: AwsCredentials = {"aws_access_key_id": access_key, "aws_secret_access_key": "testing"}
    status, code, message = error_of(federation_error(connect_emulator, agent.instance["id"], root))
    assert (status, code, message) == (400, "InvalidRequestException", ROOT_REFUSAL)


def test_throttles_after_the_burst_and_recovers(clock: FakeClock) -> None:
    with ConnectEmulator(requests_per_second=0.5, burst=5, clock=clock) as emulator:
        emulator.reset()  # moto's state is per process: start from empty accounts
        instance_id = emulator.create_instance("emulator-test")["id"]
        user = emulator.create_user(instance_id, "Alice")
        credentials = emulator.credentials_for("Alice", emulator.create_federation_role())
        for _ in range(5):
            federate(emulator, instance_id, credentials)
        status, code, message = error_of(federation_error(emulator, instance_id, credentials))
        assert (status, code) == (429, "ThrottlingException")
        assert "0.5 requests/s (burst 5)" in message

        # The quota is per account and region: another region is not throttled (its instance is unknown).
        other_region = emulator.client("connect", region_name="eu-west-1", config=NO_RETRIES, **credentials)
        with pytest.raises(ClientError) as raised:
            other_region.get_federation_token(InstanceId=instance_id)
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"

        clock.now += 1.9  # 0.95 of a token back at 0.5 requests/s
        assert error_of(federation_error(emulator, instance_id, credentials))[1] == "ThrottlingException"
        clock.now += 0.1  # a whole one
        assert federate(emulator, instance_id, credentials)["UserId"] == user["id"]
        assert emulator.counters.for_instance(instance_id).throttled == 2


def test_quota_can_be_changed_at_runtime(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    connect_emulator.set_quota(requests_per_second=0.5, burst=1)
    federate(connect_emulator, agent.instance["id"], agent.credentials)
    status, code, message = error_of(
        federation_error(connect_emulator, agent.instance["id"], agent.credentials)
    )
    assert (status, code) == (429, "ThrottlingException")
    assert "0.5 requests/s (burst 1)" in message


def test_fault_rate_one_fails_every_federation_with_500(
    connect_emulator: ConnectEmulator, agent: Agent
) -> None:
    connect_emulator.set_fault_rate(1.0)
    for _ in range(3):
        status, code, message = error_of(
            federation_error(connect_emulator, agent.instance["id"], agent.credentials)
        )
        assert (status, code) == (500, "InternalServiceException")
        assert "fault_rate=1" in message
    # Faults apply to the federation route only.
    assert connect_emulator.client("connect").list_users(InstanceId=agent.instance["id"])["UserSummaryList"]
    assert connect_emulator.counters.totals() == FederationCounts(received=3, faulted=3)


# Counters and reset


def test_concurrent_federations_are_all_counted(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    connect_emulator.set_quota(requests_per_second=1000.0, burst=1000)
    connect = connect_emulator.client("connect", config=NO_RETRIES, **agent.credentials)
    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(
            pool.map(lambda _: connect.get_federation_token(InstanceId=agent.instance["id"]), range(40))
        )
    assert len({response["Credentials"]["AccessToken"] for response in responses}) == 40
    assert connect_emulator.counters.totals() == FederationCounts(received=40, succeeded=40)


def test_counters_by_outcome_and_instance(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    instance_id = agent.instance["id"]
    federate(connect_emulator, instance_id, agent.credentials)
    federation_error(connect_emulator, "unknown-instance", agent.credentials)
    root: AwsCredentials = {"aws_access_key_id": DEFAULT_ROOT_ACCESS_KEY, "aws_secret_access_key": "testing"}
    federation_error(connect_emulator, instance_id, root)

    assert connect_emulator.counters.totals() == FederationCounts(received=3, succeeded=1, rejected=2)
    assert connect_emulator.counters.for_instance(instance_id) == FederationCounts(
        received=2, succeeded=1, rejected=1
    )
    assert connect_emulator.counters.for_instance("unknown-instance") == FederationCounts(
        received=1, rejected=1
    )

    connect_emulator.counters.reset()
    assert connect_emulator.counters.totals() == FederationCounts()


def test_reset_empties_everything_and_restores_limits(
    connect_emulator: ConnectEmulator, agent: Agent
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


# moto's own services on the same URL


def test_moto_services_share_the_endpoint(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    identity = connect_emulator.client("sts", **agent.credentials).get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/ConnectFederation/Alice"

    secrets = connect_emulator.client("secretsmanager")
    secrets.create_secret(Name="connect/token", SecretString='{"a": 1}')
    assert secrets.get_secret_value(SecretId="connect/token")["SecretString"] == '{"a": 1}'

    ssm = connect_emulator.client("ssm")
    assert ssm.put_parameter(Name="/connect/token", Value="v", Type="SecureString")["Version"] == 1
    assert ssm.get_parameter(Name="/connect/token", WithDecryption=True)["Parameter"]["Value"] == "v"

    instance = connect_emulator.client("connect").describe_instance(InstanceId=agent.instance["id"])[
        "Instance"
    ]
    assert instance["InstanceAlias"] == "emulator-test"


def test_root_key_gets_the_roots_caller_identity(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    root = connect_emulator.client("sts").get_caller_identity()
    assert (root["Arn"], root["UserId"], root["Account"]) == (
        "arn:aws:iam::123456789012:root",
        "123456789012",
        "123456789012",
    )
    other = connect_emulator.client("sts", **agent.credentials).get_caller_identity()
    assert other["Arn"].endswith(":assumed-role/ConnectFederation/Alice")
    # The request body read for the check is handed on: moto still answers the root's other STS calls.
    assert connect_emulator.client("sts").get_session_token()["Credentials"]["AccessKeyId"]


def test_the_root_may_not_assume_a_role(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("sts").assume_role(RoleArn=agent.role_arn, RoleSessionName="Bob")
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    assert error["Error"]["Message"] == "Roles may not be assumed by root accounts."


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
