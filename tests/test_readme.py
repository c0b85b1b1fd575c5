"""The README's first DAG, copied as printed, against the emulator seeded with ``connect-fed emulator seed``."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from pathlib import Path

import pytest

from airflow_connect_fed.token import FederationToken
from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.airflow_sandbox import AirflowSandbox

pytestmark = pytest.mark.integration

README = Path(__file__).parents[1] / "README.md"
SECRET_ID = "airflow/variables/connect/agents/agent-1"


def first_dag() -> str:
    section = README.read_text().split("## A first DAG", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match, "the README's first DAG has no python block"
    return match.group(1)


@pytest.fixture(scope="module")
def emulator():
    with ConnectEmulator() as emulator:
        emulator.reset()
        emulator.seed()  # the defaults are the README's values
        yield emulator


def sandbox(emulator, tmp_path, **kwargs) -> AirflowSandbox:
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / "readme_dag.py").write_text(first_dag())
    airflow = AirflowSandbox(
        emulator, tmp_path / "home", dags, credentials=emulator.federator_credentials(), **kwargs
    )
    airflow.migrate()
    return airflow


def test_runs_as_printed_and_leaves_no_token_in_airflow(emulator, tmp_path):
    airflow = sandbox(emulator, tmp_path)
    result = airflow.dags_test("connect_agent_token")
    with contextlib.closing(sqlite3.connect(airflow.home / "airflow.db")) as db:
        states = db.execute("SELECT state FROM task_instance WHERE dag_id = 'connect_agent_token'").fetchall()
    assert sorted(states) == [("success",), ("success",)]
    sm = emulator.client("secretsmanager", **airflow.credentials)
    token = FederationToken.from_dict(json.loads(sm.get_secret_value(SecretId=SECRET_ID)["SecretString"]))
    assert token.instance_id == "11111111-2222-3333-4444-555555555555"
    assert token.is_valid()
    secrets = [token.access_token, token.refresh_token]
    # Nowhere under AIRFLOW_HOME: the metadata DB (XCom, rendered fields: what the REST API and UI show)
    # and the task log files.
    assert airflow.occurrences(secrets) == dict.fromkeys(secrets, 0)
    output = result.stdout + result.stderr
    assert f"Stored the token in Variable 'connect/agents/agent-1': secret '{SECRET_ID}' (version " in output
    assert [secret for secret in secrets if secret in output] == []


def test_without_a_backend_it_fails_before_any_aws_call(emulator, tmp_path):
    airflow = sandbox(emulator, tmp_path, secrets_backend=None)
    emulator.counters.reset()
    with pytest.raises(RuntimeError) as raised:
        airflow.dags_test("connect_agent_token")
    output = str(raised.value)
    assert "neither [workers] secrets_backend nor [secrets] backend is set" in output
    assert "destination='xcom' would work without one, but keeps both tokens in plain text" in output
    assert emulator.counters.requests() == 0
