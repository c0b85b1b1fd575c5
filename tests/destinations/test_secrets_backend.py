"""SecretsBackendDestination: where the configured Airflow secrets backend reads, against moto."""

from __future__ import annotations

import json

import boto3
import pytest

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import (
    SecretsBackendDestination,
)
from airflow_connect_fed.exceptions import (
    InvalidDestinationError,
    TokenReadError,
)
from tests.destinations.conftest import SM_BACKEND, SSM_BACKEND, no_token_in, token
from tests.fake_connect_api import ACCESS_TOKEN


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
