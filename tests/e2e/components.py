"""Airflow's own components (api-server, dag-processor, scheduler) as background processes of a test."""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

from amazon_connect_emulator.airflow_sandbox import AirflowSandbox

TAIL_LINES = 40


class AirflowProcess:
    """One long-running ``airflow`` command, its output in files, in its own process group."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], output_dir: Path) -> None:
        self.name = name
        self.stdout_path = output_dir / f"{name}.stdout"
        self.stderr_path = output_dir / f"{name}.stderr"
        with self.stdout_path.open("wb") as stdout, self.stderr_path.open("wb") as stderr:
            self.popen = subprocess.Popen(
                [sys.executable, "-m", "airflow", *args],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        self.descendants: list[psutil.Process] = []
        self.stop_seconds = 0.0  # how long stop() took

    def output(self) -> bytes:
        return self.stdout_path.read_bytes() + self.stderr_path.read_bytes()

    def tail(self, lines: int = TAIL_LINES) -> str:
        parts = []
        for path in (self.stdout_path, self.stderr_path):
            text = path.read_text(errors="replace").splitlines()[-lines:]
            parts.append(f"--- {self.name} {path.suffix[1:]} (last {lines} lines) ---\n" + "\n".join(text))
        return "\n".join(parts)

    def stop(self, grace: float = 20.0) -> None:
        """SIGTERM the process group (twice: the dag-processor sometimes ignores the first), then
        SIGKILL whatever is left of it and of its descendants.

        Task processes run in process groups of their own, so descendants are collected by pid
        first and ended one by one.
        """
        if self.popen.poll() is not None:
            return
        began = time.monotonic()
        with contextlib.suppress(psutil.NoSuchProcess):
            self.descendants = psutil.Process(self.popen.pid).children(recursive=True)
        descendants = self.descendants
        for wait in (grace / 2, grace / 2):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(wait)
                break
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGKILL)
            self.popen.wait(10)
        _, alive = psutil.wait_procs(descendants, timeout=5)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=5)
        self.stop_seconds = time.monotonic() - began


class ScheduledAirflow(AirflowSandbox):
    """An AirflowSandbox that also runs the api-server, dag-processor and scheduler in the background."""

    def __init__(self, *args, output_dir: Path, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.output_dir = output_dir
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.api_port = _free_port()
        base_url = f"http://127.0.0.1:{self.api_port}"
        self.env.update(
            {
                # Airflow 3 removed the SequentialExecutor; its default LocalExecutor runs on
                # SQLite. Two worker slots are plenty for two DAGs on a 2-core machine.
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__PARALLELISM": "2",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(self.api_port),
                "AIRFLOW__API__BASE_URL": base_url,
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base_url}/execution/",
                # Every component must sign and check the same JWTs and encrypt with the same key.
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(64),
                "AIRFLOW__API__SECRET_KEY": secrets.token_urlsafe(32),
                "AIRFLOW__CORE__FERNET_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__JOB_HEARTBEAT_SEC": "1",
                "AIRFLOW__SCHEDULER__SCHEDULER_IDLE_SLEEP_TIME": "0.5",
                # The first parse starts at once; re-parsing the unchanged file sooner would only
                # take CPU from the tasks.
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
                "AIRFLOW__DAG_PROCESSOR__BUNDLE_REFRESH_CHECK_INTERVAL": "1",
            }
        )
        self.processes: list[AirflowProcess] = []

    def start(self, name: str, *args: str) -> AirflowProcess:
        process = AirflowProcess(name, list(args), self.env, self.output_dir)
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.processes):  # the scheduler first: it owns the task processes
            process.stop()

    def tails(self) -> str:
        return "\n".join(process.tail() for process in self.processes)

    def check_running(self) -> None:
        for process in self.processes:
            code = process.popen.poll()
            if code is not None:
                raise AssertionError(f"`airflow {process.name}` exited with {code}\n{self.tails()}")

    def wait_for_api_server(self, timeout: float = 90.0) -> None:
        url = f"http://127.0.0.1:{self.api_port}/execution/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            # URLError is an OSError: not listening yet, or not ready
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
            time.sleep(0.5)
        raise AssertionError(f"the api-server did not answer {url} within {timeout:.0f} s\n{self.tails()}")

    def rows(self, query: str, *args: object, live: bool = False) -> list[tuple]:
        """Query the metadata DB. ``live``: while Airflow runs, read-only, and [] while it is locked."""
        path = self.home / "airflow.db"
        if not live:
            with contextlib.closing(sqlite3.connect(path)) as conn:
                return conn.execute(query, args).fetchall()
        try:
            with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=1)) as conn:
                return conn.execute(query, args).fetchall()
        except sqlite3.OperationalError:
            return []

    def dag_runs(self, dag_id: str, *, live: bool = False) -> list[tuple[str, str, str]]:
        """(run_id, run_type, state) of ``dag_id``'s runs, oldest first."""
        query = "SELECT run_id, run_type, state FROM dag_run WHERE dag_id = ? ORDER BY id"
        return self.rows(query, dag_id, live=live)

    def wait_for_dag(self, dag_id: str, timeout: float = 120.0) -> None:
        """Until the dag-processor has serialized ``dag_id`` into the metadata DB."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_running()
            if self.rows("SELECT dag_id FROM serialized_dag WHERE dag_id = ?", dag_id, live=True):
                return
            time.sleep(0.5)
        raise AssertionError(
            f"the dag-processor did not parse {dag_id} within {timeout:.0f} s\n{self.tails()}"
        )


class CeleryAirflow(ScheduledAirflow):
    """A ScheduledAirflow shaped like a production deployment: the metadata DB on PostgreSQL and the
    CeleryExecutor with Redis as its broker; ``start_worker`` adds Celery workers.

    :param database_url: SQLAlchemy URL of the metadata DB (``postgresql+psycopg2://...``).
    :param database_dsn: the same database as a libpq string, for the test's own queries.
    :param broker_url: Celery broker (``redis://HOST:PORT/DB``).
    :param result_backend: Celery result backend (``db+postgresql+psycopg2://...``: a bare
        ``db+postgresql://`` means psycopg 3 under SQLAlchemy 2.1).
    """

    def __init__(
        self,
        *args,
        database_url: str,
        database_dsn: str,
        broker_url: str,
        result_backend: str,
        parallelism: int = 8,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.database_dsn = database_dsn
        self.broker_url = broker_url
        self.env.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
                "AIRFLOW__CORE__PARALLELISM": str(parallelism),
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database_url,
                "AIRFLOW__CELERY__BROKER_URL": broker_url,
                "AIRFLOW__CELERY__RESULT_BACKEND": result_backend,
                "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            }
        )

    def start_worker(self, name: str, concurrency: int = 2) -> AirflowProcess:
        """``airflow celery worker`` as Celery node ``NAME@<host>`` (its output files are named ``name``)."""
        return self.start(
            name,
            "celery",
            "worker",
            "--celery-hostname",
            f"{name}@%h",
            "--concurrency",
            str(concurrency),
            "--skip-serve-logs",
        )

    def wait_for_workers(self, names: list[str], timeout: float = 120.0) -> list[str]:
        """Until a Celery node ``NAME@...`` answers a broadcast ping for each of ``names``; their node names."""
        from celery import Celery

        app = Celery(broker=self.broker_url)
        deadline = time.monotonic() + timeout
        answered: list[str] = []
        try:
            while time.monotonic() < deadline:
                self.check_running()
                answered = sorted(node for reply in app.control.ping(timeout=1.0) for node in reply)
                if all(any(node.startswith(f"{name}@") for node in answered) for name in names):
                    return answered
                time.sleep(0.5)
        finally:
            app.close()
        raise AssertionError(
            f"Celery workers {names} did not all answer a ping within {timeout:.0f} s (answered: {answered})\n"
            f"{self.tails()}"
        )

    def rows(self, query: str, *args: object, live: bool = False) -> list[tuple]:
        """Query the PostgreSQL metadata DB (``?`` placeholders, as for SQLite); ``live`` changes nothing."""
        import psycopg2

        with contextlib.closing(psycopg2.connect(self.database_dsn, connect_timeout=10)) as conn:
            conn.autocommit = True
            with conn.cursor() as cursor:
                cursor.execute(query.replace("?", "%s"), args)
                return cursor.fetchall()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
