"""StoredAgentTokens: an instance's agents' tokens where the task's secrets backend reads, found and deleted (moto)."""

from __future__ import annotations

import json

import boto3
import pytest
from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend
from botocore.stub import Stubber

from airflow_connect_fed import secret_key_for
from airflow_connect_fed.destinations import SecretsBackendDestination
from airflow_connect_fed.destinations.secrets_backend import task_backend
from airflow_connect_fed.destinations.secrets_manager import DESCRIPTION
from airflow_connect_fed.destinations.stored_tokens import StoredAgentTokens
from airflow_connect_fed.destinations.teams import amazon_team_separator
from airflow_connect_fed.exceptions import InvalidDestinationError, TokenPruneError
from airflow_connect_fed.token import FederationToken
from tests.destinations.conftest import EXPIRES, SM_BACKEND, SSM_BACKEND
from tests.federation_answers import INSTANCE_ID, success_body

OTHER_INSTANCE = "99999999-8888-7777-6666-555555555555"
TEMPLATE = "connect/agents/{user}"
USERS = ["agent.one@example.com", "agent+two@example.com", "agent_3"]


@pytest.fixture(autouse=True)
def backend(monkeypatch):
    """The task's backend: Secrets Manager, prefix ``teams/connect`` and separator ``.``, unless a test says."""
    monkeypatch.delenv("AIRFLOW__WORKERS__SECRETS_BACKEND", raising=False)
    return configure(monkeypatch, SM_BACKEND, variables_prefix="teams/connect", sep=".")


def configure(monkeypatch, backend: str, **kwargs) -> None:
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND", backend)
    monkeypatch.setenv("AIRFLOW__SECRETS__BACKEND_KWARGS", json.dumps({"region_name": "us-east-1", **kwargs}))


def store(user: str, instance: str = INSTANCE_ID, template: str = TEMPLATE) -> None:
    """Write ``user``'s token as GetFederationTokensOperator does."""
    token = FederationToken.from_dict(success_body(user=user, expires_at=EXPIRES), instance_id=instance)
    SecretsBackendDestination(secret_key_for(user, template)).write(token, user)


def found(tokens: StoredAgentTokens) -> dict[str, str]:
    return {token.connect_user: token.secret_key for token in tokens.find().tokens}


class TestFind:
    def test_the_instances_agents_by_the_name_the_backend_gives_their_key(self):
        for user in USERS:
            store(user)
        store("agent-4", instance=OTHER_INSTANCE)
        store("agent-5", template="connect/admins/{user}")
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        tagged = [{"Key": "airflow-connect-fed:instance-id", "Value": INSTANCE_ID}]
        for name in (
            "teams/connect.connect/agents/agent_41",
            "teams/connect.connect/agents/x",
            "connect/agents/agent-6",
        ):
            sm.create_secret(
                Name=name, SecretString="{}", Tags=tagged
            )  # no valid user's key, or not the backend's
        tokens = StoredAgentTokens(INSTANCE_ID, TEMPLATE)
        assert found(tokens) == {user: secret_key_for(user) for user in USERS}
        assert tokens.name_prefix == "teams/connect.connect/agents/"
        assert (tokens.store_name, tokens.recoverable) == ("Secrets Manager", True)
        first = tokens.find().tokens[0]
        assert first.value.name == "teams/connect.connect/agents/agent.one_40example.com"

    def test_untagged_secrets_of_this_provider_are_counted(self):
        store("agent-1")
        sm = boto3.client("secretsmanager", region_name="us-east-1")
        sm.create_secret(
            Name="teams/connect.connect/agents/agent-2", SecretString="{}", Description=DESCRIPTION
        )
        listing = StoredAgentTokens(INSTANCE_ID, TEMPLATE).find()
        assert [token.connect_user for token in listing.tokens] == ["agent-1"]
        assert listing.unattributed == 1

    def test_ssm_a_value_must_be_under_the_name_of_the_user_it_records(self, monkeypatch):
        configure(monkeypatch, SSM_BACKEND)
        store("agent-1")
        store("agent-2")
        ssm = boto3.client("ssm", region_name="us-east-1")
        copied = ssm.get_parameter(Name="/airflow/variables/connect/agents/agent-1", WithDecryption=True)
        value = copied["Parameter"]["Value"]
        ssm.put_parameter(Name="/airflow/variables/connect/agents/agent-9", Value=value, Type="SecureString")
        tokens = StoredAgentTokens(INSTANCE_ID, TEMPLATE)
        assert found(tokens) == {"agent-1": "connect/agents/agent-1", "agent-2": "connect/agents/agent-2"}
        assert (tokens.store_name, tokens.recoverable) == ("SSM Parameter Store", False)

    def test_ssm_a_template_with_levels_after_the_user(self, monkeypatch):
        configure(monkeypatch, SSM_BACKEND, variables_prefix="/vars")
        store("agent-1", template="teams/{user}/connect")
        store("agent-2", template="teams/{user}/other")
        assert found(StoredAgentTokens(INSTANCE_ID, "teams/{user}/connect")) == {
            "agent-1": "teams/agent-1/connect"
        }

    def test_a_listing_refused_names_the_action_and_deletes_nothing(self):
        tokens = StoredAgentTokens(INSTANCE_ID, TEMPLATE)
        tokens.check()
        with Stubber(task_backend().backend.client) as stub:
            stub.add_client_error(
                "list_secrets",
                service_error_code="AccessDeniedException",
                service_message="not authorized to perform: secretsmanager:ListSecrets",
                http_status_code=400,
                response_meta={"RequestId": "0f0e0d0c-0000-4000-8000-000000000403"},
            )
            with pytest.raises(TokenPruneError) as raised:
                tokens.find()
        message = str(raised.value)
        assert (
            "Could not list the stored tokens under 'teams/connect.connect/agents/' in Secrets Manager"
            in message
        )
        assert "AccessDeniedException (HTTP 400, RequestId 0f0e0d0c-0000-4000-8000-000000000403)" in message
        assert "Nothing was deleted. Allow secretsmanager:ListSecrets" in message
        assert "([secrets] backend)" in message


class TestDelete:
    def test_a_failure_midway_names_what_was_deleted_and_what_not(self):
        for user in USERS:
            store(user)
        tokens = StoredAgentTokens(INSTANCE_ID, TEMPLATE)
        listed = tokens.find().tokens
        client = task_backend().backend.client
        calls = []

        def deny_the_second(**_):
            calls.append(1)
            if len(calls) == 2:
                from botocore.exceptions import ClientError

                raise ClientError(
                    {
                        "Error": {"Code": "AccessDeniedException", "Message": "denied"},
                        "ResponseMetadata": {"RequestId": "r-2"},
                    },
                    "DeleteSecret",
                )

        client.meta.events.register("before-call.secrets-manager.DeleteSecret", deny_the_second)
        try:
            with pytest.raises(TokenPruneError) as raised:
                tokens.delete(listed, 7)
        finally:
            client.meta.events.unregister("before-call.secrets-manager.DeleteSecret", deny_the_second)
        keys = [token.secret_key for token in listed]
        assert (raised.value.deleted, raised.value.not_deleted) == (keys[:1], keys[1:])
        message = str(raised.value)
        assert "failed after 1 of 3: AccessDeniedException (RequestId r-2): denied." in message
        assert f"Deleted: {keys[0]}. Not deleted: {keys[1]}, {keys[2]}." in message
        assert "Allow secretsmanager:DeleteSecret" in message
        assert [token.connect_user for token in tokens.find().tokens] == [
            listed[1].connect_user,
            listed[2].connect_user,
        ]


class CustomNamesBackend(SecretsManagerBackend):
    """A subclass that puts the key before its prefix."""

    def build_path(self, path_prefix: str, secret_id: str, sep: str = "/") -> str:
        return f"{secret_id}{sep}{path_prefix}"


class TestBackends:
    def test_another_backend_is_refused_as_the_write_path_refuses_it(self, monkeypatch):
        other = "airflow.secrets.local_filesystem.LocalFilesystemBackend"
        configure(monkeypatch, other)
        with pytest.raises(InvalidDestinationError) as prune:
            StoredAgentTokens(INSTANCE_ID, TEMPLATE).check()
        with pytest.raises(InvalidDestinationError) as write:
            SecretsBackendDestination("connect/agents/agent-1").check()
        assert str(prune.value) == str(write.value)
        assert f"[secrets] backend is {other!r}, which is neither" in str(prune.value)

    def test_names_that_do_not_end_with_the_key_cannot_be_listed(self, monkeypatch):
        configure(monkeypatch, f"{__name__}.CustomNamesBackend")
        with pytest.raises(
            InvalidDestinationError, match="does not end with the key, so the tokens' names cannot"
        ):
            StoredAgentTokens(INSTANCE_ID, TEMPLATE).check()

    def test_a_template_without_the_user_field(self):
        with pytest.raises(InvalidDestinationError, match=r"has no '\{user\}'"):
            StoredAgentTokens(INSTANCE_ID, "connect/agents")


@pytest.mark.skipif(
    amazon_team_separator() is None,
    reason="the installed apache-airflow-providers-amazon reads no team-scoped Variables (no TEAM_SEP)",
)
class TestTeams:
    """Multi-team mode: a team's task lists and deletes its team's tokens only."""

    @pytest.fixture(autouse=True)
    def multi_team(self, monkeypatch):
        monkeypatch.setenv("AIRFLOW__CORE__MULTI_TEAM", "True")

    @staticmethod
    def store_for(team: str | None, user: str) -> None:
        token = FederationToken.from_dict(
            success_body(user=user, expires_at=EXPIRES), instance_id=INSTANCE_ID
        )
        SecretsBackendDestination(secret_key_for(user, TEMPLATE), team_name=team).write(token, user)

    @pytest.mark.parametrize(
        ("store_backend", "prefix"), [(SM_BACKEND, "teams/connect."), (SSM_BACKEND, "/airflow/variables/")]
    )
    def test_each_team_finds_and_deletes_its_own(self, monkeypatch, store_backend, prefix):
        if store_backend == SSM_BACKEND:
            configure(monkeypatch, SSM_BACKEND)
        for team, user in [
            ("team_a", "agent-1"),
            ("team_a", "a--b"),
            ("team_b", "agent-1"),
            (None, "agent-2"),
        ]:
            self.store_for(team, user)
        team_a = StoredAgentTokens(INSTANCE_ID, TEMPLATE, "team_a")
        assert found(team_a) == {"agent-1": "connect/agents/agent-1", "a--b": "connect/agents/a_2D_2Db"}
        assert team_a.name_prefix == f"{prefix}team_a--connect/agents/"
        assert found(StoredAgentTokens(INSTANCE_ID, TEMPLATE, "team_b")) == {
            "agent-1": "connect/agents/agent-1"
        }
        assert found(StoredAgentTokens(INSTANCE_ID, TEMPLATE)) == {"agent-2": "connect/agents/agent-2"}

        deleted, missing = team_a.delete(team_a.find().tokens, None)
        assert ([token.connect_user for token in deleted], missing) == (["a--b", "agent-1"], [])
        assert found(team_a) == {}
        assert found(StoredAgentTokens(INSTANCE_ID, TEMPLATE, "team_b")) == {
            "agent-1": "connect/agents/agent-1"
        }
        assert found(StoredAgentTokens(INSTANCE_ID, TEMPLATE)) == {"agent-2": "connect/agents/agent-2"}

    def test_a_template_starting_with_a_dash_is_refused_for_a_team(self):
        with pytest.raises(InvalidDestinationError, match=r"secret_key '-agent-1' starts with '-'"):
            StoredAgentTokens(INSTANCE_ID, "-{user}", "team_a").check()
