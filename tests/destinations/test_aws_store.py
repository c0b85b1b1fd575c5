"""What the Secrets Manager and SSM destinations share: versions, references, reads."""

from __future__ import annotations

import pytest

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import SecretsManagerDestination, SsmParameterDestination
from airflow_connect_fed.exceptions import TokenReadError
from tests.destinations.conftest import token


@pytest.fixture(params=[SecretsManagerDestination, SsmParameterDestination])
def store(request):
    return request.param("/connect/agent-1", aws_conn_id=None, region_name="us-east-1")


def test_a_reference_reads_the_version_it_names(store):
    first = store.write(token("agent-1"), "agent-1")
    store.write(token("agent-2"), "agent-2")
    assert load_federation_token(first).user_id == "agent-1-id"
    current = store.current()
    assert current.token.user_id == "agent-2-id"
    assert current.connect_user == "agent-2"
    assert current.reference["kind"] == store.kind
    assert load_federation_token(current.reference).user_id == "agent-2-id"


def test_a_reference_records_the_connection_unless_a_client_was_given(store):
    reference = store.write(token())
    assert (reference["aws_conn_id"], reference["region_name"]) == (None, "us-east-1")
    given = type(store)("/connect/agent-1", client=store.client).write(token())
    assert "aws_conn_id" not in given
    assert "region_name" not in given


def test_nothing_stored_yet_and_a_store_deleted_since(store):
    assert store.current() is None
    reference = store.write(token())
    if isinstance(store, SecretsManagerDestination):
        store.client.delete_secret(SecretId=store.name, ForceDeleteWithoutRecovery=True)
    else:
        store.client.delete_parameter(Name=store.name)
    with pytest.raises(TokenReadError, match="no longer exists"):
        load_federation_token(reference)


def test_the_store_is_reached_through_the_amazon_providers_hook(monkeypatch):
    from airflow.providers.amazon.aws.hooks.secrets_manager import SecretsManagerHook
    from airflow.providers.amazon.aws.hooks.ssm import SsmHook

    assert SecretsManagerDestination._hook_class() is SecretsManagerHook
    assert SsmParameterDestination._hook_class() is SsmHook
    client = SecretsManagerDestination("k", aws_conn_id=None, region_name="eu-west-1").client
    assert client.meta.service_model.service_name == "secretsmanager"
    assert client.meta.region_name == "eu-west-1"
