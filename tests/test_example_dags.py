"""Every example DAG imports cleanly, as the DAG processor would load it."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "dags_examples"


@pytest.fixture(scope="module")
def dagbag():
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow < 3.1
        from airflow.models.dagbag import DagBag

    return DagBag(dag_folder=str(EXAMPLES))


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}
    files = sorted(p.name for p in EXAMPLES.glob("example_*.py"))
    assert files
    assert sorted(dagbag.dags) == [
        "example_connect_federation_agents",
        "example_connect_federation_agents_mapped",
        "example_connect_federation_roster",
        "example_connect_federation_secrets",
        "example_connect_federation_session",
        "example_connect_federation_sign_in",
        "example_connect_federation_xcom",
    ]
    assert len(files) == 5


def test_xcom_example(dagbag):
    dag = dagbag.dags["example_connect_federation_xcom"]
    assert {t.task_id for t in dag.tasks} == {"get_federation_token", "build_sign_in_request"}
    assert dag.get_task("build_sign_in_request").upstream_task_ids == {"get_federation_token"}


def test_roster_example(dagbag):
    dag = dagbag.dags["example_connect_federation_roster"]
    assert {t.task_id for t in dag.tasks} == {"list_agents", "chunks", "refresh_agent_tokens", "prune_tokens"}
    assert dag.get_task("prune_tokens").upstream_task_ids == {"list_agents", "refresh_agent_tokens"}
    assert dag.get_task("refresh_agent_tokens").partial_kwargs["skip_departed_users"] is True
