"""`make demo`: the example DAGs against the local Connect emulator and a SQLite Airflow.

Starts the emulator, creates a Connect instance, a federation role and two
agents with the real AWS APIs, runs the example DAGs with ``airflow dags test``
(XCom for agent-1, the Secrets Manager backend for agent-2), then prints who
got a token, until when, and where it is stored, with the tokens redacted.
"""

from __future__ import annotations

import json
import sqlite3
import sys
import time
from pathlib import Path

from airflow_connect_fed.token import FederationToken
from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.airflow_sandbox import AirflowSandbox

ROOT = Path(__file__).resolve().parents[1]
HOME = ROOT / ".demo" / "airflow_home"
AGENTS = ("agent-1", "agent-2")


def main() -> int:
    started = time.monotonic()
    with ConnectEmulator() as emulator:
        print(f"Connect emulator on {emulator.endpoint_url}")
        instance = emulator.create_instance("demo")
        role_arn = emulator.create_federation_role()
        for agent in AGENTS:
            emulator.create_user(instance["id"], agent)
        print(f"Instance {instance['id']}, agents {', '.join(AGENTS)}, federation role {role_arn}")

        sandbox = AirflowSandbox(
            emulator,
            HOME,
            ROOT / "dags_examples",
            extra_env={"CONNECT_INSTANCE_ID": instance["id"], "CONNECT_FEDERATION_ROLE_ARN": role_arn},
        )
        sandbox.migrate()
        outputs = []
        for dag_id, agent in (
            ("example_connect_federation_xcom", "agent-1"),
            ("example_connect_federation_secrets", "agent-2"),
            ("example_connect_federation_session", "agent-2"),
        ):
            result = sandbox.dags_test(dag_id, env={"CONNECT_AGENT": agent})
            outputs.append(result.stdout + result.stderr)
            print(f"  ran {dag_id} for {agent}: success")

        xcom_token = _xcom_token(HOME / "airflow.db")
        secret = emulator.client("secretsmanager", **sandbox.credentials).get_secret_value(
            SecretId="airflow/variables/connect/agents/agent-2"
        )
        stored_token = FederationToken.from_dict(json.loads(secret["SecretString"]))
        leaks = _leaks(sandbox, outputs, stored_token)

    print("\nTokens (redacted):")
    _show(
        xcom_token,
        "agent-1",
        "XCom of example_connect_federation_xcom.get_federation_token (plain text in the DB)",
    )
    _show(
        stored_token,
        "agent-2",
        f"Secrets Manager secret airflow/variables/connect/agents/agent-2, version {secret['VersionId']}",
    )
    print(f"\nagent-2's tokens found in AIRFLOW_HOME (DB, logs) and the commands' output: {leaks}")
    print(f"Done in {time.monotonic() - started:.1f} s")
    return 1 if leaks else 0


def _xcom_token(db: Path) -> FederationToken:
    with sqlite3.connect(db) as conn:
        (value,) = conn.execute(
            "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value'",
            ("example_connect_federation_xcom", "get_federation_token"),
        ).fetchone()
    return FederationToken.from_dict(json.loads(value))


def _leaks(sandbox: AirflowSandbox, outputs: list[str], token: FederationToken) -> int:
    needles = [token.access_token, token.refresh_token]
    in_files = sum(sandbox.occurrences(needles).values())
    return in_files + sum(output.count(needle) for output in outputs for needle in needles)


def _show(token: FederationToken, agent: str, where: str) -> None:
    print(f"  {agent} ({token.user_arn})")
    print(
        f"    access token ****, expires {token.access_token_expiration:%Y-%m-%d %H:%M:%S} UTC (signs in until then)"
    )
    print(
        f"    refresh token ****, expires {token.refresh_token_expiration:%Y-%m-%d %H:%M:%S} UTC (ends the session)"
    )
    print(f"    stored in {where}")


if __name__ == "__main__":
    sys.exit(main())
