from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from airflow_connect_fed.exceptions import InvalidFederationTokenError
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
