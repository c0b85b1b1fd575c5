"""``python -m airflow_connect_fed.testing``: run the local Connect emulator until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import sys

from airflow_connect_fed.testing.emulator import DEFAULT_ROOT_ACCESS_KEY, DEFAULT_TOKEN_TTL, serve


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_connect_fed.testing",
        description="Local Amazon Connect emulator: moto's AWS services plus Connect users and "
        "GetFederationToken on one endpoint URL.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free port (default: 0)")
    parser.add_argument("--region", default="us-east-1", help="default region (default: %(default)s)")
    parser.add_argument(
        "--requests-per-second",
        type=float,
        default=2.0,
        help="GetFederationToken quota per account and region",
    )
    parser.add_argument("--burst", type=int, default=5, help="requests allowed at once before throttling")
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of calls (0.0-1.0) that fail with 500"
    )
    parser.add_argument(
        "--root-access-key", default=DEFAULT_ROOT_ACCESS_KEY, help="access key treated as the account root"
    )
    parser.add_argument("--token-ttl", type=int, default=DEFAULT_TOKEN_TTL, help="token lifetime in seconds")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    options = vars(parser.parse_args(argv))
    try:
        serve(**options)
    except ValueError as error:
        parser.error(str(error))  # exits with status 2
    except OSError as error:
        print(f"cannot listen on {options['host']}:{options['port']}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
