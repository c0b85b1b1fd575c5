"""``python -m airflow_connect_fed.testing``: the same as ``connect-fed emulator``."""

from __future__ import annotations

import sys

from airflow_connect_fed.cli import main

if __name__ == "__main__":
    sys.exit(main(["emulator", *sys.argv[1:]]))
