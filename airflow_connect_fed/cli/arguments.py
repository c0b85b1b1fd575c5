"""The ``connect-fed`` command line: subcommands, their options, and value checks at parse time.

Only the standard library and ``jmespath`` are imported here, so ``connect-fed --help`` stays fast;
the commands import Airflow when they run.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any, NoReturn

import jmespath  # type: ignore[import-untyped]
from jmespath.exceptions import JMESPathError  # type: ignore[import-untyped]

from airflow_connect_fed import __version__
from airflow_connect_fed.cli.exit_codes import ExitCode, UsageError
from airflow_connect_fed.cli.output import OUTPUT_FORMATS
from airflow_connect_fed.cli.skeleton import SKELETON_KINDS

if TYPE_CHECKING:
    from collections.abc import Sequence

PROG = "connect-fed"
COLOR_CHOICES = ("on", "off", "auto")
EXIT_STATUS = (
    "exit status: 0 success, 252 usage error, 254 AWS answered with an error, 255 any other failure "
    "(e.g. AWS unreachable)"
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse, exiting with the AWS CLI's usage-error status 252 instead of 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.USAGE, f"{self.prog}: error: {message}\n")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG,
        description="Amazon Connect federation tokens (GetFederationToken) through an Airflow aws connection.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_get_federation_token(commands)
    _add_check(commands)
    return parser


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse ``argv``; raises ``SystemExit`` with 252 for bad usage, 0 after ``--help``/``--version``."""
    return build_parser().parse_args(argv)


def seconds(value: str) -> int:
    """A timeout in whole seconds, 0 meaning none."""
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise argparse.ArgumentTypeError(
            f"must be a whole number of seconds >= 0 (0 means no timeout), got {value!r}"
        )
    return number


def jmespath_query(value: str) -> Any:
    """A compiled JMESPath expression."""
    try:
        return jmespath.compile(value)
    except JMESPathError as error:
        raise argparse.ArgumentTypeError(f"bad JMESPath expression {value!r}: {error}") from None


def check_connect_user(args: argparse.Namespace) -> None:
    """``--connect-user`` and ``--role-arn`` come together or not at all."""
    if (args.connect_user is None) != (args.role_arn is None):
        given, missing = (
            ("--connect-user", "--role-arn") if args.role_arn is None else ("--role-arn", "--connect-user")
        )
        raise UsageError(
            f"{given} needs {missing}: the command assumes --role-arn with --connect-user as the role "
            "session name, which must equal the Connect username. Pass both, or neither to call as the "
            "connection's identity."
        )


def _add_aws_options(command: ArgumentParser) -> None:
    """Options shared by the commands that call AWS: credentials, endpoint, logging, color."""
    group = command.add_argument_group("credentials and endpoint")
    group.add_argument(
        "--conn-id",
        help="Airflow aws connection to call with, found as `airflow connections get` finds it (secrets "
        "backend, AIRFLOW_CONN_<ID>, metadata database); default aws_default, or, when it is defined "
        "nowhere, boto3's credential chain, announced on stderr",
    )
    group.add_argument(
        "--profile", help="boto3 profile whose credentials replace the connection's; its other settings stay"
    )
    group.add_argument("--region", help="AWS region, over the connection's region_name")
    group.add_argument(
        "--endpoint-url", help="endpoint URL for Connect and STS, over the connection's endpoint_url"
    )
    verify = group.add_mutually_exclusive_group()
    verify.add_argument("--no-verify-ssl", action="store_true", help="do not verify SSL certificates")
    verify.add_argument("--ca-bundle", help="CA certificate bundle to verify SSL certificates with")
    group.add_argument(
        "--cli-read-timeout", type=seconds, metavar="SECONDS", help="socket read timeout; 0 = none"
    )
    group.add_argument(
        "--cli-connect-timeout", type=seconds, metavar="SECONDS", help="socket connect timeout; 0 = none"
    )
    user = command.add_argument_group("calling as a Connect user")
    user.add_argument(
        "--connect-user",
        help="Connect username: assume --role-arn with this role session name and call as that session",
    )
    user.add_argument("--role-arn", help="IAM role whose sessions map to Connect users (with --connect-user)")
    misc = command.add_argument_group("diagnostics")
    misc.add_argument(
        "--debug", action="store_true", help="botocore debug log on stderr (tokens show as ***)"
    )
    misc.add_argument(
        "--color", choices=COLOR_CHOICES, default="auto", help="color output; auto = only on a terminal"
    )


def _add_get_federation_token(commands: Any) -> None:
    command = _command(
        commands,
        "get-federation-token",
        "get a federation token, printed like `aws connect get-federation-token`",
        "Call GetFederationToken and print the response like the AWS CLI. The tokens are redacted unless "
        "--show-tokens is given.",
    )
    command.add_argument(
        "--instance-id", help="Connect instance ID or instance ARN (required unless in --cli-input-json)"
    )
    command.add_argument(
        "--output", choices=OUTPUT_FORMATS, default="json", help="output format (default: json)"
    )
    command.add_argument(
        "--query", type=jmespath_query, metavar="JMESPATH", help="JMESPath expression applied to the response"
    )
    command.add_argument(
        "--show-tokens",
        action="store_true",
        help="print the access and refresh tokens instead of redacting them",
    )
    command.add_argument(
        "--cli-input-json",
        metavar="JSON",
        help="request parameters as JSON or file://PATH; command-line options take precedence",
    )
    command.add_argument(
        "--generate-cli-skeleton",
        nargs="?",
        const="input",
        choices=SKELETON_KINDS,
        help="print the request skeleton (input, the default) or a sample response (output), then exit",
    )
    _add_aws_options(command)


def _add_check(commands: Any) -> None:
    command = _command(
        commands,
        "check",
        "check that a federation token can be obtained, step by step",
        "Check the identity, the instance, the user mapping and the token expiry; one PASS, FAIL or SKIP "
        "line per step. Exit 0 when all pass.",
    )
    command.add_argument("--instance-id", required=True, help="Connect instance ID or instance ARN")
    _add_aws_options(command)


def _command(commands: Any, name: str, summary: str, description: str) -> ArgumentParser:
    parser: ArgumentParser = commands.add_parser(
        name, help=summary, description=description, epilog=EXIT_STATUS
    )
    return parser
