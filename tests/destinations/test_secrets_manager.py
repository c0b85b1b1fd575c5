"""SecretsManagerDestination against moto."""

from __future__ import annotations

import json

import boto3
import pytest

from airflow_connect_fed import load_federation_token
from airflow_connect_fed.destinations import (
    SecretsManagerDestination,
)
from airflow_connect_fed.destinations.aws_store import StoredValue
from airflow_connect_fed.destinations.secrets_manager import DESCRIPTION, INSTANCE_TAG
from airflow_connect_fed.exceptions import (
    DestinationWriteError,
    InvalidDestinationError,
    InvalidFederationTokenError,
    TokenReadError,
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
from tests.federation_answers import ACCESS_TOKEN, INSTANCE_ID, success_body

OTHER_INSTANCE = "99999999-8888-7777-6666-555555555555"


def secrets():
    return boto3.client("secretsmanager", region_name="us-east-1")


def write(name: str, user: str = "agent-1", instance: str = INSTANCE_ID) -> None:
    body = success_body(user=user, expires_at=EXPIRES)
    SecretsManagerDestination(name, aws_conn_id=None, client=secrets()).write(
        FederationToken.from_dict(body, instance_id=instance), user
    )


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

    def test_created_tagged_with_the_tokens_instance_and_described(self):
        write("connect/agent-1", instance=OTHER_INSTANCE)
        write("connect/agent-1", instance=OTHER_INSTANCE)  # a new version: PutSecretValue, tags unchanged
        described = secrets().describe_secret(SecretId="connect/agent-1")
        assert described["Tags"] == [{"Key": INSTANCE_TAG, "Value": OTHER_INSTANCE}]
        assert described["Description"] == DESCRIPTION
        assert len(described["VersionIdsToStages"]) == 2

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

    def test_a_secret_deleted_between_the_reuse_check_and_the_write_is_written_again(self):
        destination = SecretsManagerDestination("connect/agent-1", aws_conn_id=None, client=secrets())
        destination.write(token("agent-1"), "agent-1")
        assert destination.current() is not None  # the reuse check saw a stored token
        secrets().delete_secret(SecretId="connect/agent-1", ForceDeleteWithoutRecovery=True)
        reference = destination.write(token("agent-2"), "agent-2")
        assert destination.current().reference["version_id"] == reference["version_id"]
        assert load_federation_token(reference).user_id == "agent-2-id"
        described = secrets().describe_secret(SecretId="connect/agent-1")
        assert described["Tags"] == [{"Key": INSTANCE_TAG, "Value": INSTANCE_ID}]

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


class TestStoredTokens:
    """list_tokens and delete_tokens: a prune's view of the store, from ListSecrets' metadata."""

    def test_lists_the_instances_secrets_under_the_prefix(self):
        write("connect/agents/agent-1")
        write("connect/agents/agent-2")
        write("connect/agents/agent-3", instance=OTHER_INSTANCE)
        write("connect/others/agent-4")
        secrets().create_secret(Name="connect/agents/by-hand", SecretString='{"a": 1}')
        secrets().create_secret(
            Name="connect/agents/tagged-by-hand",
            SecretString="{}",
            Tags=[{"Key": "team", "Value": "sales"}],
        )
        listing = SecretsManagerDestination.list_tokens(
            secrets(), "connect/agents/", INSTANCE_ID, nested=False
        )
        assert [value.name for value in listing.values] == [
            "connect/agents/agent-1",
            "connect/agents/agent-2",
        ]
        arn = secrets().describe_secret(SecretId="connect/agents/agent-1")["ARN"]
        assert listing.values[0] == StoredValue("connect/agents/agent-1", arn)
        assert listing.unattributed == 0

    def test_secrets_written_before_the_tag_are_counted_not_listed(self):
        write("connect/agents/agent-1")
        for user in ("agent-2", "agent-3"):
            secrets().create_secret(Name=f"connect/agents/{user}", SecretString="{}", Description=DESCRIPTION)
        listing = SecretsManagerDestination.list_tokens(
            secrets(), "connect/agents/", INSTANCE_ID, nested=False
        )
        assert [value.name for value in listing.values] == ["connect/agents/agent-1"]
        assert listing.unattributed == 2

    def test_every_page_is_read_and_no_value(self):
        for n in range(230):
            secrets().create_secret(
                Name=f"connect/agents/agent-{n:03d}",
                SecretString="{}",
                Tags=[{"Key": INSTANCE_TAG, "Value": INSTANCE_ID}],
            )
        client = secrets()
        calls = []
        client.meta.events.register(
            "before-call.secrets-manager.*", lambda model, **_: calls.append(model.name)
        )
        listing = SecretsManagerDestination.list_tokens(client, "connect/agents/", INSTANCE_ID, nested=False)
        assert len(listing.values) == 230
        assert calls == ["ListSecrets"] * 3

    def test_a_secret_gone_since_the_listing_is_reported_missing(self):
        write("connect/agents/agent-1")
        write("connect/agents/agent-2")
        listing = SecretsManagerDestination.list_tokens(
            secrets(), "connect/agents/", INSTANCE_ID, nested=False
        )
        secrets().delete_secret(SecretId="connect/agents/agent-1", ForceDeleteWithoutRecovery=True)
        deleted = []
        missing = SecretsManagerDestination.delete_tokens(secrets(), listing.values, 7, deleted.append)
        assert ([value.name for value in missing], [value.name for value in deleted]) == (
            ["connect/agents/agent-1"],
            ["connect/agents/agent-2"],
        )


class TestScheduledForDeletion:
    """A pruned agent hired again within the recovery window: the secret is restored, then written."""

    def test_write_restores_the_secret_then_adds_the_version(self):
        from botocore.stub import Stubber

        client = secrets()
        name = "airflow/variables/connect/agents/agent.one_40example.com"
        with Stubber(client) as stub:
            stub.add_client_error(
                "put_secret_value",
                "InvalidRequestException",
                "You can't perform this operation on the secret because it was marked for deletion.",
                expected_params={"SecretId": name, "SecretString": stub_any()},
            )
            stub.add_response("restore_secret", {"Name": name}, {"SecretId": name})
            stub.add_response(
                "put_secret_value",
                {"VersionId": "v2" * 16},
                {"SecretId": name, "SecretString": stub_any()},
            )
            reference = SecretsManagerDestination(name, aws_conn_id=None, client=client).write(
                token(), "agent.one@example.com"
            )
            stub.assert_no_pending_responses()
        assert reference["version_id"] == "v2" * 16

    def test_other_invalid_requests_are_not_restored(self):
        from botocore.stub import Stubber

        client = secrets()
        with Stubber(client) as stub:
            stub.add_client_error("put_secret_value", "InvalidRequestException", "Something else is wrong.")
            with pytest.raises(DestinationWriteError, match="Something else is wrong"):
                SecretsManagerDestination("connect/agent-1", aws_conn_id=None, client=client).write(
                    token(), "agent-1"
                )
            stub.assert_no_pending_responses()

    def test_a_secret_scheduled_for_deletion_is_nothing_to_reuse(self):
        write("connect/agent-1")
        secrets().delete_secret(SecretId="connect/agent-1", RecoveryWindowInDays=7)
        destination = SecretsManagerDestination("connect/agent-1", aws_conn_id=None, client=secrets())
        assert destination.current() is None


def stub_any():
    from botocore.stub import ANY

    return ANY


@pytest.mark.integration
class TestConcurrentFirstWrites:
    """Two writers of the same new secret at once, over HTTP to the emulator: both succeed, one whole token stays."""

    @pytest.fixture(autouse=True)
    def aws(self):
        """Real HTTP to the emulator: no moto in this process."""

    @pytest.mark.parametrize("race", [race_threads, race_processes], ids=["threads", "processes"])
    def test_both_writers_succeed_and_one_whole_token_is_stored(self, connect_emulator, race):
        credentials = dict(connect_emulator.create_iam_user_credentials("airflow-worker"))
        names = [f"connect/agents/agent.one_40example.com-{trial}" for trial in range(TRIALS)]
        outcomes = race("secrets_manager", connect_emulator.endpoint_url, credentials, names)
        assert len(outcomes) == 2 * TRIALS
        assert [outcome for outcome in outcomes if outcome[1] is not None] == []
        client = connect_emulator.client("secretsmanager")
        for name in names:
            stored = SecretsManagerDestination(name, aws_conn_id=None, client=client).current()
            assert stored.token in (racer_token(0), racer_token(1))
            assert stored.connect_user == "agent.one@example.com"
        # Both writers found no secret and created it at once (the race) in at least one trial.
        assert connect_emulator.counters.operation("secretsmanager", "CreateSecret") > TRIALS
