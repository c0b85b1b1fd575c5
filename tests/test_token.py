from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_connect_fed.exceptions import InvalidFederationTokenError, InvalidInputError
from airflow_connect_fed.token import FederationToken
from tests.federation_answers import ACCESS_TOKEN, INSTANCE_ID, REFRESH_TOKEN, success_body

EXPIRES = datetime(2030, 5, 6, 7, 8, 9, tzinfo=UTC)


def boto3_response() -> dict:
    """What boto3 returns: datetimes instead of epoch numbers, no InstanceId."""
    body = success_body(expires_at=EXPIRES)
    body["Credentials"]["AccessTokenExpiration"] = EXPIRES
    body["Credentials"]["RefreshTokenExpiration"] = EXPIRES + timedelta(hours=12)
    body["ResponseMetadata"] = {"HTTPStatusCode": 200}
    return body


def make_token(**changes) -> FederationToken:
    return FederationToken.from_dict(boto3_response(), instance_id=INSTANCE_ID)


def test_from_boto3_response():
    token = make_token()
    assert token.access_token == ACCESS_TOKEN
    assert token.refresh_token == REFRESH_TOKEN
    assert token.access_token_expiration == EXPIRES
    assert token.refresh_token_expiration == EXPIRES + timedelta(hours=12)
    assert token.instance_id == INSTANCE_ID
    assert token.user_arn.endswith("/agent/agent-1-id")


def test_to_dict_is_the_api_shape_and_json_safe():
    data = make_token().to_dict()
    assert data == {
        "Credentials": {
            "AccessToken": ACCESS_TOKEN,
            "AccessTokenExpiration": "2030-05-06T07:08:09+00:00",
            "RefreshToken": REFRESH_TOKEN,
            "RefreshTokenExpiration": "2030-05-06T19:08:09+00:00",
        },
        "SignInUrl": "https://example.my.connect.aws/auth/sign-in?user=agent-1",
        "UserArn": data["UserArn"],
        "UserId": "agent-1-id",
        "InstanceId": INSTANCE_ID,
    }
    assert json.loads(json.dumps(data)) == data


def test_round_trip():
    token = make_token()
    assert FederationToken.from_dict(token.to_dict()) == token
    assert FederationToken.from_dict(json.loads(json.dumps(token.to_dict()))) == token


def test_instance_id_from_user_arn_when_absent():
    assert FederationToken.from_dict(success_body()).instance_id == INSTANCE_ID


def test_naive_datetimes_and_epochs_are_utc():
    body = success_body(expires_at=EXPIRES)
    body["Credentials"]["RefreshTokenExpiration"] = datetime(2030, 5, 6, 19, 8, 9)
    token = FederationToken.from_dict(body)
    assert token.access_token_expiration == EXPIRES
    assert token.refresh_token_expiration.tzinfo == UTC
    assert token.refresh_token_expiration == EXPIRES + timedelta(hours=12)


def test_aware_datetimes_are_normalised_to_utc():
    plus_two = timezone(timedelta(hours=2))
    token = FederationToken(
        access_token="a",
        access_token_expiration=datetime(2030, 1, 1, 12, tzinfo=plus_two),
        refresh_token="r",
        refresh_token_expiration=datetime(2030, 1, 1, 12, tzinfo=plus_two),
        sign_in_url="u",
        user_arn="arn",
        user_id="id",
        instance_id="i",
    )
    assert token.access_token_expiration.tzinfo == UTC
    assert token.access_token_expiration.hour == 10


def test_naive_datetime_in_constructor_is_refused():
    with pytest.raises(InvalidFederationTokenError, match="timezone-aware datetime"):
        FederationToken("a", datetime(2030, 1, 1), "r", EXPIRES, "u", "arn", "id", "i")


def test_repr_and_str_hide_tokens():
    token = make_token()
    for text in (repr(token), str(token), f"{token}", repr([token])):
        assert ACCESS_TOKEN not in text
        assert REFRESH_TOKEN not in text
    assert "agent-1-id" in repr(token)


def test_validity():
    token = make_token()
    now = EXPIRES - timedelta(hours=1)
    assert token.expires_in(now) == timedelta(hours=1)
    assert token.is_valid(now=now)
    assert token.is_valid(timedelta(minutes=59), now=now)
    assert not token.is_valid(timedelta(hours=1), now=now)
    assert not token.is_valid(now=EXPIRES + timedelta(seconds=1))
    assert token.expires_in(EXPIRES + timedelta(seconds=1)) == timedelta(seconds=-1)


def test_the_refresh_token_has_its_own_remaining_life():
    token = make_token()  # access token until EXPIRES, refresh token 12 hours later
    past_access = EXPIRES + timedelta(minutes=1)
    assert token.refresh_expires_in(EXPIRES - timedelta(hours=1)) == timedelta(hours=13)
    assert token.refresh_expires_in(past_access) == timedelta(hours=11, minutes=59)
    assert token.expires_in(past_access) == timedelta(minutes=-1)
    # Validity is the access token's: a live refresh token does not make the token valid.
    assert not token.is_valid(now=past_access)
    assert token.refresh_expires_in(EXPIRES + timedelta(hours=12, seconds=1)) == timedelta(seconds=-1)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("Credentials"), "needs a 'Credentials' mapping"),
        (lambda d: d["Credentials"].pop("AccessToken"), "missing Credentials.AccessToken"),
        (lambda d: d.pop("UserArn"), "missing UserArn"),
        (
            lambda d: d["Credentials"].update(AccessTokenExpiration="tomorrow"),
            "not an ISO-8601 timestamp: 'tomorrow'",
        ),
        (lambda d: d["Credentials"].update(RefreshTokenExpiration=[1]), "got list"),
    ],
)
def test_malformed_values_are_refused_without_showing_tokens(mutate, message):
    body = success_body()
    mutate(body)
    with pytest.raises(InvalidFederationTokenError, match=message) as raised:
        FederationToken.from_dict(body)
    assert ACCESS_TOKEN not in str(raised.value)
    assert REFRESH_TOKEN not in str(raised.value)


def test_not_a_mapping():
    with pytest.raises(InvalidFederationTokenError, match="must be a mapping, got list"):
        FederationToken.from_dict([1, 2])  # type: ignore[arg-type]


def test_frozen():
    with pytest.raises(AttributeError):
        make_token().access_token = "x"  # type: ignore[misc]


# --- sign_in_form: the form AWS's sample posts to <instance>/auth/sign-in -----------------------------


def token_at(sign_in_url: str, expires: datetime | None = None) -> FederationToken:
    expires = expires or datetime.now(UTC) + timedelta(hours=12)
    return FederationToken(
        access_token="ACCESS-TOKEN-FOR-THE-FORM-0001",
        access_token_expiration=expires,
        refresh_token="REFRESH-TOKEN-FOR-THE-FORM-0002",
        refresh_token_expiration=expires + timedelta(hours=12),
        sign_in_url=sign_in_url,
        user_arn="arn:aws:connect:us-east-1:123456789012:instance/i-1/agent/u-1",
        user_id="u-1",
        instance_id="i-1",
    )


def test_sign_in_form_fields_are_the_samples():
    expires = datetime(2031, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
    form = token_at("https://example.my.connect.aws/auth/sign-in?x=1", expires).sign_in_form()
    assert form.url == "https://example.my.connect.aws/auth/sign-in"
    assert sorted(form.fields) == ["credentials", "destination"]
    assert form.fields["destination"] == ""
    assert json.loads(form.fields["credentials"]) == {
        "AccessToken": "ACCESS-TOKEN-FOR-THE-FORM-0001",
        "AccessTokenExpiration": 1925089445678,
        "RefreshToken": "REFRESH-TOKEN-FOR-THE-FORM-0002",
        "RefreshTokenExpiration": 1925132645678,
    }
    assert json.loads(form.fields["credentials"])["AccessTokenExpiration"] == round(
        expires.timestamp() * 1000
    )


@pytest.mark.parametrize(
    ("sign_in_url", "url"),
    [
        ("https://example.my.connect.aws/auth/sign-in", "https://example.my.connect.aws/auth/sign-in"),
        (
            "https://example.awsapps.com/connect/auth/sign-in?s=1",
            "https://example.awsapps.com/connect/auth/sign-in",
        ),
        ("http://127.0.0.1:5000/connect/i-1/auth/sign-in", "http://127.0.0.1:5000/connect/i-1/auth/sign-in"),
        ("https://example.my.connect.aws/other/page", "https://example.my.connect.aws/auth/sign-in"),
    ],
)
def test_sign_in_form_posts_to_the_instances_sign_in(sign_in_url, url):
    assert token_at(sign_in_url).sign_in_form("/ccp-v2").url == url


def test_sign_in_form_destination_is_a_path_on_the_instance():
    form = token_at("https://example.my.connect.aws/auth/sign-in").sign_in_form("/ccp-v2#/chat")
    assert form.fields["destination"] == "/ccp-v2#/chat"


@pytest.mark.parametrize(
    "destination",
    ["https://elsewhere", "//host/ccp-v2", " /ccp-v2", "/ccp v2", "/ccp-v2\n", "ccp-v2", "\\\\host", None],
)
def test_sign_in_form_refuses_a_destination_off_the_instance(destination):
    with pytest.raises(InvalidInputError, match="is not a path on the Connect instance") as raised:
        token_at("https://example.my.connect.aws/auth/sign-in").sign_in_form(destination)
    assert repr(destination) in str(raised.value)


def test_sign_in_form_refuses_an_expired_token():
    expired = token_at(
        "https://example.my.connect.aws/auth/sign-in", datetime.now(UTC) - timedelta(seconds=1)
    )
    with pytest.raises(InvalidFederationTokenError, match=r"signing in needs an unexpired access token") as e:
        expired.sign_in_form()
    assert "ACCESS-TOKEN-FOR-THE-FORM" not in str(e.value)
    assert "REFRESH-TOKEN-FOR-THE-FORM" not in str(e.value)


def test_sign_in_form_refuses_an_expired_access_token_with_a_live_refresh_token_naming_both():
    access_expires = datetime(2031, 1, 2, 3, 4, 5, tzinfo=UTC)
    token = token_at("https://example.my.connect.aws/auth/sign-in", access_expires)  # refresh: +12 h
    assert token.sign_in_form(now=access_expires - timedelta(seconds=1)).url.endswith("/auth/sign-in")
    with pytest.raises(InvalidFederationTokenError) as raised:
        token.sign_in_form(now=access_expires + timedelta(minutes=1))
    message = str(raised.value)
    assert "expired at 2031-01-02T03:04:05+00:00" in message
    assert "its refresh token expires at 2031-01-02T15:04:05+00:00" in message
    assert "PeriodicSessionDuration" in message


@pytest.mark.parametrize("sign_in_url", ["not a url", "ftp://example/auth/sign-in", "https:///auth/sign-in"])
def test_sign_in_form_refuses_a_sign_in_url_that_names_no_instance(sign_in_url):
    with pytest.raises(InvalidFederationTokenError, match="is not an http\\(s\\) URL"):
        token_at(sign_in_url).sign_in_form()


def test_sign_in_form_shows_no_token():
    form = token_at("https://example.my.connect.aws/auth/sign-in").sign_in_form()
    for shown in (repr(form), str(form), f"{form}"):
        assert "ACCESS-TOKEN-FOR-THE-FORM" not in shown
        assert "REFRESH-TOKEN-FOR-THE-FORM" not in shown
    assert repr(form) == (
        "SignInForm(url='https://example.my.connect.aws/auth/sign-in', fields=['credentials', 'destination'] "
        "(values hidden))"
    )
    with pytest.raises(TypeError):
        form.fields["destination"] = "/elsewhere"  # type: ignore[index]


@pytest.mark.integration
def test_sign_in_form_signs_the_agent_in_at_the_emulator(connect_emulator, emu_connection):
    """The done-when: the form's expirations are the token's, the POST signs the agent in, a tampered one fails."""
    import http.client
    from urllib.parse import urlencode, urlsplit

    from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook

    instance = connect_emulator.create_instance("sign-in-form")
    connect_emulator.create_user(instance["id"], "agent.one@example.com")
    role_arn = connect_emulator.create_federation_role()
    token = ConnectFederationHook(aws_conn_id="emu").get_federation_token(
        instance["id"], connect_user="agent.one@example.com", role_arn=role_arn
    )
    form = token.sign_in_form()
    credentials = json.loads(form.fields["credentials"])
    assert credentials["AccessTokenExpiration"] == round(token.access_token_expiration.timestamp() * 1000)
    assert credentials["RefreshTokenExpiration"] == round(token.refresh_token_expiration.timestamp() * 1000)
    assert form.url == f"{connect_emulator.endpoint_url}/connect/{instance['id']}/auth/sign-in"

    def post(fields) -> http.client.HTTPResponse:
        parts = urlsplit(form.url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        connection.request("POST", parts.path, urlencode(fields), headers)
        return connection.getresponse()

    signed_in = post(form.fields)
    assert signed_in.status == 302
    cookie = signed_in.headers["Set-Cookie"].split(";", 1)[0]
    parts = urlsplit(form.url)
    page = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    page.request("GET", signed_in.headers["Location"], headers={"Cookie": cookie})
    answer = page.getresponse()
    assert (answer.status, signed_in.headers["Location"]) == (200, f"/connect/{instance['id']}/ccp-v2")
    assert "Signed in as agent.one@example.com" in answer.read().decode()

    tampered = {
        **credentials,
        "AccessToken": token.access_token[:-1] + ("A" if token.access_token[-1] != "A" else "B"),
    }
    refused = post({"credentials": json.dumps(tampered), "destination": ""})
    assert (refused.status, refused.headers["Set-Cookie"]) == (401, None)
