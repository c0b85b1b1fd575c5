"""Wire fidelity: the AWS CLI, an independent client, drives GetFederationToken, SearchUsers and the
authentication profiles against the emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from amazon_connect_emulator import DEFAULT_ROOT_ACCESS_KEY, AwsCredentials, ConnectEmulator

AWS_CLI = Path(sys.executable).with_name("aws")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not AWS_CLI.exists(), reason=f"the AWS CLI is not installed at {AWS_CLI}"),
]


@cache
def service_error_exit_code() -> int:
    """The AWS CLI's exit code for a service error: 254 in v2, 255 in v1 (the PyPI ``awscli``)."""
    version = subprocess.run([str(AWS_CLI), "--version"], capture_output=True, text=True, check=True)
    major = (version.stdout or version.stderr).removeprefix("aws-cli/").split(".")[0]
    return 254 if int(major) >= 2 else 255


@pytest.fixture
def aws_env(tmp_path: Path) -> dict[str, str]:
    """An environment without the developer's AWS settings: empty config and credentials files."""
    config, shared_credentials = tmp_path / "config", tmp_path / "credentials"
    config.write_text("")
    shared_credentials.write_text("")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update(
        AWS_CONFIG_FILE=str(config), AWS_SHARED_CREDENTIALS_FILE=str(shared_credentials), AWS_MAX_ATTEMPTS="1"
    )
    return env


def get_federation_token(
    emulator: ConnectEmulator, instance_id: str, credentials: AwsCredentials, env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    env = {**env, **{name.upper(): str(value) for name, value in credentials.items()}}
    command = [
        str(AWS_CLI),
        "connect",
        "get-federation-token",
        "--instance-id",
        instance_id,
        "--endpoint-url",
        emulator.endpoint_url,
        "--region",
        emulator.region,
        "--output",
        "json",
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


@pytest.fixture
def agent(connect_emulator: ConnectEmulator) -> tuple[str, str, AwsCredentials]:
    """(instance id, user id, credentials of the federation role's session "Alice")."""
    instance = connect_emulator.create_instance("cli-test")
    user = connect_emulator.create_user(instance["id"], "Alice")
    credentials = connect_emulator.credentials_for("Alice", connect_emulator.create_federation_role())
    return instance["id"], user["id"], credentials


def test_success_output(
    connect_emulator: ConnectEmulator, agent: tuple[str, str, AwsCredentials], aws_env: dict[str, str]
) -> None:
    instance_id, user_id, credentials = agent
    result = get_federation_token(connect_emulator, instance_id, credentials, aws_env)
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert output["UserId"] == user_id
    assert (
        output["UserArn"] == f"arn:aws:connect:us-east-1:123456789012:instance/{instance_id}/agent/{user_id}"
    )
    assert output["SignInUrl"] == f"{connect_emulator.endpoint_url}/connect/{instance_id}/auth/sign-in"
    credentials_out = output["Credentials"]
    assert len(credentials_out["AccessToken"]) >= 40
    assert credentials_out["AccessToken"] != credentials_out["RefreshToken"]
    assert lifetimes(credentials_out) == (60, 720)  # the default authentication profile's


def lifetimes(credentials: dict[str, Any]) -> tuple[int, int]:
    """Minutes from now, rounded, until the access token and the refresh token expire."""
    minutes = []
    for name in ("AccessTokenExpiration", "RefreshTokenExpiration"):
        expiration = credentials[name]
        if isinstance(expiration, str):  # AWS CLI v2 renders ISO-8601; v1 passes the wire's epoch seconds
            expiration = datetime.fromisoformat(expiration).timestamp()
        minutes.append(round((expiration - time.time()) / 60))
    return minutes[0], minutes[1]


@pytest.mark.parametrize(
    ("case", "code", "detail"),
    [
        ("unknown-instance", "ResourceNotFoundException", "unknown-instance"),
        ("long-instance-id", "InvalidParameterException", "got 101"),
        ("root", "InvalidRequestException", "arn:aws:iam::123456789012:root cannot be used for federation"),
        ("other-user", "UserNotFoundException", "'alice'"),
    ],
)
def test_error_output(
    connect_emulator: ConnectEmulator,
    agent: tuple[str, str, AwsCredentials],
    aws_env: dict[str, str],
    case: str,
    code: str,
    detail: str,
) -> None:
    instance_id, _, credentials = agent
    if case == "unknown-instance":
        instance_id = "unknown-instance"
    elif case == "long-instance-id":
        instance_id = "i" * 101
    elif case == "root":
        credentials = {
            "aws_access_key_id": DEFAULT_ROOT_ACCESS_KEY,
            "aws_secret_access_key": "testing",
        }
    else:
        role_arn = connect_emulator.create_federation_role("LowerCase")
        credentials = connect_emulator.credentials_for("alice", role_arn)

    result = get_federation_token(connect_emulator, instance_id, credentials, aws_env)
    assert result.returncode == service_error_exit_code(), result.stderr
    assert result.stdout == ""
    assert f"An error occurred ({code}) when calling the GetFederationToken operation" in result.stderr
    assert detail in result.stderr


def connect_as_root(
    emulator: ConnectEmulator, env: dict[str, str], command: str, instance_id: str, *options: str
) -> subprocess.CompletedProcess[str]:
    """``aws connect COMMAND --instance-id INSTANCE_ID OPTIONS...`` as the account root."""
    argv = [
        str(AWS_CLI), "connect", command, "--instance-id", instance_id, *options,
        "--endpoint-url", emulator.endpoint_url, "--region", emulator.region, "--output", "json",
    ]  # fmt: skip
    env = {**env, "AWS_ACCESS_KEY_ID": DEFAULT_ROOT_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": "testing"}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


def search_users(
    emulator: ConnectEmulator, env: dict[str, str], instance_id: str, *options: str
) -> subprocess.CompletedProcess[str]:
    return connect_as_root(emulator, env, "search-users", instance_id, *options)


def test_search_users_paginated(connect_emulator: ConnectEmulator, aws_env: dict[str, str]) -> None:
    connect_emulator.set_api_quota(1000.0, 1000)
    instance_id = connect_emulator.create_instance("cli-search")["id"]
    names = [f"agent.{i}@example.com" for i in range(5)]
    connect_emulator.create_users(
        instance_id,
        [{"Username": name, "Tags": {"team": "blue" if i % 2 else "red"}} for i, name in enumerate(names)],
    )
    connect_emulator.create_user(instance_id, "supervisor@example.org")
    connect_emulator.counters.reset()

    criteria = {
        "StringCondition": {"FieldName": "Username", "Value": "agent.", "ComparisonType": "STARTS_WITH"}
    }
    result = search_users(
        connect_emulator, aws_env, instance_id, "--search-criteria", json.dumps(criteria), "--page-size", "2"
    )
    assert result.returncode == 0, result.stderr
    output = json.loads(result.stdout)
    assert [user["Username"] for user in output["Users"]] == names
    assert output["ApproximateTotalCount"] == 5
    assert connect_emulator.counters.operation("connect", "SearchUsers") == 3  # pages of 2, 2 and 1

    tags = {"TagFilter": {"OrConditions": [[{"TagKey": "team", "TagValue": "blue"}]]}}
    result = search_users(connect_emulator, aws_env, instance_id, "--search-filter", json.dumps(tags))
    assert result.returncode == 0, result.stderr
    assert [user["Username"] for user in json.loads(result.stdout)["Users"]] == names[1::2]


def test_search_users_errors(connect_emulator: ConnectEmulator, aws_env: dict[str, str]) -> None:
    result = search_users(connect_emulator, aws_env, "unknown-instance")
    assert result.returncode == service_error_exit_code()
    assert (
        "An error occurred (ResourceNotFoundException) when calling the SearchUsers operation"
        in result.stderr
    )
    assert "Instance unknown-instance not found" in result.stderr


def test_authentication_profile_sets_the_token_lifetimes(
    connect_emulator: ConnectEmulator, agent: tuple[str, str, AwsCredentials], aws_env: dict[str, str]
) -> None:
    instance_id, _, credentials = agent
    result = connect_as_root(connect_emulator, aws_env, "list-authentication-profiles", instance_id)
    assert result.returncode == 0, result.stderr
    [summary] = json.loads(result.stdout)["AuthenticationProfileSummaryList"]
    assert (summary["Name"], summary["IsDefault"]) == ("Default Authentication Profile", True)
    profile = ("--authentication-profile-id", summary["Id"])

    result = connect_as_root(
        connect_emulator, aws_env, "update-authentication-profile", instance_id, *profile,
        "--periodic-session-duration", "10", "--allowed-ips", "10.0.0.0/16",
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, ""), result.stderr
    result = connect_as_root(
        connect_emulator, aws_env, "describe-authentication-profile", instance_id, *profile
    )
    assert result.returncode == 0, result.stderr
    described = json.loads(result.stdout)["AuthenticationProfile"]
    assert (described["PeriodicSessionDuration"], described["MaxSessionDuration"]) == (10, 720)
    assert described["AllowedIps"] == ["10.0.0.0/16"]

    result = get_federation_token(connect_emulator, instance_id, credentials, aws_env)
    assert result.returncode == 0, result.stderr
    assert lifetimes(json.loads(result.stdout)["Credentials"]) == (10, 720)


def test_authentication_profile_errors(
    connect_emulator: ConnectEmulator, agent: tuple[str, str, AwsCredentials], aws_env: dict[str, str]
) -> None:
    instance_id = agent[0]
    connect_emulator.set_api_quota(1000.0, 1000)
    result = connect_as_root(connect_emulator, aws_env, "list-authentication-profiles", instance_id)
    profile = (
        "--authentication-profile-id",
        json.loads(result.stdout)["AuthenticationProfileSummaryList"][0]["Id"],
    )

    result = connect_as_root(
        connect_emulator, aws_env, "update-authentication-profile", instance_id, *profile,
        "--periodic-session-duration", "61",
    )  # fmt: skip
    assert result.returncode == service_error_exit_code()
    assert (
        "An error occurred (InvalidParameterException) when calling the UpdateAuthenticationProfile operation: "
        "PeriodicSessionDuration must be a whole number of minutes from 10 to 60, got 61" in result.stderr
    )
    result = connect_as_root(
        connect_emulator, aws_env, "describe-authentication-profile", instance_id,
        "--authentication-profile-id", "unknown-profile",
    )  # fmt: skip
    assert result.returncode == service_error_exit_code()
    assert (
        "An error occurred (ResourceNotFoundException) when calling the DescribeAuthenticationProfile operation: "
        f"Authentication profile unknown-profile not found in instance {instance_id}" in result.stderr
    )
    result = connect_as_root(
        connect_emulator, aws_env, "describe-authentication-profile", "unknown-instance", *profile
    )
    assert result.returncode == service_error_exit_code()
    assert "Instance unknown-instance not found" in result.stderr
