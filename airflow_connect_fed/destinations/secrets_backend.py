"""Write the token where the running task's Airflow secrets backend reads the Variable ``secret_key``.

Downstream tasks then read it with ``Variable.get(secret_key, deserialize_json=True)``
or ``{{ var.json[secret_key] }}``; no code of this provider sits in between.

A task process looks Variables up through ``[workers] secrets_backend`` (with
``[workers] secrets_backend_kwargs``) when it is set, else through ``[secrets] backend``
(with ``[secrets] backend_kwargs``), and so does this module, with the same options read
through Airflow's public ``conf``. On Airflow versions that read per-key overrides
(``AIRFLOW__WORKERS__SECRETS_BACKEND_KWARG__<KEY>``, ``AIRFLOW__SECRETS__BACKEND_KWARG__<KEY>``),
those override the JSON too.

In multi-team mode a task of a team reads its team's Variables through the API server's
``[secrets] backend``, at ``<prefix><sep><team>--<key>`` (see :mod:`~airflow_connect_fed.destinations.teams`),
so that is where its token goes.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

from airflow_connect_fed._client.sensitive import protect
from airflow_connect_fed.destinations.base import StoredToken, TokenDestination, deserialize
from airflow_connect_fed.destinations.teams import amazon_team_separator, check_key, variable_team
from airflow_connect_fed.exceptions import InvalidDestinationError, TokenReadError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_connect_fed.destinations.aws_store import AwsStoreDestination
    from airflow_connect_fed.token import FederationToken

SECRETS_MANAGER_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
#: What to do when the task's backend cannot hold the token: the end of each such message.
_CONFIGURE = (
    f"Configure {SECRETS_MANAGER_BACKEND} or {SSM_BACKEND} (or a subclass), with its kwargs, in "
    "[workers] secrets_backend (else [secrets] backend), or pass a SecretsManagerDestination/"
    "SsmParameterDestination. destination='xcom' would work without one, but keeps both tokens in plain "
    "text in the metadata DB, the REST API and the UI."
)

#: Where a task process finds its secrets backend, in Airflow's order: (section, class option, kwargs option).
TASK_BACKEND_OPTIONS = (
    ("workers", "secrets_backend", "secrets_backend_kwargs"),
    ("secrets", "backend", "backend_kwargs"),
)
#: The first Task SDK release (Airflow 3.2's) that reads ``AIRFLOW__<SECTION>__<OPTION>_KWARG__<KEY>`` overrides.
PER_KEY_KWARGS_SINCE = (1, 2)


class SecretsBackendDestination(TokenDestination):
    """Store under the Variable ``secret_key`` of the secrets backend the running task reads.

    The backend object itself (built from its kwargs, once per process) supplies the client,
    so its ``endpoint_url``, region, credentials, prefix and separator are honoured exactly
    as when it reads. Subclasses of the two amazon backends are accepted. Making the
    destination only checks ``secret_key``; :meth:`~TokenDestination.check` (which the operators
    call before any AWS call) reads the configuration, builds the backend and checks the name the
    store will hold once the backend's prefix is applied.

    ``team_name`` is the running task's team (the operators pass its DAG run's ``team_name``). In
    multi-team mode, with an amazon provider that reads team-scoped Variables, the token goes where
    only that team's tasks read it: ``[secrets] backend``'s ``<prefix><sep><team>--<secret_key>``.
    Otherwise it is ignored.
    """

    kind = "secrets_backend"

    def __init__(self, secret_key: str | None, team_name: str | None = None) -> None:
        if not isinstance(secret_key, str) or not secret_key.strip() or secret_key == "None":  # noqa: S105
            raise InvalidDestinationError(
                f'destination="secrets_backend" needs secret_key, the Variable name downstream tasks read; '
                f"got secret_key={secret_key!r}."
            )
        self.secret_key = secret_key
        self.team_name = team_name
        self._place: VariableStore | None = None

    def check(self) -> None:
        self.store()

    def write(
        self, token: FederationToken, connect_user: str | None = None, principal: str | None = None
    ) -> dict[str, Any]:
        return self._as_variable(self.store().write(token, connect_user, principal))

    def current(self) -> StoredToken | None:
        stored = self.store().current()
        return None if stored is None else replace(stored, reference=self._as_variable(stored.reference))

    def describe(self, reference: Mapping[str, Any]) -> str:
        team = reference.get("team_name")
        of_team = f" of team {team!r}" if team else ""
        return f"Variable {self.secret_key!r}{of_team}: {self.store().describe(reference)}"

    def aws_store(self) -> AwsStoreDestination:
        return self.store()

    @classmethod
    def read(cls, reference: Mapping[str, Any]) -> FederationToken:
        """Read through the backend that wrote it, as ``Variable.get`` in a task of the reference's team would."""
        key = cls(reference.get("secret_key")).secret_key
        team = reference.get("team_name")
        backend = _readable(team_backend() if team else task_backend(), key)
        value = backend.get_variable(key, team_name=team) if team else backend.get_variable(key)
        of_team = f" for team {team!r}" if team else ""
        if value is None:
            raise TokenReadError(
                f"The secrets backend has no Variable {key!r}{of_team}; was the token written?"
            )
        return deserialize(value, f"Variable {key!r}{of_team}")[0]

    def _as_variable(self, reference: dict[str, Any]) -> dict[str, Any]:
        """The store's reference as this destination's: its kind, the Variable name and its team added."""
        team = self.place().team_name
        return {
            **reference,
            "kind": self.kind,
            "secret_key": self.secret_key,
            **({"team_name": team} if team else {}),
        }

    def place(self) -> VariableStore:
        """Where the backend the task's team reads keeps ``secret_key``, on the backend's client."""
        if self._place is None:
            self._place = variable_store(self.secret_key, self.team_name, lookup_pattern=True)
        return self._place

    def store(self) -> AwsStoreDestination:
        """The store and name the task's backend reads ``secret_key`` from, on the backend's client."""
        return self.place().store

    def backend(self) -> Any:
        """The backend instance the token is written for, or a clear error when it cannot hold the token."""
        return self.place().backend.backend


@dataclass(frozen=True)
class TaskBackend:
    """The secrets backend a task process reads Variables through, and the options it came from."""

    backend: Any
    backend_option: str
    kwargs_option: str


@dataclass(frozen=True)
class VariableStore:
    """Where a Variable is kept: the store and name, the team (``None``: the global name) and the backend."""

    store: AwsStoreDestination
    team_name: str | None
    backend: TaskBackend


@dataclass(frozen=True)
class BackendSetting:
    """The options naming a task process's secrets backend: ``[section] option`` and its kwargs."""

    section: str
    option: str
    kwargs_key: str
    path: str
    kwargs: str
    overrides: tuple[tuple[str, str], ...]

    @property
    def backend_option(self) -> str:
        return f"[{self.section}] {self.option}"

    @property
    def kwargs_option(self) -> str:
        return f"[{self.section}] {self.kwargs_key}"

    def backend_class(self) -> Any:
        """The class the option names, imported by Airflow's ``conf.getimport``."""
        from airflow.providers.common.compat.sdk import conf

        try:
            return conf.getimport(self.section, self.option)
        except Exception as error:  # Airflow raises its AirflowConfigException, which names the value
            raise InvalidDestinationError(
                f"{self.backend_option} is {self.path!r}, which cannot be imported ({error}). Fix the class path."
            ) from None

    def options(self) -> dict[str, Any]:
        """The backend's keyword arguments: the kwargs option's JSON, then the per-key overrides."""
        return {**_kwargs(self.kwargs, self.kwargs_option), **dict(self.overrides)}


def backend_setting(
    options: tuple[tuple[str, str, str], ...] = TASK_BACKEND_OPTIONS,
) -> BackendSetting | None:
    """Which secrets backend a task process reads through, as Airflow resolves it; ``None`` when unset.

    ``options``: where to look, in order (default: the task process's order).
    """
    from airflow.providers.common.compat.sdk import conf

    for section, option, kwargs_key in options:
        path = (conf.get(section, option, fallback="") or "").strip()
        if path:
            kwargs = conf.get(section, kwargs_key, fallback="") or ""
            return BackendSetting(
                section, option, kwargs_key, path, kwargs, _per_key_kwargs(section, kwargs_key)
            )
    return None


def task_backend() -> TaskBackend:
    """The task process's secrets backend, as Airflow resolves it, if it is one of the amazon backends.

    Raises :class:`~airflow_connect_fed.exceptions.InvalidDestinationError` naming the option
    (never a kwargs value) when it is unset, not importable, not a Secrets Manager or SSM Parameter
    Store backend, its kwargs are not a JSON object, or it reads no Variables.
    """
    setting = backend_setting()
    if setting is None:
        raise InvalidDestinationError(
            'destination="secrets_backend" writes the token where the task\'s secrets backend reads Variables, '
            f"but neither [workers] secrets_backend nor [secrets] backend is set. {_CONFIGURE}"
        )
    return _task_backend(setting)


def team_backend() -> TaskBackend:
    """The secrets backend a team's tasks read their team's Variables through: ``[secrets] backend``.

    The API server asks it with the task's team; a task process asks its own backend without one.
    Raises :class:`~airflow_connect_fed.exceptions.InvalidDestinationError` as :func:`task_backend`
    does, and when ``[secrets] backend`` is unset.
    """
    setting = backend_setting(TASK_BACKEND_OPTIONS[1:])
    if setting is None:
        raise InvalidDestinationError(
            "In multi-team mode a team's tasks read their team's Variables through the API server's "
            "[secrets] backend (a task process asks [workers] secrets_backend without its team), but "
            "[secrets] backend is not set. Set it, with [secrets] backend_kwargs, to the amazon backend on the "
            "API server and the workers, or pass a SecretsManagerDestination/SsmParameterDestination (a name "
            "every team's tasks can read)."
        )
    return _task_backend(setting)


@lru_cache(maxsize=4)
def _task_backend(setting: BackendSetting) -> TaskBackend:
    """One backend object per configuration and process, its client protected from DEBUG logging."""
    backend_class = _amazon_backend_class(setting)
    try:
        backend = backend_class(**setting.options())
    except TypeError as error:
        raise InvalidDestinationError(
            f"{setting.backend_option} {setting.path!r} refused the options of {setting.kwargs_option}: "
            f"{error}. Pass only the backend's own parameters."
        ) from None
    if backend.variables_prefix is None:
        raise InvalidDestinationError(
            f"The task's {type(backend).__name__} ({setting.backend_option}) has variables_prefix=None, so it "
            f"reads no Variables: set variables_prefix in {setting.kwargs_option}."
        )
    protect(backend.client)
    return TaskBackend(backend, setting.backend_option, setting.kwargs_option)


def _amazon_backend_class(setting: BackendSetting) -> type:
    """The class the setting names, if it is (a subclass of) one of the amazon backends."""
    from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend
    from airflow.providers.amazon.aws.secrets.systems_manager import SystemsManagerParameterStoreBackend

    backend_class = setting.backend_class()
    if isinstance(backend_class, type) and issubclass(
        backend_class, (SecretsManagerBackend, SystemsManagerParameterStoreBackend)
    ):
        return backend_class
    raise InvalidDestinationError(
        f'destination="secrets_backend" writes the token where the task\'s secrets backend reads Variables, '
        f"but {setting.backend_option} is {setting.path!r}, which is neither {SECRETS_MANAGER_BACKEND} nor "
        f"{SSM_BACKEND} nor a subclass of one. {_CONFIGURE}"
    )


def _kwargs(text: str, option: str) -> dict[str, Any]:
    """The kwargs option as a dict; errors say where it is broken, never what it holds (it may hold keys)."""
    try:
        options = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise InvalidDestinationError(
            f"{option} is not valid JSON ({error.msg} at line {error.lineno}, column {error.colno}). "
            "Write it as a JSON object."
        ) from None
    if not isinstance(options, dict):
        raise InvalidDestinationError(
            f"{option} is JSON but not an object (it is a {type(options).__name__}). Write it as a JSON "
            'object, e.g. {"variables_prefix": "airflow/variables"}.'
        )
    return options


def _per_key_kwargs(section: str, kwargs_key: str) -> tuple[tuple[str, str], ...]:
    """``AIRFLOW__<SECTION>__<OPTION>_KWARG__<KEY>`` overrides, on the Airflow versions that read them."""
    if _task_sdk_version() < PER_KEY_KWARGS_SINCE:
        return ()
    prefix = f"AIRFLOW__{section.upper()}__{kwargs_key.upper().replace('_KWARGS', '_KWARG')}__"
    return tuple(
        sorted(
            (name[len(prefix) :].lower(), value)
            for name, value in os.environ.items()
            if name.startswith(prefix) and name != prefix
        )
    )


@lru_cache(maxsize=1)
def _task_sdk_version() -> tuple[int, int]:
    """The Task SDK's version: what a task process reads its configuration with (core may be absent)."""
    major, minor = version("apache-airflow-task-sdk").split(".")[:2]
    return int(major), int(minor)


def variable_store(
    secret_key: str, team_name: str | None = None, *, lookup_pattern: bool = False
) -> VariableStore:
    """Where the Variable ``secret_key`` is read by tasks of ``team_name`` (the task's team, ``None``: none).

    In multi-team mode, with an amazon provider that reads team-scoped Variables, that is the
    team-scoped name of ``[secrets] backend``; otherwise the name the task's own backend reads.
    ``lookup_pattern``: also refuse a key the backend's ``variables_lookup_pattern`` would skip.
    Every check is made before any AWS call.
    """
    separator = amazon_team_separator()
    team = variable_team(team_name, separator)
    check_key(secret_key, team, separator)
    configured = task_backend() if team is None else team_backend()
    if lookup_pattern:
        _readable(configured, secret_key)
    return VariableStore(_store_of(configured, secret_key, team, separator), team, configured)


def _readable(configured: TaskBackend, secret_key: str) -> Any:
    """The backend, if its ``variables_lookup_pattern`` lets it read ``secret_key``."""
    pattern = getattr(configured.backend, "variables_lookup_pattern", None)
    if pattern and not re.match(pattern, secret_key, re.IGNORECASE):
        raise InvalidDestinationError(
            f"secret_key {secret_key!r} does not match the backend's variables_lookup_pattern "
            f"{pattern!r} ({configured.kwargs_option}), so the backend would never read it. Choose a "
            "matching key."
        )
    return configured.backend


def _store_of(
    configured: TaskBackend, secret_key: str, team_name: str | None, separator: str | None
) -> AwsStoreDestination:
    """The store and name the backend reads the Variable ``secret_key`` from, as its lookup builds it:
    for a team, ``<team><separator><secret_key>`` under its prefix."""
    from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend

    from airflow_connect_fed.destinations.secrets_manager import SecretsManagerDestination
    from airflow_connect_fed.destinations.ssm import SsmParameterDestination

    backend = configured.backend
    prefix = backend.variables_prefix
    variable_id = secret_key if team_name is None else f"{team_name}{separator}{secret_key}"
    if isinstance(backend, SecretsManagerBackend):
        if team_name is not None and not prefix:
            raise InvalidDestinationError(
                f"The {type(backend).__name__} of {configured.backend_option} has an empty variables_prefix, and "
                f"then reads no team-scoped names: team {team_name!r}'s token could only go under the global name, "
                f"which every team's tasks read. Set variables_prefix in {configured.kwargs_option}, or pass a "
                "SecretsManagerDestination with the name to write."
            )
        # As the backend reads: an empty prefix means the bare key.
        name = backend.build_path(prefix, variable_id, backend.sep) if prefix else variable_id
        return SecretsManagerDestination(name, aws_conn_id=None, client=backend.client)
    name = backend.build_path(prefix, variable_id)
    return SsmParameterDestination(
        name if name.startswith("/") else f"/{name}", aws_conn_id=None, client=backend.client
    )
