"""SsmParameterDestination against moto."""

from __future__ import annotations

import json

import boto3
import pytest

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import (
    SsmParameterDestination,
)
from airflow_connect_fed.destinations.aws_store import StoredValue
from airflow_connect_fed.exceptions import (
    DestinationWriteError,
    InvalidDestinationError,
)
from airflow_connect_fed.token import FederationToken
from tests.destinations.conftest import (
    EXPIRES,
    TRIALS,
    no_token_in,
    race_processes,
    race_threads,
    racer_token,
    refuse,
    token,
)
from tests.federation_answers import INSTANCE_ID, REFRESH_TOKEN, success_body

OTHER_INSTANCE = "99999999-8888-7777-6666-555555555555"


def ssm():
    return boto3.client("ssm", region_name="us-east-1")


def write(name: str, user: str | None = "agent-1", instance: str = INSTANCE_ID) -> None:
    body = success_body(user=user or "caller", expires_at=EXPIRES)
    SsmParameterDestination(name, aws_conn_id=None, client=ssm()).write(
        FederationToken.from_dict(body, instance_id=instance), user
    )


def operations(client) -> list[str]:
    """The operations ``client`` sends from now on."""
    calls: list[str] = []
    client.meta.events.register("before-call.ssm.*", lambda model, **_: calls.append(model.name))
    return calls


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

    def test_a_parameter_deleted_between_the_reuse_check_and_the_write_is_written_again(self):
        destination = SsmParameterDestination("/connect/agent-1", aws_conn_id=None, client=ssm())
        destination.write(token("agent-1"), "agent-1")
        assert destination.current() is not None  # the reuse check saw a stored token
        ssm().delete_parameter(Name="/connect/agent-1")
        reference = destination.write(token("agent-2"), "agent-2")
        assert reference["version"] == 1
        assert destination.current().token == token("agent-2")

    def test_failed_write_keeps_the_previous_token(self):
        destination = SsmParameterDestination("/connect/agent-1", aws_conn_id=None, region_name="us-east-1")
        destination.write(token())
        refuse(destination.client, "PutParameter", "AccessDeniedException")
        with pytest.raises(DestinationWriteError, match="parameter '/connect/agent-1'"):
            destination.write(token())
        assert destination.current().reference["version"] == 1

    @pytest.mark.parametrize("name", ["", "/a//b", "/aws/x", "ssm-thing", "with space", "/a" * 16])
    def test_bad_names(self, name):
        with pytest.raises(
            InvalidDestinationError,
            match=r"Parameter name .* (cannot be stored|may not start|has 16 levels; .* at most 15)",
        ):
            SsmParameterDestination(name)


class TestStoredTokens:
    """list_tokens and delete_tokens: a prune's view of the store; the value says whose a parameter is."""

    def test_lists_the_instances_tokens_with_their_user(self):
        write("/connect/agents/agent-1")
        write("/connect/agents/agent-2", user="agent-2")
        write("/connect/agents/agent-3", user="agent-3", instance=OTHER_INSTANCE)
        write("/connect/agents/own", user=None)  # the connection's own token records no user
        write("/connect/other/agent-4", user="agent-4")
        text = json.dumps({"Credentials": {}, "InstanceId": INSTANCE_ID, "ConnectUser": "agent-5"})
        ssm().put_parameter(Name="/connect/agents/plain", Value=text, Type="String")
        for name, value in [("/connect/agents/not-json", "{"), ("/connect/agents/list", "[1]")]:
            ssm().put_parameter(Name=name, Value=value, Type="SecureString")
        ssm().put_parameter(
            Name="/connect/agents/no-credentials",
            Value=text.replace('"Credentials": {}, ', ""),
            Type="SecureString",
        )
        listing = SsmParameterDestination.list_tokens(ssm(), "/connect/agents/", INSTANCE_ID, nested=False)
        assert sorted(listing.values, key=lambda value: value.name) == [
            StoredValue("/connect/agents/agent-1", "/connect/agents/agent-1", "agent-1"),
            StoredValue("/connect/agents/agent-2", "/connect/agents/agent-2", "agent-2"),
        ]
        assert listing.unattributed == 0

    def test_one_level_unless_nested_names_need_more(self):
        write("/connect/agents/agent-1")
        write("/connect/agents/agent-2/token", user="agent-2")
        client = ssm()
        calls = operations(client)
        flat = SsmParameterDestination.list_tokens(client, "/connect/agents/", INSTANCE_ID, nested=False)
        nested = SsmParameterDestination.list_tokens(client, "/connect/agents/", INSTANCE_ID, nested=True)
        assert [value.name for value in flat.values] == ["/connect/agents/agent-1"]
        assert sorted(value.name for value in nested.values) == [
            "/connect/agents/agent-1",
            "/connect/agents/agent-2/token",
        ]
        assert calls == ["GetParametersByPath"] * 2

    def test_a_prefix_inside_a_level_lists_that_level(self):
        write("/connect/agent-1")
        write("/connect/admin-1", user="admin-1")
        listing = SsmParameterDestination.list_tokens(ssm(), "/connect/agent-", INSTANCE_ID, nested=False)
        assert [value.name for value in listing.values] == ["/connect/agent-1"]

    def test_deleted_ten_a_request_and_the_missing_reported(self):
        for n in range(23):
            write(f"/connect/agents/agent-{n:02d}", user=f"agent-{n:02d}")
        values = SsmParameterDestination.list_tokens(
            ssm(), "/connect/agents/", INSTANCE_ID, nested=False
        ).values
        ssm().delete_parameter(Name="/connect/agents/agent-05")
        client = ssm()
        calls = operations(client)
        deleted: list[StoredValue] = []
        missing = SsmParameterDestination.delete_tokens(client, values, 7, deleted.append)
        assert calls == ["DeleteParameters"] * 3
        assert [value.name for value in missing] == ["/connect/agents/agent-05"]
        assert len(deleted) == 22
        assert ssm().describe_parameters()["Parameters"] == []


@pytest.mark.integration
class TestConcurrentFirstWrites:
    """Two writers of the same new parameter at once, over HTTP to the emulator: both succeed, one whole token stays."""

    @pytest.fixture(autouse=True)
    def aws(self):
        """Real HTTP to the emulator: no moto in this process."""

    @pytest.mark.parametrize("race", [race_threads, race_processes], ids=["threads", "processes"])
    def test_both_writers_succeed_and_one_whole_token_is_stored(self, connect_emulator, race):
        credentials = dict(connect_emulator.create_iam_user_credentials("airflow-worker"))
        names = [f"/connect/agents/agent.one_40example.com-{trial}" for trial in range(TRIALS)]
        outcomes = race("ssm_parameter", connect_emulator.endpoint_url, credentials, names)
        assert len(outcomes) == 2 * TRIALS
        assert [outcome for outcome in outcomes if outcome[1] is not None] == []
        client = connect_emulator.client("ssm")
        for name in names:
            stored = SsmParameterDestination(name, aws_conn_id=None, client=client).current()
            assert stored.token in (racer_token(0), racer_token(1))
            assert stored.connect_user == "agent.one@example.com"
            assert stored.reference["version"] == 2  # both writes landed, one after the other
