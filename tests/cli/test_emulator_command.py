"""``connect-fed emulator``: options reach ``serve``; bad values are usage errors."""

from __future__ import annotations

import pytest

from airflow_connect_fed.testing import emulator


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, object]]:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(emulator, "serve", lambda **options: calls.append(options))
    return calls


def test_defaults(cli, served):
    assert cli("emulator").exit_code == 0
    assert served == [
        {
            "host": "127.0.0.1",
            "port": 0,
            "region": "us-east-1",
            "requests_per_second": 2.0,
            "burst": 5,
            "fault_rate": 0.0,
        }
    ]


def test_every_option_is_passed(cli, served):
    result = cli(
        "emulator", "--host", "localhost", "--port", "4566", "--region", "eu-west-2", "--requests-per-second", "10",
        "--burst", "20", "--fault-rate", "0.25", "--root-access-key", "AKIAROOTROOTROOT0000", "--token-ttl", "60",
    )  # fmt: skip
    assert result.exit_code == 0
    assert served == [
        {
            "host": "localhost",
            "port": 4566,
            "region": "eu-west-2",
            "requests_per_second": 10.0,
            "burst": 20,
            "fault_rate": 0.25,
            "root_access_key": "AKIAROOTROOTROOT0000",
            "token_ttl": 60,
        }
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--requests-per-second", "-1"], "--requests-per-second must be a finite number > 0, got -1.0"),
        (["--fault-rate", "1.5"], "--fault-rate must be a number from 0.0 to 1.0, got 1.5"),
        (["--fault-rate", "-0.1"], "--fault-rate must be a number from 0.0 to 1.0"),
        (["--burst", "0"], "--burst must be an integer >= 1, got 0"),
        (["--port", "70000"], "--port must be an integer from 0 (any free port) to 65535"),
        (["--token-ttl", "0"], "--token-ttl must be an integer number of seconds >= 1"),
        (["--root-access-key", "lower"], "--root-access-key must be 16 to 128 upper-case letters"),
        (["--region", "mars"], "--region must be an AWS region name"),
    ],
)
def test_bad_values_are_usage_errors(cli, options, message):
    result = cli("emulator", *options)
    assert (result.exit_code, result.stdout) == (252, "")
    assert result.stderr.startswith(f"connect-fed emulator: error: {message}")


def test_port_must_be_a_number(cli):
    result = cli("emulator", "--port", "http")
    assert result.exit_code == 252
    assert "argument --port: invalid int value: 'http'" in result.stderr


def test_busy_port_exits_255(cli):
    with emulator.ConnectEmulator() as running:
        port = running.endpoint_url.rsplit(":", 1)[1]
        result = cli("emulator", "--port", port)
    assert result.exit_code == 255
    assert result.stderr.startswith(f"connect-fed emulator: error: cannot listen on 127.0.0.1:{port}: ")
