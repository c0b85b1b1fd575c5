"""Who is calling: region names, the root's key and ARN, SigV4 scopes, and callers resolved through moto."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from botocore.exceptions import ClientError

import amazon_connect_emulator
from amazon_connect_emulator.identity import (
    DEFAULT_ROOT_ACCESS_KEY,
    CallerIdentity,
    SigningScope,
    request_account,
    resolve_caller,
    root_arn,
    signing_scope,
    validate_region,
)

if TYPE_CHECKING:
    from conftest import Agent, ErrorOf, FederationError

    from amazon_connect_emulator import AwsCredentials, ConnectEmulator

ROOT_REFUSAL = (
    "Provided identity: Principal: arn:aws:iam::123456789012:root User: arn:aws:iam::123456789012:root "
    "cannot be used for federation with Amazon Connect"
)


# Region names


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-west-2", "ap-southeast-2", "cn-north-1", "us-gov-west-1"]
)
def test_region_names_are_accepted(region: str) -> None:
    validate_region(region)  # raises on a bad name


@pytest.mark.parametrize(
    "region",
    [
        "Mars",
        "mars",
        "US-EAST-1",
        "us-east",
        "useast-1",
        "us-east-1a",
        " us-east-1",
        "us-east-1 ",
        "",
        None,
        1,
    ],
)
def test_other_regions_are_refused_with_the_value(region: object) -> None:
    expected = f"region must be an AWS region name like 'us-east-1', got {region!r}"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        validate_region(region)


# The root


def test_the_default_root_key_is_the_packages_and_the_emulators() -> None:
    assert DEFAULT_ROOT_ACCESS_KEY == "AKIAEMULATORROOT0000"
    assert amazon_connect_emulator.DEFAULT_ROOT_ACCESS_KEY == DEFAULT_ROOT_ACCESS_KEY
    assert amazon_connect_emulator.ConnectEmulator().root_access_key == DEFAULT_ROOT_ACCESS_KEY


@pytest.mark.parametrize(
    ("region", "arn"),
    [
        ("us-east-1", "arn:aws:iam::123456789012:root"),
        ("eu-west-2", "arn:aws:iam::123456789012:root"),
        ("cn-north-1", "arn:aws-cn:iam::123456789012:root"),
        ("us-gov-west-1", "arn:aws-us-gov:iam::123456789012:root"),
    ],
)
def test_root_arn_is_in_the_regions_partition(region: str, arn: str) -> None:
    assert root_arn("123456789012", region) == arn


def test_a_caller_without_a_username_is_the_root() -> None:
    root = CallerIdentity("123456789012", "arn:aws:iam::123456789012:root")
    assert root.is_root
    assert root.federation_principal == "arn:aws:iam::123456789012:root"
    user = CallerIdentity("123456789012", "arn:aws:iam::123456789012:user/bob", "bob")
    assert not user.is_root
    assert user.federation_principal == "arn:aws:iam::123456789012:user/bob"
    session = CallerIdentity(
        "123456789012",
        "arn:aws:sts::123456789012:assumed-role/ConnectFederation/Alice",
        "Alice",
        "arn:aws:iam::123456789012:role/ConnectFederation",
    )
    assert not session.is_root
    assert session.federation_principal == "arn:aws:iam::123456789012:role/ConnectFederation"


@pytest.mark.parametrize("access_key", [DEFAULT_ROOT_ACCESS_KEY, "AKIAUNKNOWNTOMOTO000"])
def test_the_root_key_and_keys_moto_does_not_know_resolve_to_the_root(access_key: str) -> None:
    assert resolve_caller(access_key, "123456789012", "us-east-1", DEFAULT_ROOT_ACCESS_KEY) == CallerIdentity(
        "123456789012", "arn:aws:iam::123456789012:root"
    )
    assert resolve_caller(
        access_key, "111122223333", "cn-north-1", DEFAULT_ROOT_ACCESS_KEY
    ) == CallerIdentity("111122223333", "arn:aws-cn:iam::111122223333:root")


# SigV4 credential scopes and accounts


def test_signing_scope_reads_the_credential_scope() -> None:
    authorization = (
        "AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE0000000/20240101/eu-west-2/Connect/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=abc123"
    )
    assert signing_scope(authorization) == SigningScope("ASIAEXAMPLE0000000", "eu-west-2", "connect")


@pytest.mark.parametrize("authorization", [None, "", "AWS AKIDEXAMPLE:signature", "Bearer token"])
def test_signing_scope_is_none_for_unsigned_and_sigv2_requests(authorization: str | None) -> None:
    assert signing_scope(authorization) is None


def test_request_account_follows_motos_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOTO_ACCOUNT_ID", raising=False)
    assert request_account("AKIAUNKNOWNTOMOTO000", None) == "123456789012"  # moto's default account
    assert request_account("AKIAUNKNOWNTOMOTO000", "111122223333") == "111122223333"  # x-moto-account-id
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "444455556666")
    assert request_account("AKIAUNKNOWNTOMOTO000", "111122223333") == "444455556666"


# Callers resolved through moto's IAM and STS state (the running emulator's, in this process)


@pytest.mark.integration
def test_an_iam_users_key_resolves_to_the_user(connect_emulator: ConnectEmulator) -> None:
    key = connect_emulator.create_iam_user_credentials("bob.smith")["aws_access_key_id"]
    assert resolve_caller(key, "123456789012", "us-east-1", DEFAULT_ROOT_ACCESS_KEY) == CallerIdentity(
        "123456789012", "arn:aws:iam::123456789012:user/bob.smith", "bob.smith"
    )
    # The root key is the root, whoever else holds it.
    assert resolve_caller(key, "123456789012", "us-east-1", key).is_root


@pytest.mark.integration
def test_a_session_key_resolves_to_the_assumed_role_session(
    connect_emulator: ConnectEmulator, agent: Agent
) -> None:
    caller = resolve_caller(
        agent.credentials["aws_access_key_id"], "123456789012", "us-east-1", DEFAULT_ROOT_ACCESS_KEY
    )
    assert caller == CallerIdentity(
        "123456789012",
        "arn:aws:sts::123456789012:assumed-role/ConnectFederation/Alice",
        "Alice",
        agent.role_arn,
    )
    assert caller.federation_principal == agent.role_arn == "arn:aws:iam::123456789012:role/ConnectFederation"


# Over HTTP


@pytest.mark.integration
@pytest.mark.parametrize("access_key", [DEFAULT_ROOT_ACCESS_KEY, "AKIAUNKNOWNTOMOTO000"])
def test_root_identity_is_refused(
    connect_emulator: ConnectEmulator,
    agent: Agent,
    federation_error: FederationError,
    error_of: ErrorOf,
    access_key: str,
) -> None:
    root: AwsCredentials = {"aws_access_key_id": access_key, "aws_secret_access_key": "testing"}
    status, code, message = error_of(federation_error(connect_emulator, agent.instance["id"], root))
    assert (status, code, message) == (400, "InvalidRequestException", ROOT_REFUSAL)


@pytest.mark.integration
def test_root_key_gets_the_roots_caller_identity(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    root = connect_emulator.client("sts").get_caller_identity()
    assert (root["Arn"], root["UserId"], root["Account"]) == (
        "arn:aws:iam::123456789012:root",
        "123456789012",
        "123456789012",
    )
    other = connect_emulator.client("sts", **agent.credentials).get_caller_identity()
    assert other["Arn"].endswith(":assumed-role/ConnectFederation/Alice")
    # The request body read for the check is handed on: moto still answers the root's other STS calls.
    assert connect_emulator.client("sts").get_session_token()["Credentials"]["AccessKeyId"]


@pytest.mark.integration
def test_the_root_may_not_assume_a_role(connect_emulator: ConnectEmulator, agent: Agent) -> None:
    with pytest.raises(ClientError) as raised:
        connect_emulator.client("sts").assume_role(RoleArn=agent.role_arn, RoleSessionName="Bob")
    error = raised.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == ("AccessDenied", 403)
    assert error["Error"]["Message"] == "Roles may not be assumed by root accounts."
