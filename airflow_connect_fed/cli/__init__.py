"""The ``connect-fed`` console script: ``get-federation-token`` and ``check``.

Exit statuses follow the AWS CLI: 0 success, 252 usage error, 254 AWS answered with an error,
255 any other failure, 130 interrupted. Errors go to stderr as one line naming the error code and
the fix; tokens are never printed except by ``get-federation-token --show-tokens``.
"""

from __future__ import annotations

import sys
import traceback
from typing import TYPE_CHECKING

from airflow_connect_fed.cli.arguments import PROG, parse_args
from airflow_connect_fed.cli.color import Palette
from airflow_connect_fed.cli.exit_codes import ExitCode, failure_of

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``connect-fed`` with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    try:
        args = parse_args(argv)
    except SystemExit as done:  # --help, --version, or a usage error already printed
        return done.code if isinstance(done.code, int) else ExitCode.USAGE
    try:
        return _command(args.command)(args)
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as error:
        failure = failure_of(error)
        palette = Palette.for_stream(getattr(args, "color", "auto"), sys.stderr)
        if getattr(args, "debug", False):
            traceback.print_exc(file=sys.stderr)
        print(f"{PROG} {args.command}: {palette.paint('error', 'error')}: {failure.message}", file=sys.stderr)
        return failure.exit_code


def _command(name: str) -> Callable[[argparse.Namespace], ExitCode]:
    if name == "check":
        from airflow_connect_fed.cli import check

        return check.run
    from airflow_connect_fed.cli import get_federation_token

    return get_federation_token.run
