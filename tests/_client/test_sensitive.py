"""Values the service models mark sensitive are masked before botocore's DEBUG lines show them."""

from __future__ import annotations

import http.client
import json
import logging
import secrets

import boto3
import pytest
from moto import mock_aws

from airflow_connect_fed._client.sensitive import protect, wire_debug_enabled
from tests.federation_answers import ACCOUNT, success_body
from tests.masker import redact

ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/ConnectFederation"


class Shown(logging.Handler):
    """Each botocore record as logged (``raw``) and as Airflow's masker shows it at that moment (``shown``)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.raw: list[str] = []
        self.shown: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        self.raw.append(message)
        self.shown.append(redact(message))

    def text(self) -> str:
        return "\n".join(self.shown)

    def raw_text(self) -> str:
        return "\n".join(self.raw)


@pytest.fixture
def botocore_at(request):
    """botocore's loggers at the level given by the test's parameter, with a ``Shown`` handler."""
    handler = Shown()
    logger = logging.getLogger("botocore")
    saved = logger.level
    logger.setLevel(request.param if hasattr(request, "param") else logging.DEBUG)
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(saved)


@pytest.fixture
def aws():
    with mock_aws():
        yield


def client(service: str):
    return protect(boto3.client(service, region_name="us-east-1"))


def stored_token_text() -> tuple[str, dict]:
    body = success_body()
    body["Credentials"]["AccessToken"] = "access-" + secrets.token_urlsafe(24)
    body["Credentials"]["RefreshToken"] = "refresh-" + secrets.token_urlsafe(24)
    body["Credentials"]["AccessTokenExpiration"] = "2030-01-01T00:00:00+00:00"
    body["Credentials"]["RefreshTokenExpiration"] = "2030-01-02T00:00:00+00:00"
    return json.dumps({**body, "InstanceId": "i-1", "ConnectUser": "agent-1"}), body


def assume_role():
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_role(RoleName="ConnectFederation", AssumeRolePolicyDocument="{}")
    return client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="agent-1")["Credentials"]


def test_assume_role_secrets_never_shown_at_debug(aws, botocore_at):
    credentials = assume_role()
    # Positive control: botocore did log the response body with both secrets in it.
    assert "Response body" in botocore_at.raw_text()
    assert credentials["SecretAccessKey"] in botocore_at.raw_text()
    assert credentials["SessionToken"] in botocore_at.raw_text()
    assert credentials["SecretAccessKey"] not in botocore_at.text()
    assert credentials["SessionToken"] not in botocore_at.text()
    # Not sensitive in STS's model: the key id and the role stay readable.
    assert credentials["AccessKeyId"] in botocore_at.text()


def test_the_session_token_is_masked_in_signed_requests(aws, botocore_at):
    credentials = assume_role()
    session_client = protect(
        boto3.client(
            "sts",
            region_name="us-east-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    )
    session_client.get_caller_identity()
    assert "X-Amz-Security-Token" in botocore_at.raw_text()
    assert credentials["SessionToken"] not in botocore_at.text()


def test_stored_token_read_and_write_never_show_the_tokens(aws, botocore_at):
    text, body = stored_token_text()
    sm = client("secretsmanager")
    sm.create_secret(Name="connect/agent-1", SecretString=text)
    sm.get_secret_value(SecretId="connect/agent-1")
    raw, shown = botocore_at.raw_text(), botocore_at.text()
    for token in (body["Credentials"]["AccessToken"], body["Credentials"]["RefreshToken"]):
        assert token in raw
        assert token not in shown
    # Only the tokens of a stored token are registered: who it belongs to stays readable.
    assert body["UserArn"] in shown


def test_ssm_parameter_values_never_shown(aws, botocore_at):
    value = "not-a-token-" + secrets.token_urlsafe(16)
    ssm = client("ssm")
    ssm.put_parameter(Name="/connect/other", Value=value, Type="SecureString")
    ssm.get_parameter(Name="/connect/other", WithDecryption=True)
    assert value in botocore_at.raw_text()
    assert value not in botocore_at.text()


@pytest.mark.parametrize("botocore_at", [logging.INFO], indirect=True)
def test_nothing_is_registered_above_debug(aws, botocore_at):
    assert not wire_debug_enabled()
    credentials = assume_role()
    assert "Response body" not in botocore_at.raw_text()
    # Not registered: the masker would show the value itself.
    assert redact(credentials["SecretAccessKey"]) == credentials["SecretAccessKey"]


@pytest.mark.parametrize("botocore_at", [logging.INFO], indirect=True)
def test_http_client_debug_level_counts_as_debug(aws, botocore_at, monkeypatch):
    monkeypatch.setattr(http.client.HTTPConnection, "debuglevel", 1)
    assert wire_debug_enabled()
    credentials = assume_role()
    assert redact(credentials["SecretAccessKey"]) == "***"
