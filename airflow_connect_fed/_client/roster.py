"""Which of an instance's Connect users a roster lists: the criteria, checked before any call, and the
SearchUsers request they become."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from airflow_connect_fed.exceptions import InvalidInputError

#: SearchUsers' largest page.
PAGE_SIZE = 500


@dataclass(frozen=True)
class UserCriteria:
    """What a user must match to be listed: every criterion given (AND), any value of one list (OR),
    every tag pair. Nothing given: every user of the instance.

    Build it with :meth:`parse`, which refuses bad input naming the parameter and the value.
    """

    routing_profile_ids: tuple[str, ...] = ()
    security_profile_ids: tuple[str, ...] = ()
    hierarchy_group_ids: tuple[str, ...] = ()
    tags: tuple[tuple[str, str], ...] = ()
    username_prefix: str | None = None

    @classmethod
    def parse(
        cls,
        *,
        routing_profile_ids: object = None,
        security_profile_ids: object = None,
        hierarchy_group_ids: object = None,
        tags: object = None,
        username_prefix: object = None,
    ) -> UserCriteria:
        """Check each criterion (``None``: not given); raise :class:`InvalidInputError` for a bad one."""
        return cls(
            routing_profile_ids=_ids("routing_profile_ids", routing_profile_ids),
            security_profile_ids=_ids("security_profile_ids", security_profile_ids),
            hierarchy_group_ids=_ids("hierarchy_group_ids", hierarchy_group_ids),
            tags=_tags(tags),
            username_prefix=_prefix(username_prefix),
        )

    def search_parameters(self) -> dict[str, Any]:
        """SearchUsers' ``SearchCriteria`` and ``SearchFilter`` for these criteria; ``{}`` for none."""
        conditions = [
            condition
            for condition in (
                _any_of([_string("RoutingProfileId", value, "EXACT") for value in self.routing_profile_ids]),
                _any_of(
                    [_string("SecurityProfileId", value, "EXACT") for value in self.security_profile_ids]
                ),
                _any_of([_hierarchy_group(value) for value in self.hierarchy_group_ids]),
                _string("Username", self.username_prefix, "STARTS_WITH") if self.username_prefix else None,
            )
            if condition is not None
        ]
        parameters: dict[str, Any] = {}
        if conditions:
            parameters["SearchCriteria"] = (
                conditions[0] if len(conditions) == 1 else {"AndConditions": conditions}
            )
        if self.tags:
            pairs = [{"TagKey": key, "TagValue": value} for key, value in self.tags]
            tag_filter = {"TagCondition": pairs[0]} if len(pairs) == 1 else {"AndConditions": pairs}
            parameters["SearchFilter"] = {"TagFilter": tag_filter}
        return parameters


def _string(field: str, value: str, comparison: str) -> dict[str, Any]:
    return {"StringCondition": {"FieldName": field, "Value": value, "ComparisonType": comparison}}


def _hierarchy_group(group_id: str) -> dict[str, Any]:
    return {"HierarchyGroupCondition": {"Value": group_id, "HierarchyGroupMatchType": "EXACT"}}


def _any_of(leaves: list[dict[str, Any]]) -> dict[str, Any] | None:
    """One leaf as itself, several under ``OrConditions``, none as no condition."""
    if not leaves:
        return None
    return leaves[0] if len(leaves) == 1 else {"OrConditions": leaves}


def _ids(name: str, value: object) -> tuple[str, ...]:
    """The IDs of a list criterion, in order, each once; ``()`` when not given."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes)):
        raise InvalidInputError(
            f"{name} must be a list of IDs, got the string {value!r}: pass a list, e.g. {name}=[{value!r}]."
        )
    if not isinstance(value, (list, tuple)):
        raise InvalidInputError(f"{name} must be a list of IDs, got {type(value).__name__} {value!r}.")
    if not value:
        raise InvalidInputError(
            f"{name} is an empty list, which no user matches. Pass at least one ID, or leave {name} "
            "out (None) to put no condition on it."
        )
    for item in value:
        if not isinstance(item, str) or not item.strip():
            raise InvalidInputError(
                f"{name} holds {item!r}, which is not an ID: each must be a non-empty string. Got {name}={value!r}."
            )
    return tuple(dict.fromkeys(value))


def _tags(value: object) -> tuple[tuple[str, str], ...]:
    """The tag pairs every listed user must carry; ``()`` when not given."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise InvalidInputError(
            f"tags must be a dict of tag key to value, e.g. {{'team': 'billing'}}, got "
            f"{type(value).__name__} {value!r}."
        )
    if not value:
        raise InvalidInputError(
            "tags is an empty dict. Pass at least one key and value, or leave tags out (None) to put no "
            "condition on tags."
        )
    for key, tag_value in value.items():
        if not isinstance(key, str) or not key.strip():
            raise InvalidInputError(
                f"tags has the key {key!r}: a tag key must be a non-empty string. Got tags={value!r}."
            )
        if not isinstance(tag_value, str):
            raise InvalidInputError(
                f"tags[{key!r}] is {tag_value!r}, not a string: Connect's tag values are strings, so pass "
                f"e.g. {str(tag_value)!r}."
            )
    return tuple(value.items())


def _prefix(value: object) -> str | None:
    """The beginning every listed username must have; ``None`` when not given."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(
            f"username_prefix must be a string, the beginning of the usernames to list, got "
            f"{type(value).__name__} {value!r}."
        )
    if not value.strip():
        raise InvalidInputError(
            f"username_prefix {value!r} is empty or whitespace. Pass the beginning of the usernames to list "
            "(e.g. 'agent.'), or leave it out (None) to list every user."
        )
    return value
