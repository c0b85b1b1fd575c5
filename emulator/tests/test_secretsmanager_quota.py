"""Secrets Manager's write quotas over HTTP: PutSecretValue, UpdateSecret and the other combined writes
share one bucket per account and region, CreateSecret has its own; over them, 400 ThrottlingException,
which botocore retries as throttling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from botocore.retries.standard import RetryContext, ThrottledRetryableChecker

from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.secretsmanager_quota import (
    DEFAULT_SECRETSMANAGER_WRITE_BURST,
    DEFAULT_SECRETSMANAGER_WRITES_PER_SECOND,
    WRITE_QUOTAS,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from conftest import ErrorOf, FakeClock

pytestmark = pytest.mark.integration

NAME = "connect/agents/agent.one@example.com"
OTHER = "connect/agents/agent.two@example.com"


@pytest.fixture
def emulator(clock: FakeClock) -> Iterator[ConnectEmulator]:
    """An emulator whose Secrets Manager writes allow 2/s with a burst of 3, on the fake clock; moto's
    state (one per process) emptied."""
    with ConnectEmulator(
        secretsmanager_writes_per_second=2.0, secretsmanager_write_burst=3, clock=clock
    ) as emu:
        emu.reset()
        yield emu


@pytest.fixture
def secrets(emulator: ConnectEmulator, no_retries: Any) -> Any:
    client = emulator.client("secretsmanager", config=no_retries)
    client.create_secret(Name=NAME, SecretString="v0")
    client.create_secret(Name=OTHER, SecretString="v0")
    return client


def put(secrets: Any, value: str = "v1", name: str = NAME) -> Any:
    return secrets.put_secret_value(SecretId=name, SecretString=value)


def test_aws_documented_rate_is_the_default() -> None:
    assert (DEFAULT_SECRETSMANAGER_WRITES_PER_SECOND, DEFAULT_SECRETSMANAGER_WRITE_BURST) == (50.0, 50)
    assert WRITE_QUOTAS["PutSecretValue"] == WRITE_QUOTAS["UpdateSecret"] != WRITE_QUOTAS["CreateSecret"]


def test_writes_over_the_burst_are_throttled_as_aws_answers(
    emulator: ConnectEmulator, secrets: Any, error_of: ErrorOf
) -> None:
    for value in ("v1", "v2", "v3"):
        put(secrets, value)
    with pytest.raises(ClientError) as raised:
        put(secrets, "v4")
    assert error_of(raised.value) == (400, "ThrottlingException", "Rate exceeded")
    assert secrets.get_secret_value(SecretId=NAME)["SecretString"] == "v3"  # refused: nothing written
    assert emulator.counters.throttled_operation("PutSecretValue") == 1


def test_put_and_update_share_one_bucket_across_secrets(emulator: ConnectEmulator, secrets: Any) -> None:
    put(secrets)
    secrets.update_secret(SecretId=OTHER, SecretString="u1")
    put(secrets, name=OTHER)
    with pytest.raises(ClientError, match="ThrottlingException"):
        secrets.update_secret(SecretId=NAME, SecretString="u2")
    assert emulator.counters.throttled_operation("UpdateSecret") == 1


def test_create_secret_has_its_own_bucket(emulator: ConnectEmulator, secrets: Any) -> None:
    for value in ("v1", "v2", "v3"):
        put(secrets, value)
    secrets.create_secret(
        Name="connect/agents/agent.three@example.com", SecretString="v0"
    )  # 3rd of its burst
    with pytest.raises(ClientError, match="ThrottlingException"):
        secrets.create_secret(Name="connect/agents/agent.four@example.com", SecretString="v0")
    assert emulator.counters.throttled_operation("CreateSecret") == 1


def test_the_bucket_refills_at_the_rate(clock: FakeClock, secrets: Any) -> None:
    for value in ("v1", "v2", "v3"):
        put(secrets, value)
    clock.now += 0.49
    with pytest.raises(ClientError, match="ThrottlingException"):
        put(secrets, "v4")
    clock.now += 0.01  # 0.5 s: one write at 2/s
    put(secrets, "v4")
    with pytest.raises(ClientError, match="ThrottlingException"):
        put(secrets, "v5")


def test_reads_are_not_throttled(emulator: ConnectEmulator, secrets: Any) -> None:
    for value in ("v1", "v2", "v3"):
        put(secrets, value)
    for _ in range(10):
        assert secrets.get_secret_value(SecretId=NAME)["SecretString"] == "v3"
        secrets.describe_secret(SecretId=NAME)
    assert emulator.counters.throttled_operation("GetSecretValue") == 0


def test_each_account_and_region_has_its_own_bucket(emulator: ConnectEmulator, secrets: Any) -> None:
    for value in ("v1", "v2", "v3"):
        put(secrets, value)
    other_region = emulator.client("secretsmanager", region_name="eu-west-2")
    other_account = emulator.client("secretsmanager")
    other_account.meta.events.register("before-sign.secretsmanager.*", as_account("222222222222"))
    for client in (other_region, other_account):
        client.create_secret(Name=NAME, SecretString="v0")
        put(client)
    assert emulator.counters.throttled_operation("PutSecretValue") == 0


def as_account(account_id: str) -> Any:
    """A botocore handler sending the request as another account, as moto reads it."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account_id

    return add_header


def test_setter_changes_the_quota_and_reset_restores_it(emulator: ConnectEmulator, secrets: Any) -> None:
    emulator.set_secretsmanager_write_quota(1024.0, 20)  # an interval summed exactly
    for i in range(20):
        put(secrets, f"v{i}")
    with pytest.raises(ClientError, match="ThrottlingException"):
        put(secrets)
    emulator.reset()
    secrets.create_secret(Name=NAME, SecretString="v0")
    for value in ("v1", "v2"):  # CreateSecret took none of the writes' 3
        put(secrets, value)
    put(secrets, "v3")
    with pytest.raises(ClientError, match="ThrottlingException"):
        put(secrets, "v4")


def test_bad_limits_are_refused_naming_the_parameter(emulator: ConnectEmulator) -> None:
    with pytest.raises(
        ValueError, match=r"^secretsmanager_writes_per_second must be a finite number > 0 .*50.*, got 0"
    ):
        emulator.set_secretsmanager_write_quota(0, 5)
    with pytest.raises(
        ValueError, match=r"^secretsmanager_write_burst must be a whole number >= 1 .*, got 0"
    ):
        ConnectEmulator(secretsmanager_write_burst=0)


def test_botocore_retries_the_answer_as_throttling(emulator: ConnectEmulator, secrets: Any) -> None:
    for value in ("v1", "v2", "v3"):
        put(secrets, value)
    retrying = emulator.client("secretsmanager")  # botocore's default retries
    answers: list[RetryContext] = []

    def note(response: Any, operation: Any, attempts: int, **_: Any) -> None:
        http, parsed = response
        answers.append(RetryContext(attempts, operation, parsed_response=parsed, http_response=http))

    retrying.meta.events.register("needs-retry.secretsmanager.PutSecretValue", note)
    with pytest.raises(ClientError, match="ThrottlingException"):
        put(retrying, "v4")
    assert len(answers) > 1  # retried: the fake clock never refills
    assert all(ThrottledRetryableChecker().is_retryable(answer) for answer in answers)
    assert emulator.counters.operation("secretsmanager", "PutSecretValue") == 3 + len(answers)
