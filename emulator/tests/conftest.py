"""The emulator's tests: no AWS configuration is read; a CLI runner, a fake clock, agent Alice, federation helpers."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from amazon_connect_emulator.cli import main

if TYPE_CHECKING:
    from amazon_connect_emulator import AwsCredentials, ConnectEmulator

    Federate = Callable[[ConnectEmulator, str, AwsCredentials], dict[str, Any]]
    FederationError = Callable[[ConnectEmulator, str, AwsCredentials], ClientError]
    ErrorOf = Callable[[ClientError], tuple[int, str, str]]

# Nothing here may reach AWS, whatever the machine's own configuration says.
os.environ.pop("AWS_PROFILE", None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@dataclass(frozen=True)
class Result:
    """What one ``amazon-connect-emulator`` run left behind."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``amazon-connect-emulator`` in-process: ``cli("seed", "--endpoint-url", ...)``."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        exit_code = main(list(argv))
        captured = capsys.readouterr()
        return Result(exit_code, captured.out, captured.err)

    return run


class FakeClock:
    """A monotonic clock the test moves by hand: ``clock.now += 0.5``."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# Agent Alice and GetFederationToken over HTTP

NO_RETRIES = Config(retries={"total_max_attempts": 1})  # "max_attempts": 1 would still retry once


@dataclass(frozen=True)
class Agent:
    instance: dict[str, str]
    user: dict[str, str]
    role_arn: str
    credentials: AwsCredentials


@pytest.fixture
def agent(connect_emulator: ConnectEmulator) -> Agent:
    """Connect user "Alice" in instance "emulator-test", and a session of the federation role named Alice."""
    instance = connect_emulator.create_instance("emulator-test")
    user = connect_emulator.create_user(instance["id"], "Alice")
    role_arn = connect_emulator.create_federation_role()
    return Agent(instance, user, role_arn, connect_emulator.credentials_for("Alice", role_arn))


@pytest.fixture
def no_retries() -> Config:
    """A botocore config that sends each call once, so a throttle or fault reaches the test."""
    return NO_RETRIES


def _federate(emulator: ConnectEmulator, instance_id: str, credentials: AwsCredentials) -> dict[str, Any]:
    connect = emulator.client("connect", config=NO_RETRIES, **credentials)
    response: dict[str, Any] = connect.get_federation_token(InstanceId=instance_id)
    return response


def _federation_error(
    emulator: ConnectEmulator, instance_id: str, credentials: AwsCredentials
) -> ClientError:
    with pytest.raises(ClientError) as raised:
        _federate(emulator, instance_id, credentials)
    return raised.value


def _error_of(error: ClientError) -> tuple[int, str, str]:
    status = error.response["ResponseMetadata"]["HTTPStatusCode"]
    return status, error.response["Error"]["Code"], error.response["Error"]["Message"]


@pytest.fixture
def federate() -> Federate:
    """``federate(emulator, instance_id, credentials)``: one GetFederationToken call, no retries; its response."""
    return _federate


@pytest.fixture
def federation_error() -> FederationError:
    """``federation_error(emulator, instance_id, credentials)``: the ClientError that one
    GetFederationToken call must raise (the test fails if it succeeds)."""
    return _federation_error


@pytest.fixture
def error_of() -> ErrorOf:
    """``error_of(client_error)``: its (HTTP status, error code, message)."""
    return _error_of
