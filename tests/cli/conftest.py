"""Fixtures for the ``connect-fed`` tests: a local emulator with one federated agent, and a CLI runner."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

# Airflow configures logging on its first import; do it now, not inside a test's captured output.
import airflow_connect_fed.hooks.connect_federation  # noqa: F401
from airflow_connect_fed.cli import main
from amazon_connect_emulator import ConnectEmulator

AGENT = "Alice"


@dataclass(frozen=True)
class Result:
    """What one ``connect-fed`` run left behind."""

    exit_code: int
    stdout: str
    stderr: str

    def json(self) -> object:
        return json.loads(self.stdout)


Cli = Callable[..., Result]


@dataclass(frozen=True)
class Federation:
    """An emulator with a SAML instance, the federation role and Connect user ``Alice``."""

    emulator: ConnectEmulator
    instance_id: str
    instance_arn: str
    user_id: str
    role_arn: str
    agent: dict[str, str]  # the credentials of the role session named like the agent
    worker: dict[str, str]  # an IAM user's, which assumes the role for --connect-user

    @property
    def endpoint_url(self) -> str:
        return self.emulator.endpoint_url

    @property
    def sign_in_url(self) -> str:
        """The SignInUrl the emulator hands out: the instance's pages on its own endpoint."""
        return f"{self.endpoint_url}/connect/{self.instance_id}/auth/sign-in"

    def connection(
        self, conn_id: str, credentials: dict[str, str] | None = None, **extra: object
    ) -> dict[str, str]:
        """``AIRFLOW_CONN_<ID>`` for an aws connection to the emulator; root credentials by default."""
        value = json.loads(self.emulator.airflow_connection(conn_id, **(credentials or {})))
        if "endpoint_url" in extra:  # every service moves with it, or goes to AWS's own endpoints
            services = value["extra"].pop("service_config")
            if extra["endpoint_url"] is not None:
                value["extra"]["service_config"] = {
                    name: {"endpoint_url": extra["endpoint_url"]} for name in services
                }
        value["extra"].update(extra)
        value["extra"] = {k: v for k, v in value["extra"].items() if v is not None}
        return {f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(value)}


@pytest.fixture(scope="module")
def federation() -> Iterator[Federation]:
    """One emulator per test module, quota high enough that no test is throttled."""
    with ConnectEmulator(requests_per_second=1000.0, burst=1000) as emulator:
        emulator.reset()  # moto's state is per process: start from empty accounts
        instance = emulator.create_instance("cli-test")
        user = emulator.create_user(instance["id"], AGENT)
        role_arn = emulator.create_federation_role()
        agent = dict(emulator.credentials_for(AGENT, role_arn))
        worker = dict(emulator.create_iam_user_credentials("airflow-worker"))
        yield Federation(emulator, instance["id"], instance["arn"], user["id"], role_arn, agent, worker)


@pytest.fixture
def agent_conn(federation: Federation, monkeypatch: pytest.MonkeyPatch) -> str:
    """Connections ``agent`` (the agent's role session), ``worker`` (an IAM user) and ``root``, as env vars."""
    for name, value in {
        **federation.connection("agent", federation.agent),
        **federation.connection("worker", federation.worker),
        **federation.connection("root"),
    }.items():
        monkeypatch.setenv(name, value)
    return "agent"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run ``connect-fed`` in-process: ``cli("get-federation-token", "--instance-id", ...)``."""

    def run(*argv: str) -> Result:
        capsys.readouterr()
        exit_code = main(list(argv))
        captured = capsys.readouterr()
        return Result(exit_code, captured.out, captured.err)

    return run
