"""``seed()`` makes the README's DAG values; the instance route refuses bad values; the federator."""

from __future__ import annotations

import json
import re
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import TYPE_CHECKING, Any

import pytest

from amazon_connect_emulator.seed import INSTANCE_ROUTE, USERS_ROUTE, SeedError, seed

if TYPE_CHECKING:
    from collections.abc import Iterator

    from amazon_connect_emulator import ConnectEmulator

pytestmark = pytest.mark.integration

INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
INSTANCE_ARN = f"arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE_ID}"
ROLE_ARN = "arn:aws:iam::123456789012:role/ConnectFederation"
FEDERATOR_ARN = "arn:aws:iam::123456789012:user/emulator-federator"


def test_seed_creates_the_readme_values(connect_emulator: ConnectEmulator) -> None:
    seeded = connect_emulator.seed()
    assert [(r.kind, r.name, r.created) for r in seeded] == [
        ("instance", INSTANCE_ID, True),
        ("user", "agent-1", True),
        ("role", "ConnectFederation", True),
    ]
    instance, user, role = seeded
    assert (instance.id, instance.arn, role.arn) == (INSTANCE_ID, INSTANCE_ARN, ROLE_ARN)
    assert user.arn == f"{INSTANCE_ARN}/agent/{user.id}"
    described = connect_emulator.client("connect").describe_instance(InstanceId=INSTANCE_ID)["Instance"]
    assert (described["Id"], described["Arn"], described["IdentityManagementType"]) == (
        INSTANCE_ID,
        INSTANCE_ARN,
        "SAML",
    )
    users = connect_emulator.client("connect").list_users(InstanceId=INSTANCE_ID)["UserSummaryList"]
    assert [(u["Username"], u["Id"]) for u in users] == [("agent-1", user.id)]
    iam = connect_emulator.client("iam")
    trust = iam.get_role(RoleName="ConnectFederation")["Role"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    policy = iam.get_role_policy(RoleName="ConnectFederation", PolicyName="ConnectFederation")[
        "PolicyDocument"
    ]
    assert policy["Statement"][0]["Action"] == "connect:GetFederationToken"
    assert instance.line() == f"created  instance {INSTANCE_ID}  {INSTANCE_ARN}"
    assert user.line() == f"created  user     agent-1  id {user.id}  {user.arn}"


def test_seed_again_reports_what_exists(connect_emulator: ConnectEmulator) -> None:
    first = connect_emulator.seed()
    second = connect_emulator.seed(users=["agent-1", "agent-2"])
    assert [(r.kind, r.name, r.created) for r in second] == [
        ("instance", INSTANCE_ID, False),
        ("user", "agent-1", False),
        ("user", "agent-2", True),
        ("role", "ConnectFederation", False),
    ]
    assert [(r.id, r.arn) for r in second if r.name != "agent-2"] == [(r.id, r.arn) for r in first]
    assert second[0].line().startswith("exists   instance ")
    assert len(connect_emulator.client("connect").list_instances()["InstanceSummaryList"]) == 1


def test_seed_with_other_values(connect_emulator: ConnectEmulator) -> None:
    seeded = connect_emulator.seed(instance_id="abc", users=["Alice"], role_name="Other")
    assert [r.arn for r in seeded][::2] == [
        "arn:aws:connect:us-east-1:123456789012:instance/abc",
        "arn:aws:iam::123456789012:role/Other",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"endpoint_url": "localhost:5000"}, "endpoint_url must be the emulator's URL like 'http://127.0.0.1:5000', got 'localhost:5000'. Start it with"),
        ({"endpoint_url": "http://127.0.0.1:99999"}, "got 'http://127.0.0.1:99999'"),
        ({"endpoint_url": "ftp://127.0.0.1:5000"}, "got 'ftp://127.0.0.1:5000'"),
        ({"endpoint_url": "http://127.0.0.1:5000/path"}, "got 'http://127.0.0.1:5000/path'"),
        ({"region": "mars"}, "region must be an AWS region name like 'us-east-1', got 'mars'"),
        ({"instance_id": INSTANCE_ARN}, f"instance_id must be 1 to 100 letters, digits and hyphens, like '{INSTANCE_ID}' (an id, not an ARN), got '{INSTANCE_ARN}'"),
        ({"instance_id": ""}, "instance_id must be 1 to 100 letters"),
        ({"instance_id": "a" * 101}, "instance_id must be 1 to 100 letters"),
        ({"users": []}, "user must be given at least once, as a list of Connect usernames, got []"),
        ({"users": "agent-1"}, "user must be given at least once, as a list of Connect usernames, got 'agent-1'"),
        ({"users": ["agent 1"]}, "user must be 2 to 64 letters, digits or _.@- (a Connect username usable as an STS role session name), got 'agent 1'"),
        ({"users": [7]}, "got 7"),
        ({"users": ["a", "a"]}, "got 'a'"),
        ({"users": ["agent-1", "agent-1"]}, "user 'agent-1' is given more than once; give each Connect username once"),
        ({"role_name": "no/slash"}, "role_name must be 1 to 64 letters, digits or _+=,.@- (an IAM role name), got 'no/slash'"),
    ],
)  # fmt: skip
def test_seed_refuses_bad_values_before_any_request(options: dict[str, object], message: str) -> None:
    arguments: dict[str, object] = {"endpoint_url": "http://127.0.0.1:9", **options}
    with pytest.raises(ValueError, match=re.escape(message)):
        seed(**arguments)  # type: ignore[arg-type]


def test_seed_says_when_the_emulator_is_unreachable() -> None:
    with pytest.raises(SeedError) as raised:
        seed("http://127.0.0.1:9")
    assert str(raised.value).startswith("cannot reach the emulator at http://127.0.0.1:9: ")
    assert str(raised.value).endswith(
        "Start it with `amazon-connect-emulator` and pass the URL its first line prints."
    )


@pytest.fixture
def not_an_emulator() -> Iterator[str]:
    """An HTTP server that answers 404 to everything."""

    class NotFound(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.send_error(404)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), NotFound)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_seed_says_when_the_url_is_not_the_emulator(not_an_emulator: str) -> None:
    with pytest.raises(
        SeedError, match=r"did not answer as the Connect emulator \(HTTP 404\)\. Start it with"
    ):
        seed(not_an_emulator)


# The emulator-only instance route


def post(
    url: str, body: object, method: str = "POST", route: str = INSTANCE_ROUTE
) -> tuple[int, dict[str, Any], str | None]:
    request = urllib.request.Request(url + route, data=json.dumps(body).encode(), method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read()), None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), error.headers["x-amzn-ErrorType"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"InstanceId": "a/b", "Region": "us-east-1"}, 400, "InstanceId must be 1 to 100 letters, digits and hyphens"),
        ({"Region": "us-east-1"}, 400, "InstanceId must be 1 to 100 letters, digits and hyphens"),
        ({"InstanceId": "abc", "Region": "mars-1"}, 400, "Region must be an AWS region moto serves Connect in, like 'us-east-1', got 'mars-1'"),
        ({"InstanceId": "abc", "Region": "us-east-1", "AccountId": "12"}, 400, "AccountId must be 12 digits, or left out, got '12'"),
        (["not", "an", "object"], 400, "Request body must be a JSON object, got list"),
    ],
)  # fmt: skip
def test_instance_route_refuses_bad_values(
    connect_emulator: ConnectEmulator, body: object, status: int, message: str
) -> None:
    code, answer, error_type = post(connect_emulator.endpoint_url, body)
    assert (code, error_type) == (
        status,
        "InvalidParameterException" if isinstance(body, dict) else "InvalidRequestException",
    )
    assert str(answer["Message"]).startswith(message)
    assert connect_emulator.client("connect").list_instances()["InstanceSummaryList"] == []


def test_instance_route_in_another_account(connect_emulator: ConnectEmulator) -> None:
    body = {"InstanceId": "abc", "Region": "eu-west-2", "AccountId": "111122223333"}
    assert post(connect_emulator.endpoint_url, body) == (
        200,
        {"Id": "abc", "Arn": "arn:aws:connect:eu-west-2:111122223333:instance/abc", "Created": True},
        None,
    )


def test_instance_route_wants_post(connect_emulator: ConnectEmulator) -> None:
    code, answer, _ = post(connect_emulator.endpoint_url, {}, method="PUT")
    assert (code, answer) == (405, {"Message": f"Use POST on {INSTANCE_ROUTE}"})


# The emulator-only users route


def test_users_route_creates_users_at_once_and_reports_those_that_exist(
    connect_emulator: ConnectEmulator,
) -> None:
    connect_emulator.set_api_quota(0.001, 1)  # the route is not throttled, nor counted as AWS traffic
    assert post(connect_emulator.endpoint_url, {"InstanceId": "abc", "Region": "us-east-1"})[0] == 200
    alice = connect_emulator.create_user("abc", "alice@example.com")
    body = {
        "InstanceId": "abc",
        "Region": "us-east-1",
        "Users": [
            "alice@example.com",
            {"Username": "bob@example.com", "RoutingProfileId": "rp-sales", "Tags": {"team": "blue"}},
            *[f"agent.{i}@example.com" for i in range(50)],
        ],
    }
    status, answer, _ = post(connect_emulator.endpoint_url, body, route=USERS_ROUTE)
    assert status == 200
    users = answer["Users"]
    assert [(u["Username"], u["Created"]) for u in users[:3]] == [
        ("alice@example.com", False),
        ("bob@example.com", True),
        ("agent.0@example.com", True),
    ]
    assert (users[0]["Id"], users[0]["Arn"]) == (alice["id"], alice["arn"])
    assert users[1]["Arn"] == f"arn:aws:connect:us-east-1:123456789012:instance/abc/agent/{users[1]['Id']}"
    assert len(users) == 52
    assert connect_emulator.counters.requests("connect") == 0
    connect_emulator.set_api_quota(1000.0, 1000)
    described = connect_emulator.client("connect").describe_user(InstanceId="abc", UserId=users[1]["Id"])[
        "User"
    ]
    assert (described["RoutingProfileId"], described["Tags"]) == ("rp-sales", {"team": "blue"})

    # Again: all exist, nothing new.
    status, again, _ = post(connect_emulator.endpoint_url, body, route=USERS_ROUTE)
    assert (status, {u["Created"] for u in again["Users"]}) == (200, {False})
    assert [u["Id"] for u in again["Users"]] == [u["Id"] for u in users]


def test_users_route_in_another_account(connect_emulator: ConnectEmulator) -> None:
    instance = {"InstanceId": "abc", "Region": "eu-west-2", "AccountId": "111122223333"}
    assert post(connect_emulator.endpoint_url, instance)[0] == 200
    status, answer, _ = post(
        connect_emulator.endpoint_url, {**instance, "Users": ["a@example.com"]}, route=USERS_ROUTE
    )
    assert status == 200
    assert answer["Users"][0]["Arn"].startswith("arn:aws:connect:eu-west-2:111122223333:instance/abc/agent/")


@pytest.mark.parametrize(
    ("body", "status", "error_type", "message"),
    [
        ({"InstanceId": "abc", "Region": "us-east-1", "Users": ["ok@example.com", ""]}, 400, "InvalidParameterException", "Users[1]: Username must be a string of 1 to 100 characters, got ''"),
        ({"InstanceId": "abc", "Region": "us-east-1", "Users": [{"Username": "x@example.com", "SecurityProfileIds": "sp"}]}, 400, "InvalidParameterException", "Users[0]: SecurityProfileIds must be a list of 1 to 10 non-empty strings, got 'sp'"),
        ({"InstanceId": "abc", "Region": "us-east-1", "Users": ["a@example.com", "a@example.com"]}, 400, "InvalidParameterException", "Username 'a@example.com' is given more than once; give each username once"),
        ({"InstanceId": "abc", "Region": "us-east-1", "Users": "a@example.com"}, 400, "InvalidParameterException", "Users must be a list of usernames or objects of CreateUser fields, got 'a@example.com'"),
        ({"InstanceId": "abc", "Region": "us-east-1"}, 400, "InvalidParameterException", "Users must be a list of usernames or objects of CreateUser fields, got None"),
        ({"Region": "us-east-1", "Users": []}, 400, "InvalidParameterException", "InstanceId must be an instance id, got None"),
        ({"InstanceId": "abc", "Region": "mars-1", "Users": []}, 400, "InvalidParameterException", "Region must be an AWS region moto serves Connect in, like 'us-east-1', got 'mars-1'"),
        ({"InstanceId": "abc", "Region": "us-east-1", "AccountId": "12", "Users": []}, 400, "InvalidParameterException", "AccountId must be 12 digits, or left out, got '12'"),
        ({"InstanceId": "nowhere", "Region": "us-east-1", "Users": ["a@example.com"]}, 404, "ResourceNotFoundException", "Instance nowhere not found in account 123456789012, region us-east-1"),
        (["not", "an", "object"], 400, "InvalidRequestException", "Request body must be a JSON object, got list"),
    ],
)  # fmt: skip
def test_users_route_refuses_bad_values_and_creates_none(
    connect_emulator: ConnectEmulator, body: object, status: int, error_type: str, message: str
) -> None:
    post(connect_emulator.endpoint_url, {"InstanceId": "abc", "Region": "us-east-1"})
    answer = post(connect_emulator.endpoint_url, body, route=USERS_ROUTE)
    assert answer == (status, {"Message": message}, error_type)
    assert connect_emulator.client("connect").list_users(InstanceId="abc")["UserSummaryList"] == []


def test_users_route_wants_post(connect_emulator: ConnectEmulator) -> None:
    code, answer, _ = post(connect_emulator.endpoint_url, {}, method="GET", route=USERS_ROUTE)
    assert (code, answer) == (405, {"Message": f"Use POST on {USERS_ROUTE}"})


def test_the_federator_is_an_iam_user_made_again_after_reset(connect_emulator: ConnectEmulator) -> None:
    first = connect_emulator.federator_credentials()
    assert connect_emulator.federator_credentials() == first
    sts = connect_emulator.client("sts", **first)
    assert sts.get_caller_identity()["Arn"] == FEDERATOR_ARN
    connect_emulator.reset()
    second = connect_emulator.federator_credentials()
    assert second["aws_access_key_id"] != first["aws_access_key_id"]
    assert connect_emulator.client("sts", **second).get_caller_identity()["Arn"] == FEDERATOR_ARN
