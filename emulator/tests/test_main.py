"""``python -m amazon_connect_emulator``: the ready line and how to connect, a working URL, ``seed``,
clean exit on signals, bad options."""

from __future__ import annotations

import json
import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.integration

READY = re.compile(r"amazon-connect-emulator listening on (http://127\.0\.0\.1:\d+)\n")
INSTANCE_ID = "11111111-2222-3333-4444-555555555555"
INSTANCE_ARN = f"arn:aws:connect:us-east-1:123456789012:instance/{INSTANCE_ID}"
ROLE_ARN = "arn:aws:iam::123456789012:role/ConnectFederation"


def start(*options: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "amazon_connect_emulator", *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def read_lines(process: subprocess.Popen[str], count: int, timeout: float = 30) -> list[str]:
    """The next ``count`` stdout lines, read in a thread so a silent server fails the test instead of hanging it."""
    stdout = process.stdout
    assert stdout is not None
    lines: list[str] = []
    reader = threading.Thread(
        target=lambda: lines.extend(stdout.readline() for _ in range(count)), daemon=True
    )
    reader.start()
    reader.join(timeout)
    assert len(lines) == count, f"{len(lines)} of {count} lines within the timeout: {lines}"
    return lines


def ready_url(process: subprocess.Popen[str]) -> str:
    """The URL from the ready line, which comes first."""
    (line,) = read_lines(process, 1)
    match = READY.fullmatch(line)
    assert match, f"unexpected first line {line!r}"
    return match[1]


def how_to_connect(process: subprocess.Popen[str], url: str) -> dict[str, str]:
    """The variables of the ``export`` lines after the ready line, checked line by line."""
    lines = read_lines(process, 7)
    assert [line[:2] for line in lines] == ["# ", "ex", "# ", "ex", "ex", "# ", "# "]
    assert lines[6] == f"#   amazon-connect-emulator seed --endpoint-url {url}\n"
    exports = [shlex.split(line) for line in lines if line.startswith("export ")]
    assert all(len(words) == 2 and words[0] == "export" for words in exports)
    return dict(words[1].split("=", 1) for words in exports)


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
    how_to_connect(server, url)
    access_token = federate_once(url)

    server.send_signal(stop_signal)
    stdout, stderr = server.communicate(timeout=10)  # TimeoutExpired fails the test
    assert server.returncode == 0
    assert stdout == ""  # nothing after the ready line and how to connect
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


def seed_command(url: str, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "amazon_connect_emulator", "seed", "--endpoint-url", url, *options]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def test_printed_settings_and_seed_serve_the_readme_dag_values(server: subprocess.Popen[str]) -> None:
    url = ready_url(server)
    env = how_to_connect(server, url)
    assert list(env) == [
        "AIRFLOW_CONN_AWS_DEFAULT",
        "AIRFLOW__SECRETS__BACKEND",
        "AIRFLOW__SECRETS__BACKEND_KWARGS",
    ]
    connection = json.loads(env["AIRFLOW_CONN_AWS_DEFAULT"])
    services = ("sts", "connect", "secretsmanager", "ssm", "iam")
    assert connection["extra"] == {
        "region_name": "us-east-1",
        "endpoint_url": url,
        "service_config": {service: {"endpoint_url": url} for service in services},
    }
    federator = {"aws_access_key_id": connection["login"], "aws_secret_access_key": connection["password"]}
    identity = client(url, "sts", **federator).get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/emulator-federator"  # an IAM user, not the root

    seeded = seed_command(url)
    assert (seeded.returncode, seeded.stderr) == (0, "")
    instance, user, role = seeded.stdout.splitlines()
    assert instance == f"created  instance {INSTANCE_ID}  {INSTANCE_ARN}"
    user_match = re.fullmatch(rf"created  user     agent-1  id (\S+)  ({INSTANCE_ARN}/agent/\1)", user)
    assert user_match, user
    assert re.fullmatch(rf"created  role     ConnectFederation  id AROA\w+  {ROLE_ARN}", role)
    again = seed_command(url)
    assert again.returncode == 0
    assert [line.split()[:2] for line in again.stdout.splitlines()] == [
        ["exists", "instance"],
        ["exists", "user"],
        ["exists", "role"],
    ]

    # The federator assumes the seeded role as agent-1 and federates, with nothing but boto3.
    sts = client(url, "sts", **federator)
    session = sts.assume_role(RoleArn=ROLE_ARN, RoleSessionName="agent-1")["Credentials"]
    agent = {
        "aws_access_key_id": session["AccessKeyId"],
        "aws_secret_access_key": session["SecretAccessKey"],
        "aws_session_token": session["SessionToken"],
    }
    federated = client(url, "connect", **agent).get_federation_token(InstanceId=INSTANCE_ID)
    assert (federated["UserId"], federated["UserArn"]) == (user_match[1], user_match[2])
    assert federated["Credentials"]["AccessToken"]

    assert env["AIRFLOW__SECRETS__BACKEND"] == (
        "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
    )
    kwargs = json.loads(env["AIRFLOW__SECRETS__BACKEND_KWARGS"])
    assert (kwargs["endpoint_url"], kwargs["aws_access_key_id"]) == (url, federator["aws_access_key_id"])


def test_seed_errors(server: subprocess.Popen[str]) -> None:
    url = ready_url(server)
    bad_url = seed_command("127.0.0.1:5000")
    assert (bad_url.returncode, bad_url.stdout) == (252, "")
    assert bad_url.stderr.startswith(
        "amazon-connect-emulator: error: --endpoint-url must be the emulator's URL like 'http://127.0.0.1:5000', "
        "got '127.0.0.1:5000'. Start it with `amazon-connect-emulator` and pass the URL its first line prints."
    )
    bad_id = seed_command(url, "--instance-id", "no/slash")
    assert (bad_id.returncode, bad_id.stdout) == (252, "")
    assert "error: --instance-id must be 1 to 100 letters, digits and hyphens" in bad_id.stderr
    assert "got 'no/slash'" in bad_id.stderr
    unreachable = seed_command("http://127.0.0.1:9")
    assert (unreachable.returncode, unreachable.stdout) == (255, "")
    assert unreachable.stderr.startswith(
        "amazon-connect-emulator: error: cannot reach the emulator at http://127.0.0.1:9: "
    )
    no_connect_there = seed_command(url, "--region", "eu-west-1")
    assert (no_connect_there.returncode, no_connect_there.stdout) == (255, "")
    assert (
        f"error: the emulator at {url} refused the instance: Region must be an AWS region moto serves Connect "
        "in, like 'us-east-1', got 'eu-west-1'"
    ) in no_connect_there.stderr
    assert "Traceback" not in bad_url.stderr + bad_id.stderr + unreachable.stderr + no_connect_there.stderr


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--fault-rate", "1.5", "--fault-rate must be a number from 0.0 to 1.0, got 1.5"),
        (
            "--requests-per-second",
            "-1",
            "--requests-per-second must be a finite number > 0 (GetFederationToken's quota is about 2 per account and region), got -1.0.",
        ),
        ("--port", "70000", "--port must be an integer from 0 (any free port) to 65535, got 70000"),
        ("--port", "http", "invalid int value: 'http'"),
    ],
)
def test_bad_options_are_usage_errors(option: str, value: str, expected: str) -> None:
    process = start(option, value)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 252  # the AWS CLI's usage-error code
    assert stdout == ""
    assert expected in stderr
