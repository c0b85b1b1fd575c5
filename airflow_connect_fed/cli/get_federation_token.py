"""``connect-fed get-federation-token``: the token, printed like ``aws connect get-federation-token``."""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

from airflow_connect_fed.cli.arguments import PROG, check_connect_user
from airflow_connect_fed.cli.color import Palette
from airflow_connect_fed.cli.exit_codes import ExitCode, UsageError
from airflow_connect_fed.cli.output import render
from airflow_connect_fed.cli.response import OPERATION, response_of
from airflow_connect_fed.cli.skeleton import read_cli_input_json, skeleton

if TYPE_CHECKING:
    import argparse

    from airflow_connect_fed.token import FederationToken

_DEFAULT_WIDTH = 80


def run(args: argparse.Namespace) -> ExitCode:
    if args.generate_cli_skeleton:
        sys.stdout.write(skeleton(args.generate_cli_skeleton))
        return ExitCode.SUCCESS
    instance_id = instance_id_of(args)
    check_connect_user(args)
    token = fetch(args, instance_id)
    if args.show_tokens:
        print(
            f"{PROG}: --show-tokens: the output holds the access and refresh tokens in clear text "
            f"(valid until {token.access_token_expiration.isoformat()}); do not log or share it.",
            file=sys.stderr,
        )
    data = response_of(token, show_tokens=args.show_tokens)
    if args.query is not None:
        data = args.query.search(data)
    palette = Palette.for_stream(args.color, sys.stdout)
    sys.stdout.write(render(data, args.output, title=OPERATION, width=_terminal_width(), palette=palette))
    return ExitCode.SUCCESS


def instance_id_of(args: argparse.Namespace) -> str:
    """``--instance-id``, else the ``InstanceId`` of ``--cli-input-json``."""
    request = read_cli_input_json(args.cli_input_json) if args.cli_input_json is not None else {}
    instance_id = args.instance_id if args.instance_id is not None else request.get("InstanceId")
    if instance_id is None:
        raise UsageError(
            "the following arguments are required: --instance-id (or InstanceId in --cli-input-json)"
        )
    return instance_id


def fetch(args: argparse.Namespace, instance_id: str) -> FederationToken:
    """Call GetFederationToken through the hook, with logs routed to stderr."""
    from airflow_connect_fed.cli.logs import logs_to_stderr

    with logs_to_stderr(debug=args.debug):
        from airflow_connect_fed.cli.connection import AwsOptions, CommandLineHook

        hook = CommandLineHook(AwsOptions.from_args(args))
        return hook.get_federation_token(instance_id, connect_user=args.connect_user, role_arn=args.role_arn)


def _terminal_width() -> int:
    """Columns of the terminal stdout is on; 80 when it is not a terminal (as the AWS CLI)."""
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return _DEFAULT_WIDTH
