"""Rotate an agent's federation token into the secrets backend; start sessions on each rotation.

The refresh task writes the token where Airflow's configured secrets backend
(``SecretsManagerBackend`` or ``SystemsManagerParameterStoreBackend``) reads the
Variable ``connect/agents/<agent>``. XCom keeps only a reference, and each
rotation is an Asset event (user ARN and expiry in its extra, never the token)
that schedules ``example_connect_federation_session``.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, Asset, task

from airflow_connect_fed.operators.federation_token import GetFederationTokenOperator

INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
CONNECT_USER = os.environ.get("CONNECT_AGENT", "agent-1")
SECRET_KEY = f"connect/agents/{CONNECT_USER}"
REFRESH_EVERY = timedelta(seconds=int(os.environ.get("CONNECT_REFRESH_SECONDS", 25 * 60)))

# [START howto_asset_agent_token]
AGENT_TOKEN = Asset(
    name=f"connect_agent_token_{CONNECT_USER}", uri=f"connect-fed://{INSTANCE_ID}/{CONNECT_USER}"
)
# [END howto_asset_agent_token]

with DAG(
    dag_id="example_connect_federation_secrets",
    schedule=REFRESH_EVERY,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amazon-connect"],
) as dag:
    # [START howto_operator_get_federation_token_secrets_backend]
    refresh = GetFederationTokenOperator(
        task_id="refresh_token",
        instance_id=INSTANCE_ID,
        connect_user=CONNECT_USER,
        role_arn=ROLE_ARN,
        destination="secrets_backend",
        secret_key=SECRET_KEY,
        # Access tokens live 60 minutes (the default authentication profile): every 25 minutes, the
        # run after a rotation reuses the token (35 minutes left, more than 30), the next rotates it,
        # and readers always find at least 5 minutes left. The secret is rewritten every 50 minutes.
        reuse_if_valid_for=timedelta(minutes=30),
        outlets=[AGENT_TOKEN],
    )
    # [END howto_operator_get_federation_token_secrets_backend]

    # [START howto_read_token_with_variable_get]
    @task
    def check_stored_token() -> dict:
        """Read the token through the secrets backend, as any downstream task would."""
        from airflow.sdk import Variable

        from airflow_connect_fed.token import FederationToken

        token = FederationToken.from_dict(Variable.get(SECRET_KEY, deserialize_json=True))
        token.mask()
        return {"user_arn": token.user_arn, "expires_in_s": int(token.expires_in().total_seconds())}

    # [END howto_read_token_with_variable_get]

    refresh >> check_stored_token()


with DAG(
    dag_id="example_connect_federation_session",
    schedule=[AGENT_TOKEN],
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amazon-connect"],
) as session_dag:
    # [START howto_consume_rotated_token]
    @task
    def start_agent_session(*, triggering_asset_events=None) -> dict:
        """Start an automated agent session with the token that was just rotated."""
        from airflow.sdk import Variable

        from airflow_connect_fed.token import FederationToken

        events = triggering_asset_events[AGENT_TOKEN] if triggering_asset_events else []
        expirations = [event.extra.get("access_token_expiration") for event in events]
        token = FederationToken.from_dict(Variable.get(SECRET_KEY, deserialize_json=True))
        token.mask()
        # example_connect_federation_sign_in signs a headless browser in with token.sign_in_form().
        return {"user_arn": token.user_arn, "valid": token.is_valid(), "events": expirations}

    # [END howto_consume_rotated_token]

    start_agent_session()
