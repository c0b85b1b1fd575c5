"""moto's Secrets Manager store with an index: finding a secret costs the same at 100 or 20,000 secrets.

moto 5.2.5's ``SecretsStore`` (a dict of secrets keyed by name, or by ARN for a replica) finds a
secret by name or ARN by scanning every stored one, on each of ``__getitem__``, ``__contains__``,
``get`` and ``pop``; every Secrets Manager request makes a few such lookups, so at contact-center scale
the emulator spent most of its time scanning. ``IndexedSecretsStore`` is a subclass that keeps a
name/ARN -> key index beside the dict and answers the same lookups from it, with moto's own fallback
(a partial ARN names its secret) unchanged. It is a drop-in fix that could go upstream as is.

It is installed as the backend's ``secrets`` attribute (the public attribute moto's backend reads it
from), replacing moto's store and keeping its contents, by ``indexed_backend``: the emulator calls
that under the Secrets Manager lock before each Secrets Manager request, so a backend moto creates
(a new account or region) or re-creates (``/moto-api/reset``) is indexed before it serves one.

Equivalence with moto's scan: keys of a store are names (a replica's, its ARN), names hold no colon
and ARNs start ``arn:``, so a name and an ARN never collide; where two stored secrets share a name
(a replica of a secret and a secret of that name), the index keeps the first stored, as the scan finds
it. Removing a secret re-scans only when another stored secret may share its name or ARN.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from moto.secretsmanager.models import SecretsStore, secretsmanager_backends
from moto.secretsmanager.utils import get_secret_name_from_partial_arn

if TYPE_CHECKING:
    from collections.abc import Iterable

    from moto.secretsmanager.models import FakeSecret, ReplicaSecret, SecretsManagerBackend

    Secret = FakeSecret | ReplicaSecret


class IndexedSecretsStore(SecretsStore):
    """``SecretsStore`` whose lookups by name or ARN use an index instead of scanning every secret."""

    def __init__(self, secrets: Iterable[tuple[str, Secret]] = ()) -> None:
        super().__init__()
        self._keys: dict[str, str] = {}  # a secret's name or ARN -> its key in the dict
        self._shared: set[str] = set()  # names or ARNs more than one stored secret has had
        for key, secret in secrets:
            self[key] = secret

    def __setitem__(self, key: str, value: Secret) -> None:
        if dict.__contains__(self, key):
            self._unindex(key)
        super().__setitem__(key, value)
        for identifier in (value.name, value.arn):
            if self._keys.setdefault(identifier, key) != key:
                self._shared.add(identifier)

    def __delitem__(self, key: str) -> None:
        self._unindex(key)
        super().__delitem__(key)

    def __getitem__(self, key: str) -> Secret:
        return dict.__getitem__(self, self._key_of(key))

    def __contains__(self, key: str) -> bool:  # type: ignore[override]
        return dict.__contains__(self, self._key_of(key))

    def get(self, key: str) -> Secret | None:  # type: ignore[override]
        return dict.get(self, self._key_of(key))

    def pop(self, key: str) -> Secret | None:  # type: ignore[override]
        # moto's pop looks a name or an ARN up as its secret's *name*, then pops that name.
        found = self.get(key)
        name = get_secret_name_from_partial_arn(found.name if found is not None else key)
        if not dict.__contains__(self, name):
            return None
        self._unindex(name)
        return dict.pop(self, name)

    def clear(self) -> None:
        super().clear()
        self._keys.clear()
        self._shared.clear()

    def _key_of(self, key: str) -> str:
        """The dict key of the secret named ``key`` (a name, an ARN, or moto's partial ARN)."""
        indexed = self._keys.get(key)
        return indexed if indexed is not None else get_secret_name_from_partial_arn(key)

    def _unindex(self, key: str) -> None:
        secret = dict.__getitem__(self, key)
        for identifier in (secret.name, secret.arn):
            if self._keys.get(identifier) != key:
                continue
            del self._keys[identifier]
            if identifier not in self._shared:
                continue
            holder = next(
                (k for k, s in dict.items(self) if k != key and identifier in (s.name, s.arn)), None
            )
            if holder is not None:
                self._keys[identifier] = holder


def indexed_backend(account_id: str, region: str) -> SecretsManagerBackend:
    """moto's Secrets Manager backend of the account and region, its store an ``IndexedSecretsStore``.

    Call it holding the Secrets Manager lock. ``KeyError`` for a region moto does not serve.
    """
    backend = secretsmanager_backends[account_id][region]
    if not isinstance(backend.secrets, IndexedSecretsStore):
        backend.secrets = IndexedSecretsStore(dict.items(backend.secrets))
    return backend
