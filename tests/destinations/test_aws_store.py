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


class TestTransientWriteFailures:
    """A write failing with a retryable answer is tried again (Stubber: one answer per attempt)."""

    HTML = "<!doctype html><html><body><h1>500 Internal Server Error</h1></body></html>"

    def stubbed(self, sleeps):
        import boto3
        from botocore.stub import Stubber

        from airflow_connect_fed.destinations.write_retry import WriteRetry

        client = boto3.client("secretsmanager", region_name="us-east-1")
        destination = SecretsManagerDestination("connect/agent-1", aws_conn_id=None, client=client)
        destination.retry = WriteRetry(attempts=4, sleep=sleeps.append, jitter=lambda: 1.0)
        return destination, Stubber(client)

    def fail(self, stubber, code, status, message="failed"):
        stubber.add_client_error(
            "put_secret_value", service_error_code=code, service_message=message, http_status_code=status
        )

    def test_every_token_stored_through_server_errors_and_throttling(self):
        sleeps: list[float] = []
        destination, stubber = self.stubbed(sleeps)
        self.fail(stubber, "500", 500, self.HTML)
        self.fail(stubber, "ThrottlingException", 400, "Rate exceeded")
        stubber.add_response("put_secret_value", {"VersionId": "v" * 32, "Name": "connect/agent-1"})
        with stubber:
            reference = destination.write(token(), "agent-1")
        stubber.assert_no_pending_responses()
        assert reference["version_id"] == "v" * 32
        assert sleeps == [1.0, 2.0]

    def test_failing_every_attempt_names_the_code_and_status_never_the_html_page(self):
        from airflow_connect_fed.exceptions import DestinationWriteError

        sleeps: list[float] = []
        destination, stubber = self.stubbed(sleeps)
        for _ in range(4):
            self.fail(stubber, "500", 500, self.HTML)
        with stubber, pytest.raises(DestinationWriteError) as e:
            destination.write(token(), "agent-1")
        assert str(e.value).startswith(
            "Could not write the federation token to secret 'connect/agent-1' after 4 attempts: 500 (HTTP 500). "
            "The store kept failing; 4 attempts made, the most allowed."
        )
        assert "html" not in str(e.value).lower()
        assert sleeps == [1.0, 2.0, 4.0]

    def test_a_refusal_is_not_retried(self):
        from airflow_connect_fed.exceptions import DestinationWriteError

        sleeps: list[float] = []
        destination, stubber = self.stubbed(sleeps)
        self.fail(stubber, "AccessDeniedException", 400, "not authorized")
        with (
            stubber,
            pytest.raises(DestinationWriteError, match=r"agent-1': AccessDeniedException \(HTTP 400\)"),
        ):
            destination.write(token(), "agent-1")
        stubber.assert_no_pending_responses()
        assert sleeps == []

    def test_a_token_expired_while_retrying_is_reported_failed(self):
        from datetime import timedelta

        from airflow_connect_fed.destinations.write_retry import WriteRetry
        from airflow_connect_fed.exceptions import DestinationWriteError
        from tests.destinations.conftest import EXPIRES

        sleeps: list[float] = []
        destination, stubber = self.stubbed(sleeps)
        clock = [EXPIRES - timedelta(seconds=2.5)]

        def sleep(seconds: float) -> None:
            sleeps.append(seconds)
            clock[0] += timedelta(seconds=seconds)

        destination.retry = WriteRetry(attempts=6, sleep=sleep, now=lambda: clock[0], jitter=lambda: 1.0)
        for _ in range(2):
            self.fail(stubber, "ThrottlingException", 400, "Rate exceeded")
        with stubber, pytest.raises(DestinationWriteError) as e:
            destination.write(token(), "agent-1")
        assert sleeps == [1.0]  # the next wait (2 s) would outlast the token's last 1.5 s
        assert f"The token expired at {EXPIRES.isoformat()} before it could be stored" in str(e.value)
        assert "ThrottlingException (HTTP 400)" in str(e.value)
