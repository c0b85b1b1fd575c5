"""A task's team in Airflow's multi-team mode, and what a Variable name of that team must be.

With ``[core] multi_team`` on (Airflow 3.2 and later), a DAG belongs to the team of its DAG bundle
and the Task SDK gives each task that team as its DAG run's ``team_name``. The amazon secrets
backends (apache-airflow-providers-amazon releases whose backend modules define ``TEAM_SEP``) read
a team's Variable ``KEY`` first at ``<prefix><sep><team>--KEY``, then at the global
``<prefix><sep>KEY``, and in multi-team mode refuse a key holding ``--``.

Only the API server's backend (``[secrets] backend``) is asked with the team: the Execution API
finds it from the task's token. A task process asks its own backend (``[workers] secrets_backend``,
else ``[secrets] backend``) without one, so there it reads global names only, then asks the API
server. A team's token therefore goes under the team-scoped name of ``[secrets] backend``, where
only that team's tasks find it.
"""

from __future__ import annotations

import logging
import re
from functools import cache
from typing import TYPE_CHECKING, Any

from airflow_connect_fed.exceptions import InvalidDestinationError
from airflow_connect_fed.secret_key import TEAM_SEPARATOR

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

#: A team name as ``airflow teams create`` accepts it.
TEAM_NAME = re.compile(r"[A-Za-z0-9_-]{3,50}")


def task_team(context: Mapping[str, Any]) -> str | None:
    """The team of the task ``context`` belongs to: its DAG run's ``team_name`` (``None``: no team).

    The server sets it only in multi-team mode (Airflow 3.2 and later); earlier DAG runs have no
    such attribute.
    """
    return getattr(context.get("dag_run"), "team_name", None)


def multi_team() -> bool:
    """Whether Airflow runs in multi-team mode (``[core] multi_team``)."""
    from airflow.providers.common.compat.sdk import conf

    return bool(conf.getboolean("core", "multi_team", fallback=False))


def amazon_team_separator() -> str | None:
    """What the installed amazon secrets backends put between a team and a key (``TEAM_SEP`` of their
    modules, one value for both); ``None`` when that release reads no team-scoped Variables."""
    from airflow.providers.amazon.aws.secrets import secrets_manager

    return getattr(secrets_manager, "TEAM_SEP", None)


def variable_team(team_name: object, separator: str | None) -> str | None:
    """The team whose names a Variable is written under, ``None`` for the global name.

    ``team_name`` (the task's) counts in multi-team mode when the backend reads team-scoped names
    (``separator``, see :func:`amazon_team_separator`); it is checked then.
    """
    if team_name is None or not multi_team():
        return None
    if separator is None:
        _warn_no_team_names(str(team_name))
        return None
    if not isinstance(team_name, str) or not TEAM_NAME.fullmatch(team_name):
        raise InvalidDestinationError(
            f"The task's team {team_name!r} is not a team name Airflow accepts (3 to 50 letters, digits, '_' "
            "and '-', as `airflow teams create` checks), so no team-scoped Variable can be named for it. "
            "Associate the DAG bundle with a team made by `airflow teams create`."
        )
    if team_name.endswith(separator[0]):
        raise InvalidDestinationError(
            f"The task's team {team_name!r} ends with {separator[0]!r}: its Variable 'KEY' would be stored as "
            f"'{team_name}{separator}KEY', which the backend also reads for team {team_name[:-1]!r} and the "
            f"Variable '{separator[0]}KEY'. Rename the team without the trailing {separator[0]!r}, or pass a "
            "SecretsManagerDestination or SsmParameterDestination with the name to write."
        )
    return team_name


@cache
def _warn_no_team_names(team_name: str) -> None:
    """Say once per process and team that its tokens go where every team reads (a bulk task has many)."""
    log.warning(
        "This task belongs to team %r, but the installed apache-airflow-providers-amazon reads no team-scoped "
        "Variables: the tokens go under the global names, which every team's tasks read. Upgrade the amazon "
        "provider to one whose secrets backends read <prefix>/<team>%s<key>.",
        team_name,
        TEAM_SEPARATOR,
    )


def check_key(secret_key: str, team_name: str | None, separator: str | None) -> None:
    """Refuse a Variable name the backend would not read, or would read for another team too.

    In multi-team mode the amazon backends refuse a key holding their team ``separator``; under a
    team, a key starting with ``-`` would make ``<team>--<key>`` team ``<team>-``'s name as well.
    """
    if separator is None or not multi_team():
        return
    if separator in secret_key:
        raise InvalidDestinationError(
            f"secret_key {secret_key!r} holds {separator!r}: in multi-team mode the amazon secrets backends refuse "
            "such a Variable name (it separates a team's name from the key), so no task would read the token. "
            "Use a single '-' or '/'."
        )
    if team_name is not None and secret_key.startswith(separator[-1]):
        raise InvalidDestinationError(
            f"secret_key {secret_key!r} starts with {separator[-1]!r}: team {team_name!r}'s name for it, "
            f"'{team_name}{separator}{secret_key}', is also team '{team_name}{separator[-1]}''s name for "
            f"{secret_key[1:]!r}. Start the key with another character."
        )
