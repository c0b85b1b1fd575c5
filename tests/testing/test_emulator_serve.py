"""``python -m airflow_connect_fed.testing``: the ready line, a working URL, clean exit on signals, bad options."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

READY = re.compile(r"connect-fed emulator listening on (http://127\.0\.0\.1:\d+)\n")


def start(*options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "airflow_connect_fed.testing", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def ready_url(process: subprocess.Popen[str], timeout: float = 30) -> str:
    """The URL from the ready line, read in a thread so a silent server fails the test instead of hanging it."""
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    assert lines, "no ready line within the timeout"
    match = READY.fullmatch(lines[0])
    assert match, f"unexpected first line {lines[0]!r}"
    return match[1]


@pytest.fixture
def server() -> Iterator[subprocess.Popen[str]]:
    process = start("--port", "0")
    yield process
    if process.poll() is None:
        process.kill()
        process.wait()


def client(url: str, service: str, **credentials: str) -> Any:
    credentials = {
        "aws_access_key_id": "AKIAEMULATORROOT0000",
        "aws_secret_access_key": "testing",
        **credentials,
    }
    return boto3.session.Session().client(
        service,  # type: ignore[call-overload]
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(retries={"total_max_attempts": 1}),
        **credentials,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serves_until_signalled(server: subprocess.Popen[str], stop_signal: signal.Signals) -> None:
    url = ready_url(server)
    access_token = federate_once(url)

    signalled = time.monotonic()
    server.send_signal(stop_signal)
    stdout, stderr = server.communicate(timeout=10)
    assert server.returncode == 0
    assert time.monotonic() - signalled < 5
    assert stdout == ""  # nothing after the ready line
    assert "GET /user/federate/" in stderr  # request log goes to stderr ...
    assert access_token not in stderr  # ... and never shows a token


def federate_once(url: str) -> str:
    """Create an instance, user and role through the server and federate once; returns the access token."""
    instance_id = client(url, "connect").create_instance(
        IdentityManagementType="SAML",
        InstanceAlias="served",
        InboundCallsEnabled=True,
        OutboundCallsEnabled=True,
    )["Id"]
    client(url, "connect").create_user(
        InstanceId=instance_id, Username="Alice", SecurityProfileIds=["p"], RoutingProfileId="r"
    )
    role_arn = client(url, "iam").create_role(RoleName="Federation", AssumeRolePolicyDocument="{}")["Role"][
        "Arn"
    ]
    iam = client(url, "iam")
    iam.create_user(UserName="federator")
    key = iam.create_access_key(UserName="federator")["AccessKey"]
    federator = {"aws_access_key_id": key["AccessKeyId"], "aws_secret_access_key": key["SecretAccessKey"]}
    session = client(url, "sts", **federator).assume_role(RoleArn=role_arn, RoleSessionName="Alice")[
        "Credentials"
    ]
    agent = client(
        url,
        "connect",
        aws_access_key_id=session["AccessKeyId"],
        aws_secret_access_key=session["SecretAccessKey"],
        aws_session_token=session["SessionToken"],
    )
    response = agent.get_federation_token(InstanceId=instance_id)
    assert response["UserId"]
    token: str = response["Credentials"]["AccessToken"]
    return token


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--fault-rate", "1.5", "--fault-rate must be a number from 0.0 to 1.0, got 1.5"),
        ("--requests-per-second", "-1", "--requests-per-second must be a finite number > 0, got -1.0"),
        ("--port", "70000", "--port must be an integer from 0 (any free port) to 65535, got 70000"),
        ("--port", "http", "invalid int value: 'http'"),
    ],
)
def test_bad_options_are_usage_errors(option: str, value: str, expected: str) -> None:
    process = start(option, value)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 252  # as `connect-fed emulator`: the AWS CLI's usage-error code
    assert stdout == ""
    assert expected in stderr
