"""Local Amazon Connect emulator for tests: moto's AWS services plus Connect users and GetFederationToken.

No Airflow needed: any code that calls GetFederationToken through an AWS SDK can be tested against it.

The names are imported lazily so that the pytest plugin, which loads in every pytest run,
does not pull in moto and Flask until an emulator is actually started.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from amazon_connect_emulator.emulator import AwsCredentials, ConnectEmulator, serve
    from amazon_connect_emulator.identity import DEFAULT_ROOT_ACCESS_KEY

__version__ = "0.1.0"

__all__ = ["DEFAULT_ROOT_ACCESS_KEY", "AwsCredentials", "ConnectEmulator", "serve"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from amazon_connect_emulator import emulator

        return getattr(emulator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
