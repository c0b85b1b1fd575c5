"""Write the token where Airflow's configured secrets backend reads the Variable ``secret_key``.

Downstream tasks then read it with ``Variable.get(secret_key, deserialize_json=True)``
or ``{{ var.json[secret_key] }}``; no code of this provider sits in between.
"""

from __future__ import annotations

import importlib
import json
import re
from dataclasses import replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from airflow_connect_fed._client.sensitive import protect
from airflow_connect_fed.destinations.base import StoredToken, TokenDestination, deserialize
from airflow_connect_fed.exceptions import InvalidDestinationError, TokenReadError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_connect_fed.destinations.aws_store import AwsStoreDestination
    from airflow_connect_fed.token import FederationToken

SECRETS_MANAGER_BACKEND = "airflow.providers.amazon.aws.secrets.secrets_manager.SecretsManagerBackend"
SSM_BACKEND = "airflow.providers.amazon.aws.secrets.systems_manager.SystemsManagerParameterStoreBackend"
SUPPORTED_BACKENDS = (SECRETS_MANAGER_BACKEND, SSM_BACKEND)


class SecretsBackendDestination(TokenDestination):
    """Store under the Variable ``secret_key`` of the ``[secrets] backend`` Airflow is configured with.

    The backend object itself (built from ``[secrets] backend_kwargs``, once per process)
    supplies the client, so its ``endpoint_url``, region, credentials, prefix and
    separator are honoured exactly as when it reads. Everything is checked when the
    destination is made, before any AWS call: the backend, the key, and the name the
    store will hold once the backend's prefix is applied.
    """

    kind = "secrets_backend"

    def __init__(self, secret_key: str | None) -> None:
        if not isinstance(secret_key, str) or not secret_key.strip() or secret_key == "None":  # noqa: S105
            raise InvalidDestinationError(
                f'destination="secrets_backend" needs secret_key, the Variable name downstream tasks read; '
                f"got secret_key={secret_key!r}."
            )
        self.secret_key = secret_key
        self._store = self.store()

    def write(
        self, token: FederationToken, connect_user: str | None = None, principal: str | None = None
    ) -> dict[str, Any]:
        return self._as_variable(self._store.write(token, connect_user, principal))

    def current(self) -> StoredToken | None:
        stored = self._store.current()
        return None if stored is None else replace(stored, reference=self._as_variable(stored.reference))

    @classmethod
    def read(cls, reference: Mapping[str, Any]) -> FederationToken:
        """Read through the configured backend, as ``Variable.get`` would."""
        destination = cls(reference.get("secret_key"))
        value = destination.backend().get_variable(destination.secret_key)
        if value is None:
            raise TokenReadError(
                f"The secrets backend has no Variable {destination.secret_key!r}; was the token written?"
            )
        return deserialize(value, f"Variable {destination.secret_key!r}")[0]

    def _as_variable(self, reference: dict[str, Any]) -> dict[str, Any]:
        """The store's reference as this destination's: its kind and the Variable name added."""
        return {**reference, "kind": self.kind, "secret_key": self.secret_key}

    def backend(self) -> Any:
        """The configured backend instance, or a clear error when it cannot hold the token."""
        from airflow.providers.common.compat.sdk import conf

        path = conf.get("secrets", "backend", fallback="") or ""
        if path not in SUPPORTED_BACKENDS:
            raise InvalidDestinationError(
                f'destination="secrets_backend" writes the token where the configured secrets backend reads '
                f"Variables, but [secrets] backend is {path or 'not set'!r}. Configure "
                f"{SECRETS_MANAGER_BACKEND} or {SSM_BACKEND} ([secrets] backend and backend_kwargs), or pass "
                "a SecretsManagerDestination/SsmParameterDestination. destination='xcom' would work without "
                "one, but keeps both tokens in plain text in the metadata DB, the REST API and the UI."
            )
        backend = _configured_backend(path, conf.get("secrets", "backend_kwargs", fallback="") or "{}")
        if backend.variables_prefix is None:
            raise InvalidDestinationError(
                f"The configured {type(backend).__name__} has variables_prefix=None, so it reads no "
                "Variables: set variables_prefix in [secrets] backend_kwargs."
            )
        pattern = getattr(backend, "variables_lookup_pattern", None)
        if pattern and not re.match(pattern, self.secret_key, re.IGNORECASE):
            raise InvalidDestinationError(
                f"secret_key {self.secret_key!r} does not match the backend's variables_lookup_pattern "
                f"{pattern!r}, so the backend would never read it. Choose a matching key."
            )
        return backend

    def store(self) -> AwsStoreDestination:
        """The store and name the configured backend reads ``secret_key`` from, on the backend's client."""
        from airflow.providers.amazon.aws.secrets.secrets_manager import SecretsManagerBackend

        from airflow_connect_fed.destinations.secrets_manager import SecretsManagerDestination
        from airflow_connect_fed.destinations.ssm import SsmParameterDestination

        backend = self.backend()
        prefix = backend.variables_prefix
        if isinstance(backend, SecretsManagerBackend):
            # As the backend reads: an empty prefix means the bare key.
            name = backend.build_path(prefix, self.secret_key, backend.sep) if prefix else self.secret_key
            return SecretsManagerDestination(name, aws_conn_id=None, client=backend.client)
        name = backend.build_path(prefix, self.secret_key)
        return SsmParameterDestination(
            name if name.startswith("/") else f"/{name}", aws_conn_id=None, client=backend.client
        )


@lru_cache(maxsize=1)
def _configured_backend(path: str, kwargs: str) -> Any:
    """One backend object per configuration and process, its client protected from DEBUG logging."""
    try:
        options = json.loads(kwargs)
    except json.JSONDecodeError as error:
        # The value may hold credentials: say where it is broken, never what it holds.
        raise InvalidDestinationError(
            f"[secrets] backend_kwargs is not valid JSON ({error.msg} at line {error.lineno}, column "
            f"{error.colno}). Write it as a JSON object."
        ) from None
    module, _, name = path.rpartition(".")
    backend = getattr(importlib.import_module(module), name)(**options)
    protect(backend.client)
    return backend
