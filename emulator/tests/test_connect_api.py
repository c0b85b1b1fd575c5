"""The ``ConnectApi`` middleware: GetFederationToken answers and errors, quota, faults, root STS answers, moto."""

from __future__ import annotations

import json
import logging
import time
import urllib.error
import urllib.request
from typing import TYPE_CHECKING, Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError
from werkzeug.test import Client

from amazon_connect_emulator import AwsCredentials, ConnectEmulator
from amazon_connect_emulator.authentication_profiles import AuthenticationProfiles
from amazon_connect_emulator.connect_api import ConnectApi, ConnectError
from amazon_connect_emulator.counters import FederationCounters, FederationCounts
from amazon_connect_emulator.directory import UserDirectory
from amazon_connect_emulator.faults import FaultInjector
from amazon_connect_emulator.quota import Quota
from amazon_connect_emulator.sign_in import SignIns

if TYPE_CHECKING:
    from collections.abc import Iterable

    from _typeshed.wsgi import StartResponse, WSGIEnvironment
    from botocore.config import Config
    from conftest import Agent, ErrorOf, FakeClock, Federate, FederationError

ROOT_REFUSAL = (
    "Provided identity: Principal: arn:aws:iam::123456789012:root User: arn:aws:iam::123456789012:root "
    "cannot be used for federation with Amazon Connect"
)


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


# GetFederationToken over HTTP: success


@pytest.mark.integration
def test_federation_for_an_assumed_role_session(
    connect_emulator: ConnectEmulator, agent: Agent, federate: Federate
) -> None:
    first = federate(connect_emulator, agent.instance["id"], agent.credentials)
    second = federate(connect_emulator, agent.instance["id"], agent.credentials)

    assert first["UserId"] == agent.user["id"]
    assert first["UserArn"] == (
        f"arn:aws:connect:us-east-1:123456789012:instance/{agent.instance['id']}/agent/{agent.user['id']}"
    )
    assert (
        first["SignInUrl"] == f"{connect_emulator.endpoint_url}/connect/{agent.instance['id']}/auth/sign-in"
    )
    credentials = first["Credentials"]
    # The default authentication profile's PeriodicSessionDuration (60 min) and MaxSessionDuration (720 min)
    assert abs(credentials["AccessTokenExpiration"].timestamp() - (time.time() + 60 * 60)) < 60
    assert abs(credentials["RefreshTokenExpiration"].timestamp() - (time.time() + 720 * 60)) < 60
    tokens = {credentials["AccessToken"], credentials["RefreshToken"]}
    tokens |= {second["Credentials"]["AccessToken"], second["Credentials"]["RefreshToken"]}
    assert len(tokens) == 4
    assert all(len(token) >= 40 for token in tokens)


@pytest.mark.integration
def test_federation_for_an_iam_user(connect_emulator: ConnectEmulator, federate: Federate) -> None:
    instance = connect_emulator.create_instance("iam-users")
    user = connect_emulator.create_user(instance["id"], "bob.smith")
    credentials = connect_emulator.create_iam_user_credentials("bob.smith")
    response = federate(connect_emulator, instance["id"], credentials)
    assert (response["UserId"], response["UserArn"]) == (user["id"], user["arn"])


@pytest.mark.integration
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


# GetFederationToken over HTTP: errors


@pytest.mark.integration
def test_unknown_instance_is_404(
    connect_emulator: ConnectEmulator, agent: Agent, federation_error: FederationError, error_of: ErrorOf
) -> None:
    error = federation_error(connect_emulator, "00000000-0000-0000-0000-000000000000", agent.credentials)
    status, code, message = error_of(error)
    assert (status, code) == (404, "ResourceNotFoundException")
    assert "00000000-0000-0000-0000-000000000000" in message


@pytest.mark.integration
def test_an_instance_arn_gets_connects_404_not_motos(
    connect_emulator: ConnectEmulator, agent: Agent, federation_error: FederationError, error_of: ErrorOf
) -> None:
    arn = agent.instance["arn"]  # an id is expected; the ARN's slashes still reach the Connect route
    status, code, message = error_of(federation_error(connect_emulator, arn, agent.credentials))
    assert (status, code) == (404, "ResourceNotFoundException")
    assert message == f"Instance {arn} not found in account 123456789012, region us-east-1"


@pytest.mark.integration
def test_username_must_match_the_session_name_exactly(
    connect_emulator: ConnectEmulator, agent: Agent, federation_error: FederationError, error_of: ErrorOf
) -> None:
    lower_case = connect_emulator.credentials_for("alice", agent.role_arn)
    status, code, message = error_of(federation_error(connect_emulator, agent.instance["id"], lower_case))
    assert (status, code) == (404, "UserNotFoundException")
    assert "'alice'" in message
    assert "arn:aws:sts::123456789012:assumed-role/ConnectFederation/alice" in message


@pytest.mark.integration
def test_federating_through_a_second_role_is_409(
    connect_emulator: ConnectEmulator,
    agent: Agent,
    federate: Federate,
    federation_error: FederationError,
    error_of: ErrorOf,
) -> None:
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


@pytest.mark.integration
def test_instance_id_over_100_characters_is_400(
    connect_emulator: ConnectEmulator, agent: Agent, federation_error: FederationError, error_of: ErrorOf
) -> None:
    status, code, message = error_of(federation_error(connect_emulator, "x" * 101, agent.credentials))
    assert (status, code) == (400, "InvalidParameterException")
    assert "1 to 100 characters, got 101" in message


# GetFederationToken over HTTP: quota and faults


@pytest.mark.integration
def test_throttles_after_the_burst_and_recovers(
    clock: FakeClock,
    federate: Federate,
    federation_error: FederationError,
    error_of: ErrorOf,
    no_retries: Config,
) -> None:
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
        other_region = emulator.client("connect", region_name="eu-west-1", config=no_retries, **credentials)
        with pytest.raises(ClientError) as raised:
            other_region.get_federation_token(InstanceId=instance_id)
        assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"

        clock.now += 1.9  # 0.95 of a token back at 0.5 requests/s
        assert error_of(federation_error(emulator, instance_id, credentials))[1] == "ThrottlingException"
        clock.now += 0.1  # a whole one
        assert federate(emulator, instance_id, credentials)["UserId"] == user["id"]
        assert emulator.counters.for_instance(instance_id).throttled == 2
        assert emulator.counters.throttled_operation("GetFederationToken") == 2


@pytest.mark.integration
def test_every_other_operation_has_its_own_quota(
    clock: FakeClock, federate: Federate, error_of: ErrorOf, no_retries: Config
) -> None:
    with ConnectEmulator(api_requests_per_second=0.5, api_burst=5, clock=clock) as emulator:
        emulator.reset()
        instance_id = emulator.create_instance("quota")["id"]
        alice = emulator.create_user(instance_id, "alice@example.com")
        credentials = emulator.credentials_for("alice@example.com", emulator.create_federation_role())
        connect = emulator.client("connect", config=no_retries)

        for _ in range(5):
            connect.search_users(InstanceId=instance_id)
        with pytest.raises(ClientError) as raised:
            connect.search_users(InstanceId=instance_id)
        assert error_of(raised.value) == (
            429,
            "ThrottlingException",
            "Rate exceeded: SearchUsers allows 0.5 requests/s (burst 5) per account and region; slow down and retry",
        )
        # Another operation, GetFederationToken and another region each have their own bucket.
        for _ in range(5):
            connect.describe_user(InstanceId=instance_id, UserId=alice["id"])
        assert federate(emulator, instance_id, credentials)["UserId"] == alice["id"]
        other_region = emulator.client("connect", region_name="eu-west-1", config=no_retries)
        with pytest.raises(ClientError) as raised:
            other_region.search_users(InstanceId=instance_id)
        assert error_of(raised.value)[1] == "ResourceNotFoundException"
        # Throttled before the request is looked at; moto's operations are not throttled.
        with pytest.raises(ClientError) as raised:
            connect.describe_user(InstanceId="unknown", UserId="nobody")
        assert error_of(raised.value)[1] == "ThrottlingException"
        for _ in range(6):
            connect.describe_instance(InstanceId=instance_id)

        clock.now += 1.9  # 0.95 of a token back at 0.5 requests/s
        with pytest.raises(ClientError) as raised:
            connect.search_users(InstanceId=instance_id)
        assert error_of(raised.value)[1] == "ThrottlingException"
        clock.now += 0.1
        assert connect.search_users(InstanceId=instance_id)["ApproximateTotalCount"] == 1

        counters = emulator.counters
        throttled = {
            op: counters.throttled_operation(op)
            for op in ("SearchUsers", "DescribeUser", "GetFederationToken")
        }
        assert throttled == {"SearchUsers": 2, "DescribeUser": 1, "GetFederationToken": 0}
        assert counters.operation("connect", "SearchUsers") == 9  # throttled ones too: all were received
        assert counters.totals().throttled == 0

        emulator.set_api_quota(1000.0, 1000)
        for _ in range(10):
            connect.search_users(InstanceId=instance_id)


@pytest.mark.integration
def test_quota_can_be_changed_at_runtime(
    connect_emulator: ConnectEmulator,
    agent: Agent,
    federate: Federate,
    federation_error: FederationError,
    error_of: ErrorOf,
) -> None:
    connect_emulator.set_quota(requests_per_second=0.5, burst=1)
    federate(connect_emulator, agent.instance["id"], agent.credentials)
    status, code, message = error_of(
        federation_error(connect_emulator, agent.instance["id"], agent.credentials)
    )
    assert (status, code) == (429, "ThrottlingException")
    assert "0.5 requests/s (burst 1)" in message


@pytest.mark.integration
def test_fault_rate_one_fails_every_federation_with_500(
    connect_emulator: ConnectEmulator, agent: Agent, federation_error: FederationError, error_of: ErrorOf
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


# CreateUser and ListUsers over HTTP: what the middleware refuses


@pytest.mark.integration
def test_create_user_refuses_a_username_over_100_characters(connect_emulator: ConnectEmulator) -> None:
    instance = connect_emulator.create_instance("long-names")
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("connect").create_user(
            InstanceId=instance["id"], Username="u" * 101, SecurityProfileIds=["p"], RoutingProfileId="r"
        )
    error = raised.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
        400,
        "InvalidParameterException",
    )
    assert error["Error"]["Message"] == f"Username must be a string of 1 to 100 characters, got {'u' * 101!r}"
    assert connect_emulator.client("connect").list_users(InstanceId=instance["id"])["UserSummaryList"] == []


@pytest.mark.integration
@pytest.mark.parametrize(
    ("page", "message"),
    [
        ({"MaxResults": 1001}, "maxResults must be 1 to 1000, got '1001'"),
        ({"NextToken": "abc"}, "nextToken 'abc' was not issued by ListUsers"),
    ],
)
def test_list_users_refuses_bad_paging(
    connect_emulator: ConnectEmulator, page: dict[str, Any], message: str
) -> None:
    instance = connect_emulator.create_instance("paging")
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("connect").list_users(InstanceId=instance["id"], **page)
    error = raised.value.response
    assert (error["ResponseMetadata"]["HTTPStatusCode"], error["Error"]["Code"]) == (
        400,
        "InvalidParameterException",
    )
    assert error["Error"]["Message"] == message


# The root's STS answers and moto's own services on the same URL


@pytest.mark.integration
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


@pytest.mark.integration
def test_signed_requests_are_counted_by_service_and_operation(connect_emulator: ConnectEmulator) -> None:
    connect_emulator.client("sts").get_caller_identity()
    connect_emulator.client("sts").get_caller_identity()
    instance_id = connect_emulator.create_instance("counted")["id"]
    connect_emulator.create_user(instance_id, "alice@example.com")  # straight into the directory: not counted
    connect = connect_emulator.client("connect")
    connect.search_users(InstanceId=instance_id)
    connect.list_users(InstanceId=instance_id)
    secrets = connect_emulator.client("secretsmanager")
    secrets.create_secret(Name="connect/agents/a", SecretString="{}")
    secrets.put_secret_value(SecretId="connect/agents/a", SecretString="{}")
    secrets.list_secrets()
    secrets.delete_secret(SecretId="connect/agents/a", ForceDeleteWithoutRecovery=True)
    ssm = connect_emulator.client("ssm")
    ssm.put_parameter(Name="/connect/agents/a", Value="v", Type="SecureString")
    ssm.get_parameters_by_path(Path="/connect/agents")
    ssm.delete_parameters(Names=["/connect/agents/a"])
    connect_emulator.client("iam").list_roles()

    counters = connect_emulator.counters
    assert (counters.requests("sts"), counters.requests("connect"), counters.requests()) == (2, 3, 13)
    assert counters.operations() == {
        ("sts", "GetCallerIdentity"): 2,
        ("connect", "CreateInstance"): 1,
        ("connect", "SearchUsers"): 1,
        ("connect", "ListUsers"): 1,
        ("secretsmanager", "CreateSecret"): 1,
        ("secretsmanager", "PutSecretValue"): 1,
        ("secretsmanager", "ListSecrets"): 1,
        ("secretsmanager", "DeleteSecret"): 1,
        ("ssm", "PutParameter"): 1,
        ("ssm", "GetParametersByPath"): 1,
        ("ssm", "DeleteParameters"): 1,
        ("iam", "ListRoles"): 1,
    }
    assert counters.operation("ssm", "GetParametersByPath") == 1
    assert counters.operation("connect", "DeleteUser") == 0
    assert counters.totals() == FederationCounts()  # none of them was a federation
    counters.reset()
    assert (counters.operations(), counters.requests()) == ({}, 0)


# ConnectApi in-process, in front of a stand-in for moto: no server, no moto state


ROOT_KEY = "AKIATESTROOTKEY00000"


class FakeMoto:
    """A WSGI app that records what reached it (path, query, body) and answers ``moto``."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, bytes]] = []

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        self.seen.append((environ["PATH_INFO"], environ.get("QUERY_STRING", ""), body))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"moto"]


def signed(service: str, access_key: str = ROOT_KEY, region: str = "us-east-1") -> dict[str, str]:
    """The ``Authorization`` header of a SigV4 request; the middleware reads its scope, not its signature."""
    scope = f"{access_key}/20240101/{region}/{service}/aws4_request"
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0"}


class BrokenQuota:
    """A quota whose every check fails unexpectedly."""

    requests_per_second = 1.0
    burst = 1

    def try_acquire(self, key: object) -> bool:
        raise RuntimeError("the quota broke")


def middleware(
    moto: FakeMoto,
    counters: FederationCounters,
    quota: Quota | BrokenQuota | None = None,
    faults: FaultInjector | None = None,
) -> Client:
    api = ConnectApi(
        moto,
        users=UserDirectory(),
        quota=quota or Quota(1000.0, 1000),  # type: ignore[arg-type]
        faults=faults or FaultInjector(),
        counters=counters,
        root_access_key=ROOT_KEY,
        profiles=AuthenticationProfiles(),
        sign_ins=SignIns(),
    )
    return Client(api)


@pytest.mark.parametrize(
    ("code", "status", "outcome"),
    [
        ("InvalidRequestException", 400, "rejected"),
        ("InvalidParameterException", 400, "rejected"),
        ("ResourceNotFoundException", 404, "rejected"),
        ("UserNotFoundException", 404, "rejected"),
        ("DuplicateResourceException", 409, "rejected"),
        ("ThrottlingException", 429, "throttled"),
        ("InternalServiceException", 500, "faulted"),
    ],
)
def test_connect_error_status_and_outcome(code: str, status: int, outcome: str) -> None:
    error = ConnectError(code, "what went wrong")
    assert (error.code, error.message, str(error)) == (code, "what went wrong", "what went wrong")
    assert (error.status, error.outcome) == (status, outcome)


def test_requests_it_does_not_serve_go_to_moto_unchanged() -> None:
    moto, counters = FakeMoto(), FederationCounters()
    client = middleware(moto, counters)
    unsigned = client.get("/users-summary/abc")
    describe_instance = client.get("/instance/abc", headers=signed("connect"))
    wrong_method = client.get("/users/abc", headers=signed("connect"))  # CreateUser is a PUT
    not_the_root = client.get("/?Action=GetCallerIdentity", headers=signed("sts", "AKIANOTTHEROOT000000"))
    assert [r.data for r in (unsigned, describe_instance, wrong_method, not_the_root)] == [b"moto"] * 4
    assert moto.seen == [
        ("/users-summary/abc", "", b""),
        ("/instance/abc", "", b""),
        ("/users/abc", "", b""),
        ("/", "Action=GetCallerIdentity", b""),
    ]
    # Signed requests are counted by service; unsigned ones are not; none of these federated.
    assert (counters.requests(), counters.requests("connect"), counters.requests("sts")) == (3, 2, 1)
    assert counters.totals() == FederationCounts()


@pytest.mark.parametrize(
    ("region", "account_header", "arn", "account"),
    [
        ("us-east-1", None, "arn:aws:iam::123456789012:root", "123456789012"),
        ("us-east-1", "111122223333", "arn:aws:iam::111122223333:root", "111122223333"),
        ("cn-north-1", None, "arn:aws-cn:iam::123456789012:root", "123456789012"),
    ],
)
def test_the_root_gets_stss_answer_for_get_caller_identity(
    region: str, account_header: str | None, arn: str, account: str
) -> None:
    moto = FakeMoto()
    headers = signed("sts", region=region)
    if account_header:
        headers["x-moto-account-id"] = account_header
    response = middleware(moto, FederationCounters()).get("/?Action=GetCallerIdentity", headers=headers)
    assert (response.status_code, response.mimetype) == (200, "text/xml")
    body = response.get_data(as_text=True)
    assert f"<GetCallerIdentityResult><Arn>{arn}</Arn><UserId>{account}</UserId>" in body
    assert f"<Account>{account}</Account>" in body
    assert moto.seen == []


def test_the_root_may_not_assume_a_role_and_other_sts_calls_reach_moto_with_their_body() -> None:
    moto = FakeMoto()
    client = middleware(moto, FederationCounters())
    form = {**signed("sts"), "Content-Type": "application/x-www-form-urlencoded"}
    refused = client.post("/", data="Action=AssumeRole&RoleSessionName=Bob", headers=form)
    assert (refused.status_code, refused.mimetype) == (403, "text/xml")
    body = refused.get_data(as_text=True)
    assert "<Code>AccessDenied</Code><Message>Roles may not be assumed by root accounts.</Message>" in body

    # The body read to find the Action is put back for moto.
    passed = client.post("/", data="Action=GetSessionToken&Version=2011-06-15", headers=form)
    assert passed.data == b"moto"
    assert moto.seen == [("/", "", b"Action=GetSessionToken&Version=2011-06-15")]


def test_the_quota_applies_before_the_caller_is_looked_at(clock: FakeClock) -> None:
    counters = FederationCounters()
    client = middleware(FakeMoto(), counters, quota=Quota(0.5, 1, clock))
    first = client.get("/user/federate/abc", headers=signed("connect"))
    assert (first.status_code, first.headers["x-amzn-ErrorType"]) == (400, "InvalidRequestException")
    assert first.get_json() == {"Message": ROOT_REFUSAL}

    throttled = client.get("/user/federate/abc", headers=signed("connect"))
    assert (throttled.status_code, throttled.headers["x-amzn-ErrorType"]) == (429, "ThrottlingException")
    assert throttled.get_json() == {
        "Message": "Rate exceeded: GetFederationToken allows 0.5 requests/s (burst 1) per account and "
        "region; slow down and retry"
    }
    # Another region has its own bucket.
    other_region = client.get("/user/federate/abc", headers=signed("connect", region="us-west-2"))
    assert other_region.status_code == 400

    clock.now += 2.0  # one token back at 0.5 requests/s
    assert client.get("/user/federate/abc", headers=signed("connect")).status_code == 400
    assert counters.for_instance("abc") == FederationCounts(received=4, throttled=1, rejected=3)


def test_injected_faults_answer_500_before_the_caller_is_looked_at() -> None:
    counters = FederationCounters()
    client = middleware(FakeMoto(), counters, faults=FaultInjector(rate=1.0))
    response = client.get("/user/federate/abc", headers=signed("connect"))
    assert (response.status_code, response.headers["x-amzn-ErrorType"]) == (500, "InternalServiceException")
    assert response.get_json() == {"Message": "Injected fault (fault_rate=1); retry the request"}
    assert counters.totals() == FederationCounts(received=1, faulted=1)


def test_an_unexpected_failure_is_a_logged_500(caplog: pytest.LogCaptureFixture) -> None:
    client = middleware(FakeMoto(), FederationCounters(), quota=BrokenQuota())
    with caplog.at_level(logging.ERROR, logger="amazon_connect_emulator.connect_api"):
        response = client.get("/user/federate/abc", headers=signed("connect"))
    assert (response.status_code, response.headers["x-amzn-ErrorType"]) == (500, "InternalServiceException")
    assert response.get_json() == {"Message": "The emulator failed; see its log"}
    (record,) = caplog.records
    assert record.getMessage() == "Connect emulator failed on GET /user/federate/abc"
    assert record.exc_info is not None
    assert str(record.exc_info[1]) == "the quota broke"


def test_a_region_moto_does_not_serve_connect_in_has_no_instances() -> None:
    client = middleware(FakeMoto(), FederationCounters())
    response = client.get("/users-summary/abc", headers=signed("connect", region="eu-west-1"))
    assert (response.status_code, response.headers["x-amzn-ErrorType"]) == (404, "ResourceNotFoundException")
    assert response.get_json() == {
        "Message": "Instance abc not found in account 123456789012, region eu-west-1"
    }


# ConnectApi in-process on the running emulator's moto state (instances are moto's)


@pytest.mark.integration
def test_create_user_keeps_the_settings_describe_user_returns_and_never_the_password(
    connect_emulator: ConnectEmulator,
) -> None:
    instance_id = connect_emulator.create_instance("settings")["id"]
    client = middleware(FakeMoto(), FederationCounters())
    settings = {
        "IdentityInfo": {"FirstName": "Alice", "LastName": "Doe"},
        "PhoneConfig": {"PhoneType": "DESK_PHONE", "DeskPhoneNumber": "+15555550100"},
        "SecurityProfileIds": ["p1", "p2"],
        "RoutingProfileId": "r1",
        "Tags": {"team": "blue"},
    }
    created = client.put(
        f"/users/{instance_id}",
        json={"Username": "Alice", "Password": "Secret-123", "NotAField": 1, **settings},
        headers=signed("connect"),
    )
    assert created.status_code == 200
    user_id = created.get_json()["UserId"]
    assert created.get_json()["UserArn"] == (
        f"arn:aws:connect:us-east-1:123456789012:instance/{instance_id}/agent/{user_id}"
    )

    described = client.get(f"/users/{instance_id}/{user_id}", headers=signed("connect")).get_json()["User"]
    assert {name: described[name] for name in settings} == settings
    assert (described["Id"], described["Username"], described["LastModifiedRegion"]) == (
        user_id,
        "Alice",
        "us-east-1",
    )
    assert "Password" not in described
    assert "NotAField" not in described


@pytest.mark.integration
@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "Request body is not valid JSON: "),
        (b'["Alice"]', "Request body must be a JSON object, got list"),
        (b'{"Username": ""}', "Username must be a string of 1 to 100 characters, got ''"),
        (b'{"Username": 7}', "Username must be a string of 1 to 100 characters, got 7"),
    ],
)
def test_create_user_refuses_bad_bodies(connect_emulator: ConnectEmulator, body: bytes, message: str) -> None:
    instance_id = connect_emulator.create_instance("bad-bodies")["id"]
    client = middleware(FakeMoto(), FederationCounters())
    response = client.put(f"/users/{instance_id}", data=body, headers=signed("connect"))
    assert response.status_code == 400
    expected_code = (
        "InvalidRequestException" if message.startswith("Request") else "InvalidParameterException"
    )
    assert response.headers["x-amzn-ErrorType"] == expected_code
    assert response.get_json()["Message"].startswith(message)
    listed = client.get(f"/users-summary/{instance_id}", headers=signed("connect")).get_json()
    assert listed == {"UserSummaryList": []}
