"""PostgreSQL and Redis servers of a test: on loopback, free ports, in temporary directories.

Both are the Debian packages' binaries (``postgresql``, ``redis-server``). A missing binary fails
the test with the ``apt-get`` line that installs it; nothing is skipped. Use them as context
managers, which stop the server (and kill it when it does not stop in time) and delete its files::

    with PostgresServer(output_dir=out) as postgres, RedisServer(output_dir=out) as redis:
        postgres.create_database("airflow")
        ...postgres.url("airflow"), redis.url(0)...

PostgreSQL refuses to run as root: as root, every PostgreSQL command runs as the ``postgres``
user the Debian package creates (``runuser -u postgres --``), in a directory under the system's
temporary directory owned by that user (pytest's own temporary directories are private to root).
"""

from __future__ import annotations

import abc
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from types import TracebackType

    import redis

POSTGRES_PACKAGE = "apt-get install -y postgresql"
REDIS_PACKAGE = "apt-get install -y redis-server"
PORT_ATTEMPTS = 3  # a free port can be taken by another process before the server binds it
LOG_TAIL = 30


class MissingServerError(RuntimeError):
    """A server binary this test needs is not installed."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _tail(path: Path, lines: int = LOG_TAIL) -> str:
    if not path.exists():
        return f"({path.name}: no output)"
    text = path.read_text(errors="replace").splitlines()[-lines:]
    return f"--- {path.name} (last {lines} lines) ---\n" + "\n".join(text)


def postgres_bindir() -> Path:
    """The directory of ``initdb``, ``pg_ctl`` and ``pg_dump``: ``pg_config --bindir``, else the newest
    ``/usr/lib/postgresql/*/bin`` (Debian keeps them off the PATH)."""
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            )
            candidates.append(Path(out.stdout.strip()))

    def version(path: str) -> tuple[int, ...]:
        number = Path(path).parent.name
        return tuple(int(part) for part in number.split(".") if part.isdigit())

    candidates += [
        Path(path) for path in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)
    ]
    for bindir in candidates:
        if all((bindir / name).is_file() for name in ("initdb", "pg_ctl", "postgres", "pg_dump", "psql")):
            return bindir
    raise MissingServerError(
        "PostgreSQL's server binaries (initdb, pg_ctl, postgres, pg_dump, psql) were not found "
        f"(looked in: {', '.join(map(str, candidates)) or 'pg_config --bindir, /usr/lib/postgresql/*/bin'}). "
        f"Install the Debian package: {POSTGRES_PACKAGE}"
    )


class _TempServer(abc.ABC):
    """What both servers share: a temporary ``root`` with the server's ``log_path``, a copy of the log
    left in ``output_dir`` when stopped, and use as a context manager."""

    root: Path
    log_path: Path
    output_dir: Path | None

    @abc.abstractmethod
    def start(self) -> Self: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    def log_tail(self) -> str:
        return _tail(self.log_path)

    def _keep_log_and_remove(self) -> None:
        if self.output_dir is not None and self.log_path.exists():
            self.output_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(self.log_path, self.output_dir / self.log_path.name)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class PostgresServer(_TempServer):
    """A throwaway PostgreSQL cluster on 127.0.0.1, trust authentication, its files in a temporary directory.

    :param output_dir: where ``stop()`` leaves a copy of the server log (e.g. the test's output).
    """

    def __init__(self, output_dir: Path | None = None) -> None:
        self.bindir = postgres_bindir()
        self.output_dir = output_dir
        self._as_postgres: list[str] = []
        owner = None
        if os.geteuid() == 0:
            runuser = shutil.which("runuser")
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                owner = None
            if runuser is None or owner is None:
                raise MissingServerError(
                    "PostgreSQL refuses to run as root and there is no `postgres` user (or no runuser) to run it "
                    f"as. The Debian package creates that user: {POSTGRES_PACKAGE}"
                )
            self._as_postgres = [runuser, "-u", "postgres", "--"]
        self.root = Path(tempfile.mkdtemp(prefix="connect-fed-postgres-", dir=_shared_tempdir()))
        if owner is not None:
            os.chown(self.root, owner.pw_uid, owner.pw_gid)
        self.data = self.root / "data"
        self.socket_dir = self.root
        self.log_path = self.root / "postgresql.log"
        self.port = 0
        self.running = False

    # Lifecycle

    def start(self) -> PostgresServer:
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
                timeout=120,
            )
            for attempt in range(PORT_ATTEMPTS):
                self.port = free_port()
                options = " ".join(
                    [
                        f"-p {self.port}",
                        "-c listen_addresses=127.0.0.1",
                        f"-c unix_socket_directories={self.socket_dir}",
                        "-c max_connections=200",  # every Airflow process and task keeps a pool
                        # A throwaway cluster: durability costs time and buys nothing here.
                        "-c fsync=off",
                        "-c synchronous_commit=off",
                        "-c full_page_writes=off",
                    ]
                )
                started = self._run(
                    "pg_ctl",
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log_path),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                    timeout=90,
                    check=False,
                )
                if started.returncode == 0:
                    self.running = True
                    return self
                if attempt == PORT_ATTEMPTS - 1:
                    raise RuntimeError(
                        f"PostgreSQL did not start on 127.0.0.1:{self.port} (pg_ctl exited with "
                        f"{started.returncode}): {started.stdout}{started.stderr}\n{_tail(self.log_path)}"
                    )
        except BaseException:
            self.stop()
            raise
        raise AssertionError("unreachable")

    def stop(self) -> None:
        """``pg_ctl stop -m fast``; the postmaster is killed if it is still there after 30 s. Files deleted."""
        if self.running:
            self.running = False
            stopped = self._run(
                "pg_ctl",
                "-D",
                str(self.data),
                "-m",
                "fast",
                "-w",
                "-t",
                "30",
                "stop",
                timeout=45,
                check=False,
            )
            if stopped.returncode != 0:
                self._kill_postmaster()
        self._keep_log_and_remove()

    def _kill_postmaster(self) -> None:
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid = int(pid_file.read_text().splitlines()[0])
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGQUIT)  # immediate shutdown; the children follow
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and _alive(pid):
                time.sleep(0.2)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)

    # Use

    def url(self, database: str, user: str = "postgres", driver: str = "postgresql+psycopg2") -> str:
        """A SQLAlchemy URL over TCP on loopback (trust authentication: no password)."""
        return f"{driver}://{user}@127.0.0.1:{self.port}/{database}"

    def dsn(self, database: str, user: str = "postgres") -> str:
        """A libpq connection string (e.g. for ``psycopg2.connect``)."""
        return f"host=127.0.0.1 port={self.port} dbname={database} user={user}"

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` with psql as the superuser; stop at the first error. Returns the output."""
        result = self._run(
            "psql",
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            database,
            "-c",
            sql,
            timeout=60,
        )
        return result.stdout

    def create_database(self, name: str, owner: str | None = None) -> None:
        """A database (and its owner role, with LOGIN, when ``owner`` is given)."""
        if owner is not None:
            self.psql(f'CREATE ROLE "{owner}" LOGIN')
            self.psql(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        else:
            self.psql(f'CREATE DATABASE "{name}"')

    def pg_dump(self, database: str) -> bytes:
        """The whole database (schema and data) as ``pg_dump`` writes it."""
        command = [
            *self._as_postgres,
            str(self.bindir / "pg_dump"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "--no-password",
            database,
        ]
        result = subprocess.run(command, capture_output=True, timeout=120, check=False, cwd=self.root)
        if result.returncode != 0:
            raise RuntimeError(
                f"pg_dump {database} exited with {result.returncode}: {result.stderr.decode()}"
            )
        return result.stdout

    def _run(
        self, program: str, *args: str, timeout: float, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        command = [*self._as_postgres, str(self.bindir / program), *args]
        # cwd: the postgres user may not read the test's working directory
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False, cwd=self.root
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"`{program} {' '.join(args)}` exited with {result.returncode}:\n{result.stdout}{result.stderr}"
            )
        return result


class RedisServer(_TempServer):
    """A redis-server on 127.0.0.1 without persistence, its working directory a temporary one.

    :param output_dir: where ``stop()`` leaves a copy of the server log.
    """

    def __init__(self, output_dir: Path | None = None) -> None:
        binary = shutil.which("redis-server") or (
            "/usr/bin/redis-server" if Path("/usr/bin/redis-server").is_file() else None
        )
        if binary is None:
            raise MissingServerError(
                f"redis-server is not installed. Install the Debian package: {REDIS_PACKAGE}"
            )
        self.binary = binary
        self.output_dir = output_dir
        self.root = Path(tempfile.mkdtemp(prefix="connect-fed-redis-"))
        self.log_path = self.root / "redis.log"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 20.0) -> RedisServer:
        try:
            for attempt in range(PORT_ATTEMPTS):
                self.port = free_port()
                with self.log_path.open("ab") as log:
                    self.process = subprocess.Popen(
                        [
                            self.binary,
                            "--port",
                            str(self.port),
                            "--bind",
                            "127.0.0.1",
                            "--save",
                            "",
                            "--appendonly",
                            "no",
                            "--dir",
                            str(self.root),
                            "--daemonize",
                            "no",
                        ],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline and self.process.poll() is None:
                    if self.ping():
                        return self
                    time.sleep(0.05)
                code = self.process.poll()
                self._terminate()
                if code is None or attempt == PORT_ATTEMPTS - 1:
                    raise RuntimeError(
                        f"redis-server did not answer PING on 127.0.0.1:{self.port} within {timeout:.0f} s "
                        f"(exit code {code})\n{_tail(self.log_path)}"
                    )
        except BaseException:
            self.stop()
            raise
        raise AssertionError("unreachable")

    def client(self, db: int = 0, timeout: float = 2.0) -> redis.Redis:
        """A redis-py client of database ``db`` that sends each command once: no retries, ``timeout`` s.

        redis-py is imported here, not with this module: the unit tests' virtualenvs, which import
        this module when collecting, do not have it.
        """
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return redis.Redis(
            host="127.0.0.1",
            port=self.port,
            db=db,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )

    def ping(self, timeout: float = 2.0) -> bool:
        """Whether the server answers PING now (False while it is not listening, or still loading)."""
        import redis

        try:
            with self.client(timeout=timeout) as client:
                return bool(client.ping())
        except redis.RedisError:
            return False

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def stop(self) -> None:
        """SHUTDOWN NOSAVE; SIGTERM and then SIGKILL if it is still running. Files deleted."""
        if self.process is not None and self.process.poll() is None:
            self._shutdown()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self._terminate()
        self._keep_log_and_remove()

    def _shutdown(self) -> None:
        """SHUTDOWN NOSAVE, once; a server that refuses or does not answer is left to ``stop()``."""
        import redis

        with contextlib.suppress(redis.RedisError), self.client() as client:
            client.shutdown(nosave=True)

    def _terminate(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _shared_tempdir() -> str:
    """The system's temporary directory if every user can reach into it (the ``postgres`` user must),
    else ``/tmp``."""
    candidate = Path(tempfile.gettempdir()).resolve()
    if all(path.stat().st_mode & stat.S_IXOTH for path in [candidate, *candidate.parents]):
        return str(candidate)
    return "/tmp"  # world-writable and sticky: the postgres user can reach into it


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
