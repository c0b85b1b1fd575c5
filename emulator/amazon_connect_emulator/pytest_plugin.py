"""Pytest fixtures for the local Connect emulator (registered as the ``connect_emulator`` pytest11 plugin).

``connect_emulator_server`` starts one emulator per session; ``connect_emulator`` hands it to a test
after ``reset()``, so every test starts from an empty account with the default quotas and no faults.
The emulator is seeded (``seed=0``): a test that sets a fault rate meets the same faults on every run.
The emulator is imported inside the fixture because this module loads in every pytest run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from collections.abc import Iterator

    from amazon_connect_emulator.emulator import ConnectEmulator


@pytest.fixture(scope="session")
def connect_emulator_server() -> Iterator[ConnectEmulator]:
    """One running emulator for the whole session; prefer ``connect_emulator`` in tests."""
    from amazon_connect_emulator.emulator import ConnectEmulator

    with ConnectEmulator(seed=0) as emulator:
        yield emulator


@pytest.fixture
def connect_emulator(connect_emulator_server: ConnectEmulator) -> ConnectEmulator:
    """The session's emulator, reset: no AWS resources, no Connect users, zeroed counters."""
    connect_emulator_server.reset()
    return connect_emulator_server
