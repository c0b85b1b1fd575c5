from __future__ import annotations

import importlib

from airflow_connect_fed import __version__
from airflow_connect_fed.get_provider_info import get_provider_info


def test_provider_info():
    info = get_provider_info()
    assert info["package-name"] == "airflow-connect-fed"
    assert info["versions"] == [__version__]
    assert "connection-types" not in info  # reuses the amazon provider's "aws" type
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
    assert sorted(options) == ["burst", "requests_per_second", "shared_quota_conn_id"]
    assert (options["requests_per_second"]["default"], options["burst"]["default"]) == ("2.0", "5")


def test_airflow_reads_the_config_defaults(monkeypatch):
    from airflow.configuration import conf

    assert conf.getint("connect_federation", "burst") == 5
    monkeypatch.setenv("AIRFLOW__CONNECT_FEDERATION__SHARED_QUOTA_CONN_ID", "connect_quota")
    assert conf.get("connect_federation", "shared_quota_conn_id") == "connect_quota"
