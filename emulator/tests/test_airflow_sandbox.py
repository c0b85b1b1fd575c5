"""The optional Airflow part: it imports no Airflow, and says so when the interpreter has none."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.airflow_sandbox import AirflowSandbox


def test_importing_it_loads_no_airflow() -> None:
    probe = "import sys, amazon_connect_emulator.airflow_sandbox; print([m for m in sys.modules if m.split('.')[0] == 'airflow'])"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout == "[]\n"


def test_without_airflow_it_says_what_to_install(
    connect_emulator: ConnectEmulator, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "airflow" else real_find_spec(name, *a)
    )
    with pytest.raises(RuntimeError, match=r"cannot import airflow: install apache-airflow"):
        AirflowSandbox(connect_emulator, tmp_path / "home", tmp_path / "dags")
    assert not (tmp_path / "home").exists()
