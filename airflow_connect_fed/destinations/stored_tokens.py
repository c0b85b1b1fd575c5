"""The agents' tokens of one instance stored where the running task's secrets backend reads: listed and deleted.

``GetFederationTokensOperator`` stores each agent's token under ``secret_key`` with ``{user}`` filled
in by the rule of :mod:`airflow_connect_fed.secret_key`, in the store of the task's secrets backend,
named as that backend reads the Variable. :class:`StoredAgentTokens` finds those values again by the
same naming and deletes the ones asked for. It only ever sees what this provider wrote for the
instance: on Secrets Manager the secrets it tagged with the instance's ID when it created them, on
SSM Parameter Store the parameters whose value is its token for the instance and whose name is the
one ``secret_key`` gives the user that value records. A name the rule could not have produced for a
valid username, a secret written by hand and another instance's token are never listed.

In multi-team mode a task of a team lists and deletes its team's tokens only: the names under
``<prefix><sep><team>--`` of ``[secrets] backend``, where that team's tasks read them (see
:mod:`~airflow_connect_fed.destinations.teams`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from airflow_connect_fed._client.aws_error import describe
from airflow_connect_fed.destinations.secrets_backend import VariableStore, variable_store
from airflow_connect_fed.exceptions import InvalidDestinationError, TokenPruneError
from airflow_connect_fed.secret_key import USER_FIELD, connect_user_of_key, secret_key_for, user_template

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow_connect_fed.destinations.aws_store import AwsStoreDestination, StoredValue

#: Any valid username: the Variable key it gets shows where the backend puts a key in a store name.
_SAMPLE_USER = "agent-1"


@dataclass(frozen=True)
class AgentToken:
    """One agent's stored token: the Connect user, the Variable key, the value in the store."""

    connect_user: str
    secret_key: str
    value: StoredValue


@dataclass(frozen=True)
class AgentTokens:
    """A listing: the instance's agents' tokens (by Variable key), and how many values this provider
    wrote under the same prefix without recording an instance (Secrets Manager secrets created before
    the instance tag), which are left alone."""

    tokens: list[AgentToken]
    unattributed: int = 0


class StoredAgentTokens:
    """The tokens of ``instance_id``'s agents stored under ``secret_key`` (with ``{user}``) where the task's
    secrets backend reads Variables; ``team_name``, the task's team, as for
    :class:`~airflow_connect_fed.destinations.SecretsBackendDestination`.

    Making one checks ``secret_key``; :meth:`check` resolves the backend and its naming without an
    AWS request (a backend other than the amazon ones is refused as the write path refuses it).
    """

    def __init__(self, instance_id: str, secret_key: str, team_name: str | None = None) -> None:
        self.instance_id = instance_id
        self.secret_key = user_template(secret_key)
        self.team_name = team_name
        self._sample: VariableStore | None = None
        self._backend_prefix = ""

    def check(self) -> None:
        """Resolve the task's backend and where its names put a key, before any AWS request."""
        self._store()

    @property
    def store_name(self) -> str:
        """``Secrets Manager`` or ``SSM Parameter Store``."""
        return self._store().store_name

    @property
    def recoverable(self) -> bool:
        """Whether the store keeps a deleted value for a recovery window."""
        return self._store().recoverable

    @property
    def name_prefix(self) -> str:
        """What every name of these tokens starts with in the store: the backend's prefix and ``secret_key``
        up to ``{user}``."""
        self._store()
        return self._backend_prefix + self.secret_key.split(USER_FIELD, 1)[0]

    def find(self) -> AgentTokens:
        """The instance's agents' tokens, sorted by Variable key: one listing, no value kept or shown."""
        store = self._store()
        after_user = self.secret_key.split(USER_FIELD, 1)[1]
        try:
            listing = store.list_tokens(
                store.client, self.name_prefix, self.instance_id, nested="/" in after_user
            )
        except (ClientError, BotoCoreError) as error:
            raise TokenPruneError(
                f"Could not list the stored tokens under {self.name_prefix!r} in {store.store_name}: "
                f"{describe(error)}. Nothing was deleted. Allow {store.list_action} to the identity of the "
                f"task's secrets backend ({self._place().backend.backend_option})."
            ) from error
        tokens = []
        for value in listing.values:
            connect_user = self._connect_user_of(value.name)
            if connect_user is None or value.connect_user not in (None, connect_user):
                continue
            tokens.append(AgentToken(connect_user, secret_key_for(connect_user, self.secret_key), value))
        return AgentTokens(sorted(tokens, key=lambda token: token.secret_key), listing.unattributed)

    def delete(
        self, tokens: Sequence[AgentToken], recovery_window_in_days: int | None
    ) -> tuple[list[AgentToken], list[AgentToken]]:
        """Delete ``tokens``; return those deleted and those the store no longer had.

        ``recovery_window_in_days`` where the store has one (``None``: no recovery). A failure stops
        the deletions: :class:`~airflow_connect_fed.exceptions.TokenPruneError` then names the keys
        deleted and those not.
        """
        store = self._store()
        by_id = {token.value.store_id: token for token in tokens}
        deleted: list[AgentToken] = []
        try:
            missing = store.delete_tokens(
                store.client,
                [token.value for token in tokens],
                recovery_window_in_days,
                lambda value: deleted.append(by_id[value.store_id]),
            )
        except (ClientError, BotoCoreError) as error:
            done = [token.secret_key for token in deleted]
            left = [token.secret_key for token in tokens if token not in deleted]
            raise TokenPruneError(
                f"Deleting stored tokens in {store.store_name} failed after {len(done)} of {len(tokens)}: "
                f"{describe(error)}. Deleted: {', '.join(done) or 'none'}. Not deleted: {', '.join(left)}. "
                f"Allow {store.delete_action} to the identity of the task's secrets backend, then run the "
                "prune again for the rest.",
                deleted=done,
                not_deleted=left,
            ) from error
        return deleted, [by_id[value.store_id] for value in missing]

    def _connect_user_of(self, name: str) -> str | None:
        """The user whose Variable key gives the store name ``name``, ``None`` if no valid one does."""
        if not name.startswith(self._backend_prefix):
            return None
        return connect_user_of_key(name[len(self._backend_prefix) :], self.secret_key)

    def _store(self) -> AwsStoreDestination:
        """A store destination of the task's backend, and the prefix its names put before a key."""
        return self._place().store

    def _place(self) -> VariableStore:
        """Where a sample user's token is kept, and the prefix (a team's included) the names put before a key."""
        if self._sample is None:
            key = secret_key_for(_SAMPLE_USER, self.secret_key)
            sample = variable_store(key, self.team_name)
            name = sample.store.name
            if not name.endswith(key):
                raise InvalidDestinationError(
                    f"The task's secrets backend stores the Variable {key!r} as {name!r}, which does not "
                    "end with the key, so the tokens' names cannot be listed by prefix. Use a backend that "
                    "names a Variable <prefix><separator><key>, as the amazon backends do."
                )
            self._backend_prefix = name[: len(name) - len(key)]
            self._sample = sample
        return self._sample
