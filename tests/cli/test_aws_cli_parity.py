"""``connect-fed`` and the AWS CLI, pointed at the same emulator with the same credentials, agree.

Each call mints a new token, so values that identify the user must be equal while expirations are
compared as instants a few seconds apart, in the same ISO-8601 format. The AWS CLI v1 prints wire
timestamps unless ``cli_timestamp_format = iso8601`` (v2's default), and renders them in local
time, so it runs with that setting and ``TZ=UTC``; connect-fed always renders UTC.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, Federation

AWS_CLI = Path(sys.executable).with_name("aws")
ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$")
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not AWS_CLI.exists(), reason=f"the AWS CLI is not installed at {AWS_CLI}"),
]


@pytest.fixture(scope="module")
def aws_env(federation: Federation, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The agent's session credentials and no developer settings: an ISO-8601 config, empty credentials."""
    home = tmp_path_factory.mktemp("aws")
    (home / "config").write_text("[default]\ncli_timestamp_format = iso8601\n")
    (home / "credentials").write_text("")
    env = {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}
    env.update({name.upper(): value for name, value in federation.agent.items()})
    env.update(
        AWS_CONFIG_FILE=str(home / "config"), AWS_SHARED_CREDENTIALS_FILE=str(home / "credentials"), TZ="UTC"
    )
    return env


def aws(federation: Federation, env: dict[str, str], *options: str) -> str:
    command = [
        str(AWS_CLI), "connect", "get-federation-token", "--instance-id", federation.instance_id,
        "--endpoint-url", federation.endpoint_url, "--region", "us-east-1", *options,
    ]  # fmt: skip
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


def connect_fed(cli: Cli, federation: Federation, *options: str) -> str:
    result = cli(
        "get-federation-token", "--instance-id", federation.instance_id, "--conn-id", "agent",
        "--endpoint-url", federation.endpoint_url, "--region", "us-east-1", *options,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    return result.stdout


@pytest.mark.parametrize("output", ["text", "json"])
def test_sign_in_url(cli, federation, agent_conn, aws_env, output):
    options = ("--query", "SignInUrl", "--output", output)
    ours, theirs = connect_fed(cli, federation, *options), aws(federation, aws_env, *options)
    assert ours == theirs
    assert theirs.strip().strip('"') == federation.sign_in_url


@pytest.mark.parametrize("output", ["text", "json"])
def test_access_token_expiration(cli, federation, agent_conn, aws_env, output):
    options = ("--query", "Credentials.AccessTokenExpiration", "--output", output)
    ours, theirs = connect_fed(cli, federation, *options), aws(federation, aws_env, *options)
    if output == "json":
        ours, theirs = json.loads(ours), json.loads(theirs)
    ours, theirs = ours.strip(), theirs.strip()
    assert ISO_UTC.match(ours), ours
    assert ISO_UTC.match(theirs), theirs
    assert abs(datetime.fromisoformat(ours) - datetime.fromisoformat(theirs)) < timedelta(seconds=5)


@pytest.fixture
def ten_minute_access_tokens(federation):
    """The instance's profile at PeriodicSessionDuration=10 for one test (the fixture is the module's)."""
    federation.emulator.set_session_durations(federation.instance_id, periodic_session_duration=10)
    yield
    federation.emulator.set_session_durations(federation.instance_id, periodic_session_duration=60)


def test_both_lifetimes_follow_the_profile_as_the_aws_cli_reads_them(
    cli, federation, agent_conn, aws_env, ten_minute_access_tokens
):
    ours, theirs = json.loads(connect_fed(cli, federation)), json.loads(aws(federation, aws_env))
    now = datetime.now(UTC)
    for name, minutes in (("AccessTokenExpiration", 10), ("RefreshTokenExpiration", 720)):
        mine, aws_cli = (datetime.fromisoformat(document["Credentials"][name]) for document in (ours, theirs))
        assert abs(mine - aws_cli) < timedelta(seconds=5), name
        assert abs(mine - (now + timedelta(minutes=minutes))) < timedelta(seconds=30), name


def test_json_document_has_the_same_shape(cli, federation, agent_conn, aws_env):
    ours, theirs = json.loads(connect_fed(cli, federation)), json.loads(aws(federation, aws_env))
    assert list(ours) == list(theirs)
    assert list(ours["Credentials"]) == list(theirs["Credentials"])
    for key in ("UserId", "UserArn", "SignInUrl"):
        assert ours[key] == theirs[key]


@pytest.mark.parametrize("kind", ["input", "output"])
def test_generate_cli_skeleton(cli, federation, aws_env, kind):
    result = cli("get-federation-token", "--generate-cli-skeleton", kind)
    assert result.exit_code == 0
    assert result.stdout == aws(federation, aws_env, "--generate-cli-skeleton", kind)


def masked(output: str) -> str:
    """Output with this call's tokens and instants replaced, and runs of spaces collapsed."""
    output = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00", "<instant>", output)
    output = re.sub(r"(?<![\w-])[\w-]{64}(?![\w-])", "<token>", output)
    return re.sub(" +", " ", output)


@pytest.mark.parametrize("output", ["text", "table"])
def test_rendering_matches_with_tokens_shown(cli, federation, agent_conn, aws_env, output):
    ours = connect_fed(cli, federation, "--show-tokens", "--output", output)
    theirs = aws(federation, aws_env, "--output", output, "--color", "off")
    assert ours.count("<token>") == 0
    assert masked(ours) == masked(theirs)
    assert masked(ours).count("<token>") == 2
