"""Secrets Manager, SSM and secrets-backend destinations against moto."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3
import pytest
from moto import mock_aws

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import (
    SecretsBackendDestination,
    SecretsManagerDestination,
    SsmParameterDestination,
)
from airflow_connect_fed.exceptions import (
    DestinationWriteError,
    InvalidDestinationError,
    InvalidFederationTokenError,
    TokenReadError,
)
from airflow_connect_fed.token import FederationToken
from tests.fake_connect_api import ACCESS_TOKEN, REFRESH_TOKEN, success_body

SM_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"


@pytest.fixture(autouse=True)
def aws():
    with mock_aws():
        yield


EXPIRES = datetime(2030, 1, 1, tzinfo=timezone.utc)


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
        assert destination.read_current().version == before["version_id"]

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
            destination.read_current()

    def test_unreadable_value(self):
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(Name="garbage", SecretString="not json")
        destination = SecretsManagerDestination("garbage", aws_conn_id=None, region_name="us-east-1")
        with pytest.raises(InvalidFederationTokenError, match="secret 'garbage' is not JSON"):
            destination.read_current()
        assert (
            SecretsManagerDestination("missing", aws_conn_id=None, region_name="us-east-1").read_current()
            is None
        )


class TestSsm:
    def test_secure_string_overwritten(self):
        destination = SsmParameterDestination("/connect/agent-1", aws_conn_id=None, region_name="us-east-1")
        first = destination.write(token())
        second = destination.write(token())
        ssm = boto3.client("ssm", region_name="us-east-1")
        parameter = ssm.get_parameter(Name="/connect/agent-1", WithDecryption=True)["Parameter"]
        assert parameter["Type"] == "SecureString"
        assert (first["version"], second["version"]) == (1, 2)
        assert json.loads(parameter["Value"])["Credentials"]["RefreshToken"] == REFRESH_TOKEN
        assert no_token_in(second)
        assert load_federation_token(first) == token()

    def test_failed_write_keeps_the_previous_token(self):
        destination = SsmParameterDestination("/connect/agent-1", aws_conn_id=None, region_name="us-east-1")
        destination.write(token())
        refuse(destination.client, "PutParameter", "AccessDeniedException")
        with pytest.raises(DestinationWriteError, match="parameter '/connect/agent-1'"):
            destination.write(token())
        assert destination.read_current().version == 1

    @pytest.mark.parametrize("name", ["", "/a//b", "/aws/x", "ssm-thing", "with space", "/a" * 16])
    def test_bad_names(self, name):
        with pytest.raises(
            InvalidDestinationError,
            match=r"Parameter name .* (cannot be stored|may not start|has 16 levels; .* at most 15)",
        ):
            SsmParameterDestination(name)


class TestSecretsBackend:
    def configure(self, monkeypatch, backend: str | None, **kwargs) -> None:
        if backend is None:
            monkeypatch.delenv("AIRFLOW__SECRETS__BACKEND", raising=False)
        else:
            monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", backend)
        monkeypatch.setenv(
            "AIRFLOW__SECRETS__BACKEND_KWARGS", json.dumps({"region_name": "us-east-1", **kwargs})
        )

    def test_secrets_manager_backend_prefix_and_separator(self, monkeypatch):
        self.configure(monkeypatch, SM_BACKEND, variables_prefix="teams/connect", sep=".")
        reference = SecretsBackendDestination("agent-1").write(token())
        assert reference["secret_id"] == "teams/connect.agent-1"
        backend_value = SecretsBackendDestination("agent-1").backend().get_variable("agent-1")
        assert json.loads(backend_value)["Credentials"]["AccessToken"] == ACCESS_TOKEN
        assert load_federation_token(reference) == token()
        assert no_token_in(reference)

    def test_empty_prefix_means_the_bare_key(self, monkeypatch):
        self.configure(monkeypatch, SM_BACKEND, variables_prefix="")
        reference = SecretsBackendDestination("connect/agent-1").write(token())
        assert reference["secret_id"] == "connect/agent-1"
        assert json.loads(
            SecretsBackendDestination("connect/agent-1").backend().get_variable("connect/agent-1")
        )

    def test_ssm_backend(self, monkeypatch):
        self.configure(monkeypatch, SSM_BACKEND)
        reference = SecretsBackendDestination("connect/agent-1").write(token())
        assert reference["parameter_name"] == "/airflow/variables/connect/agent-1"
        assert load_federation_token(reference) == token()

    @pytest.mark.parametrize("backend", [None, "airflow.providers.hashicorp.secrets.vault.VaultBackend"])
    def test_unsupported_backend(self, monkeypatch, backend):
        self.configure(monkeypatch, backend)
        with pytest.raises(
            InvalidDestinationError,
            match=r"Configure .*SecretsManagerBackend or .*SystemsManagerParameterStoreBackend",
        ) as e:
            SecretsBackendDestination("k").write(token())
        assert repr(backend or "not set") in str(e.value)

    def test_variables_disabled(self, monkeypatch):
        self.configure(monkeypatch, SM_BACKEND, variables_prefix=None)
        with pytest.raises(InvalidDestinationError, match="variables_prefix=None"):
            SecretsBackendDestination("k").write(token())

    def test_lookup_pattern_must_match(self, monkeypatch):
        self.configure(monkeypatch, SM_BACKEND, variables_lookup_pattern="^connect/")
        with pytest.raises(
            InvalidDestinationError, match="does not match the backend's variables_lookup_pattern"
        ):
            SecretsBackendDestination("other/agent").write(token())

    def test_key_the_backend_cannot_store(self, monkeypatch):
        self.configure(monkeypatch, SM_BACKEND)
        with pytest.raises(InvalidDestinationError, match="cannot be stored in Secrets Manager"):
            SecretsBackendDestination("agent #1")
        assert boto3.client("secretsmanager", region_name="us-east-1").list_secrets()["SecretList"] == []

    def test_ssm_name_is_checked_with_the_backends_prefix(self, monkeypatch):
        # 14 levels of key under the backend's 2-level prefix: 16 in all, one more than SSM allows.
        self.configure(monkeypatch, SSM_BACKEND)
        with pytest.raises(InvalidDestinationError, match=r"'/airflow/variables/k(/k){13}' has 16 levels"):
            SecretsBackendDestination("/".join(["k"] * 14))

    def test_backend_kwargs_that_are_not_json_are_named_without_their_content(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", SM_BACKEND)
        monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND_KWARGS", '{"aws_secret_access_key": "s3cr3t-value",')
        with pytest.raises(InvalidDestinationError, match="backend_kwargs is not valid JSON") as raised:
            SecretsBackendDestination("connect/agent-1")
        assert "s3cr3t-value" not in str(raised.value)

    @pytest.mark.parametrize("key", [None, "", " ", "None"])
    def test_needs_a_key(self, key):
        with pytest.raises(InvalidDestinationError, match="needs secret_key"):
            SecretsBackendDestination(key)

    def test_missing_variable(self, monkeypatch):
        self.configure(monkeypatch, SM_BACKEND)
        with pytest.raises(TokenReadError, match="no Variable 'absent'"):
            load_federation_token({"kind": "secrets_backend", "secret_key": "absent"})
