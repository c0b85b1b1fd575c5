"""Operators for the roster: who an instance's agents are, from Connect itself, and pruning the tokens of those who left.

``ListConnectUsersOperator`` asks Connect (``SearchUsers``) which users match; its list feeds
``GetFederationTokensOperator`` (``connect_users``) and ``PruneFederationTokensOperator``
(``keep_users``), which deletes the stored tokens of the instance's users no longer listed.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_connect_fed import metrics
from airflow_connect_fed._client.connect_user import validate_session_name
from airflow_connect_fed._client.instance import InstanceRef
from airflow_connect_fed.exceptions import ConnectFederationError, InvalidInputError, TokenPruneError
from airflow_connect_fed.operators.base import ConnectOperator, annotate_outlets, rendered
from airflow_connect_fed.secret_key import DEFAULT_SECRET_KEY, secret_key_for, user_template

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.sdk import Context

    from airflow_connect_fed.destinations.stored_tokens import AgentToken, StoredAgentTokens

#: ``list_connect_users``' criteria, each a keyword argument of the operator and the hook.
CRITERIA = ("routing_profile_ids", "security_profile_ids", "hierarchy_group_ids", "tags", "username_prefix")
#: Secrets Manager's recovery window bounds, in days.
RECOVERY_WINDOW_DAYS = (7, 30)


class ListConnectUsersOperator(ConnectOperator):
    """List the usernames of an instance's Connect users matching every criterion given (``SearchUsers``).

    The XCom return value is the list (sorted, unique), for ``GetFederationTokensOperator``'s
    ``connect_users`` and ``PruneFederationTokensOperator``'s ``keep_users``. Criteria combine with
    AND, the values of one list with OR, every tag pair must match; none given: every user. The
    hook checks them (once rendered) before any request, and paces SearchUsers on its own quota.

    :param instance_id: Connect instance ID or instance ARN. (templated)
    :param routing_profile_ids: users of any of these routing profiles. (templated)
    :param security_profile_ids: users with any of these security profiles. (templated)
    :param hierarchy_group_ids: users in any of these agent hierarchy groups. (templated)
    :param tags: users carrying every one of these tags, ``{key: value}``. (templated)
    :param username_prefix: users whose username starts with this. (templated)

    A list rendered from a template as a JSON list (tags: a JSON object) is read as that list.
    The connection parameters are :class:`~airflow_connect_fed.operators.base.ConnectOperator`'s.
    """

    template_fields: Sequence[str] = (*ConnectOperator.template_fields, "instance_id", *CRITERIA)

    def __init__(
        self,
        *,
        instance_id: str,
        routing_profile_ids: list[str] | str | None = None,
        security_profile_ids: list[str] | str | None = None,
        hierarchy_group_ids: list[str] | str | None = None,
        tags: dict[str, str] | str | None = None,
        username_prefix: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.instance_id = instance_id
        self.routing_profile_ids = routing_profile_ids
        self.security_profile_ids = security_profile_ids
        self.hierarchy_group_ids = hierarchy_group_ids
        self.tags = tags
        self.username_prefix = username_prefix
        self._given = {name for name in CRITERIA if getattr(self, name) is not None}

    def execute(self, context: Context) -> list[str]:
        instance_id = rendered("instance_id", self.instance_id)
        criteria = {name: self._criterion(name) for name in CRITERIA}
        users = self.hook.list_connect_users(instance_id, **criteria)
        given = ", ".join(sorted(self._given)) or "none: every user"
        self.log.info(
            "%d Connect user(s) of instance %s match (criteria: %s).", len(users), instance_id, given
        )
        return users

    def _criterion(self, name: str) -> Any:
        """A criterion as rendered (``None`` when not given); a JSON list or object string read as one."""
        if name not in self._given:
            return None
        value = rendered(name, getattr(self, name))
        if name == "username_prefix" or not isinstance(value, str):
            return value
        text = value.strip()
        if not text.startswith(("[", "{")):
            return value  # the hook refuses what is not a list (a dict for tags), naming it
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            raise InvalidInputError(
                f"{name} {value!r} is not valid JSON. Render it as a JSON list (tags: a JSON object), or "
                "pass the list itself (render_template_as_native_obj=True keeps a rendered list a list)."
            ) from None


class PruneFederationTokensOperator(BaseOperator):
    """Delete the stored tokens of an instance's users who are no longer in ``keep_users``.

    The tokens are those ``GetFederationTokensOperator`` stored under ``secret_key`` (with ``{user}``)
    where the running task's secrets backend reads Variables (Secrets Manager or SSM Parameter Store
    backends, prefixes and separators as the write path applies them). Only values this provider
    wrote for ``instance_id`` are ever deleted: Secrets Manager secrets it tagged with the instance
    when it created them (older untagged ones are left alone, with a warning), SSM parameters whose
    value is its token for the instance under the name ``secret_key`` gives that value's user. A
    secret written by hand, a name no valid username gives and another instance's token stay. In
    multi-team mode a task of a team prunes that team's tokens only, where its tasks read them.

    Safety: nothing is deleted when ``keep_users`` is empty, or when the prune would delete more than
    ``max_prune_fraction`` of the instance's stored tokens (the task fails naming both counts; a
    roster that came back short should not wipe the tokens). Secrets Manager keeps a deleted secret
    for ``recovery_window_in_days`` (``RestoreSecret`` undoes the prune); SSM deletions are final.

    The return value is the deleted Variable keys, sorted; each outlet Asset's event gets
    ``pruned_users`` and ``pruned_keys``.

    :param instance_id: Connect instance ID or instance ARN whose tokens are pruned. (templated)
    :param keep_users: the usernames whose tokens stay: a list, or a JSON list string (e.g.
        ``ListConnectUsersOperator``'s output). (templated)
    :param secret_key: the Variable name per user the tokens were stored under, with ``{user}``
        (default ``connect/agents/{user}``). (templated)
    :param recovery_window_in_days: days (7 to 30) Secrets Manager keeps a deleted token
        restorable; ``None``: deleted at once, without recovery.
    :param max_prune_fraction: the largest share (above 0, at most 1) of the stored tokens one run may delete.
    :param dry_run: log and return what would be deleted, deleting nothing.
    """

    ui_color = "#ff9900"
    template_fields: Sequence[str] = ("instance_id", "keep_users", "secret_key")

    def __init__(
        self,
        *,
        instance_id: str,
        keep_users: list[str] | str,
        secret_key: str = DEFAULT_SECRET_KEY,
        recovery_window_in_days: int | None = RECOVERY_WINDOW_DAYS[0],
        max_prune_fraction: float = 0.2,
        dry_run: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.instance_id = instance_id
        self.keep_users = keep_users
        self.secret_key = secret_key
        self.recovery_window_in_days = _recovery_window(recovery_window_in_days)
        self.max_prune_fraction = _prune_fraction(max_prune_fraction)
        if not isinstance(dry_run, bool):
            raise InvalidInputError(f"dry_run must be True or False, got {dry_run!r}.")
        self.is_dry_run = dry_run  # not ``dry_run``: BaseOperator has a dry_run() method

    def execute(self, context: Context) -> list[str]:
        from airflow_connect_fed.destinations.stored_tokens import StoredAgentTokens
        from airflow_connect_fed.destinations.teams import task_team

        instance_id = InstanceRef.parse(rendered("instance_id", self.instance_id)).instance_id
        keep = _keep_users(rendered("keep_users", self.keep_users))
        secret_key = user_template(rendered("secret_key", self.secret_key))
        stored = StoredAgentTokens(instance_id, secret_key, task_team(context))
        stored.check()
        keep_keys = {secret_key_for(user, stored.secret_key) for user in keep if _valid_username(user)}
        listing = stored.find()
        if listing.unattributed:
            self._warn_unattributed(listing.unattributed, stored.name_prefix)
        doomed = [token for token in listing.tokens if token.secret_key not in keep_keys]
        self.log.info(
            "Instance %s has %d stored token(s) under %r in %s; %d of them belong to users not in "
            "keep_users (%d users).",
            instance_id,
            len(listing.tokens),
            stored.name_prefix,
            stored.store_name,
            len(doomed),
            len(keep),
        )
        over = bool(doomed) and len(doomed) / len(listing.tokens) > self.max_prune_fraction
        if self.is_dry_run:
            return self._dry_run(doomed, over, len(listing.tokens))
        if over:
            raise TokenPruneError(
                f"Refusing to delete {len(doomed)} of the {len(listing.tokens)} stored tokens of instance "
                f"{instance_id!r} ({len(doomed) / len(listing.tokens):.0%}), more than max_prune_fraction="
                f"{self.max_prune_fraction} allows. Nothing was deleted. Check keep_users ({len(keep)} "
                "users: did the roster come back short?), or raise max_prune_fraction for this run.",
                not_deleted=[token.secret_key for token in doomed],
            )
        deleted = self._delete(stored, doomed)
        metrics.incr(
            "tokens_pruned", len(deleted), tags={"instance_id": instance_id, "operator": type(self).__name__}
        )
        annotate_outlets(
            self.outlets,
            context,
            {
                "instance_id": instance_id,
                "pruned_users": [token.connect_user for token in deleted],
                "pruned_keys": [token.secret_key for token in deleted],
            },
        )
        return sorted(token.secret_key for token in deleted)

    def _warn_unattributed(self, count: int, name_prefix: str) -> None:
        from airflow_connect_fed.destinations.secrets_manager import INSTANCE_TAG

        self.log.warning(
            "%d secret(s) under %r were written by this provider before it tagged secrets with their "
            "instance, so whose they are is not known without reading them: they are left alone. To have "
            "them pruned, tag each with %s=<its instance ID> (aws secretsmanager tag-resource).",
            count,
            name_prefix,
            INSTANCE_TAG,
        )

    def _dry_run(self, doomed: list[AgentToken], over: bool, stored: int) -> list[str]:
        for token in doomed:
            self.log.info(
                "Dry run: would delete the token of %s (Variable %r).", token.connect_user, token.secret_key
            )
        if over:
            self.log.warning(
                "A real run would refuse this prune: %d of %d stored tokens is more than max_prune_fraction=%s.",
                len(doomed),
                stored,
                self.max_prune_fraction,
            )
        return sorted(token.secret_key for token in doomed)

    def _delete(self, stored: StoredAgentTokens, doomed: list[AgentToken]) -> list[AgentToken]:
        if not doomed:
            return []
        if not stored.recoverable:
            self.log.warning(
                "%s keeps no deleted parameter: these %d deletions are final.", stored.store_name, len(doomed)
            )
        window = self.recovery_window_in_days if stored.recoverable else None
        deleted, missing = stored.delete(doomed, window)
        recovery = (
            f"restorable for {window} days (RestoreSecret)" if window is not None else "without recovery"
        )
        for token in deleted:
            self.log.info(
                "Deleted the token of %s: Variable %r (%s), %s.",
                token.connect_user,
                token.secret_key,
                token.value.name,
                recovery,
            )
        if missing:
            self.log.warning(
                "%d token(s) were already gone when deleted (another prune?): %s.",
                len(missing),
                ", ".join(token.secret_key for token in missing),
            )
        return deleted


def _keep_users(value: object) -> list[str]:
    """``keep_users`` as rendered: a list or tuple of strings (a JSON list string is read as one), not empty."""
    if isinstance(value, str) and value.strip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            raise InvalidInputError(
                f"keep_users {value!r} is not a valid JSON list. Pass the list itself (e.g. "
                "ListConnectUsersOperator's output), or render it with the tojson filter."
            ) from None
    if not isinstance(value, (list, tuple)) or not all(isinstance(user, str) for user in value):
        raise InvalidInputError(
            f"keep_users must be a list of Connect usernames (or a JSON list string), got "
            f"{type(value).__name__} {value!r}. Pass e.g. ListConnectUsersOperator's output."
        )
    if not value:
        raise InvalidInputError(
            "keep_users is empty: the prune would delete every stored token of the instance. An empty "
            "roster is more likely a listing gone wrong than every agent gone; nothing was deleted."
        )
    return list(value)


def _valid_username(user: str) -> bool:
    """Whether ``user`` can have a stored token at all (a valid STS session name)."""
    try:
        validate_session_name(user)
    except ConnectFederationError:
        return False
    return True


def _recovery_window(value: object) -> int | None:
    low, high = RECOVERY_WINDOW_DAYS
    if value is None or (isinstance(value, int) and not isinstance(value, bool) and low <= value <= high):
        return value
    raise InvalidInputError(
        f"recovery_window_in_days must be a whole number of days from {low} to {high} (Secrets Manager's "
        f"range), or None to delete without recovery; got {value!r}."
    )


def _prune_fraction(value: object) -> float:
    if (
        isinstance(value, (int, float))
        and not isinstance(value, bool)
        and math.isfinite(value)
        and 0 < value <= 1
    ):
        return float(value)
    raise InvalidInputError(
        f"max_prune_fraction must be a number above 0 and at most 1 (the largest share of the stored "
        f"tokens one run may delete), got {value!r}."
    )
