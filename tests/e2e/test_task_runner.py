"""Under a real task runner: DEBUG logs, a token returned from a task, a task killed mid-run.

Airflow's api-server runs in the background, and ``airflow dags test --use-executor`` runs each
DAG with the LocalExecutor: every task in its own process under Airflow's supervisor, which
writes the task log files, as in production.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from airflow_connect_fed.token import FederationToken
from amazon_connect_emulator import ConnectEmulator
from tests.e2e.components import ScheduledAirflow

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

DAGS = Path(__file__).parent / "dags"
AGENT = "agent-debug"
BULK_AGENTS = [f"bulk-{i:02d}" for i in range(40)]
BULK_PREFIX = "airflow/variables/connect/agents/bulk-"
BULK_RATE = 4  # GetFederationToken requests per second: the bulk task runs about 10 s


@pytest.fixture(scope="module")
def airflow(tmp_path_factory):
    """An emulator with the agents, and Airflow's api-server, for the module's DAG runs."""
    root = tmp_path_factory.mktemp("task-runner")
    with ConnectEmulator() as emulator:
        emulator.reset()
        emulator.set_quota(50, 10)
        instance = emulator.create_instance("task-runner")
        role_arn = emulator.create_federation_role()
        for user in [AGENT, *BULK_AGENTS]:
            emulator.create_user(instance["id"], user)
        airflow = ScheduledAirflow(
            emulator,
            root / "home",
            DAGS,
            output_dir=root / "output",
            extra_env={
                "CONNECT_INSTANCE_ID": instance["id"],
                "CONNECT_FEDERATION_ROLE_ARN": role_arn,
                "CONNECT_AGENT": AGENT,
                "CONNECT_BULK_RATE": str(BULK_RATE),
            },
        )
        airflow.migrate()
        airflow.emulator = emulator
        try:
            airflow.start("api-server", "api-server", "--port", str(airflow.api_port), "--workers", "1")
            airflow.wait_for_api_server()
            yield airflow
        finally:
            airflow.stop_all()


def run_dag(airflow, dag_id: str, env: dict[str, str] | None = None, check: bool = True):
    result = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "test", dag_id, "--use-executor"],
        env={**airflow.env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if check and "DagRun failed" in result.stdout + result.stderr:
        raise AssertionError(f"{dag_id} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def task_logs(airflow, dag_id: str, task_id: str) -> list[Path]:
    return sorted(
        (airflow.home / "logs" / f"dag_id={dag_id}").glob(f"run_id=*/task_id={task_id}/attempt=*.log")
    )


def stored_tokens(airflow) -> dict[str, FederationToken]:
    """Every token version in the emulator's Secrets Manager and SSM, by where it is stored."""
    emulator = airflow.emulator
    sm = emulator.client("secretsmanager", **airflow.credentials)
    found = {}
    for secret in sm.list_secrets(MaxResults=100)["SecretList"]:
        versions = sm.list_secret_version_ids(SecretId=secret["Name"], IncludeDeprecated=True)["Versions"]
        for version in versions:
            text = sm.get_secret_value(SecretId=secret["Name"], VersionId=version["VersionId"])[
                "SecretString"
            ]
            found[f"{secret['Name']}@{version['VersionId']}"] = FederationToken.from_dict(json.loads(text))
    ssm = emulator.client("ssm", **airflow.credentials)
    for parameter in ssm.describe_parameters()["Parameters"]:
        history = ssm.get_parameter_history(Name=parameter["Name"], WithDecryption=True)["Parameters"]
        for version in history:
            found[f"{parameter['Name']}:{version['Version']}"] = FederationToken.from_dict(
                json.loads(version["Value"])
            )
    return found


def session_secrets() -> list[str]:
    """The SecretAccessKey and SessionToken of every role session the emulator handed out."""
    from moto.sts.models import sts_backends

    backend = sts_backends["123456789012"]["global"]
    return [
        secret for role in backend.assumed_roles for secret in (role.secret_access_key, role.session_token)
    ]


@pytest.fixture(scope="module")
def debug_runs(airflow):
    """connect_fed_debug twice at DEBUG, with http.client's debug output: fetch and store, then reuse."""
    env = {"AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG", "CONNECT_HTTP_DEBUG": "1"}
    outputs = [run_dag(airflow, "connect_fed_debug", env) for _ in range(2)]
    return [result.stdout + result.stderr for result in outputs]


def test_debug_task_logs_show_the_wire_and_no_secret(airflow, debug_runs):
    logs = [
        path
        for task_id in ("secrets_backend", "ssm", "use_secrets_backend", "use_ssm")
        for path in task_logs(airflow, "connect_fed_debug", task_id)
    ]
    assert len(logs) == 8  # two runs of four tasks
    text = "\n".join(path.read_text() for path in logs)
    # The logs really are at DEBUG, with botocore's bodies and http.client's requests in them.
    assert "Response body" in text
    assert "send: b'POST / HTTP/1.1" in text or 'send: b"POST / HTTP/1.1' in text
    assert "Reusing the stored federation token" in text  # the second run read the stored tokens
    assert "access token as printed: ***" in text
    tokens = stored_tokens(airflow)
    assert len({token.access_token for token in tokens.values()}) == 2  # one per store: the rerun reused
    secrets = [s for token in tokens.values() for s in (token.access_token, token.refresh_token)]
    secrets += session_secrets()
    assert len(secrets) >= 8
    leaks = {
        str(path)
        for path in airflow.home.rglob("*")
        if path.is_file()
        for s in secrets
        if s.encode() in path.read_bytes()
    }
    assert leaks == set()
    # `airflow dags test` also echoes each task's output to its own console as the task process
    # wrote it, before the supervisor masks it: Airflow's, out of the provider's reach (see
    # docs/howto/xcom-vs-secrets.rst, "What the provider cannot mask"). The log files are masked.
    assert "access token as printed: ***" not in "".join(debug_runs)


def test_a_returned_token_fails_the_task_and_stays_out_of_xcom(airflow, debug_runs):
    result = run_dag(airflow, "connect_fed_returns_token", check=False)
    assert "DagRun failed" in result.stdout + result.stderr
    (log,) = task_logs(airflow, "connect_fed_returns_token", "return_the_token")
    text = log.read_text()
    assert "TokenInXComError" in text
    assert "Store it with GetFederationTokenOperator (destination='secrets_backend'" in text
    rows = airflow.rows("SELECT task_id, value FROM xcom WHERE dag_id = 'connect_fed_returns_token'")
    assert [task_id for task_id, _ in rows] == ["store"]  # the reference only
    token = stored_tokens(airflow)
    secrets = [s for t in token.values() for s in (t.access_token, t.refresh_token)]
    assert [s for s in secrets for _, value in rows if s in str(value)] == []


def test_a_killed_bulk_task_loses_only_the_tokens_in_flight(airflow):
    emulator = airflow.emulator
    emulator.counters.reset()
    with (airflow.output_dir / "bulk-killed.out").open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", "dags", "test", "connect_fed_bulk", "--use-executor"],
            env=airflow.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while emulator.counters.totals().succeeded < len(BULK_AGENTS) // 3:
            assert time.monotonic() < deadline, "the bulk task fetched too few tokens in 120 s"
            assert process.poll() is None, (airflow.output_dir / "bulk-killed.out").read_text()[-3000:]
            time.sleep(0.05)
        # As on node loss: every process dies at once, the task process (in a group of its own) included.
        descendants = psutil.Process(process.pid).children(recursive=True)
        os.killpg(process.pid, signal.SIGKILL)
        for child in descendants:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        process.wait(30)
        psutil.wait_procs(descendants, timeout=10)
    time.sleep(1)
    issued = emulator.counters.totals().succeeded
    stored = bulk_secrets(airflow)
    assert issued < len(BULK_AGENTS)  # killed mid-run
    assert issued - 4 <= len(stored) <= issued  # at most the 4 worker threads' tokens were in flight

    emulator.counters.reset()
    run_dag(airflow, "connect_fed_bulk")
    assert emulator.counters.totals().succeeded == len(BULK_AGENTS) - len(stored)  # the rest were reused
    assert bulk_secrets(airflow) == {f"airflow/variables/connect/agents/{user}" for user in BULK_AGENTS}


def bulk_secrets(airflow) -> set[str]:
    """Names of the bulk agents' secrets that hold a token."""
    return {name.split("@")[0] for name in stored_tokens(airflow) if name.startswith(BULK_PREFIX)}
