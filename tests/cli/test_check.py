"""``connect-fed check`` against the local emulator: one PASS/FAIL/SKIP line per step."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed.cli import check as check_module
from airflow_connect_fed.token import FederationToken
from tests.cli.conftest import AGENT, Cli, Federation

pytestmark = pytest.mark.integration

ROOT_ARN = "arn:aws:iam::123456789012:root"


def check(cli: Cli, federation: Federation, *options: str) -> tuple[int, dict[str, tuple[str, str]], str]:
    """Exit code, ``{step: (status, detail)}`` and the summary line."""
    result = cli("check", "--instance-id", federation.instance_id, *options)
    *lines, summary = result.stdout.splitlines()
    steps = {line[6:24].strip(): (line[:4], line[25:]) for line in lines}
    return result.exit_code, steps, summary


def test_all_steps_pass(cli, federation, agent_conn):
    code, steps, summary = check(cli, federation, "--conn-id", agent_conn)
    assert code == 0
    assert list(steps) == [
        "identity",
        "instance reachable",
        "user mapped",
        "token expiry",
        "session durations",
    ]
    assert steps["identity"] == ("PASS", f"arn:aws:sts::123456789012:assumed-role/ConnectFederation/{AGENT}")
    assert steps["instance reachable"] == (
        "PASS",
        f"instance {federation.instance_id} answered GetFederationToken",
    )
    assert steps["user mapped"] == (
        "PASS",
        f"Connect user {federation.instance_arn}/agent/{federation.user_id}",
    )
    status, detail = steps["token expiry"]
    assert status == "PASS"
    assert detail.startswith(("access token valid for 0h59m, until ", "access token valid for 0h58m, until "))
    assert steps["session durations"] == (
        "PASS",
        "access tokens live 60 min (PeriodicSessionDuration), refresh tokens 720 min (MaxSessionDuration), "
        "profile 'Default Authentication Profile'; to keep a stored token usable, refresh every 27 min with "
        "reuse_if_valid_for=32 min",
    )
    assert summary == "5 passed, 0 failed, 0 skipped"


def test_the_session_durations_are_the_instances_profiles(cli, federation, agent_conn):
    federation.emulator.set_session_durations(
        federation.instance_id, periodic_session_duration=10, max_session_duration=480
    )
    code, steps, _ = check(cli, federation, "--conn-id", agent_conn)
    assert code == 0
    status, detail = steps["token expiry"]
    assert status == "PASS"
    assert detail.startswith(("access token valid for 0h09m, until ", "access token valid for 0h10m, until "))
    status, detail = steps["session durations"]
    assert status == "PASS"
    assert detail.startswith("access tokens live 10 min (PeriodicSessionDuration), refresh tokens 480 min")
    assert detail.endswith("refresh every 2 min with reuse_if_valid_for=7 min")


class DeniedProfiles:
    """A hook whose identity may not read authentication profiles."""

    def get_session_durations(self, instance_id):
        raise exc.AccessDeniedError("denied", error_code="AccessDeniedException")


def test_an_identity_that_may_not_read_profiles_skips_the_step():
    step = check_module._sessions(
        DeniedProfiles(), "i-1", check_module.Step("instance reachable", "PASS", "")
    )
    assert step == check_module.Step(
        "session durations",
        "SKIP",
        "this identity may not read the instance's authentication profiles (connect:ListAuthenticationProfiles, "
        "connect:DescribeAuthenticationProfile)",
    )


def test_connect_user_passes_through_the_role(cli, federation, agent_conn):
    code, steps, _ = check(
        cli, federation, "--conn-id", "worker", "--connect-user", AGENT, "--role-arn", federation.role_arn
    )
    assert code == 0
    assert {status for status, _ in steps.values()} == {"PASS"}


def test_unknown_user_fails_the_mapping_step(cli, federation, agent_conn):
    code, steps, summary = check(
        cli, federation, "--conn-id", "worker", "--connect-user", "Bob", "--role-arn", federation.role_arn
    )
    assert code == 254
    assert steps["instance reachable"][0] == "PASS"
    status, detail = steps["user mapped"]
    assert status == "FAIL"
    assert detail.startswith("(UserNotFoundException) ")
    assert "Create a Connect user whose username equals" in detail
    assert steps["token expiry"] == ("SKIP", "no token")
    assert steps["session durations"][0] == "PASS"
    assert summary == "3 passed, 1 failed, 1 skipped"


def test_unknown_instance_fails_the_instance_step(cli, federation, agent_conn):
    result = cli("check", "--instance-id", "no-such-instance", "--conn-id", agent_conn)
    assert result.exit_code == 254
    lines = result.stdout.splitlines()
    assert lines[1].startswith("FAIL  instance reachable (ResourceNotFoundException) ")
    assert lines[2:5] == [
        "SKIP  user mapped        needs the instance",
        "SKIP  token expiry       no token",
        "SKIP  session durations  needs the instance",
    ]


def test_root_identity_refused_before_any_federation_call(cli, federation, agent_conn):
    federation.emulator.counters.reset()
    code, steps, summary = check(cli, federation, "--conn-id", "root")
    assert code == 254
    status, detail = steps["identity"]
    assert status == "FAIL"
    assert detail.startswith(f"{ROOT_ARN} is the account root, which Amazon Connect refuses to federate.")
    assert "--connect-user with --role-arn" in detail
    assert summary == "0 passed, 1 failed, 4 skipped"
    assert federation.emulator.counters.totals().received == 0


def test_unreachable_endpoint_exits_255(cli, federation, monkeypatch):
    no_retries = {"retries": {"total_max_attempts": 1}}
    monkeypatch.setenv(*federation.connection("closed", federation.agent, config_kwargs=no_retries).popitem())
    code, steps, _ = check(cli, federation, "--conn-id", "closed", "--endpoint-url", "http://127.0.0.1:9")
    assert code == 255
    status, detail = steps["identity"]
    assert status == "FAIL"
    assert detail.startswith("(EndpointConnectionError) Could not connect to the endpoint URL")


def test_colors_statuses_on_request(cli, federation, agent_conn):
    result = cli("check", "--instance-id", federation.instance_id, "--conn-id", agent_conn, "--color", "on")
    assert result.exit_code == 0
    assert result.stdout.startswith("\x1b[32mPASS\x1b[0m  identity ")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--instance-id", "bad id"], "contains whitespace"),
        (["--instance-id", "i", "--connect-user", AGENT], "--connect-user needs --role-arn"),
        (
            ["--instance-id", "i", "--connect-user", "a b", "--role-arn", "arn:aws:iam::1:role/R"],
            "cannot be an STS role session name",
        ),
        (["--conn-id", "agent"], "the following arguments are required: --instance-id"),
    ],
)
def test_bad_values_are_usage_errors(cli, options, message):
    result = cli("check", *options)
    assert (result.exit_code, result.stdout) == (252, "")
    assert message in result.stderr


def token_expiring_at(expires: datetime) -> FederationToken:
    return FederationToken(
        access_token="a" * 40,
        access_token_expiration=expires,
        refresh_token="r" * 40,
        refresh_token_expiration=expires + timedelta(hours=12),
        sign_in_url="https://x.my.connect.aws/auth/sign-in",
        user_arn="arn:aws:connect:us-east-1:123456789012:instance/i/agent/u",
        user_id="u",
        instance_id="i",
    )


def test_expired_token_fails_the_expiry_step():
    expired = datetime(2020, 1, 1, tzinfo=UTC)
    assert check_module._expiry(token_expiring_at(expired)) == check_module.Step(
        "token expiry",
        "FAIL",
        "the access token expired at 2020-01-01T00:00:00+00:00: check this machine's clock",
    )


def test_expiry_step_shows_hours_and_minutes_left_without_tokens():
    step = check_module._expiry(
        token_expiring_at(datetime.now(UTC) + timedelta(hours=3, minutes=7, seconds=30))
    )
    assert step.status == "PASS"
    assert step.detail.startswith("access token valid for 3h07m, until ")
    assert "a" * 40 not in step.detail


@pytest.mark.parametrize(
    ("error", "instance_status", "user_status"),
    [
        (exc.AssumeRoleError("no session", error_code="AccessDenied"), "SKIP", "FAIL"),
        (
            exc.DuplicateResourceError("bound", error_code="DuplicateResourceException", instance_id="i"),
            "PASS",
            "FAIL",
        ),
        (exc.AccessDeniedError("denied", error_code="AccessDeniedException"), "FAIL", "SKIP"),
        (exc.ThrottlingError("slow", error_code="ThrottlingException"), "FAIL", "SKIP"),
    ],
)
def test_failures_land_on_their_step(error, instance_status, user_status):
    instance, user, expiry = check_module._failed(error)
    assert (instance.status, user.status, expiry.status) == (instance_status, user_status, "SKIP")
    failed = instance if instance_status == "FAIL" else user
    assert failed.detail == f"({error.error_code}) {error}"
