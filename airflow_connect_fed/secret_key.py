"""The Variable name of an agent's token: ``{user}`` in ``secret_key`` filled by one rule.

Connect usernames of SAML instances are often e-mail addresses (``agent.one@example.com``).
STS allows letters, digits and ``+ = , . @ _ -`` in a session name, SSM parameter names
allow only letters, digits and ``_ . - /``, Secrets Manager names no ``,``, and in Airflow's
multi-team mode the amazon secrets backends refuse a Variable name holding ``--`` (it separates
a team's name from the key). So the username is written into the key by one rule that every
valid username survives on both stores, that never writes ``--``, and that never gives two users
one key:

- letters, digits and ``.`` stay as they are, and so does a ``-`` between two characters
  that are not ``-``;
- each of ``_ + = , @``, and a ``-`` at either end of the username or next to another ``-``,
  becomes ``_`` and its two-digit upper-case ASCII hex code, as URL percent-encoding does
  with ``%``: ``_`` is ``_5F``, ``+`` is ``_2B``, ``=`` is ``_3D``, ``,`` is ``_2C``, ``@`` is
  ``_40``, ``-`` is ``_2D``.

``agent.one@example.com`` is stored under ``connect/agents/agent.one_40example.com``,
``agent+two@example.com`` under ``connect/agents/agent_2Btwo_40example.com``, ``agent_3``
under ``connect/agents/agent_5F3``, ``agent-4`` under ``connect/agents/agent-4`` and ``agent--5``
under ``connect/agents/agent_2D_2D5``. Every ``_`` of a key starts a code, so the username can be
read back from the key (:func:`connect_user_of_key`), which is why the rule is injective; a
written ``-`` never starts or ends the username's part nor touches another ``-``, so no key holds
``--`` unless its template does, and a template holding ``--`` is refused.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from airflow_connect_fed._client.connect_user import validate_session_name
from airflow_connect_fed.exceptions import InvalidConnectUserError, InvalidDestinationError

#: ``GetFederationTokensOperator``'s ``secret_key``: one Variable per agent.
DEFAULT_SECRET_KEY = "connect/agents/{user}"  # noqa: S105 - a Variable name, not a secret
#: Where a username goes in ``secret_key``.
USER_FIELD = "{user}"

_KEPT = frozenset(string.ascii_letters + string.digits + ".")
#: A username as the rule writes it: kept characters, ``-`` and ``_XX`` codes.
_USER_KEY = r"(?:[A-Za-z0-9.\-]|_[0-9A-F]{2})+"
#: What the amazon backends put between a team's name and the key, refused in a key in multi-team mode.
TEAM_SEPARATOR = "--"
_CODE = re.compile(r"_([0-9A-F]{2})")


def user_key(connect_user: str) -> str:
    """``connect_user`` as it appears in a Variable name (the rule above); refused unless a valid username."""
    validate_session_name(connect_user)
    return "".join(
        char if _kept(connect_user, at) else f"_{ord(char):02X}" for at, char in enumerate(connect_user)
    )


def _kept(connect_user: str, at: int) -> bool:
    """Whether the character at ``at`` is written as itself: ``-`` only between two characters that are not ``-``."""
    char = connect_user[at]
    if char != "-":
        return char in _KEPT
    return 0 < at < len(connect_user) - 1 and "-" not in (connect_user[at - 1], connect_user[at + 1])


def secret_key_for(connect_user: str, secret_key: str = DEFAULT_SECRET_KEY) -> str:
    """The Variable name ``GetFederationTokensOperator`` stores ``connect_user``'s token under.

    A downstream task reads it with ``Variable.get(secret_key_for(user), deserialize_json=True)``.
    ``secret_key`` is the operator's, with ``{user}`` in it.
    """
    return user_template(secret_key).replace(USER_FIELD, user_key(connect_user))


def connect_user_of_key(key: str, secret_key: str = DEFAULT_SECRET_KEY) -> str | None:
    """The Connect username whose token :func:`secret_key_for` stores under ``key``, the rule read backwards.

    ``None`` when ``key`` is a name the rule could not have produced from ``secret_key`` for any
    valid username (another shape, an unknown or lower-case code, a code of a kept character).
    """
    match = _key_pattern(user_template(secret_key)).fullmatch(key) if isinstance(key, str) else None
    if match is None:
        return None
    written = match["user"]
    connect_user = _CODE.sub(lambda code: chr(int(code[1], 16)), written)
    try:
        return connect_user if user_key(connect_user) == written else None
    except InvalidConnectUserError:
        return None


def user_template(secret_key: object) -> str:
    """``secret_key`` if it has ``{user}``, which each user's key needs to be its own, and no ``--``."""
    if not isinstance(secret_key, str) or USER_FIELD not in secret_key:
        raise InvalidDestinationError(
            f"secret_key {secret_key!r} has no '{USER_FIELD}': every user would overwrite the same "
            f"Variable. Use e.g. {DEFAULT_SECRET_KEY!r}."
        )
    if TEAM_SEPARATOR in secret_key:
        raise InvalidDestinationError(
            f"secret_key {secret_key!r} holds {TEAM_SEPARATOR!r}, which the amazon secrets backends refuse in a "
            "Variable name in multi-team mode (it separates a team's name from the key), so no task would "
            f"read these tokens there. Use a single '-' or '/', e.g. {DEFAULT_SECRET_KEY!r}."
        )
    return secret_key


@lru_cache(maxsize=16)
def _key_pattern(secret_key: str) -> re.Pattern[str]:
    """The keys of ``secret_key``: its text as written, every ``{user}`` the same written username."""
    first, *rest = (re.escape(part) for part in secret_key.split(USER_FIELD))
    user = f"(?P<user>{_USER_KEY})"
    return re.compile(first + user + "(?P=user)".join(rest))
