"""``connect-fed check``: can this configuration get a federation token? One line per step.

Steps: the calling identity (refused when it is the account root), the instance answering, the
identity mapping to a Connect user, the token's expiry, and the instance's session durations (its
default authentication profile, when the identity may read it: a SKIP otherwise, never a FAIL).
A failed step says why and what to do; the steps after it are skipped. Exit 0 when all pass, 254 when AWS refused, 255 when it was not
reached. The token itself is never printed.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Literal

from airflow_connect_fed import exceptions as exc
from airflow_connect_fed._client.connect_user import validate_connect_user
from airflow_connect_fed._client.instance import InstanceRef
from airflow_connect_fed.cli.arguments import check_connect_user
from airflow_connect_fed.cli.color import Palette, Style
from airflow_connect_fed.cli.exit_codes import ExitCode

if TYPE_CHECKING:
    import argparse

    from airflow_connect_fed.hooks.connect_federation import ConnectFederationHook
    from airflow_connect_fed.token import FederationToken

Status = Literal["PASS", "FAIL", "SKIP"]
_STYLES: dict[Status, Style] = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped"}
_USER_ERRORS = (exc.UserNotFoundError, exc.DuplicateResourceError)
IDENTITY, INSTANCE, USER, EXPIRY = "identity", "instance reachable", "user mapped", "token expiry"
SESSIONS = "session durations"


@dataclass(frozen=True)
class Step:
    name: str
    status: Status
    detail: str

    def line(self, palette: Palette) -> str:
        return f"{palette.paint(self.status, _STYLES[self.status])}  {self.name:<18} {self.detail}"


def run(args: argparse.Namespace) -> ExitCode:
    InstanceRef.parse(args.instance_id).resolve_region(args.region)
    check_connect_user(args)
    if args.connect_user is not None:
        validate_connect_user(args.connect_user, args.role_arn)
    from airflow_connect_fed.cli.logs import logs_to_stderr

    palette = Palette.for_stream(args.color, sys.stdout)
    with logs_to_stderr(debug=args.debug):
        from airflow_connect_fed.cli.connection import AwsOptions, CommandLineHook

        hook = CommandLineHook(AwsOptions.from_args(args))
        identity, exit_code = _identity(hook)
        if exit_code is ExitCode.SUCCESS:
            federation, exit_code = _federation(hook, args)
            federation.append(_sessions(hook, args.instance_id, federation[0]))
        else:
            federation = [
                Step(name, "SKIP", "needs the identity") for name in (INSTANCE, USER, EXPIRY, SESSIONS)
            ]
    steps = [identity, *federation]
    for step in steps:
        print(step.line(palette))
    counts = {status: sum(step.status == status for step in steps) for status in _STYLES}
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIP']} skipped")
    return exit_code


def _identity(hook: ConnectFederationHook) -> tuple[Step, ExitCode]:
    """Who the connection authenticates as; the account root fails, as Connect would refuse it."""
    from botocore.exceptions import BotoCoreError, ClientError, NoRegionError, ProfileNotFound

    try:
        arn = hook.caller_arn()
    except (ProfileNotFound, NoRegionError):
        raise  # fixed on the command line: a usage error, reported by main
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "Unknown")
        detail = f"({code}) STS GetCallerIdentity refused the credentials: {error}. Check the access key."
        return Step(IDENTITY, "FAIL", detail), ExitCode.SERVICE
    except BotoCoreError as error:
        detail = f"({type(error).__name__}) {error}. Check the credentials, --region and --endpoint-url."
        return Step(IDENTITY, "FAIL", detail), ExitCode.FAILURE
    if arn.endswith(":root"):
        detail = (
            f"{arn} is the account root, which Amazon Connect refuses to federate. Use an IAM user or role "
            "session named like a Connect user: the connection's credentials, --profile, or --connect-user "
            "with --role-arn."
        )
        return Step(IDENTITY, "FAIL", detail), ExitCode.SERVICE
    return Step(IDENTITY, "PASS", arn), ExitCode.SUCCESS


def _federation(hook: ConnectFederationHook, args: argparse.Namespace) -> tuple[list[Step], ExitCode]:
    """The instance, user and expiry steps, from one GetFederationToken call."""
    try:
        token = hook.get_federation_token(
            args.instance_id, connect_user=args.connect_user, role_arn=args.role_arn
        )
    except exc.ConnectApiError as error:
        unreachable = isinstance(error, exc.AwsConnectionError)
        return _failed(error), ExitCode.FAILURE if unreachable else ExitCode.SERVICE
    expiry = _expiry(token)
    steps = [
        Step(INSTANCE, "PASS", f"instance {token.instance_id} answered GetFederationToken"),
        Step(USER, "PASS", f"Connect user {token.user_arn}"),
        expiry,
    ]
    return steps, ExitCode.SUCCESS if expiry.status == "PASS" else ExitCode.SERVICE


def _failed(error: exc.ConnectApiError) -> list[Step]:
    """Which step a GetFederationToken failure belongs to; the steps it prevented are skipped."""
    failed_user = Step(USER, "FAIL", f"({error.error_code}) {error}")
    no_token = Step(EXPIRY, "SKIP", "no token")
    if isinstance(error, exc.AssumeRoleError):
        return [
            Step(INSTANCE, "SKIP", "not called: the role session could not be created"),
            failed_user,
            no_token,
        ]
    if isinstance(error, exc.RootCredentialsError):
        return [
            Step(INSTANCE, "SKIP", "not checked: Connect refuses the root identity first"),
            failed_user,
            no_token,
        ]
    if isinstance(error, _USER_ERRORS):
        return [Step(INSTANCE, "PASS", f"instance {error.instance_id} answered"), failed_user, no_token]
    failed_instance = Step(INSTANCE, "FAIL", f"({error.error_code}) {error}")
    return [failed_instance, Step(USER, "SKIP", "needs the instance"), no_token]


def _sessions(hook: ConnectFederationHook, instance_id: str, instance: Step) -> Step:
    """The instance's session durations and the refresh schedule they advise; SKIP when unreadable."""
    if instance.status == "FAIL":
        return Step(SESSIONS, "SKIP", "needs the instance")
    try:
        durations = hook.get_session_durations(instance_id)
    except exc.AccessDeniedError:
        return Step(
            SESSIONS,
            "SKIP",
            "this identity may not read the instance's authentication profiles (connect:ListAuthenticationProfiles, "
            "connect:DescribeAuthenticationProfile)",
        )
    except exc.ConnectApiError as error:
        return Step(SESSIONS, "SKIP", f"({error.error_code or type(error).__name__}) {error}")
    advice = durations.advised_schedule
    return Step(
        SESSIONS,
        "PASS",
        f"access tokens live {_minutes(durations.access_token)} (PeriodicSessionDuration), refresh tokens "
        f"{_minutes(durations.refresh_token)} (MaxSessionDuration), profile {durations.profile_name!r}; to keep a "
        f"stored token usable, refresh every {_minutes(advice.run_every)} with reuse_if_valid_for="
        f"{_minutes(advice.reuse_if_valid_for)}",
    )


def _minutes(duration: timedelta) -> str:
    return f"{duration.total_seconds() / 60:g} min"


def _expiry(token: FederationToken) -> Step:
    left = token.expires_in()
    until = token.access_token_expiration.isoformat()
    if left <= timedelta(0):
        return Step(EXPIRY, "FAIL", f"the access token expired at {until}: check this machine's clock")
    hours, seconds = divmod(int(left.total_seconds()), 3600)
    refresh_until = token.refresh_token_expiration.isoformat()
    return Step(
        EXPIRY,
        "PASS",
        f"access token valid for {hours}h{seconds // 60:02d}m, until {until}; refresh token until {refresh_until}",
    )
