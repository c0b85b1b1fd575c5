"""DAGs of one team, for tests/e2e/test_teams.py: the team is the name of the folder (the DAG bundle) this file is in.

The test copies this file into one bundle per team and lists the teams in ``CONNECT_FED_TEAMS``;
anywhere else it defines no DAG. ``connect_fed_<team>_get`` stores the agents' tokens (default
destination) and reads them back with ``Variable.get``; ``connect_fed_<team>_read`` only reads.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from airflow.sdk import DAG, Variable, task

from airflow_connect_fed import secret_key_for
from airflow_connect_fed.operators.federation_token import (
    GetFederationTokenOperator,
    GetFederationTokensOperator,
)

TEAM = Path(__file__).parent.name
INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
BULK_AGENTS = ["agent-1", "agent--2"]
AGENT = "agent-3"


@task
def read_tokens() -> None:
    """Each agent's token as a task reads it, or ``missing``: what the test looks for in the log."""
    for user in [*BULK_AGENTS, AGENT]:
        value = Variable.get(secret_key_for(user), default=None, deserialize_json=True)
        print(
            f"Variable {secret_key_for(user)}:",
            "missing" if value is None else f"token of {value['ConnectUser']}",
        )


if TEAM in os.environ.get("CONNECT_FED_TEAMS", "").split(","):
    with DAG(f"connect_fed_{TEAM}_get", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
        bulk = GetFederationTokensOperator(
            task_id="get_tokens", instance_id=INSTANCE_ID, connect_users=BULK_AGENTS, role_arn=ROLE_ARN
        )
        one = GetFederationTokenOperator(
            task_id="get_token",
            instance_id=INSTANCE_ID,
            connect_user=AGENT,
            role_arn=ROLE_ARN,
            secret_key="connect/agents/{user}",
        )
        [bulk, one] >> read_tokens()

    with DAG(f"connect_fed_{TEAM}_read", schedule=None, start_date=datetime(2026, 1, 1), catchup=False):
        read_tokens()
