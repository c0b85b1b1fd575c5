"""The emulator's Airflow connection puts every service on it, and ``seed()`` makes the README's DAG values.

Requests to anywhere but loopback go to a dead proxy here, so a call that leaves the emulator fails.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from airflow.providers.amazon.aws.hooks.base_aws import AwsBaseHook
from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend
from airflow.providers.amazon.aws.secrets.systems_manager import SystemsManagerParameterStoreBackend

from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
from amazon_connect_emulator.emulator import SERVICES, SSM_BACKEND

if TYPE_CHECKING:
    from amazon_connect_emulator import ConnectEmulator

pytestmark = pytest.mark.integration

INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
INSTANCE_ARN = f"arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE_ID}"
ROLE_ARN = "arn:aws:iam::123456789012:role/ConnectFederation"
FEDERATOR_ARN = "arn:aws:iam::123456789012:user/emulator-federator"


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request not to loopback goes to a proxy that refuses connections."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def aws_default(connect_emulator: ConnectEmulator, monkeypatch: pytest.MonkeyPatch, offline: None) -> str:
    """``AIRFLOW_CONN_AWS_DEFAULT`` from ``airflow_setup_env()``; returns its value."""
    value = connect_emulator.airflow_setup_env()["AIRFLOW_CONN_AWS_DEFAULT"]
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", value)
    return value


# The connection


def test_every_service_is_on_the_emulator(connect_emulator: ConnectEmulator, aws_default: str) -> None:
    url = connect_emulator.endpoint_url
    extra = json.loads(aws_default)["extra"]
    assert extra["endpoint_url"] == url
    assert extra["service_config"] == {service: {"endpoint_url": url} for service in SERVICES}
    assert set(SERVICES) == {"sts", "connect", "secretsmanager", "ssm", "iam"}
    config = AwsBaseHook(aws_conn_id="aws_default").conn_config
    assert {service: config.get_service_endpoint_url(service) for service in SERVICES} == dict.fromkeys(
        SERVICES, url
    )
    assert config.get_service_endpoint_url("sts", sts_test_connection=True) == url
    assert config.get_service_endpoint_url("sts", sts_connection_assume=True) == url


def test_sts_calls_reach_the_emulator(aws_default: str) -> None:
    identity = AwsBaseHook(aws_conn_id="aws_default", client_type="sts").conn.get_caller_identity()
    assert (identity["Arn"], identity["Account"]) == (FEDERATOR_ARN, "123456789012")
    ok, message = AwsBaseHook(aws_conn_id="aws_default", client_type="sts").test_connection()
    assert ok, message
    assert f"Arn={FEDERATOR_ARN!r}" in message


def test_the_connections_own_role_is_assumed_on_the_emulator(
    connect_emulator: ConnectEmulator, aws_default: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    role_arn = connect_emulator.create_federation_role()
    connection = json.loads(aws_default)
    connection["extra"] |= {"role_arn": role_arn, "assume_role_kwargs": {"RoleSessionName": "agent-1"}}
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
    identity = AwsBaseHook(aws_conn_id="aws_default", client_type="sts").conn.get_caller_identity()
    assert identity["Arn"] == "arn:aws:sts::123456789012:assumed-role/ConnectFederation/agent-1"


def test_endpoint_url_alone_sends_sts_test_connection_elsewhere(
    connect_emulator: ConnectEmulator, monkeypatch: pytest.MonkeyPatch, offline: None
) -> None:
    """The control: without ``service_config`` the amazon provider tests the connection on AWS's STS,
    which the dead proxy refuses; so the passing tests above did not leave the emulator."""
    connection = json.loads(connect_emulator.airflow_setup_env()["AIRFLOW_CONN_AWS_DEFAULT"])
    del connection["extra"]["service_config"]
    monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps(connection))
    ok, message = AwsBaseHook(aws_conn_id="aws_default", client_type="sts").test_connection()
    assert not ok
    assert "ProxyConnectionError" in message or "127.0.0.1:9" in message


def test_the_seeded_agent_gets_a_token_through_aws_default(
    connect_emulator: ConnectEmulator, aws_default: str
) -> None:
    seeded = {resource.kind: resource for resource in connect_emulator.seed()}
    token = ConnectFederationHook(aws_conn_id="aws_default").get_federation_token(
        INSTANCE_ARN, connect_user="agent-1", role_arn=ROLE_ARN
    )
    assert (token.instance_id, token.user_arn, token.user_id) == (
        INSTANCE_ID,
        seeded["user"].arn,
        seeded["user"].id,
    )
    assert token.sign_in_url == f"{connect_emulator.endpoint_url}/connect/{INSTANCE_ID}/auth/sign-in"
    assert token.is_valid()
    assert connect_emulator.counters.for_instance(INSTANCE_ID).succeeded == 1


def test_secrets_manager_backend_reads_variables_from_the_emulator(
    connect_emulator: ConnectEmulator, offline: None
) -> None:
    env = connect_emulator.airflow_setup_env()
    assert env["AIRFLOW__SECRETS__BACKEND"] == (
        "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    )
    kwargs = json.loads(env["AIRFLOW__SECRETS__BACKEND_KWARGS"])
    assert kwargs["aws_access_key_id"] == json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])["login"]
    connect_emulator.client("secretsmanager").create_secret(
        Name="airflow/variables/greeting", SecretString="hi"
    )
    backend = SecretsManagerBackend(**kwargs)
    assert backend.get_variable("greeting") == "hi"
    assert backend.get_conn_value("aws_default") is None  # connections stay with AIRFLOW_CONN_*


def test_ssm_backend_reads_variables_from_the_emulator(
    connect_emulator: ConnectEmulator, offline: None
) -> None:
    env = connect_emulator.secrets_backend_env(backend=SSM_BACKEND)
    assert env["AIRFLOW__SECRETS__BACKEND"] == SSM_BACKEND
    connect_emulator.client("ssm").put_parameter(
        Name="/airflow/variables/greeting", Value="hi", Type="String"
    )
    backend = SystemsManagerParameterStoreBackend(**json.loads(env["AIRFLOW__SECRETS__BACKEND_KWARGS"]))
    assert backend.get_variable("greeting") == "hi"


def test_secrets_backend_env_refuses_another_backend(connect_emulator: ConnectEmulator) -> None:
    with pytest.raises(
        ValueError, match="backend must be SECRETS_MANAGER_BACKEND or SSM_BACKEND, got 'vault'"
    ):
        connect_emulator.secrets_backend_env(backend="vault")


# Seeding
