"""``connect-fed emulator``: run the local Connect emulator in the foreground until interrupted."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_connect_fed.cli.exit_codes import CommandFailed, ExitCode, UsageError

if TYPE_CHECKING:
    import argparse

_OPTIONS = (
    "host",
    "port",
    "region",
    "requests_per_second",
    "burst",
    "fault_rate",
    "root_access_key",
    "token_ttl",
)


def run(args: argparse.Namespace) -> ExitCode:
    """Serve with the given options; unset ones keep the emulator's defaults."""
    try:
        from airflow_connect_fed.testing.emulator import serve
    except ImportError as error:
        raise CommandFailed(
            f"The emulator needs moto's server ({error}): pip install 'airflow-connect-fed[emulator]'."
        ) from None
    options = {name: getattr(args, name) for name in _OPTIONS if getattr(args, name) is not None}
    try:
        serve(**options)
    except ValueError as error:
        raise UsageError(_option_message(str(error))) from None
    except OSError as error:
        raise CommandFailed(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}.") from None
    return ExitCode.SUCCESS


def _option_message(message: str) -> str:
    """The emulator's message for a bad value, naming the command-line option rather than the keyword."""
    for name in _OPTIONS:
        if message.startswith(f"{name} "):
            return f"--{name.replace('_', '-')}{message[len(name) :]}"
    return message
