"""Provider metadata, read by Airflow's ProvidersManager through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_connect_fed import __version__


def get_provider_info() -> dict[str, Any]:
    """Describe the provider; it reuses the amazon provider's ``aws`` connection type."""
    return {
        "package-name": "airflow-connect-fed",
        "name": "Amazon Connect Federation",
        "description": "Amazon Connect federation tokens (GetFederationToken) for Airflow, "
        "stored in XCom or in the secrets store Airflow reads.",
        "versions": [__version__],
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
                "python-modules": ["airflow_connect_fed.operators.federation_token"],
            }
        ],
    }
