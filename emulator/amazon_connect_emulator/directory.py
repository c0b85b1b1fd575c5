"""Connect users per instance, which moto does not model, and the IAM principal each federated through."""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

InstanceKey = tuple[str, str, str]
"""(account id, region, instance id): where a Connect user lives."""


@dataclass(frozen=True)
class ConnectUser:
    """A Connect user as CreateUser stored it; ``settings`` holds the optional request fields verbatim."""

    id: str
    arn: str
    username: str
    region: str
    settings: dict[str, Any] = field(default_factory=dict)
    last_modified_time: float = field(default_factory=time.time)

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


class UserDirectory:
    """Thread-safe Connect users by instance, in creation order, with unique usernames per instance."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users: dict[InstanceKey, dict[str, ConnectUser]] = {}
        self._principals: dict[tuple[InstanceKey, str], str] = {}

    def add(
        self, instance: InstanceKey, instance_arn: str, username: str, settings: dict[str, Any]
    ) -> ConnectUser | None:
        """Create a user; None if the instance already has one with this username."""
        with self._lock:
            users = self._users.setdefault(instance, {})
            if any(user.username == username for user in users.values()):
                return None
            user_id = str(uuid.uuid4())
            user = ConnectUser(user_id, f"{instance_arn}/agent/{user_id}", username, instance[1], settings)
            users[user_id] = user
            return user

    def get(self, instance: InstanceKey, user_id: str) -> ConnectUser | None:
        with self._lock:
            return self._users.get(instance, {}).get(user_id)

    def find(self, instance: InstanceKey, username: str) -> ConnectUser | None:
        """The user with exactly this username (Connect usernames are case-sensitive)."""
        with self._lock:
            users = list(self._users.get(instance, {}).values())
        return next((user for user in users if user.username == username), None)

    def users(self, instance: InstanceKey) -> list[ConnectUser]:
        with self._lock:
            return list(self._users.get(instance, {}).values())

    def bind_principal(self, instance: InstanceKey, user_id: str, principal: str) -> str:
        """Record the principal of a user's first federation; returns the one recorded (maybe earlier)."""
        with self._lock:
            return self._principals.setdefault((instance, user_id), principal)

    def clear(self) -> None:
        with self._lock:
            self._users.clear()
            self._principals.clear()
