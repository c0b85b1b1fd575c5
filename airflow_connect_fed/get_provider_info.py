"""Provider metadata, read by Airflow's ProvidersManager through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_connect_fed import __version__
from airflow_connect_fed._client.pacing import DEFAULT_BURST, DEFAULT_REQUESTS_PER_SECOND, SEARCH_USERS
from airflow_connect_fed._client.token_bucket import SECRETS_MANAGER_WRITES, SSM_WRITES


def get_provider_info() -> dict[str, Any]:
    """Describe the provider; it reuses the amazon provider's ``aws`` connection type."""
    return {
        "package-name": "airflow-connect-fed",
        "name": "Amazon Connect Federation",
        "description": "Amazon Connect federation tokens (GetFederationToken) for Airflow, "
        "stored in XCom or in the secrets store Airflow reads.",
        "versions": [__version__],
        "documentation-url": "https://airflow-connect-fed.readthedocs.io/",
        "integrations": [
            {
                "integration-name": "Amazon Connect Federation",
                "external-doc-url": "https://docs.aws.amazon.com/connect/latest/APIReference/API_GetFederationToken.html",
                "tags": ["aws"],
            }
        ],
        "hooks": [
            {
                "integration-name": "Amazon Connect Federation",
                "python-modules": ["airflow_connect_fed.hooks.connect_federation"],
            }
        ],
        "operators": [
            {
                "integration-name": "Amazon Connect Federation",
                "python-modules": [
                    "airflow_connect_fed.operators.federation_token",
                    "airflow_connect_fed.operators.roster",
                ],
            }
        ],
        "config": {
            "connect_federation": {
                "description": "Connect's quotas (GetFederationToken's, SearchUsers') and the token stores' "
                "write quotas, shared by every worker of the deployment.",
                "options": {
                    "shared_quota_conn_id": {
                        "description": "Airflow redis connection holding one GetFederationToken quota per "
                        "account and region for every worker. Unset: each task paces in its own process.",
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": "redis_default",
                        "default": "",
                    },
                    "requests_per_second": {
                        "description": "GetFederationToken requests per second per account and region.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "2.0",
                        "default": str(DEFAULT_REQUESTS_PER_SECOND),
                    },
                    "burst": {
                        "description": "GetFederationToken requests allowed at once before pacing starts.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "5",
                        "default": str(DEFAULT_BURST),
                    },
                    "search_users_requests_per_second": {
                        "description": "SearchUsers requests per second per account and region (listing "
                        "users: its own quota, apart from GetFederationToken's).",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "2.0",
                        "default": str(SEARCH_USERS.requests_per_second),
                    },
                    "search_users_burst": {
                        "description": "SearchUsers requests allowed at once before pacing starts.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "5",
                        "default": str(SEARCH_USERS.burst),
                    },
                    "secretsmanager_writes_per_second": {
                        "description": "Secrets Manager write requests (PutSecretValue, CreateSecret, "
                        "RestoreSecret) per second per account and region that the bulk operator sends: "
                        "AWS's combined write quota is 50/s, not adjustable.",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "50.0",
                        "default": str(SECRETS_MANAGER_WRITES.requests_per_second),
                    },
                    "secretsmanager_writes_burst": {
                        "description": "Secrets Manager write requests allowed at once before pacing starts.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "50",
                        "default": str(SECRETS_MANAGER_WRITES.burst),
                    },
                    "ssm_writes_per_second": {
                        "description": "SSM Parameter Store PutParameter requests per second per account and "
                        "region that the bulk operator sends (raise it with the account's higher throughput).",
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "3.0",
                        "default": str(SSM_WRITES.requests_per_second),
                    },
                    "ssm_writes_burst": {
                        "description": "PutParameter requests allowed at once before pacing starts.",
                        "version_added": "0.1.0",
                        "type": "integer",
                        "example": "3",
                        "default": str(SSM_WRITES.burst),
                    },
                },
            }
        },
    }
