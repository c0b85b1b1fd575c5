"""SearchUsers: its ``SearchCriteria`` and ``SearchFilter`` as a predicate on a user, and its page tokens.

A criteria object is a tree: ``StringCondition`` and ``HierarchyGroupCondition`` leaves under
``AndConditions`` and ``OrConditions`` lists, nested to any depth; the conditions an object holds
side by side must all match. ``TagFilter`` holds a ``TagCondition``, ``AndConditions`` (each must
match) and ``OrConditions`` (a list of lists: any inner list whose conditions all match).
Comparisons are case-sensitive. The emulator has no hierarchy tree: ``WITH_CHILD_GROUPS``
matches as ``EXACT``. ``ListCondition`` and ``UserAttributeFilter`` are refused as not modelled.
Bad input raises ``ValueError`` naming the field by its path in the request and the value.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from amazon_connect_emulator.directory import ConnectUser

    Predicate = Callable[[ConnectUser], bool]

#: StringCondition field names (matched case-insensitively, as AWS's own docs spell them both ways).
STRING_FIELDS: dict[str, Callable[[ConnectUser], list[str]]] = {
    "username": lambda user: [user.username],
    "firstname": lambda user: _names(user, "FirstName"),
    "lastname": lambda user: _names(user, "LastName"),
    "routingprofileid": lambda user: _strings(user.settings.get("RoutingProfileId")),
    "securityprofileid": lambda user: _strings(user.settings.get("SecurityProfileIds")),
    "resourceid": lambda user: [user.id],
}
COMPARISONS: dict[str, Callable[[str, str], bool]] = {
    "STARTS_WITH": lambda actual, value: actual.startswith(value),
    "CONTAINS": lambda actual, value: value in actual,
    "EXACT": lambda actual, value: actual == value,
}
HIERARCHY_MATCH_TYPES = ("EXACT", "WITH_CHILD_GROUPS")
_CRITERIA_KEYS = ("OrConditions", "AndConditions", "StringCondition", "HierarchyGroupCondition")
_TAG_FILTER_KEYS = ("OrConditions", "AndConditions", "TagCondition")


def search_predicate(criteria: object, search_filter: object) -> Predicate:
    """Whether a user matches both ``SearchCriteria`` and ``SearchFilter`` (None: no condition)."""
    parts = []
    if criteria is not None:
        parts.append(_criteria(criteria, "SearchCriteria"))
    if search_filter is not None:
        parts.append(_search_filter(search_filter))
    return _all(parts)


def _criteria(node: object, where: str) -> Predicate:
    fields = _object(node, where, _CRITERIA_KEYS, refused={"ListCondition": "ListCondition"})
    parts = []
    if "StringCondition" in fields:
        parts.append(_string_condition(fields["StringCondition"], f"{where}.StringCondition"))
    if "HierarchyGroupCondition" in fields:
        parts.append(
            _hierarchy_condition(fields["HierarchyGroupCondition"], f"{where}.HierarchyGroupCondition")
        )
    if "AndConditions" in fields:
        parts.append(_all(_each(fields["AndConditions"], f"{where}.AndConditions", _criteria)))
    if "OrConditions" in fields:
        parts.append(_any(_each(fields["OrConditions"], f"{where}.OrConditions", _criteria)))
    return _all(parts)


def _string_condition(node: object, where: str) -> Predicate:
    fields = _object(node, where, ("FieldName", "Value", "ComparisonType"))
    field_name, value, comparison = (fields.get(k) for k in ("FieldName", "Value", "ComparisonType"))
    read = STRING_FIELDS.get(field_name.lower()) if isinstance(field_name, str) else None
    if read is None:
        raise ValueError(
            f"{where}.FieldName {field_name!r} is not a field SearchUsers searches; use one of Username, "
            "FirstName, LastName, RoutingProfileId, SecurityProfileId, ResourceId"
        )
    if not isinstance(value, str):
        raise ValueError(f"{where}.Value must be a string, got {value!r}")
    compare = COMPARISONS.get(comparison) if isinstance(comparison, str) else None
    if compare is None:
        raise ValueError(
            f"{where}.ComparisonType must be one of {', '.join(COMPARISONS)}, got {comparison!r}"
        )
    return lambda user: any(compare(actual, value) for actual in read(user))


def _hierarchy_condition(node: object, where: str) -> Predicate:
    fields = _object(node, where, ("Value", "HierarchyGroupMatchType"))
    value, match_type = fields.get("Value"), fields.get("HierarchyGroupMatchType", "EXACT")
    if not isinstance(value, str):
        raise ValueError(f"{where}.Value must be a hierarchy group id, got {value!r}")
    if match_type not in HIERARCHY_MATCH_TYPES:
        raise ValueError(
            f"{where}.HierarchyGroupMatchType must be one of {', '.join(HIERARCHY_MATCH_TYPES)}, got {match_type!r}"
        )
    return lambda user: user.settings.get("HierarchyGroupId") == value  # no tree: children are not known


def _search_filter(node: object) -> Predicate:
    fields = _object(
        node,
        "SearchFilter",
        ("TagFilter",),
        refused={"UserAttributeFilter": "SearchFilter.UserAttributeFilter"},
    )
    return _tag_filter(fields["TagFilter"]) if "TagFilter" in fields else _all([])


def _tag_filter(node: object) -> Predicate:
    where = "SearchFilter.TagFilter"
    fields = _object(node, where, _TAG_FILTER_KEYS)
    parts = []
    if "TagCondition" in fields:
        parts.append(_tag_condition(fields["TagCondition"], f"{where}.TagCondition"))
    if "AndConditions" in fields:
        parts.append(_all(_each(fields["AndConditions"], f"{where}.AndConditions", _tag_condition)))
    if "OrConditions" in fields:
        groups = _each(
            fields["OrConditions"],
            f"{where}.OrConditions",
            lambda group, at: _all(_each(group, at, _tag_condition)),
        )
        parts.append(_any(groups))
    return _all(parts)


def _tag_condition(node: object, where: str) -> Predicate:
    fields = _object(node, where, ("TagKey", "TagValue"))
    key, value = fields.get("TagKey"), fields.get("TagValue")
    if not isinstance(key, str) or not key:
        raise ValueError(f"{where}.TagKey must be a non-empty string, got {key!r}")
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where}.TagValue must be a string, got {value!r}")

    def matches(user: ConnectUser) -> bool:
        tags = user.settings.get("Tags") or {}
        return key in tags and (value is None or tags[key] == value)

    return matches


# Shapes


def _object(
    node: object, where: str, keys: tuple[str, ...], refused: dict[str, str] | None = None
) -> dict[str, Any]:
    if not isinstance(node, dict):
        raise ValueError(f"{where} must be an object, got {node!r}")
    for key, name in (refused or {}).items():
        if key in node:
            raise ValueError(f"{name} is not modelled by the emulator; use {' or '.join(keys)}")
    unknown = sorted(set(node) - set(keys))
    if unknown:
        raise ValueError(f"{where} has no field {unknown[0]!r}; its fields are {', '.join(keys)}")
    return node


def _each(items: object, where: str, build: Callable[[Any, str], Predicate]) -> list[Predicate]:
    if not isinstance(items, list):
        raise ValueError(f"{where} must be a list, got {items!r}")
    return [build(item, f"{where}[{i}]") for i, item in enumerate(items)]


def _all(parts: list[Predicate]) -> Predicate:
    return lambda user: all(part(user) for part in parts)


def _any(parts: list[Predicate]) -> Predicate:
    return lambda user: any(part(user) for part in parts)


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _names(user: ConnectUser, name: str) -> list[str]:
    identity = user.settings.get("IdentityInfo")
    return _strings(identity.get(name)) if isinstance(identity, dict) else []


# Page tokens


class PageTokens:
    """Opaque, tamper-proof NextTokens: the search they belong to and the last user given, signed.

    A token resumes after that user's creation sequence, so users deleted between pages shift nothing.
    """

    def __init__(self) -> None:
        self._key = secrets.token_bytes(32)

    @staticmethod
    def search_id(*parts: object) -> str:
        """A digest of what defines a search (instance, criteria, filter): a token serves that search only."""
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:32]

    def issue(self, search_id: str, after: int) -> str:
        body = base64.urlsafe_b64encode(json.dumps([search_id, after]).encode()).decode().rstrip("=")
        return f"{body}.{self._sign(body)}"

    def after(self, token: object, search_id: str) -> int:
        """The sequence to resume after; ``ValueError`` for a token this search was not given."""
        if token is None:
            return -1
        refusal = ValueError(f"NextToken {token!r} was not issued by SearchUsers for this search")
        if not isinstance(token, str) or token.count(".") != 1:
            raise refusal
        body, signature = token.split(".")
        if not hmac.compare_digest(signature, self._sign(body)):
            raise refusal
        issued_for, after = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        if issued_for != search_id:
            raise refusal
        return int(after)

    def _sign(self, body: str) -> str:
        return hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()[:32]
