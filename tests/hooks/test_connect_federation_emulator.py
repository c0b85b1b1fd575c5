"""The hook over real HTTP against the local emulator: success and every error class."""

from __future__ import annotations

import pytest

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook

pytestmark = pytest.mark.integration


@pytest.fixture
def connect(connect_emulator, emu_connection):
    """An instance with agent-1, a federation role, and a connection for an IAM user 'airflow-worker'."""
    instance = connect_emulator.create_instance("hooktest")
    connect_emulator.create_user(instance["id"], "agent-1")
    role_arn = connect_emulator.create_federation_role()
    return connect_emulator, instance, role_arn


def hook(**kwargs) -> ConnectFederationHook:
    return ConnectFederationHook(aws_conn_id="emu", **kwargs)


def test_token_for_a_connect_user(connect):
    emulator, instance, role_arn = connect
    token = hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    assert token.instance_id == instance["id"]
    assert f"instance/{instance['id']}/agent/" in token.user_arn
    assert token.is_valid()
    assert 11.9 * 3600 < token.expires_in().total_seconds() <= 12 * 3600
    assert emulator.counters.totals().succeeded == 1


def test_instance_arn(connect):
    _, instance, role_arn = connect
    token = hook().get_federation_token(instance["arn"], connect_user="agent-1", role_arn=role_arn)
    assert token.instance_id == instance["id"]


def test_iam_user_identity_maps_to_its_own_name(connect):
    emulator, instance, _ = connect
    emulator.create_user(instance["id"], "airflow-worker")
    token = hook().get_federation_token(instance["id"])
    assert token.user_arn.startswith(instance["arn"])


def test_user_not_found_names_the_identity(connect):
    _, instance, _ = connect
    with pytest.raises(exc.UserNotFoundError, match=r"as identity arn:aws:iam::\d+:user/airflow-worker") as e:
        hook().get_federation_token(instance["id"])
    assert e.value.status_code == 404


def test_connect_usernames_are_case_sensitive(connect):
    _, instance, role_arn = connect
    with pytest.raises(exc.UserNotFoundError, match="assumed-role session 'Agent-1'"):
        hook().get_federation_token(instance["id"], connect_user="Agent-1", role_arn=role_arn)


def test_unknown_instance(connect):
    _, _, role_arn = connect
    with pytest.raises(exc.InstanceNotFoundError, match="'00000000-0000-0000-0000-000000000000'"):
        hook().get_federation_token(
            "00000000-0000-0000-0000-000000000000", connect_user="agent-1", role_arn=role_arn
        )


def test_duplicate_through_another_role(connect):
    emulator, instance, role_arn = connect
    other_role = emulator.create_federation_role("OtherFederation")
    hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    with pytest.raises(exc.DuplicateResourceError, match="federated before through a different IAM role"):
        hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=other_role)


def test_root_is_refused(connect, monkeypatch):
    emulator, instance, _ = connect
    root = {"aws_access_key_id": emulator.root_access_key, "aws_secret_access_key": "x"}
    for name, value in emulator.airflow_env("emu", **root).items():
        monkeypatch.setenv(name, value)
    with pytest.raises(exc.RootCredentialsError, match="account root"):
        hook().get_federation_token(instance["id"])


def test_test_connection_refuses_the_root(connect, monkeypatch):
    emulator, _, _ = connect
    root = {"aws_access_key_id": emulator.root_access_key, "aws_secret_access_key": "x"}
    for name, value in emulator.airflow_env("emu", **root).items():
        monkeypatch.setenv(name, value)
    ok, message = hook().test_connection()
    assert ok is False
    assert message.startswith(
        "The connection authenticates as the account root (arn:aws:iam::123456789012:root)."
    )
    assert emulator.counters.totals().received == 0


def test_test_connection_ok(connect):
    ok, message = hook().test_connection()
    assert ok is True
    assert ":user/airflow-worker" in message


def test_throttling_is_retried_then_reported(connect, monkeypatch):
    emulator, instance, role_arn = connect
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
    emulator.set_quota(0.01, 1)
    hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    with pytest.raises(exc.ThrottlingError, match="after 5 attempts") as e:
        hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    assert e.value.status_code == 429
    assert emulator.counters.totals().throttled == 5


def test_internal_errors_are_retried(connect, monkeypatch):
    emulator, instance, role_arn = connect
    monkeypatch.setattr("botocore.retries.standard.ExponentialBackoff.delay_amount", lambda *a: 0)
    emulator.set_fault_rate(1.0)
    with pytest.raises(exc.InternalServiceError, match="after 5 attempts"):
        hook().get_federation_token(instance["id"], connect_user="agent-1", role_arn=role_arn)
    assert emulator.counters.totals().faulted == 5


def test_a_local_connect_endpoint_with_sts_elsewhere_is_warned_about(
    connect_emulator, monkeypatch, log_messages
):
    import json

    credentials = connect_emulator.create_iam_user_credentials("split-endpoints")
    connection = json.loads(connect_emulator.airflow_connection("split", **credentials))
    # Connect on the emulator, STS (no endpoint of its own, no global one) on AWS's.
    del connection["extra"]["endpoint_url"]
    connection["extra"]["service_config"] = {"connect": {"endpoint_url": connect_emulator.endpoint_url}}
    monkeypatch.setenv("AIRFLOW_CONN_SPLIT", json.dumps(connection))
    hook = ConnectFederationHook(aws_conn_id="split")
    hook.federation._warn_if_sts_leaves_a_local_endpoint()
    hook.federation._warn_if_sts_leaves_a_local_endpoint()
    warnings = [m for m in log_messages() if "calls Connect on the local endpoint" in m]
    assert len(warnings) == 1
    assert (
        f"Connection 'split' calls Connect on the local endpoint {connect_emulator.endpoint_url}"
        in warnings[0]
    )
    assert "but STS goes to AWS's own endpoint with the same keys" in warnings[0]
    assert '"service_config": {"sts": {"endpoint_url"' in warnings[0]


def test_the_emulators_own_connection_is_not_warned_about(connect_emulator, emu_connection, log_messages):
    hook = ConnectFederationHook(aws_conn_id="emu")
    hook.caller_arn()
    assert [m for m in log_messages() if "calls Connect on the local endpoint" in m] == []
