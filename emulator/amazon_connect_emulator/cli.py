"""``amazon-connect-emulator``: serve the emulator in the foreground until interrupted;
``amazon-connect-emulator seed``: create an instance, users and the federation role in a running one.

Each option is named here once, with its help; its default is read from the signature of
``ConnectEmulator`` or ``seed``, so the command line and the Python API cannot disagree.
Exit status as the AWS CLI's: 0 success, 252 usage error, 255 any other failure.
"""

from __future__ import annotations

import argparse
import inspect
import sys
from typing import TYPE_CHECKING, Any, NoReturn

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

PROG = "amazon-connect-emulator"
USAGE_ERROR = 252
FAILURE = 255

#: ``ConnectEmulator`` keyword -> (type, help).
SERVE_OPTIONS: dict[str, tuple[Callable[[str], Any], str]] = {
    "host": (str, "address to bind"),
    "port": (int, "port to bind; 0 picks a free one"),
    "region": (str, "default region"),
    "requests_per_second": (float, "GetFederationToken quota per account and region"),
    "burst": (int, "requests allowed at once before throttling"),
    "api_requests_per_second": (
        float,
        "quota of each other Connect operation served here: SearchUsers, ListUsers, DescribeUser, CreateUser, "
        "DeleteUser, UpdateUserRoutingProfile, TagResource, UntagResource, ListTagsForResource, "
        "ListAuthenticationProfiles, DescribeAuthenticationProfile, UpdateAuthenticationProfile; each has its "
        "own per account and region",
    ),
    "api_burst": (int, "requests of one such operation allowed at once before throttling"),
    "secretsmanager_writes_per_second": (
        float,
        "Secrets Manager write quota per account and region: PutSecretValue, UpdateSecret, "
        "UpdateSecretVersionStage and the replication calls combined, and CreateSecret on its own",
    ),
    "secretsmanager_write_burst": (
        int,
        "Secrets Manager writes of one such quota allowed at once before throttling",
    ),
    "fault_rate": (float, "share of calls, 0.0 to 1.0, failing with 500 InternalServiceException"),
    "root_access_key": (str, "access key the emulator treats as the account root"),
    "periodic_session_duration": (
        int,
        "minutes, 10 to 60, of each new instance's default authentication profile's PeriodicSessionDuration: "
        "its access tokens' lifetime",
    ),
    "max_session_duration": (
        int,
        "minutes, 360 to 720, of that profile's MaxSessionDuration: its refresh tokens' lifetime",
    ),
}
#: ``seed`` keyword -> (option, help); ``--user`` is repeated for more users.
SEED_OPTIONS = {
    "region": ("--region", "region of the instance"),
    "instance_id": ("--instance-id", "Connect instance id to create"),
    "users": ("--user", "Connect username to create; repeat for more"),
    "role_name": ("--role-name", "IAM federation role to create"),
}


class _Parser(argparse.ArgumentParser):
    """argparse, exiting with the AWS CLI's usage-error status 252 instead of 2."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message}\n")


class _Failure(Exception):
    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); returns the exit status."""
    try:
        args = vars(build_parser().parse_args(argv))
    except SystemExit as done:  # --help, or a usage error already printed
        return done.code if isinstance(done.code, int) else USAGE_ERROR
    command = args.pop("command", None)
    try:
        if command == "seed":
            _seed(args)
        else:
            _serve(args)
    except _Failure as failure:
        print(f"{PROG}: error: {failure}", file=sys.stderr)
        return failure.status
    except KeyboardInterrupt:
        return 130
    return 0


def build_parser() -> argparse.ArgumentParser:
    from amazon_connect_emulator.emulator import ConnectEmulator

    parser = _Parser(
        prog=PROG,
        description="Serve moto's AWS services plus Connect users and GetFederationToken on one local "
        "endpoint until interrupted. Prints 'amazon-connect-emulator listening on http://HOST:PORT' when "
        "ready, then the AIRFLOW_CONN_AWS_DEFAULT and secrets backend settings that use it.",
        epilog=f"`{PROG} seed --help` for the seed command. Exit status: 0 success, 252 usage error, "
        "255 any other failure.",
    )
    defaults = _defaults(ConnectEmulator)
    for name, (kind, text) in SERVE_OPTIONS.items():
        parser.add_argument(
            _option(name), dest=name, type=kind, default=argparse.SUPPRESS, help=_help(text, defaults[name])
        )
    commands = parser.add_subparsers(dest="command", metavar="seed")
    _add_seed(commands)
    return parser


def _add_seed(commands: Any) -> None:
    from amazon_connect_emulator.seed import seed

    command = commands.add_parser(
        "seed",
        help="create a Connect instance, users and the federation role in a running emulator",
        description="Create, in a running emulator, a SAML Connect instance with a fixed id, Connect users "
        "and the IAM role whose sessions federate as them; print one line per resource with its id and "
        "ARN, 'created' or 'exists'. The defaults are the values of the README's first DAG of "
        "airflow-connect-fed.",
        epilog="exit status: 0 success, 252 usage error, 255 the emulator could not be reached or refused",
    )
    command.add_argument(
        "--endpoint-url", required=True, help="the URL the emulator printed, e.g. http://127.0.0.1:5000"
    )
    defaults = _defaults(seed)
    for name, (option, text) in SEED_OPTIONS.items():
        default = defaults[name]
        if name == "users":
            command.add_argument(
                option, dest=name, action="append", metavar="USERNAME", default=argparse.SUPPRESS,
                help=_help(text, ", ".join(default)),
            )  # fmt: skip
            continue
        command.add_argument(option, dest=name, default=argparse.SUPPRESS, help=_help(text, default))


def _serve(options: dict[str, Any]) -> None:
    from amazon_connect_emulator.emulator import ConnectEmulator, serve

    try:
        serve(**options)
    except ValueError as error:
        raise _Failure(
            _named(str(error), {name: _option(name) for name in SERVE_OPTIONS}), USAGE_ERROR
        ) from None
    except OSError as error:
        bound = {**_defaults(ConnectEmulator), **options}
        raise _Failure(
            f"cannot listen on {bound['host']}:{bound['port']}: {error.strerror or error}.", FAILURE
        ) from None


def _seed(options: dict[str, Any]) -> None:
    from amazon_connect_emulator import seed as seeding

    names = {"endpoint_url": "--endpoint-url", "user": "--user"}
    names.update({name: option for name, (option, _) in SEED_OPTIONS.items()})
    try:
        seeded = seeding.seed(**options)
    except ValueError as error:
        raise _Failure(_named(str(error), names), USAGE_ERROR) from None
    except seeding.SeedError as error:
        raise _Failure(str(error), FAILURE) from None
    for resource in seeded:
        print(resource.line())


def _defaults(function: Callable[..., Any]) -> dict[str, Any]:
    return {name: p.default for name, p in inspect.signature(function).parameters.items()}


def _option(name: str) -> str:
    return f"--{name.replace('_', '-')}"


def _help(text: str, default: object) -> str:
    return f"{text} (default: {default})".replace("%", "%%")


def _named(message: str, names: dict[str, str]) -> str:
    """The message for a bad value, naming the command-line option rather than the keyword."""
    for name, option in names.items():
        if message.startswith(f"{name} "):
            return f"{option}{message[len(name) :]}"
    return message
