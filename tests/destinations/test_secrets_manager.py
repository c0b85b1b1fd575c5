"""SecretsManagerDestination against moto."""

from __future__ import annotations

import json

import boto3
import pytest

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import (
    SecretsManagerDestination,
)
from airflow_connect_fed.exceptions import (
    DestinationWriteError,
    InvalidDestinationError,
    InvalidFederationTokenError,
    TokenReadError,
)
from tests.destinations.conftest import no_token_in, refuse, token
from tests.federation_answers import ACCESS_TOKEN


class TestSecretsManager:
    def test_create_then_new_versions_of_one_secret(self):
        destination = SecretsManagerDestination("connect/agent-1", aws_conn_id=None, region_name="us-east-1")
        first = destination.write(token(), "agent-1")
        second = destination.write(token(), "agent-1", "arn:aws:iam::123456789012:role/ConnectFederation")
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        assert [s["Name"] for s in sm.list_secrets()["SecretList"]] == ["connect/agent-1"]
        assert first["version_id"] != second["version_id"]
        current = sm.get_secret_value(SecretId="connect/agent-1")
        assert current["VersionId"] == second["version_id"]
        stored = json.loads(current["SecretString"])
        assert stored["Credentials"]["AccessToken"] == ACCESS_TOKEN
        assert stored["ConnectUser"] == "agent-1"
        assert stored["Principal"] == "arn:aws:iam::123456789012:role/ConnectFederation"
        assert {k for k in stored if k not in ("ConnectUser", "Principal")} == set(token().to_dict())
        assert no_token_in(first)
        assert first["kind"] == "secrets_manager"
        assert load_federation_token(second) == token()

    def test_kms_key_on_create(self):
        kms = boto3.client("kms", region_name="us-east-1")
        key = kms.create_key()["KeyMetadata"]["KeyId"]
        SecretsManagerDestination("k", kms_key_id=key, aws_conn_id=None, region_name="us-east-1").write(
            token()
        )
        described = boto3.client("secretsmanager", region_name="us-east-1").describe_secret(SecretId="k")
        assert described["KmsKeyId"] == key

    def test_failed_write_keeps_the_previous_token(self):
        destination = SecretsManagerDestination("connect/agent-1", aws_conn_id=None, region_name="us-east-1")
        before = destination.write(token(), "agent-1")
        refuse(destination.client, "PutSecretValue")
        with pytest.raises(
            DestinationWriteError, match="secret 'connect/agent-1': AccessDeniedException"
        ) as e:
            destination.write(token(), "agent-1")
        assert "previous version, if any, is unchanged" in str(e.value)
        assert no_token_in(str(e.value))
        assert load_federation_token(before).access_token == ACCESS_TOKEN
        assert destination.current().reference["version_id"] == before["version_id"]

    @pytest.mark.parametrize("name", ["", "has space", "x" * 513, "bad#char"])
    def test_bad_names(self, name):
        with pytest.raises(InvalidDestinationError, match="cannot be stored in Secrets Manager"):
            SecretsManagerDestination(name)

    def test_unreachable_store_is_a_read_error(self):
        from botocore.config import Config

        unreachable = boto3.client(
            "secretsmanager",
            endpoint_url="http://127.0.0.1:9",
            config=Config(retries={"total_max_attempts": 1}),
        )
        destination = SecretsManagerDestination("k", aws_conn_id=None, client=unreachable)
        with pytest.raises(TokenReadError, match="Could not read secret 'k'"):
            destination.current()

    def test_unreadable_value(self):
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="garbage", SecretString="not json")
        destination = SecretsManagerDestination("garbage", aws_conn_id=None, region_name="us-east-1")
        with pytest.raises(InvalidFederationTokenError, match="secret 'garbage' is not JSON"):
            destination.current()
        assert (
            SecretsManagerDestination("missing", aws_conn_id=None, region_name="us-east-1").current() is None
        )
