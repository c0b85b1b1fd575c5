"""``amazon-connect-emulator``: options reach ``serve``; ``seed`` seeds; bad values are usage errors."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from amazon_connect_emulator import emulator


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(emulator, "serve", lambda **options: calls.append(options))
    return calls


def test_unset_options_keep_the_emulators_defaults(cli, served):
    assert cli().exit_code == 0
    assert served == [{}]


def test_help_shows_the_emulators_defaults(cli):
    result = cli("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    for option, default in [
        ("--host", "127.0.0.1"), ("--port", "0"), ("--region", "us-east-1"), ("--requests-per-second", "2.0"),
        ("--burst", "5"), ("--fault-rate", "0.0"), ("--root-access-key", "AKIAEMULATORROOT0000"),
        ("--periodic-session-duration", "60"), ("--max-session-duration", "720"),
        ("--api-requests-per-second", "2.0"), ("--api-burst", "5"),
    ]:  # fmt: skip
        assert re.search(
            rf"{option} {option.lstrip('-').upper().replace('-', '_')} [^(]*\(default: {default}\)", text
        )


def test_every_option_is_passed(cli, served):
    result = cli(
        "--host", "localhost", "--port", "4566", "--region", "eu-west-2", "--requests-per-second", "10",
        "--burst", "20", "--fault-rate", "0.25", "--root-access-key", "AKIAROOTROOTROOT0000",
        "--periodic-session-duration", "15", "--max-session-duration", "360",
        "--api-requests-per-second", "0.5", "--api-burst", "3", "--secretsmanager-writes-per-second", "5",
        "--secretsmanager-write-burst", "7",
    )  # fmt: skip
    assert result.exit_code == 0
    assert served == [
        {
            "host": "localhost",
            "port": 4566,
            "region": "eu-west-2",
            "requests_per_second": 10.0,
            "burst": 20,
            "fault_rate": 0.25,
            "root_access_key": "AKIAROOTROOTROOT0000",
            "periodic_session_duration": 15,
            "max_session_duration": 360,
            "api_requests_per_second": 0.5,
            "api_burst": 3,
            "secretsmanager_writes_per_second": 5.0,
            "secretsmanager_write_burst": 7,
        }
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            ["--requests-per-second", "-1"],
            "--requests-per-second must be a finite number > 0 (GetFederationToken's quota is about 2 per account and region), got -1.0.",
        ),
        (
            ["--secretsmanager-write-burst", "0"],
            "--secretsmanager-write-burst must be a whole number >= 1 (Secrets Manager's write is about 50), got 0.",
        ),
        (["--fault-rate", "1.5"], "--fault-rate must be a number from 0.0 to 1.0, got 1.5"),
        (["--fault-rate", "-0.1"], "--fault-rate must be a number from 0.0 to 1.0"),
        (["--burst", "0"], "--burst must be a whole number >= 1 (GetFederationToken's is about 5), got 0."),
        (["--port", "70000"], "--port must be an integer from 0 (any free port) to 65535"),
        (
            ["--periodic-session-duration", "9"],
            "--periodic-session-duration must be a whole number of minutes from 10 to 60, got 9",
        ),
        (
            ["--periodic-session-duration", "61"],
            "--periodic-session-duration must be a whole number of minutes from 10 to 60, got 61",
        ),
        (
            ["--max-session-duration", "359"],
            "--max-session-duration must be a whole number of minutes from 360 to 720, got 359",
        ),
        (
            ["--max-session-duration", "721"],
            "--max-session-duration must be a whole number of minutes from 360 to 720, got 721",
        ),
        (["--root-access-key", "lower"], "--root-access-key must be 16 to 128 upper-case letters"),
        (["--region", "mars"], "--region must be an AWS region name"),
        (
            ["--api-requests-per-second", "0"],
            "--api-requests-per-second must be a finite number > 0 (each other Connect operation's quota is about 2 per account and region), got 0.0.",
        ),
        (
            ["--api-burst", "0"],
            "--api-burst must be a whole number >= 1 (each other Connect operation's is about 5), got 0.",
        ),
    ],
)
def test_bad_values_are_usage_errors(cli, options, message):
    result = cli(*options)
    assert (result.exit_code, result.stdout) == (252, "")
    assert result.stderr.startswith(f"amazon-connect-emulator: error: {message}")


def test_port_must_be_a_number(cli):
    result = cli("--port", "http")
    assert result.exit_code == 252
    assert "argument --port: invalid int value: 'http'" in result.stderr


def test_busy_port_exits_255(cli):
    with emulator.ConnectEmulator() as running:
        port = running.endpoint_url.rsplit(":", 1)[1]
        result = cli("--port", port)
    assert result.exit_code == 255
    assert result.stderr.startswith(f"amazon-connect-emulator: error: cannot listen on 127.0.0.1:{port}: ")


# emulator seed


README_INSTANCE_ARN = "arn:aws:connect:us-east-1:123456789012:instance/11111111-2222-3333-4444-555555555555"


@pytest.mark.integration
def test_seed_defaults_are_the_readme_dag_values(cli, connect_emulator, served):
    url = connect_emulator.endpoint_url
    result = cli("seed", "--endpoint-url", url)
    assert (result.exit_code, result.stderr, served) == (0, "", [])
    instance, user, role = result.stdout.splitlines()
    assert instance == f"created  instance 11111111-2222-3333-4444-555555555555  {README_INSTANCE_ARN}"
    assert user.startswith("created  user     agent-1  id ")
    assert user.endswith(f"  {README_INSTANCE_ARN}/agent/{user.split()[4]}")
    assert role.startswith("created  role     ConnectFederation  id ")
    assert role.endswith("  arn:aws:iam::123456789012:role/ConnectFederation")

    again = cli("seed", "--endpoint-url", url)
    assert again.exit_code == 0
    assert again.stdout == result.stdout.replace("created  ", "exists   ")


@pytest.mark.integration
def test_seed_options(cli, connect_emulator):
    result = cli(
        "seed", "--endpoint-url", connect_emulator.endpoint_url + "/", "--region", "eu-west-2",
        "--instance-id", "abc", "--user", "Alice", "--user", "Bob", "--role-name", "Fed",
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert [line.split()[:3] for line in result.stdout.splitlines()] == [
        ["created", "instance", "abc"],
        ["created", "user", "Alice"],
        ["created", "user", "Bob"],
        ["created", "role", "Fed"],
    ]
    users = connect_emulator.client("connect", region_name="eu-west-2").list_users(InstanceId="abc")
    assert sorted(u["Username"] for u in users["UserSummaryList"]) == ["Alice", "Bob"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--endpoint-url", "127.0.0.1:5000"], "--endpoint-url must be the emulator's URL like 'http://127.0.0.1:5000', got '127.0.0.1:5000'. Start it with `amazon-connect-emulator` and pass the URL its first line prints."),
        (["--endpoint-url", "http://127.0.0.1:5000?x=1"], "--endpoint-url must be the emulator's URL"),
        (["--region", "mars"], "--region must be an AWS region name like 'us-east-1', got 'mars'"),
        (["--instance-id", README_INSTANCE_ARN], f"--instance-id must be 1 to 100 letters, digits and hyphens, like '11111111-2222-3333-4444-555555555555' (an id, not an ARN), got '{README_INSTANCE_ARN}'"),
        (["--user", "agent 1"], "--user must be 2 to 64 letters, digits or _.@- (a Connect username usable as an STS role session name), got 'agent 1'"),
        (["--user", "a", "--user", "a"], "--user must be 2 to 64 letters"),
        (["--user", "agent-1", "--user", "agent-1"], "--user 'agent-1' is given more than once; give each Connect username once"),
        (["--role-name", "a/b"], "--role-name must be 1 to 64 letters, digits or _+=,.@- (an IAM role name), got 'a/b'"),
    ],
)  # fmt: skip
def test_seed_bad_values_are_usage_errors(cli, options, message):
    if "--endpoint-url" not in options:
        options = [
            "--endpoint-url",
            "http://127.0.0.1:9",
            *options,
        ]  # never reached: values are checked first
    result = cli("seed", *options)
    assert (result.exit_code, result.stdout) == (252, "")
    assert result.stderr.startswith(f"amazon-connect-emulator: error: {message}")


def test_seed_needs_the_endpoint_url(cli):
    result = cli("seed")
    assert result.exit_code == 252
    assert "the following arguments are required: --endpoint-url" in result.stderr


def test_seed_of_an_unreachable_emulator_exits_255(cli):
    result = cli("seed", "--endpoint-url", "http://127.0.0.1:9")
    assert (result.exit_code, result.stdout) == (255, "")
    assert result.stderr.startswith(
        "amazon-connect-emulator: error: cannot reach the emulator at http://127.0.0.1:9: "
    )
    assert result.stderr.rstrip().endswith("pass the URL its first line prints.")


def test_seed_help_names_the_defaults(cli):
    from amazon_connect_emulator.seed import DEFAULT_INSTANCE_ID, DEFAULT_ROLE_NAME, DEFAULT_USERS

    result = cli("seed", "--help")
    assert result.exit_code == 0
    help_text = " ".join(result.stdout.split())
    for default in (DEFAULT_INSTANCE_ID, *DEFAULT_USERS, DEFAULT_ROLE_NAME):
        assert f"(default: {default})" in help_text


@pytest.mark.integration
def test_the_console_script_serves_until_interrupted():
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("amazon-connect-emulator")),
            "--port",
            "0",
            "--region",
            "eu-west-1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()  # type: ignore[union-attr]
        assert line.startswith("amazon-connect-emulator listening on http://127.0.0.1:")
        endpoint_url = line.split(" on ", 1)[1].strip()
        sts = boto3.client(
            "sts",
            endpoint_url=endpoint_url,
            region_name="eu-west-1",
            aws_access_key_id="AKIAEMULATORROOT0000",
            aws_secret_access_key="testing",
        )
        assert sts.get_caller_identity()["Account"] == "123456789012"
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=30)
    assert process.returncode == 0
