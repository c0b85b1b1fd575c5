"""An isolated Airflow (own AIRFLOW_HOME, SQLite) wired to a running emulator, to run DAGs for real.

The optional Airflow part of the emulator: it imports nothing of Airflow, and runs Airflow's
commands with this interpreter, so it needs ``apache-airflow`` (and the amazon provider for the
secrets backend) installed only when it is used.

Used by ``make demo`` and the example-DAG tests; users can run their own DAG
folders the same way::

    with ConnectEmulator() as emulator:
        sandbox = AirflowSandbox(emulator, tmp_path, dags_folder="dags")
        sandbox.migrate()
        sandbox.dags_test("my_dag")
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from amazon_connect_emulator.emulator import SECRETS_MANAGER_BACKEND, SSM_BACKEND

if TYPE_CHECKING:
    from amazon_connect_emulator.emulator import AwsCredentials, ConnectEmulator

__all__ = ["SECRETS_MANAGER_BACKEND", "SSM_BACKEND", "AirflowSandbox"]


class AirflowSandbox:
    """Environment and commands for an Airflow whose AWS calls all go to ``emulator``.

    :param emulator: the running emulator.
    :param home: AIRFLOW_HOME to create (emptied first).
    :param dags_folder: DAG files to load.
    :param credentials: the identity of the ``aws_default`` connection and the secrets backend
        (default: a new IAM user ``airflow-worker``).
    :param secrets_backend: ``SECRETS_MANAGER_BACKEND``, ``SSM_BACKEND`` or ``None``.
    :param extra_env: more environment for the Airflow commands (e.g. the example DAGs' settings).
    """

    def __init__(
        self,
        emulator: ConnectEmulator,
        home: str | os.PathLike[str],
        dags_folder: str | os.PathLike[str],
        *,
        credentials: AwsCredentials | None = None,
        secrets_backend: str | None = SECRETS_MANAGER_BACKEND,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        if importlib.util.find_spec("airflow") is None:
            raise RuntimeError(
                f"AirflowSandbox runs Airflow's commands with {sys.executable}, which cannot import airflow: "
                "install apache-airflow and apache-airflow-providers-amazon there."
            )
        self.home = Path(home)
        shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        self.credentials = credentials or emulator.create_iam_user_credentials("airflow-worker")
        self.env = self._environment(emulator, Path(dags_folder), secrets_backend, extra_env or {})

    def _environment(
        self, emulator: ConnectEmulator, dags_folder: Path, backend: str | None, extra: dict[str, str]
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "AWS_"))}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(dags_folder.resolve()),
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__LOGGING__COLORED_CONSOLE_LOG": "False",
                # Nothing may reach real AWS, whatever the machine's own configuration says.
                "AWS_CONFIG_FILE": os.devnull,
                "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
                "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_DEFAULT_REGION": emulator.region,
                **emulator.airflow_env("aws_default", **self.credentials),
            }
        )
        if backend:
            env.update(emulator.secrets_backend_env(self.credentials, backend))
        env.update(extra)
        return env

    def airflow(
        self, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """Run ``airflow ARGS`` in the sandbox (``env`` added to its environment); raise if it fails."""
        command = [sys.executable, "-m", "airflow", *args]
        result = subprocess.run(  # noqa: S603 - a fixed command line of this interpreter
            command,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"`airflow {' '.join(args)}` exited with {result.returncode}:\n{result.stdout}\n{result.stderr}"
            )
        return result

    def migrate(self) -> None:
        """Create the SQLite metadata DB."""
        self.airflow("db", "migrate")

    def dags_test(self, dag_id: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Run one DAG run of ``dag_id`` in-process with ``airflow dags test``."""
        return self.airflow("dags", "test", dag_id, env=env)

    def occurrences(self, needles: list[str]) -> dict[str, int]:
        """How often each needle appears in any file under AIRFLOW_HOME (metadata DB, logs, config)."""
        counts = dict.fromkeys(needles, 0)
        for path in self.home.rglob("*"):
            if not path.is_file():
                continue
            data = path.read_bytes()
            for needle in needles:
                counts[needle] += data.count(needle.encode())
        return counts
