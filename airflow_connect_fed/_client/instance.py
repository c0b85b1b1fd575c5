"""Connect instance references: an instance ID or an instance ARN, checked before any call."""

from __future__ import annotations

import re
from dataclasses import dataclass

from airflow_connect_fed.exceptions import InvalidInstanceIdError

MAX_INSTANCE_ID_LENGTH = 100
_INSTANCE_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):connect:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):instance/(?P<id>.+)$"
)
_FIX = "Pass the instance ID (e.g. 'a1b2c3d4-...') or its ARN 'arn:aws:connect:REGION:ACCOUNT:instance/ID'."


@dataclass(frozen=True)
class InstanceRef:
    """A validated Connect instance: its ID and, when given as an ARN, where it lives."""

    instance_id: str
    region: str | None = None
    account: str | None = None
    partition: str | None = None

    @classmethod
    def parse(cls, value: object) -> InstanceRef:
        """Validate ``value`` as an instance ID or instance ARN; raise :class:`InvalidInstanceIdError`."""
        if not isinstance(value, str) or not value:
            raise InvalidInstanceIdError(f"instance_id must be a non-empty string, got {value!r}. {_FIX}")
        if value.startswith("arn:"):
            return cls._parse_arn(value)
        _check_id(value, value)
        return cls(instance_id=value)

    @classmethod
    def _parse_arn(cls, arn: str) -> InstanceRef:
        match = _INSTANCE_ARN.match(arn)
        if not match:
            raise InvalidInstanceIdError(f"{arn!r} is not an Amazon Connect instance ARN. {_FIX}")
        _check_id(match["id"], arn)
        return cls(
            instance_id=match["id"],
            region=match["region"],
            account=match["account"],
            partition=match["partition"],
        )

    def resolve_region(self, explicit_region: str | None) -> str | None:
        """The region to call: the ARN's, unless it contradicts an explicitly given one."""
        if self.region and explicit_region and self.region != explicit_region:
            raise InvalidInstanceIdError(
                f"The instance ARN is in region {self.region!r} but region_name is {explicit_region!r}. "
                "Drop region_name or make it match the ARN."
            )
        return self.region or explicit_region


def _check_id(instance_id: str, given: str) -> None:
    if len(instance_id) > MAX_INSTANCE_ID_LENGTH:
        raise InvalidInstanceIdError(
            f"instance_id {given!r} has {len(instance_id)} characters; Connect allows 1 to "
            f"{MAX_INSTANCE_ID_LENGTH}. {_FIX}"
        )
    if "/" in instance_id or any(c.isspace() for c in instance_id):
        raise InvalidInstanceIdError(
            f"instance_id {given!r} contains whitespace or '/', which no instance ID has. "
            f"Use the ID itself, not another Connect resource's ARN or path. {_FIX}"
        )
