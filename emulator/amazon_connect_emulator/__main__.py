"""``python -m amazon_connect_emulator``: the same as the ``amazon-connect-emulator`` command."""

from __future__ import annotations

import sys

from amazon_connect_emulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
