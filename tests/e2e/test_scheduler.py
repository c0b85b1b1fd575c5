"""End to end: a real Airflow scheduler rotates an agent's token on its own, and no token leaks.

The emulator hands out access tokens that live 15 minutes, so the example DAG's
``reuse_if_valid_for=timedelta(minutes=30)`` never holds and every scheduled run
gets a new token and writes a new version of the secret; the task log says both
(the window is never met, and the secret is rewritten more often than Secrets
Manager's advised once every 10 minutes). Airflow runs as in
production, from an isolated AIRFLOW_HOME with SQLite: ``airflow api-server``
(the execution API the tasks talk to), ``airflow dag-processor`` and
``airflow scheduler`` with the LocalExecutor, on free ports.
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from airflow_connect_fed.token import FederationToken
from amazon_connect_emulator import ConnectEmulator
from tests.e2e.components import ScheduledAirflow

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]

EXAMPLE = Path(__file__).parents[2] / "dags_examples" / "example_connect_federation_secrets.py"
PRODUCER = "example_connect_federation_secrets"
CONSUMER = "example_connect_federation_session"
AGENT = "agent-e2e"
SECRET_ID = f"airflow/variables/connect/agents/{AGENT}"
# Minutes an access token lives (the instance's PeriodicSessionDuration): under the DAG's
# reuse_if_valid_for (30 minutes), so every run rotates.
PERIODIC_SESSION_DURATION = 15
SCHEDULED_RUNS = 2
RUNS_DEADLINE = 270.0  # seconds from the start of the scheduler


def _successful(runs: list[tuple[str, str, str]], run_type: str) -> list[str]:
    return [run_id for run_id, kind, state in runs if kind == run_type and state == "success"]


def _wait_for_scheduled_runs(airflow: ScheduledAirflow) -> float:
    """Until the scheduler ran the producer twice and the consumer once and nothing is in flight."""
    started = time.monotonic()
    deadline = started + RUNS_DEADLINE
    while time.monotonic() < deadline:
        airflow.check_running()
        producer, consumer = airflow.dag_runs(PRODUCER, live=True), airflow.dag_runs(CONSUMER, live=True)
        failed = [run for run in producer + consumer if run[2] == "failed"]
        if failed:
            raise AssertionError(f"DAG runs failed: {failed}\n{airflow.tails()}")
        in_flight = [run for run in producer + consumer if run[2] in ("queued", "running")]
        if (
            len(_successful(producer, "scheduled")) >= SCHEDULED_RUNS
            and _successful(consumer, "asset_triggered")
            and not in_flight
        ):
            return time.monotonic() - started
        time.sleep(1)
    raise AssertionError(
        f"within {RUNS_DEADLINE:.0f} s the scheduler did not run {PRODUCER} {SCHEDULED_RUNS} times and "
        f"{CONSUMER} once: {PRODUCER} runs {airflow.dag_runs(PRODUCER, live=True)}, {CONSUMER} runs "
        f"{airflow.dag_runs(CONSUMER, live=True)}\n{airflow.tails()}"
    )


@pytest.fixture(scope="module")
def scheduled(tmp_path_factory):
    """Run Airflow's scheduler until it rotated the token twice; collect every token version."""
    root = tmp_path_factory.mktemp("e2e")
    dags = root / "dags"
    dags.mkdir()
    shutil.copy(EXAMPLE, dags / EXAMPLE.name)  # only this file: no other example DAG gets scheduled
    began = time.monotonic()
    with ConnectEmulator(periodic_session_duration=PERIODIC_SESSION_DURATION) as emulator:
        emulator.reset()  # moto's state is per process: start from empty accounts
        instance = emulator.create_instance("e2e")
        role_arn = emulator.create_federation_role()
        user = emulator.create_user(instance["id"], AGENT)
        airflow = ScheduledAirflow(
            emulator,
            root / "home",
            dags,
            output_dir=root / "output",
            extra_env={
                "CONNECT_INSTANCE_ID": instance["id"],
                "CONNECT_FEDERATION_ROLE_ARN": role_arn,
                "CONNECT_AGENT": AGENT,
                "CONNECT_REFRESH_SECONDS": "20",
            },
        )
        phases = {"setup": time.monotonic() - began}
        migrate = airflow.airflow("db", "migrate")
        phases["db migrate"] = time.monotonic() - began
        try:
            airflow.start("api-server", "api-server", "--port", str(airflow.api_port), "--workers", "1")
            airflow.start("dag-processor", "dag-processor")
            airflow.wait_for_api_server()
            phases["api-server ready"] = time.monotonic() - began
            airflow.start("scheduler", "scheduler", "--skip-serve-logs")
            _wait_for_scheduled_runs(airflow)
            phases["runs done"] = time.monotonic() - began
        finally:
            airflow.stop_all()
        phases["stopped"] = time.monotonic() - began
        sm = emulator.client("secretsmanager", **airflow.credentials)
        versions = sm.list_secret_version_ids(SecretId=SECRET_ID, IncludeDeprecated=True)["Versions"]
        tokens = {
            version["VersionId"]: FederationToken.from_dict(
                json.loads(
                    sm.get_secret_value(SecretId=SECRET_ID, VersionId=version["VersionId"])["SecretString"]
                )
            )
            for version in versions
        }
        current = sm.get_secret_value(SecretId=SECRET_ID)
        federations = emulator.counters.for_instance(instance["id"]).succeeded
    print("\nscheduler e2e, seconds from the start: " + ", ".join(f"{k} {v:.0f}" for k, v in phases.items()))
    return {
        "airflow": airflow,
        "instance_id": instance["id"],
        "user_arn": user["arn"],
        "versions": versions,
        "tokens": tokens,
        "current_version_id": current["VersionId"],
        "current": FederationToken.from_dict(json.loads(current["SecretString"])),
        "federations": federations,
        "outputs": {"db migrate": (migrate.stdout + migrate.stderr).encode()}
        | {process.name: process.output() for process in airflow.processes},
    }


def _xcoms(airflow: ScheduledAirflow, dag_id: str, task_id: str) -> dict[str, dict]:
    """run_id -> the task's return value."""
    rows = airflow.rows(
        "SELECT run_id, value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value'",
        dag_id,
        task_id,
    )
    return {run_id: json.loads(value) for run_id, value in rows}


def _needles(scheduled) -> list[bytes]:
    """Every token of every version of the secret."""
    return [
        secret.encode()
        for token in scheduled["tokens"].values()
        for secret in (token.access_token, token.refresh_token)
    ]


def test_the_scheduler_ran_the_producer_on_its_schedule(scheduled):
    airflow = scheduled["airflow"]
    runs = airflow.dag_runs(PRODUCER)
    done = _successful(runs, "scheduled")
    assert len(done) >= SCHEDULED_RUNS, f"{runs}\n{airflow.tails()}"
    assert [run for run in runs if run[1] != "scheduled"] == []  # nothing was triggered by hand
    states = airflow.rows(
        "SELECT run_id, task_id, state FROM task_instance WHERE dag_id = ? ORDER BY run_id, task_id", PRODUCER
    )
    assert [row for row in states if row[0] in done] == [
        (run_id, task, "success")
        for run_id in sorted(done)
        for task in ("check_stored_token", "refresh_token")
    ]


def test_every_scheduled_run_rotated_the_token(scheduled):
    airflow, tokens = scheduled["airflow"], scheduled["tokens"]
    done = _successful(airflow.dag_runs(PRODUCER), "scheduled")
    references = _xcoms(airflow, PRODUCER, "refresh_token")
    version_ids = [references[run_id]["version_id"] for run_id in done]
    # Each run wrote a new version of the secret, with tokens of its own.
    assert len(set(version_ids)) == len(done) >= SCHEDULED_RUNS
    assert set(version_ids) <= set(tokens)
    assert len(scheduled["versions"]) >= SCHEDULED_RUNS
    assert len({token.access_token for token in tokens.values()}) == len(tokens)
    assert len({token.refresh_token for token in tokens.values()}) == len(tokens)
    assert scheduled["federations"] == len(tokens)  # one GetFederationToken per version: no run reused one
    first, current = tokens[version_ids[0]], scheduled["current"]
    assert scheduled["current_version_id"] != version_ids[0]
    assert current.access_token != first.access_token
    assert current.refresh_token != first.refresh_token
    assert current.access_token_expiration > first.access_token_expiration
    assert current == tokens[scheduled["current_version_id"]]
    for token in tokens.values():
        assert token.user_arn == scheduled["user_arn"]
        assert token.instance_id == scheduled["instance_id"]
        assert 0 < token.expires_in().total_seconds() <= PERIODIC_SESSION_DURATION * 60
    # XCom holds references, never the token.
    for run_id in done:
        reference = references[run_id]
        assert reference["kind"] == "secrets_backend"
        assert reference["secret_id"] == SECRET_ID
        assert "Credentials" not in reference
        expiration = tokens[reference["version_id"]].access_token_expiration.isoformat()
        assert reference["access_token_expiration"] == expiration
    checked = _xcoms(airflow, PRODUCER, "check_stored_token")
    for run_id in done:
        assert checked[run_id]["user_arn"] == scheduled["user_arn"]
        assert 0 < checked[run_id]["expires_in_s"] <= PERIODIC_SESSION_DURATION * 60


def test_the_asset_events_triggered_the_session_dag(scheduled):
    airflow = scheduled["airflow"]
    runs = airflow.dag_runs(CONSUMER)
    done = _successful(runs, "asset_triggered")
    assert done, f"{runs}\n{airflow.tails()}"
    assert [run for run in runs if run[1] != "asset_triggered"] == []
    events = airflow.rows(
        "SELECT e.source_run_id, e.extra FROM asset_event e JOIN asset a ON a.id = e.asset_id "
        "WHERE a.name = ? ORDER BY e.id",
        f"connect_agent_token_{AGENT}",
    )
    produced = set(_successful(airflow.dag_runs(PRODUCER), "scheduled"))
    assert {run_id for run_id, _ in events} >= produced  # one event per rotation
    expirations = {json.loads(extra)["access_token_expiration"] for _, extra in events}
    assert expirations <= {
        token.access_token_expiration.isoformat() for token in scheduled["tokens"].values()
    }
    for _, extra in events:
        assert json.loads(extra)["rotated"] is True
        assert json.loads(extra)["user_arn"] == scheduled["user_arn"]
    sessions = _xcoms(airflow, CONSUMER, "start_agent_session")
    for run_id in done:
        session = sessions[run_id]
        assert session["user_arn"] == scheduled["user_arn"]
        assert session["valid"] is True
        assert session["events"]  # the run saw the rotation events that triggered it
        assert set(session["events"]) <= expirations


def test_task_logs_exist_and_hold_no_token(scheduled):
    airflow = scheduled["airflow"]
    logs = airflow.home / "logs"
    done = _successful(airflow.dag_runs(PRODUCER), "scheduled")
    rewrites = []
    for run_id in done:
        run_logs = logs / f"dag_id={PRODUCER}" / f"run_id={run_id}"
        (log,) = (run_logs / "task_id=refresh_token").glob("attempt=*.log")
        text = log.read_text()
        assert f"Got a federation token for {scheduled['user_arn']}" in text
        assert (
            "reuse_if_valid_for (30.0 min) is not shorter than the access tokens this instance issues" in text
        )
        rewrites += [line for line in text.splitlines() if "AWS advises at most once every 10.0 min" in line]
        assert (
            f"Stored the token in Variable 'connect/agents/{AGENT}': secret '{SECRET_ID}' (version " in text
        )
        assert list((run_logs / "task_id=check_stored_token").glob("attempt=*.log"))
    # Each run after the first successful one knows the interval (Airflow's prev_start_date_success).
    assert len(rewrites) >= len(done) - 1 >= 1
    assert all("rewrite each agent's Secrets Manager secret about every" in line for line in rewrites)
    files = [path for path in logs.rglob("*") if path.is_file()]
    assert len(files) >= 2 * len(done)
    needles = _needles(scheduled)
    assert [str(path) for path in files for needle in needles if needle in path.read_bytes()] == []
    # Nor anywhere else under AIRFLOW_HOME, the metadata DB included.
    tokens = [needle.decode() for needle in needles]
    assert airflow.occurrences(tokens) == dict.fromkeys(tokens, 0)


def test_process_output_holds_no_token(scheduled):
    outputs = scheduled["outputs"]
    assert set(outputs) == {"db migrate", "api-server", "dag-processor", "scheduler"}
    # The output is the real thing: the LocalExecutor echoes the task logs, the api-server served the tasks.
    assert outputs["scheduler"].count(f"Got a federation token for {scheduled['user_arn']}".encode()) >= 2
    assert b"path=/execution/task-instances" in outputs["api-server"]
    needles = _needles(scheduled)
    assert [name for name, output in outputs.items() for needle in needles if needle in output] == []


def test_every_process_was_stopped(scheduled):
    processes = scheduled["airflow"].processes
    assert [process.name for process in processes] == ["api-server", "dag-processor", "scheduler"]
    assert [process.name for process in processes if process.popen.returncode is None] == []
    left = [child for process in processes for child in process.descendants if child.is_running()]
    assert left == []
