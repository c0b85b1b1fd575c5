"""Connect users per instance, which moto does not model, and the IAM principal each federated through."""

from __future__ import annotations

import dataclasses
import itertools
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

InstanceKey = tuple[str, str, str]
"""(account id, region, instance id): where a Connect user lives."""

MAX_USERNAME_LENGTH = 100
#: What a user created without them gets (every Connect user has a routing profile and a security profile).
DEFAULT_ROUTING_PROFILE_ID = "emulator-basic-routing"
DEFAULT_SECURITY_PROFILE_IDS = ("emulator-agent",)
DEFAULT_PHONE_CONFIG = {"PhoneType": "SOFT_PHONE"}

# Optional CreateUser fields that DescribeUser returns as sent (Password is never returned).
USER_SETTINGS = (
    "IdentityInfo",
    "PhoneConfig",
    "DirectoryUserId",
    "SecurityProfileIds",
    "RoutingProfileId",
    "HierarchyGroupId",
    "Tags",
    "AutoAcceptConfigs",
    "AfterContactWorkConfigs",
    "PhoneNumberConfigs",
    "PersistentConnectionConfigs",
    "VoiceEnhancementConfigs",
)
MAX_TAGS = 50
MAX_SECURITY_PROFILES = 10

_sequence = itertools.count()


@dataclass(frozen=True)
class ConnectUser:
    """A Connect user as CreateUser stored it; ``settings`` holds the optional request fields verbatim.

    ``sequence`` orders users by creation (SearchUsers pages in that order).
    """

    id: str
    arn: str
    username: str
    region: str
    settings: dict[str, Any] = field(default_factory=dict)
    last_modified_time: float = field(default_factory=time.time)
    sequence: int = field(default_factory=lambda: next(_sequence), compare=False)

    def summary(self) -> dict[str, Any]:
        """The ListUsers ``UserSummary`` shape."""
        return {
            "Id": self.id,
            "Arn": self.arn,
            "Username": self.username,
            "LastModifiedTime": self.last_modified_time,
            "LastModifiedRegion": self.region,
        }

    def description(self) -> dict[str, Any]:
        """The DescribeUser ``User`` shape."""
        return {**self.summary(), **self.settings}

    def search_summary(self) -> dict[str, Any]:
        """The SearchUsers ``UserSearchSummary`` shape: what the user has of it."""
        found: dict[str, Any] = {"Arn": self.arn, "Id": self.id, "Username": self.username}
        for name in USER_SETTINGS:
            if name in self.settings:
                found[name] = self.settings[name]
        identity = self.settings.get("IdentityInfo")
        if isinstance(identity, dict):  # UserIdentityInfoLite: the names only
            found["IdentityInfo"] = {k: identity[k] for k in ("FirstName", "LastName") if k in identity}
        return found


def new_user(entry: str | Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """A username and its settings from a username or a CreateUser-like mapping, checked, with the
    instance defaults filled in. Raises ``ValueError`` naming the CreateUser field and the value."""
    payload: Mapping[str, Any] = {"Username": entry} if isinstance(entry, str) else entry
    if not isinstance(payload, Mapping):
        raise ValueError(f"a user must be a username or a mapping of CreateUser fields, got {entry!r}")
    username = payload.get("Username")
    if not isinstance(username, str) or not 1 <= len(username) <= MAX_USERNAME_LENGTH:
        raise ValueError(
            f"Username must be a string of 1 to {MAX_USERNAME_LENGTH} characters, got {username!r}"
        )
    settings = {name: payload[name] for name in USER_SETTINGS if name in payload}
    _check_settings(settings)
    settings.setdefault("RoutingProfileId", DEFAULT_ROUTING_PROFILE_ID)
    settings.setdefault("SecurityProfileIds", list(DEFAULT_SECURITY_PROFILE_IDS))
    settings.setdefault("PhoneConfig", dict(DEFAULT_PHONE_CONFIG))
    return username, settings


def check_tags(tags: object, name: str = "Tags") -> dict[str, str]:
    """``tags`` as a dict, or ``ValueError`` unless it is an object of 1 to 50 string keys and values."""
    if (
        not isinstance(tags, dict)
        or not 1 <= len(tags) <= MAX_TAGS
        or not all(isinstance(k, str) and k and isinstance(v, str) for k, v in tags.items())
    ):
        raise ValueError(
            f"{name} must be an object of 1 to {MAX_TAGS} non-empty string keys with string values, got {tags!r}"
        )
    return dict(tags)


def _check_settings(settings: dict[str, Any]) -> None:
    for name in ("RoutingProfileId", "HierarchyGroupId", "DirectoryUserId"):
        if name in settings and (not isinstance(settings[name], str) or not settings[name]):
            raise ValueError(f"{name} must be a non-empty string, got {settings[name]!r}")
    profiles = settings.get("SecurityProfileIds", ["-"])
    if (
        not isinstance(profiles, list)
        or not 1 <= len(profiles) <= MAX_SECURITY_PROFILES
        or not all(isinstance(p, str) and p for p in profiles)
    ):
        raise ValueError(
            f"SecurityProfileIds must be a list of 1 to {MAX_SECURITY_PROFILES} non-empty strings, got {profiles!r}"
        )
    if "Tags" in settings:
        check_tags(settings["Tags"])
    for name in ("IdentityInfo", "PhoneConfig"):
        if name in settings and not isinstance(settings[name], dict):
            raise ValueError(f"{name} must be an object, got {settings[name]!r}")


class DuplicateUsername(ValueError):
    """The instance already has a user with this username."""

    def __init__(self, username: str, instance_id: str) -> None:
        super().__init__(f"A user named {username!r} already exists in instance {instance_id}")
        self.username = username


def _check_unique(names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValueError(f"Username {name!r} is given more than once; give each username once")
        seen.add(name)


class UserDirectory:
    """Thread-safe Connect users by instance, in creation order, with unique usernames per instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[InstanceKey, dict[str, ConnectUser]] = {}
        self._ids_by_name: dict[InstanceKey, dict[str, str]] = {}
        self._principals: dict[tuple[InstanceKey, str], str] = {}

    def add(
        self, instance: InstanceKey, instance_arn: str, username: str, settings: dict[str, Any]
    ) -> ConnectUser | None:
        """Create a user; None if the instance already has one with this username."""
        try:
            [(user, _)] = self.add_many(instance, instance_arn, [(username, settings)])
        except DuplicateUsername:
            return None
        return user

    def add_many(
        self,
        instance: InstanceKey,
        instance_arn: str,
        users: list[tuple[str, dict[str, Any]]],
        *,
        existing_ok: bool = False,
    ) -> list[tuple[ConnectUser, bool]]:
        """Create users all at once or none: ``(user, created)`` in order. A username the instance
        has already is ``DuplicateUsername``, or with ``existing_ok`` that user, ``created`` False."""
        names = [username for username, _ in users]
        _check_unique(names)
        with self._lock:
            by_id = self._users.setdefault(instance, {})
            by_name = self._ids_by_name.setdefault(instance, {})
            if not existing_ok:
                existing = next((name for name in names if name in by_name), None)
                if existing is not None:
                    raise DuplicateUsername(existing, instance[2])
            done: list[tuple[ConnectUser, bool]] = []
            for username, settings in users:
                if username in by_name:
                    done.append((by_id[by_name[username]], False))
                    continue
                user_id = str(uuid.uuid4())
                user = ConnectUser(
                    user_id, f"{instance_arn}/agent/{user_id}", username, instance[1], settings
                )
                by_id[user_id] = user
                by_name[username] = user_id
                done.append((user, True))
            return done

    def get(self, instance: InstanceKey, user_id: str) -> ConnectUser | None:
        with self._lock:
            return self._users.get(instance, {}).get(user_id)

    def find(self, instance: InstanceKey, username: str) -> ConnectUser | None:
        """The user with exactly this username (Connect usernames are case-sensitive)."""
        with self._lock:
            user_id = self._ids_by_name.get(instance, {}).get(username)
            return None if user_id is None else self._users[instance][user_id]

    def users(self, instance: InstanceKey) -> list[ConnectUser]:
        with self._lock:
            return list(self._users.get(instance, {}).values())

    def update(self, instance: InstanceKey, user_id: str, **settings: Any) -> ConnectUser | None:
        """Replace these settings of a user (a None value removes one); None if there is no such user."""
        with self._lock:
            users = self._users.get(instance, {})
            user = users.get(user_id)
            if user is None:
                return None
            merged = {**user.settings, **settings}
            changed = {name: value for name, value in merged.items() if value is not None}
            users[user_id] = dataclasses.replace(user, settings=changed, last_modified_time=time.time())
            return users[user_id]

    def remove(self, instance: InstanceKey, user_id: str) -> ConnectUser | None:
        """Delete a user and its federation binding; None if there is no such user."""
        with self._lock:
            user = self._users.get(instance, {}).pop(user_id, None)
            if user is not None:
                del self._ids_by_name[instance][user.username]
                self._principals.pop((instance, user_id), None)
            return user

    def bind_principal(self, instance: InstanceKey, user_id: str, principal: str) -> str:
        """Record the principal of a user's first federation; returns the one recorded (maybe earlier)."""
        with self._lock:
            return self._principals.setdefault((instance, user_id), principal)

    def clear(self) -> None:
        with self._lock:
            self._users.clear()
            self._ids_by_name.clear()
            self._principals.clear()
