"""Local Amazon Connect emulator for tests: moto's AWS services plus Connect users and federation.

The names are imported lazily so that the pytest plugin, which loads in every pytest run,
does not pull in moto and Flask until an emulator is actually started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_connect_fed.testing.emulator import (
        DEFAULT_ROOT_ACCESS_KEY,
        AwsCredentials,
        ConnectEmulator,
        serve,
    )

__all__ = ["DEFAULT_ROOT_ACCESS_KEY", "AwsCredentials", "ConnectEmulator", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from airflow_connect_fed.testing import emulator

        return getattr(emulator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
