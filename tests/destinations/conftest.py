"""Destinations against moto: a token to store and helpers shared by the destination tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from moto import mock_aws

from airflow_connect_fed.token import FederationToken
from tests.federation_answers import ACCESS_TOKEN, REFRESH_TOKEN, success_body

SM_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.fixture(autouse=True)
def aws():
    with mock_aws():
        yield


def token(user: str = "agent-1") -> FederationToken:
    return FederationToken.from_dict(success_body(user=user, expires_at=EXPIRES))


def refuse(client, operation: str, code: str = "AccessDeniedException") -> None:
    """Make ``operation`` fail on ``client`` as AWS would when IAM denies it."""
    from botocore.exceptions import ClientError

    def deny(**_):
        raise ClientError({"Error": {"Code": code, "Message": "not authorized"}}, operation)

    client.meta.events.register(f"before-call.*.{operation}", lambda **kw: deny())


def no_token_in(value) -> bool:
    text = json.dumps(value)
    return ACCESS_TOKEN not in text and REFRESH_TOKEN not in text
