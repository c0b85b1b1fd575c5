"""Each failure's exit status and stderr message."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError, NoCredentialsError, NoRegionError, ProfileNotFound

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed.cli.exit_codes import CommandFailed, ExitCode, UsageError, failure_of


@pytest.mark.parametrize(
    ("error", "exit_code", "message"),
    [
        (UsageError("bad value"), ExitCode.USAGE, "bad value"),
        (exc.InvalidInstanceIdError("bad id"), ExitCode.USAGE, "bad id"),
        (exc.InvalidConnectUserError("bad user"), ExitCode.USAGE, "bad user"),
        (
            ProfileNotFound(profile="p"),
            ExitCode.USAGE,
            "(ProfileNotFound) The config profile (p) could not be found. Pass",
        ),
        (NoRegionError(), ExitCode.USAGE, "(NoRegionError) You must specify a region. Pass --region"),
        (
            exc.UserNotFoundError("no user; fix", error_code="UserNotFoundException"),
            ExitCode.SERVICE,
            "(UserNotFoundException) no user; fix",
        ),
        (
            exc.ThrottlingError("slow down", error_code="ThrottlingException"),
            ExitCode.SERVICE,
            "(ThrottlingException) slow down",
        ),
        (
            exc.RootCredentialsError("root", error_code="InvalidRequestException"),
            ExitCode.SERVICE,
            "(InvalidRequestException) root",
        ),
        (
            exc.AssumeRoleError("no role", error_code="AccessDenied"),
            ExitCode.SERVICE,
            "(AccessDenied) no role",
        ),
        (
            exc.AwsConnectionError("unreachable", error_code="EndpointConnectionError"),
            ExitCode.FAILURE,
            "(EndpointConnectionError) unreachable",
        ),
        (
            EndpointConnectionError(endpoint_url="http://x"),
            ExitCode.FAILURE,
            "(EndpointConnectionError) Could not connect",
        ),
        (NoCredentialsError(), ExitCode.FAILURE, "(NoCredentialsError) Unable to locate credentials. Check"),
        (exc.InvalidFederationTokenError("odd response"), ExitCode.FAILURE, "odd response"),
        (CommandFailed("cannot listen"), ExitCode.FAILURE, "cannot listen"),
        (
            RuntimeError("boom"),
            ExitCode.FAILURE,
            "unexpected RuntimeError: boom. Rerun with --debug for details.",
        ),
    ],
)
def test_failure_of(error, exit_code, message):
    failure = failure_of(error)
    assert failure.exit_code == exit_code
    assert failure.message.startswith(message)


def test_statuses_are_the_aws_clis():
    assert [int(code) for code in ExitCode] == [0, 130, 252, 254, 255]
