"""Every example DAG runs end to end against the emulator, and tokens stay where they belong."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from airflow_connect_fed import secret_key_for
from airflow_connect_fed.token import FederationToken
from amazon_connect_emulator import ConnectEmulator
from amazon_connect_emulator.airflow_sandbox import AirflowSandbox
from tests.browser import CHROMEDRIVER, CHROMIUM, require_browser

pytestmark = pytest.mark.integration
EXAMPLES = Path(__file__).parents[1] / "dags_examples"
#: Real instances name agents by e-mail address.
SIGN_IN_AGENT = "agent.one@example.com"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Run the three example DAGs once: XCom for agent-1, the secrets backend for agent-2."""
    with ConnectEmulator() as emulator:
        emulator.reset()  # moto's state is per process: start from empty accounts
        instance = emulator.create_instance("examples")
        role_arn = emulator.create_federation_role()
        for agent in ("agent-1", "agent-2", "agent-3", SIGN_IN_AGENT):
            emulator.create_user(instance["id"], agent)
        sandbox = AirflowSandbox(
            emulator,
            tmp_path_factory.mktemp("airflow") / "home",
            EXAMPLES,
            extra_env={"CONNECT_INSTANCE_ID": instance["id"], "CONNECT_FEDERATION_ROLE_ARN": role_arn},
        )
        sandbox.migrate()
        sandbox.airflow("pools", "set", "connect_federation", "2", "GetFederationToken callers")
        outputs = {}

        def dags_test(dag_id: str, agent: str = "") -> None:
            result = sandbox.dags_test(dag_id, env={"CONNECT_AGENT": agent, "CONNECT_AGENTS_PER_TASK": "2"})
            outputs.setdefault(dag_id, []).append(result.stdout + result.stderr)

        dags_test("example_connect_federation_xcom", "agent-1")
        dags_test("example_connect_federation_secrets", "agent-2")
        dags_test("example_connect_federation_secrets", "agent-2")  # second run: the stored token is reused
        dags_test("example_connect_federation_session", "agent-2")
        sm = emulator.client("secretsmanager", **sandbox.credentials)
        secret_id = "airflow/variables/connect/agents/agent-2"
        versions = sm.list_secret_version_ids(SecretId=secret_id)["Versions"]
        stored = FederationToken.from_dict(
            json.loads(sm.get_secret_value(SecretId=secret_id)["SecretString"])
        )
        federations = emulator.counters.totals().succeeded
        dags_test("example_connect_federation_agents")
        dags_test("example_connect_federation_agents_mapped")
        artifacts = tmp_path_factory.mktemp("browser")
        sign_in = sandbox.dags_test(
            "example_connect_federation_sign_in",
            env={
                "CONNECT_AGENT": SIGN_IN_AGENT,
                "CONNECT_BROWSER_ARTIFACTS": str(artifacts),
                "CONNECT_CHROMIUM": CHROMIUM,
                "CONNECT_CHROMEDRIVER": CHROMEDRIVER,
            },
        )
        outputs["example_connect_federation_sign_in"] = [sign_in.stdout + sign_in.stderr]
        sign_in_secret = f"airflow/variables/{secret_key_for(SIGN_IN_AGENT)}"
        sign_in_token = FederationToken.from_dict(
            json.loads(sm.get_secret_value(SecretId=sign_in_secret)["SecretString"])
        )
        agent_versions = {
            agent: len(
                sm.list_secret_version_ids(
                    SecretId=f"airflow/variables/connect/agents/{agent}", IncludeDeprecated=True
                )["Versions"]
            )
            for agent in ("agent-1", "agent-3")
        }
        yield {
            "sandbox": sandbox,
            "outputs": outputs,
            "stored": stored,
            "versions": versions,
            "agent_versions": agent_versions,
            "federations": federations,
            "instance_id": instance["id"],
            "sign_in": {
                "token": sign_in_token,
                "artifacts": artifacts,
                "endpoint_url": emulator.endpoint_url,
            },
        }


def _rows(sandbox: AirflowSandbox, query: str, *args: str) -> list[tuple]:
    with sqlite3.connect(sandbox.home / "airflow.db") as conn:
        return conn.execute(query, args).fetchall()


def _xcom(sandbox: AirflowSandbox, dag_id: str, task_id: str) -> list:
    rows = _rows(
        sandbox,
        "SELECT value FROM xcom WHERE dag_id = ? AND task_id = ? AND key = 'return_value' ORDER BY timestamp",
        dag_id,
        task_id,
    )
    return [json.loads(value) for (value,) in rows]


def test_xcom_example_pushes_the_token_and_masks_it_in_logs(run):
    sandbox = run["sandbox"]
    (value,) = _xcom(sandbox, "example_connect_federation_xcom", "get_federation_token")
    token = FederationToken.from_dict(value)
    assert token.instance_id == run["instance_id"]
    assert token.is_valid()
    (used,) = _xcom(sandbox, "example_connect_federation_xcom", "build_sign_in_request")
    assert used["user_arn"] == token.user_arn
    assert used["authorization_headers"] == ["X-Amz-Bearer"]
    # `airflow dags test` prints the task logs; destination="xcom" puts the token in the DB by
    # design, but never in a log line.
    (output,) = run["outputs"]["example_connect_federation_xcom"]
    assert f"Got a federation token for {token.user_arn}" in output
    assert token.access_token not in output
    assert token.refresh_token not in output
    needles = [token.access_token, token.refresh_token]
    logs = [p for p in (sandbox.home / "logs").rglob("*") if p.is_file()]
    assert all(needle not in p.read_text(errors="replace") for p in logs for needle in needles)
    assert sandbox.occurrences(needles)[token.access_token] >= 1  # the XCom row itself: the scan can find it


def test_secrets_example_leaves_only_a_reference(run):
    sandbox, stored = run["sandbox"], run["stored"]
    first, second = _xcom(sandbox, "example_connect_federation_secrets", "refresh_token")
    for reference in (first, second):
        assert reference["kind"] == "secrets_backend"
        assert reference["secret_key"] == "connect/agents/agent-2"
        assert reference["secret_id"] == "airflow/variables/connect/agents/agent-2"
        assert reference["user_arn"] == stored.user_arn
        assert reference["access_token_expiration"] == stored.access_token_expiration.isoformat()
        assert "Credentials" not in reference
    # The second run reused the stored token: one secret version, one federation call for agent-2.
    assert first["version_id"] == second["version_id"]
    assert len(run["versions"]) == 1
    assert run["federations"] == 2  # agent-1 (XCom) and agent-2 once
    assert "Reusing the stored federation token" in run["outputs"]["example_connect_federation_secrets"][1]
    (checked,) = _xcom(sandbox, "example_connect_federation_secrets", "check_stored_token")[:1]
    assert checked["user_arn"] == stored.user_arn
    assert 3500 < checked["expires_in_s"] <= 3600  # the default profile: a 60-minute access token


def test_no_secrets_backend_token_anywhere_in_airflow_home_or_output(run):
    sandbox, stored = run["sandbox"], run["stored"]
    needles = [stored.access_token, stored.refresh_token]
    assert sandbox.occurrences(needles) == dict.fromkeys(needles, 0)
    outputs = [out for outs in run["outputs"].values() for out in outs]
    assert all(needle not in out for out in outputs for needle in needles)
    for table in ("xcom", "rendered_task_instance_fields", "task_instance", "asset_event"):
        dump = repr(_rows(sandbox, f"SELECT * FROM {table}"))  # noqa: S608 - fixed table names
        assert all(needle not in dump for needle in needles), table


def test_session_dag_reads_the_rotated_token(run):
    (session,) = _xcom(run["sandbox"], "example_connect_federation_session", "start_agent_session")
    assert session["user_arn"] == run["stored"].user_arn
    assert session["valid"] is True


def test_bulk_agents_example_stores_one_secret_per_agent(run):
    sandbox = run["sandbox"]
    chunks = _xcom(sandbox, "example_connect_federation_agents", "refresh_agent_tokens")
    assert sorted(len(chunk) for chunk in chunks) == [1, 2]  # 3 agents, 2 per mapped task
    references = {agent: reference for chunk in chunks for agent, reference in chunk.items()}
    assert sorted(references) == ["agent-1", "agent-2", "agent-3"]
    for agent, reference in references.items():
        assert reference["secret_id"] == f"airflow/variables/connect/agents/{agent}"
        assert "Credentials" not in reference
    # agent-2's token from the secrets example was still valid: reused, not re-fetched.
    assert references["agent-2"]["version_id"] == run["versions"][0]["VersionId"]
    checks = _xcom(sandbox, "example_connect_federation_agents", "check_agent_session")
    assert sorted(c["agent"] for c in checks) == ["agent-1", "agent-2", "agent-3"]
    assert all(3500 < c["valid_for_s"] <= 3600 for c in checks)  # 60-minute access tokens


def test_mapped_agents_example_writes_per_agent_secrets(run):
    sandbox = run["sandbox"]
    references = _xcom(sandbox, "example_connect_federation_agents_mapped", "refresh_agent_token")
    assert sorted(r["secret_key"] for r in references) == [f"connect/agents/agent-{i}" for i in (1, 2, 3)]
    # The mapped run wrote a second version for agents the bulk run had stored.
    assert run["agent_versions"] == {"agent-1": 2, "agent-3": 2}
    pools = _rows(sandbox, "SELECT pool FROM task_instance WHERE task_id = 'refresh_agent_token'")
    assert {pool for (pool,) in pools} == {"connect_federation"}


def test_sign_in_example_signs_the_agent_in_with_headless_chromium(run):
    require_browser()
    sandbox, token = run["sandbox"], run["sign_in"]["token"]
    [output] = run["outputs"]["example_connect_federation_sign_in"]
    assert f"{SIGN_IN_AGENT} signed in: the browser landed on " in output
    [result] = _xcom(sandbox, "example_connect_federation_sign_in", "sign_in_agent")
    assert result["agent"] == SIGN_IN_AGENT
    assert result["landed_on"] == f"{run['sign_in']['endpoint_url']}/connect/{run['instance_id']}/ccp-v2"
    assert result["user_arn"] == token.user_arn
    artifacts = run["sign_in"]["artifacts"]
    assert (artifacts / "signed-in.png").read_bytes().startswith(b"\x89PNG")
    assert (artifacts / "profile").is_dir()


def test_sign_in_example_leaves_no_token_in_the_browsers_files_the_logs_or_the_db(run):
    require_browser()
    sandbox, token = run["sandbox"], run["sign_in"]["token"]
    secrets = (token.access_token.encode(), token.refresh_token.encode())
    files = [path for path in run["sign_in"]["artifacts"].rglob("*") if path.is_file()]
    files += [path for path in sandbox.home.rglob("*") if path.is_file()]
    assert len(files) > 20  # the profile, the driver's log, the screenshot, Airflow's DB and task logs
    leaked = [str(path) for path in files for secret in secrets if secret in path.read_bytes()]
    assert leaked == []
    for output in run["outputs"]["example_connect_federation_sign_in"]:
        assert all(secret.decode() not in output for secret in secrets)


#: The roster example's routing profile and its agents, as SAML instances name them.
ROSTER_PROFILE = "sales-routing-profile"
ROSTER_AGENTS = [f"agent.{n}@example.com" for n in ("one", "two", "three", "four", "five", "six")]
ROSTER_DEPARTED = "agent.six@example.com"
HAND_WRITTEN = "airflow/variables/connect/sales/notes"


@pytest.fixture(scope="module")
def roster_run(tmp_path_factory):
    """The roster example twice: all six agents, then after one is deleted in Connect."""
    with ConnectEmulator() as emulator:
        emulator.reset()
        instance = emulator.create_instance("roster")
        role_arn = emulator.create_federation_role()
        emulator.create_users(
            instance["id"],
            [{"Username": agent, "RoutingProfileId": ROSTER_PROFILE} for agent in ROSTER_AGENTS]
            + [{"Username": "supervisor@example.com", "RoutingProfileId": "supervisors"}],
        )
        sandbox = AirflowSandbox(
            emulator,
            tmp_path_factory.mktemp("airflow-roster") / "home",
            EXAMPLES,
            extra_env={
                "CONNECT_INSTANCE_ID": instance["id"],
                "CONNECT_FEDERATION_ROLE_ARN": role_arn,
                "CONNECT_ROUTING_PROFILE_ID": ROSTER_PROFILE,
                "CONNECT_AGENTS_PER_TASK": "4",
            },
        )
        sandbox.migrate()
        sm = emulator.client("secretsmanager", **sandbox.credentials)
        first = sandbox.dags_test("example_connect_federation_roster")
        stored_before = {
            agent: sm.get_secret_value(SecretId=_roster_secret(agent))["SecretString"]
            for agent in ROSTER_AGENTS
        }
        sm.create_secret(Name=HAND_WRITTEN, SecretString='{"note": "written by hand"}')
        emulator.delete_user(instance["id"], ROSTER_DEPARTED)
        emulator.counters.reset()
        second = sandbox.dags_test("example_connect_federation_roster")
        after = {agent: sm.describe_secret(SecretId=_roster_secret(agent)) for agent in ROSTER_AGENTS}
        hand_written = sm.describe_secret(SecretId=HAND_WRITTEN)
        federations = emulator.counters.totals().received
        sm.restore_secret(SecretId=_roster_secret(ROSTER_DEPARTED))
        restored = sm.get_secret_value(SecretId=_roster_secret(ROSTER_DEPARTED))["SecretString"]
        yield {
            "sandbox": sandbox,
            "outputs": [first.stdout + first.stderr, second.stdout + second.stderr],
            "stored_before": stored_before,
            "after": after,
            "hand_written": hand_written,
            "federations": federations,
            "restored": restored,
            "instance_id": instance["id"],
        }


def _roster_secret(agent: str) -> str:
    return f"airflow/variables/{secret_key_for(agent, 'connect/sales/{user}')}"


def test_roster_example_lists_the_profile_and_stores_each_agent(roster_run):
    sandbox = roster_run["sandbox"]
    listed = _xcom(sandbox, "example_connect_federation_roster", "list_agents")
    assert listed[0] == sorted(ROSTER_AGENTS)  # the supervisor is in another routing profile
    assert listed[1] == sorted(set(ROSTER_AGENTS) - {ROSTER_DEPARTED})
    for agent, text in roster_run["stored_before"].items():
        token = FederationToken.from_dict(json.loads(text))
        assert token.instance_id == roster_run["instance_id"]
        assert json.loads(text)["ConnectUser"] == agent
    # The second run reused every listed agent's valid token: no GetFederationToken call.
    assert roster_run["federations"] == 0


def test_roster_example_prunes_exactly_the_departed_agent(roster_run):
    after = roster_run["after"]
    assert "DeletedDate" in after[ROSTER_DEPARTED]
    assert [agent for agent, described in after.items() if "DeletedDate" in described] == [ROSTER_DEPARTED]
    assert "DeletedDate" not in roster_run["hand_written"]
    first, second = _xcom(roster_run["sandbox"], "example_connect_federation_roster", "prune_tokens")
    assert first == []
    assert second == [secret_key_for(ROSTER_DEPARTED, "connect/sales/{user}")]
    assert f"{secret_key_for(ROSTER_DEPARTED, 'connect/sales/{user}')}" in roster_run["outputs"][1]


def test_roster_example_prune_is_undone_by_restore_secret(roster_run):
    assert roster_run["restored"] == roster_run["stored_before"][ROSTER_DEPARTED]


def test_roster_example_leaves_no_token_in_airflow_home_or_output(roster_run):
    tokens = [FederationToken.from_dict(json.loads(text)) for text in roster_run["stored_before"].values()]
    needles = [secret for token in tokens for secret in (token.access_token, token.refresh_token)]
    assert roster_run["sandbox"].occurrences(needles) == dict.fromkeys(needles, 0)
    assert all(needle not in output for output in roster_run["outputs"] for needle in needles)
