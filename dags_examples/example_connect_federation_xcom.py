"""Get an agent's Connect federation token every 6 hours and use it downstream, in the same run.

The access token lives as long as the instance's authentication profile says (10 to 60 minutes),
so the downstream task uses it right after it is fetched, not hours later.
``destination="xcom"`` keeps the token in the metadata DB in plain text; see
``example_connect_federation_secrets`` for the safe default in production.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta

from airflow.sdk import DAG, task

from airflow_connect_fed.operators.federation_token import GetFederationTokenOperator

INSTANCE_ID = os.environ.get("CONNECT_INSTANCE_ID", "11111111-2222-3333-4444-555555555555")
ROLE_ARN = os.environ.get("CONNECT_FEDERATION_ROLE_ARN", "arn:aws:iam::123456789012:role/ConnectFederation")
CONNECT_USER = os.environ.get("CONNECT_AGENT", "agent-1")

with DAG(
    dag_id="example_connect_federation_xcom",
    schedule=timedelta(hours=6),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["example", "amazon-connect"],
) as dag:
    # [START howto_operator_get_federation_token_xcom]
    get_token = GetFederationTokenOperator(
        task_id="get_federation_token",
        instance_id=INSTANCE_ID,
        connect_user=CONNECT_USER,
        role_arn=ROLE_ARN,
        destination="xcom",
    )
    # [END howto_operator_get_federation_token_xcom]

    # [START howto_load_federation_token]
    @task
    def build_sign_in_request(value: dict) -> dict:
        """Prepare the agent's sign-in; the token is used, never printed or returned."""
        from airflow_connect_fed import load_federation_token

        token = load_federation_token(value)
        if not token.is_valid(margin=timedelta(minutes=30)):
            raise ValueError(f"The token for {token.user_arn} expires too soon ({token.expires_in()}).")
        headers = {"X-Amz-Bearer": token.access_token}
        return {
            "user_arn": token.user_arn,
            "sign_in_url": token.sign_in_url,
            "expires_at": token.access_token_expiration.isoformat(),
            "authorization_headers": sorted(headers),
        }

    build_sign_in_request(get_token.output)
    # [END howto_load_federation_token]
