"""The emulator's tests: no AWS configuration of the machine is read, and a runner for the command."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from amazon_connect_emulator.cli import main

# Nothing here may reach AWS, whatever the machine's own configuration says.
os.environ.pop("AWS_PROFILE", None)
os.environ["AWS_CONFIG_FILE"] = os.devnull
os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


@dataclass(frozen=True)
class Result:
    """What one ``amazon-connect-emulator`` run left behind."""

    exit_code: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run ``amazon-connect-emulator`` in-process: ``cli("seed", "--endpoint-url", ...)``."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        exit_code = main(list(argv))
        captured = capsys.readouterr()
        return Result(exit_code, captured.out, captured.err)

    return run


class FakeClock:
    """A monotonic clock the test moves by hand: ``clock.now += 0.5``."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
