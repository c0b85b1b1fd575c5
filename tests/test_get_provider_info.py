from __future__ import annotations

import importlib

import pytest
from airflow import __version__ as airflow_version

from airflow_connect_fed import __version__
from airflow_connect_fed.get_provider_info import get_provider_info

AIRFLOW_VERSION = tuple(int(part) for part in airflow_version.split(".")[:2])


def test_provider_info():
    info = get_provider_info()
    assert info["package-name"] == "airflow-connect-fed"
    assert info["versions"] == [__version__]
    assert "connection-types" not in info  # reuses the amazon provider's "aws" type
    assert "airflow_connect_fed.operators.roster" in info["operators"][0]["python-modules"]
    for group in ("hooks", "operators"):
        for module in info[group][0]["python-modules"]:
            importlib.import_module(module)


def test_providers_manager_lists_the_provider():
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-connect-fed" in manager.providers
    provider = manager.providers["airflow-connect-fed"]
    assert provider.version == __version__
    assert provider.data["name"] == "Amazon Connect Federation"


def test_documentation_url_and_config_options():
    info = get_provider_info()
    assert info["documentation-url"].startswith("https://")
    options = info["config"]["connect_federation"]["options"]
    assert sorted(options) == [
        "burst",
        "requests_per_second",
        "search_users_burst",
        "search_users_requests_per_second",
        "secretsmanager_writes_burst",
        "secretsmanager_writes_per_second",
        "shared_quota_conn_id",
        "ssm_writes_burst",
        "ssm_writes_per_second",
    ]
    assert (options["requests_per_second"]["default"], options["burst"]["default"]) == ("2.0", "5")
    assert (
        options["search_users_requests_per_second"]["default"],
        options["search_users_burst"]["default"],
    ) == ("2.0", "5")
    assert (
        options["secretsmanager_writes_per_second"]["default"],
        options["secretsmanager_writes_burst"]["default"],
    ) == ("50.0", "50")
    assert (options["ssm_writes_per_second"]["default"], options["ssm_writes_burst"]["default"]) == (
        "3.0",
        "3",
    )


def test_the_provider_reads_the_defaults_and_the_environment(monkeypatch):
    from airflow_connect_fed._client.pacing import (
        SEARCH_USERS,
        configured_pacing,
        configured_shared_quota_conn_id,
    )

    assert configured_pacing(None, None) == (2.0, 5)
    assert configured_pacing(None, None, SEARCH_USERS) == (2.0, 5)
    assert configured_shared_quota_conn_id(None) is None
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SHARED_QUOTA_CONN_ID", "connect_quota")
    assert configured_shared_quota_conn_id(None) == "connect_quota"
    assert configured_shared_quota_conn_id("other") == "other"


# Airflow 3.2 looks provider configuration defaults up on demand. 3.0 and 3.1 know them only once
# ProvidersManager().initialize_providers_configuration() has run (their CLI commands do it), not in a
# bare process like this one; the provider falls back to the same defaults there (test above).
@pytest.mark.skipif(
    AIRFLOW_VERSION < (3, 2),
    reason="Airflow before 3.2 loads no provider configuration defaults here; the provider has the same ones",
)
def test_airflow_reads_the_config_defaults(monkeypatch):
    from airflow.configuration import conf

    assert conf.getint("connect_federation", "burst") == 5
    assert conf.getint("connect_federation", "search_users_burst") == 5
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SHARED_QUOTA_CONN_ID", "connect_quota")
    assert conf.get("connect_federation", "shared_quota_conn_id") == "connect_quota"
