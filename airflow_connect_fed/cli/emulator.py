"""``connect-fed emulator``: run the local Connect emulator in the foreground until interrupted;
``connect-fed emulator seed``: create an instance, users and the federation role in a running one."""

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
_SEED_OPTIONS = ("endpoint_url", "region", "instance_id", "users", "role_name")
#: The name a ``seed()`` error message starts with -> its command-line option.
_SEED_NAMES = {
    "endpoint_url": "--endpoint-url",
    "region": "--region",
    "instance_id": "--instance-id",
    "user": "--user",
    "role_name": "--role-name",
}


def run(args: argparse.Namespace) -> ExitCode:
    """Serve with the given options (unset ones keep the emulator's defaults), or seed."""
    if getattr(args, "emulator_command", None) == "seed":
        return seed(args)
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
        names = {name: f"--{name.replace('_', '-')}" for name in _OPTIONS}
        raise UsageError(_option_message(str(error), names)) from None
    except OSError as error:
        raise CommandFailed(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}.") from None
    return ExitCode.SUCCESS


def seed(args: argparse.Namespace) -> ExitCode:
    """Seed the emulator at ``--endpoint-url`` and print one line per resource."""
    from airflow_connect_fed.testing import seed as seeding

    options = {name: getattr(args, name) for name in _SEED_OPTIONS if getattr(args, name) is not None}
    try:
        seeded = seeding.seed(**options)
    except ValueError as error:
        raise UsageError(_option_message(str(error), _SEED_NAMES)) from None
    except seeding.SeedError as error:
        raise CommandFailed(str(error)) from None
    for resource in seeded:
        print(resource.line())
    return ExitCode.SUCCESS


def _option_message(message: str, names: dict[str, str]) -> str:
    """The emulator's message for a bad value, naming the command-line option rather than the keyword."""
    for name, option in names.items():
        if message.startswith(f"{name} "):
            return f"{option}{message[len(name) :]}"
    return message
