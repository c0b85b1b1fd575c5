"""GetFederationTokensOperator over real HTTP against the emulator."""

from __future__ import annotations

import json

import pytest
import structlog

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import SecretsManagerDestination
from airflow_connect_fed.exceptions import (
    BulkFederationError,
    InvalidConnectUserError,
    InvalidDestinationError,
    InvalidInputError,
    UserNotFoundError,
)
from airflow_connect_fed.operators.federation_token import GetFederationTokensOperator

pytestmark = pytest.mark.integration


@pytest.fixture
def setup(connect_emulator, emu_connection):
    connect_emulator.set_quota(200, 50)
    instance = connect_emulator.create_instance("bulkop")
    role_arn = connect_emulator.create_federation_role()
    users = [f"agent-{i:02d}" for i in range(50)]
    for user in users:
        connect_emulator.create_user(instance["id"], user)
    credentials = emu_connection
    secrets = connect_emulator.client("secretsmanager", **credentials)

    def store(user: str) -> SecretsManagerDestination:
        return SecretsManagerDestination(f"connect/agents/{user}", aws_conn_id=None, client=secrets)

    return connect_emulator, instance, role_arn, users, store, secrets


def operator(instance, role_arn, users, store, **kwargs) -> GetFederationTokensOperator:
    return GetFederationTokensOperator(
        task_id="bulk",
        instance_id=instance["id"],
        connect_users=users,
        role_arn=role_arn,
        destination=store,
        aws_conn_id="emu",
        requests_per_second=200,
        burst=50,
        **kwargs,
    )


def test_one_unknown_user_among_fifty(setup):
    _, instance, role_arn, users, store, secrets = setup
    asked = [*users[:49], "nobody-here"]
    with structlog.testing.capture_logs() as logs, pytest.raises(BulkFederationError) as raised:
        operator(instance, role_arn, asked, store).execute({})
    error = raised.value
    assert list(error.failures) == ["nobody-here"]
    assert isinstance(error.failures["nobody-here"], UserNotFoundError)
    assert "1 Connect user(s)" in str(error)
    assert "nobody-here: UserNotFoundError" in str(error)
    assert "allow_partial_failure=True" in str(error)
    stored = {s["Name"] for s in secrets.list_secrets(MaxResults=100)["SecretList"]}
    assert stored == {f"connect/agents/{user}" for user in users[:49]}
    summary = [e["event"] for e in logs if e["event"].startswith("Connect users:")]
    assert summary == ["Connect users: 50, tokens stored: 49, reused: 0, failed: 1."]


def test_partial_failure_allowed_returns_references(setup):
    _, instance, role_arn, users, store, _secrets = setup
    values = operator(instance, role_arn, [users[0], "ghost"], store, allow_partial_failure=True).execute({})
    assert list(values) == [users[0]]
    reference = values[users[0]]
    assert reference["kind"] == "secrets_manager"
    assert "Credentials" not in json.dumps(reference)
    token = load_federation_token({**reference, "aws_conn_id": "emu"})
    assert token.user_arn == reference["user_arn"]


def test_reuse_skips_valid_tokens(setup):
    emulator, instance, role_arn, users, store, _ = setup
    first = operator(instance, role_arn, users[:5], store).execute({})
    emulator.counters.reset()
    second = operator(instance, role_arn, users[:5], store, reuse_if_valid_for=3600).execute({})
    assert emulator.counters.totals().received == 0
    assert {u: r["version_id"] for u, r in second.items()} == {u: r["version_id"] for u, r in first.items()}


@pytest.mark.parametrize(
    ("users", "expected"),
    [('["a1", "a2"]', ["a1", "a2"]), ("a1, a2 ,a3", ["a1", "a2", "a3"])],
)
def test_rendered_user_lists(setup, users, expected):
    emulator, instance, role_arn, _, store, _ = setup
    for user in expected:
        emulator.create_user(instance["id"], user)
    assert list(operator(instance, role_arn, users, store).execute({})) == expected


def test_parse_time_checks_only_non_templated_arguments():
    kwargs = {
        "task_id": "t",
        "instance_id": "{{ params.i }}",
        "role_arn": "{{ params.r }}",
        "connect_users": "{{ params.u }}",
    }
    with pytest.raises(InvalidDestinationError, match="Unknown destination 'vault'"):
        GetFederationTokensOperator(destination="vault", **kwargs)
    with pytest.raises(InvalidInputError, match="burst must be a whole number"):
        GetFederationTokensOperator(burst=0, **kwargs)
    with pytest.raises(InvalidInputError, match="got inf"):
        GetFederationTokensOperator(requests_per_second=float("inf"), **kwargs)
    with pytest.raises(InvalidInputError, match="got inf"):
        GetFederationTokensOperator(reuse_if_valid_for=float("inf"), **kwargs)
    # Templated fields are taken as written; they are checked once rendered.
    GetFederationTokensOperator(secret_key="{{ var.value.agent_key }}", **kwargs)


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        (
            {"connect_users": "[oops"},
            InvalidConnectUserError,
            "connect_users '\\[oops' is not a valid JSON list",
        ),
        ({"connect_users": "[]"}, InvalidConnectUserError, "connect_users is empty"),
        (
            {"connect_users": '["a1", 7]'},
            InvalidConnectUserError,
            "connect_user 7 cannot be an STS role session name",
        ),
        ({"connect_users": '["a1", "a1"]'}, InvalidConnectUserError, "names 'a1' more than once"),
        ({"connect_users": "None"}, InvalidInputError, "connect_users is 'None' after template rendering"),
        ({"role_arn": "arn:aws:iam::1234:role/R"}, InvalidConnectUserError, "a 12-digit account"),
        ({"role_arn": None}, InvalidInputError, "role_arn is None after template rendering"),
        ({"instance_id": "x" * 101}, InvalidInputError, "has 101 characters"),
        (
            {"secret_key": "connect/agent"},
            InvalidDestinationError,
            "secret_key 'connect/agent' has no '\\{user\\}'",
        ),
        (
            {"secret_key": "connect agents/{user}"},
            InvalidDestinationError,
            "'airflow/variables/connect agents/a1' cannot be stored",
        ),
        (
            {"secret_key": "c/{user}/" + "x" * 600},
            InvalidDestinationError,
            "cannot be stored in Secrets Manager",
        ),
    ],
)
def test_bad_rendered_inputs_are_refused_before_any_call(setup, monkeypatch, change, error, message):
    emulator, instance, role_arn, _, _, secrets = setup
    backend_env(monkeypatch, emulator)
    kwargs = {
        "task_id": "bulk",
        "instance_id": instance["id"],
        "connect_users": ["a1", "a2"],
        "role_arn": role_arn,
        "aws_conn_id": "emu",
        "reuse_if_valid_for": 3600,
        **change,
    }
    emulator.counters.reset()
    with pytest.raises(error, match=message):
        GetFederationTokensOperator(**kwargs).execute({})
    assert emulator.counters.requests() == 0  # not even STS or a secret read
    assert secrets.list_secrets()["SecretList"] == []


def backend_env(monkeypatch, emulator, prefix="airflow/variables"):
    """The Secrets Manager backend, on the emulator, as Airflow's configuration."""
    credentials = emulator.create_iam_user_credentials("backend-reader")
    kwargs = {
        "endpoint_url": emulator.endpoint_url,
        "region_name": emulator.region,
        "variables_prefix": prefix,
        "connections_prefix": None,
        "config_prefix": None,
        **credentials,
    }
    monkeypatch.setenv(
        "AIRFLOW__SECRETS__BACKEND",
        "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend",
    )
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND_KWARGS", json.dumps(kwargs))


def test_a_long_agent_list_maps_over_chunks():
    from airflow.sdk import DAG

    chunks = [["agent-01", "agent-02"], ["agent-03"]]
    with DAG("chunks", schedule=None) as dag:
        GetFederationTokensOperator.partial(
            task_id="bulk",
            instance_id="11111111-2222-3333-4444-555555555555",
            role_arn="arn:aws:iam::123456789012:role/ConnectAgents",
            destination="secrets_backend",
            secret_key="connect/agents/{user}",
        ).expand(connect_users=chunks)
    mapped = dag.get_task("bulk")
    assert mapped.expand_input.value == {"connect_users": chunks}
