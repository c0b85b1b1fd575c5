"""The printed GetFederationToken response: the API's shape and member order, tokens redacted unless asked."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from airflow_connect_fed.cli.response import OPERATION, REDACTED, response_of
from airflow_connect_fed.token import FederationToken
from tests.federation_answers import ACCESS_TOKEN, INSTANCE_ID, REFRESH_TOKEN

USER_ARN = f"arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE_ID}/agent/agent-1-id"
TOKEN = FederationToken(
    access_token=ACCESS_TOKEN,
    access_token_expiration=datetime(2030, 1, 1, 2, 30, tzinfo=timezone(timedelta(hours=2))),
    refresh_token=REFRESH_TOKEN,
    refresh_token_expiration=datetime(2030, 1, 1, 12, 30, 0, 6000, tzinfo=UTC),
    sign_in_url="https://example.my.connect.aws/auth/sign-in",
    user_arn=USER_ARN,
    user_id="agent-1-id",
    instance_id=INSTANCE_ID,
)


def test_tokens_are_redacted_by_default():
    assert response_of(TOKEN, show_tokens=False) == {
        "UserId": "agent-1-id",
        "UserArn": USER_ARN,
        "Credentials": {
            "AccessToken": REDACTED,
            "AccessTokenExpiration": "2030-01-01T00:30:00+00:00",
            "RefreshToken": REDACTED,
            "RefreshTokenExpiration": "2030-01-01T12:30:00.006000+00:00",
        },
        "SignInUrl": "https://example.my.connect.aws/auth/sign-in",
    }


def test_redacted_response_holds_no_token_and_says_how_to_see_them():
    text = json.dumps(response_of(TOKEN, show_tokens=False))
    assert ACCESS_TOKEN not in text
    assert REFRESH_TOKEN not in text
    assert REDACTED == "****(redacted, use --show-tokens)"


def test_show_tokens_keeps_them():
    credentials = response_of(TOKEN, show_tokens=True)["Credentials"]
    assert (credentials["AccessToken"], credentials["RefreshToken"]) == (ACCESS_TOKEN, REFRESH_TOKEN)


def test_members_in_the_service_models_order_without_the_instance_id():
    response = response_of(TOKEN, show_tokens=True)
    assert list(response) == ["UserId", "UserArn", "Credentials", "SignInUrl"]
    assert list(response["Credentials"]) == [
        "AccessToken",
        "AccessTokenExpiration",
        "RefreshToken",
        "RefreshTokenExpiration",
    ]


def test_the_operation_name_is_the_table_title():
    assert OPERATION == "GetFederationToken"
