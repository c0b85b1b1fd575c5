"""The installed ``connect-fed`` console script, run as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import Federation

CONNECT_FED = Path(sys.executable).with_name("connect-fed")
pytestmark = pytest.mark.skipif(
    not CONNECT_FED.exists(), reason=f"connect-fed is not installed at {CONNECT_FED}"
)


def run(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CONNECT_FED), *argv], capture_output=True, text=True, timeout=120, env=env, check=False
    )


def test_help_does_not_load_airflow():
    result = run("--help")
    assert result.returncode == 0
    for command in ("get-federation-token", "check"):
        assert command in result.stdout
    probe = "import sys, airflow_connect_fed.cli; print(sorted(m for m in sys.modules if m.split('.')[0] in ('airflow', 'boto3', 'botocore')))"
    assert (
        subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
        == "[]\n"
    )


def test_the_emulator_is_not_a_connect_fed_command():
    result = run("emulator")
    assert (result.returncode, result.stdout) == (252, "")
    assert "argument COMMAND: invalid choice: 'emulator'" in result.stderr


def test_usage_error_exits_252():
    result = run("get-federation-token", "--instance-id", "i", "--output", "xml")
    assert (result.returncode, result.stdout) == (252, "")
    assert "argument --output: invalid choice: 'xml'" in result.stderr


@pytest.mark.integration
def test_service_error_exits_254_and_stdout_stays_empty(federation: Federation, tmp_path):
    """Also shows that nothing Airflow logs while it loads reaches stdout in a real process."""
    env = {
        **os.environ,
        **federation.connection("aws_default", federation.agent),
        "AIRFLOW_HOME": str(tmp_path),
    }
    result = run("get-federation-token", "--instance-id", "no-such-instance", env=env)
    assert (result.returncode, result.stdout) == (254, "")
    assert "connect-fed get-federation-token: error: (ResourceNotFoundException) " in result.stderr
