"""A secret scheduled for deletion answers as in AWS: reads and writes refused, its name not reusable
until RestoreSecret or a forced deletion; DescribeSecret and ListSecretVersionIds still answer."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError
from werkzeug.test import EnvironBuilder

from amazon_connect_emulator.secrets_lifecycle import (
    MARKED_FOR_DELETION,
    NAME_SCHEDULED_FOR_DELETION,
    scheduled_deletion_refusal,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from conftest import ErrorOf

    from amazon_connect_emulator import ConnectEmulator

NAME = "connect/agents/agent.one@example.com"
ORIGINAL = '{"AccessToken": "original"}'


def operations(secret_id: str, version_id: str) -> dict[str, Callable[[Any], Any]]:
    """Each operation AWS refuses on a secret scheduled for deletion, as a call naming it by ``secret_id``."""
    return {
        "GetSecretValue": lambda client: client.get_secret_value(SecretId=secret_id),
        "PutSecretValue": lambda client: client.put_secret_value(SecretId=secret_id, SecretString="{}"),
        "UpdateSecret": lambda client: client.update_secret(SecretId=secret_id, SecretString="{}"),
        "RotateSecret": lambda client: client.rotate_secret(SecretId=secret_id),
        "UpdateSecretVersionStage": lambda client: client.update_secret_version_stage(
            SecretId=secret_id, VersionStage="AWSPENDING", MoveToVersionId=version_id
        ),
    }


def secret_id_as(how: str, arn: str) -> str:
    """The secret named as a name, its full ARN, or its partial ARN (without the random suffix)."""
    return {"name": NAME, "arn": arn, "partial arn": arn.rsplit("-", 1)[0]}[how]


@pytest.fixture
def secrets(connect_emulator: ConnectEmulator) -> Any:
    return connect_emulator.client("secretsmanager")


@pytest.fixture
def scheduled(secrets: Any) -> dict[str, str]:
    """The secret NAME with one version, deleted with a 7-day recovery window: its ARN and version id."""
    created = secrets.create_secret(Name=NAME, SecretString=ORIGINAL)
    secrets.delete_secret(SecretId=NAME, RecoveryWindowInDays=7)
    return {"arn": created["ARN"], "version_id": created["VersionId"]}


# Over HTTP, as boto3 sees it


@pytest.mark.integration
@pytest.mark.parametrize("how", ["name", "arn", "partial arn"])
@pytest.mark.parametrize(
    "operation",
    ["GetSecretValue", "PutSecretValue", "UpdateSecret", "RotateSecret", "UpdateSecretVersionStage"],
)
def test_reads_and_writes_are_refused(
    secrets: Any, scheduled: dict[str, str], error_of: ErrorOf, operation: str, how: str
) -> None:
    call = operations(secret_id_as(how, scheduled["arn"]), scheduled["version_id"])[operation]

    with pytest.raises(ClientError) as raised:
        call(secrets)

    assert error_of(raised.value) == (400, "InvalidRequestException", MARKED_FOR_DELETION)
    assert raised.value.operation_name == operation
    assert raised.value.response["ResponseMetadata"]["RequestId"]


@pytest.mark.integration
def test_a_refused_write_changes_nothing(secrets: Any, scheduled: dict[str, str]) -> None:
    for call in operations(NAME, scheduled["version_id"]).values():
        with pytest.raises(ClientError):
            call(secrets)

    secrets.restore_secret(SecretId=NAME)

    versions = secrets.list_secret_version_ids(SecretId=NAME)["Versions"]
    assert [(v["VersionId"], v["VersionStages"]) for v in versions] == [
        (scheduled["version_id"], ["AWSCURRENT"])
    ]
    assert secrets.get_secret_value(SecretId=NAME)["SecretString"] == ORIGINAL


@pytest.mark.integration
def test_its_name_cannot_be_created_again(secrets: Any, scheduled: dict[str, str], error_of: ErrorOf) -> None:
    with pytest.raises(ClientError) as raised:
        secrets.create_secret(Name=NAME, SecretString="{}")

    assert error_of(raised.value) == (400, "InvalidRequestException", NAME_SCHEDULED_FOR_DELETION)


@pytest.mark.integration
def test_it_is_still_described_and_its_versions_listed(secrets: Any, scheduled: dict[str, str]) -> None:
    description = secrets.describe_secret(SecretId=scheduled["arn"])
    versions = secrets.list_secret_version_ids(SecretId=NAME)["Versions"]

    assert description["Name"] == NAME
    assert "DeletedDate" in description
    assert [v["VersionId"] for v in versions] == [scheduled["version_id"]]


@pytest.mark.integration
def test_restored_it_takes_writes_again(secrets: Any, scheduled: dict[str, str]) -> None:
    secrets.restore_secret(SecretId=scheduled["arn"])
    secrets.put_secret_value(SecretId=NAME, SecretString='{"AccessToken": "new"}')

    assert "DeletedDate" not in secrets.describe_secret(SecretId=NAME)
    assert secrets.get_secret_value(SecretId=NAME)["SecretString"] == '{"AccessToken": "new"}'


@pytest.mark.integration
def test_deleted_without_recovery_its_name_is_free(secrets: Any, scheduled: dict[str, str]) -> None:
    secrets.delete_secret(SecretId=NAME, ForceDeleteWithoutRecovery=True)
    created = secrets.create_secret(Name=NAME, SecretString='{"AccessToken": "new"}')

    assert created["ARN"] != scheduled["arn"]
    assert secrets.get_secret_value(SecretId=NAME)["SecretString"] == '{"AccessToken": "new"}'


@pytest.mark.integration
def test_a_secret_never_deleted_is_unaffected(secrets: Any) -> None:
    created = secrets.create_secret(Name=NAME, SecretString=ORIGINAL)
    put = secrets.put_secret_value(SecretId=created["ARN"], SecretString='{"AccessToken": "put"}')
    secrets.update_secret(SecretId=NAME, SecretString='{"AccessToken": "updated"}')
    secrets.update_secret_version_stage(
        SecretId=NAME, VersionStage="AWSPENDING", MoveToVersionId=put["VersionId"]
    )

    assert secrets.get_secret_value(SecretId=NAME)["SecretString"] == '{"AccessToken": "updated"}'
    pending = secrets.get_secret_value(SecretId=NAME, VersionStage="AWSPENDING")
    assert pending["SecretString"] == '{"AccessToken": "put"}'
    with pytest.raises(ClientError) as raised:
        secrets.create_secret(Name=NAME, SecretString="{}")
    assert raised.value.response["Error"]["Code"] == "ResourceExistsException"  # moto's answer, as AWS's


@pytest.mark.integration
def test_another_regions_secret_of_that_name_is_unaffected(
    connect_emulator: ConnectEmulator, scheduled: dict[str, str]
) -> None:
    elsewhere = connect_emulator.client("secretsmanager", region_name="eu-west-1")

    elsewhere.create_secret(Name=NAME, SecretString='{"AccessToken": "eu"}')

    assert elsewhere.get_secret_value(SecretId=NAME)["SecretString"] == '{"AccessToken": "eu"}'


# scheduled_deletion_refusal in-process: what it reads of a request


def environ(body: bytes) -> dict[str, Any]:
    return EnvironBuilder(
        method="POST", path="/", data=body, content_type="application/x-amz-json-1.1"
    ).get_environ()


def test_other_operations_are_not_read() -> None:
    request = environ(json.dumps({"SecretId": NAME}).encode())
    stream = request["wsgi.input"]

    assert scheduled_deletion_refusal(request, "DescribeSecret", "123456789012", "us-east-1") is None
    assert request["wsgi.input"] is stream
    assert stream.read() == json.dumps({"SecretId": NAME}).encode()


@pytest.mark.parametrize(
    "body",
    [
        json.dumps({"SecretId": "connect/agents/nobody@example.com"}).encode(),
        b"not json",
        b"[]",
        json.dumps({"SecretId": 7}).encode(),
        b"",
    ],
)
def test_a_body_read_is_put_back_for_moto(body: bytes) -> None:
    request = environ(body)

    assert scheduled_deletion_refusal(request, "GetSecretValue", "123456789012", "us-east-1") is None
    assert isinstance(request["wsgi.input"], io.BytesIO)
    assert request["wsgi.input"].read() == body


def test_a_region_moto_does_not_serve_is_left_to_moto() -> None:
    request = environ(json.dumps({"SecretId": NAME}).encode())

    assert scheduled_deletion_refusal(request, "GetSecretValue", "123456789012", "xx-nowhere-1") is None
