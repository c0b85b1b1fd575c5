"""Exit statuses of ``connect-fed`` (the AWS CLI's) and the one-line error each failure prints.

0 success, 252 a command-line value was wrong, 254 AWS answered with an error, 255 anything else
(AWS unreachable, no credentials, an unexpected failure), 130 interrupted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from airflow_connect_fed import exceptions as exc


class ExitCode(IntEnum):
    SUCCESS = 0
    INTERRUPTED = 130
    USAGE = 252
    SERVICE = 254
    FAILURE = 255


class UsageError(Exception):
    """A command-line value is wrong or missing; the message says which and what to pass instead."""


class CommandFailed(Exception):
    """A command could not do its work for a reason its message explains (exit 255)."""


@dataclass(frozen=True)
class Failure:
    """How a command failed: the exit status and the message for stderr (never holding a token)."""

    exit_code: ExitCode
    message: str


def failure_of(error: Exception) -> Failure:
    """Classify an exception raised by a command into its exit status and stderr message."""
    if isinstance(error, (UsageError, exc.InvalidInputError)):
        return Failure(ExitCode.USAGE, str(error))
    if isinstance(error, exc.AwsConnectionError):
        return Failure(ExitCode.FAILURE, f"({error.error_code}) {error}")
    if isinstance(error, exc.ConnectApiError):
        return Failure(ExitCode.SERVICE, f"({error.error_code}) {error}")
    if isinstance(error, (exc.ConnectFederationError, CommandFailed)):
        return Failure(ExitCode.FAILURE, str(error))
    return _botocore_failure(error) or Failure(
        ExitCode.FAILURE, f"unexpected {type(error).__name__}: {error}. Rerun with --debug for details."
    )


def _botocore_failure(error: Exception) -> Failure | None:
    """Errors botocore raises while setting up a session, before the hook can translate them."""
    from botocore.exceptions import BotoCoreError, NoRegionError, ProfileNotFound

    if isinstance(error, ProfileNotFound):
        return Failure(
            ExitCode.USAGE,
            f"({type(error).__name__}) {error}. Pass a profile defined in AWS_CONFIG_FILE or "
            "AWS_SHARED_CREDENTIALS_FILE (~/.aws/config, ~/.aws/credentials), or drop --profile.",
        )
    if isinstance(error, NoRegionError):
        return Failure(
            ExitCode.USAGE,
            f"({type(error).__name__}) {error} Pass --region, set region_name in the connection's extra, "
            "or set AWS_DEFAULT_REGION.",
        )
    if isinstance(error, BotoCoreError):
        return Failure(
            ExitCode.FAILURE,
            f"({type(error).__name__}) {error}. Check the credentials, --region and --endpoint-url.",
        )
    return None
