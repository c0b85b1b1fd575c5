"""Authentication profiles: each Connect instance's default one, whose session durations give a federation
token its two lifetimes.

AWS gives every instance a default authentication profile that applies to all its users. Source: the
admin guide's "Set IP address restrictions and session timeouts in Amazon Connect"
(https://docs.aws.amazon.com/connect/latest/adminguide/authentication-profiles.html), whose example
``list-authentication-profiles`` output names it "Default Authentication Profile", with an ARN
``<instance ARN>/authentication-profile/<id>``. ``PeriodicSessionDuration`` (the short-lived session)
and ``MaxSessionDuration`` (the long-lived one, after which users sign in again) are minutes in the
ranges of botocore's Connect model (``AccessTokenDuration`` 10-60, ``RefreshTokenDuration`` 360-720,
``InactivityDuration`` 15-720), read from the model here. A new instance's defaults are 60 and 720
minutes: the model's maxima, and the guide's sessions that end 12 hours after sign-in (the stored
copies of that page searched for this ended before its session-timeout section, so the two numbers
were not read there). Automatic logout on inactivity (added to the API in November 2025) starts
disabled with no ``SessionInactivityDuration``: AWS documents neither default, so these are the
emulator's choices.

How a profile maps onto GetFederationToken's ``AccessTokenExpiration`` and ``RefreshTokenExpiration``
is not documented by AWS. The emulator's assumption: the access token expires ``PeriodicSessionDuration``
after it is issued, the refresh token ``MaxSessionDuration`` after.

A profile lives as long as moto's instance object (a weak key): an instance deleted, or dropped by a
reset, takes its profile with it. ``MaxSessionDuration`` cannot be set through AWS's API
(``UpdateAuthenticationProfile`` has no such member); ``set_session_durations`` (through
``ConnectEmulator.set_session_durations``) sets it for tests.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import botocore.session
from botocore.model import StructureShape

if TYPE_CHECKING:
    from collections.abc import Mapping

    from moto.connect.models import Instance

DEFAULT_NAME = "Default Authentication Profile"
DEFAULT_PERIODIC_SESSION_DURATION = 60
DEFAULT_MAX_SESSION_DURATION = 720
#: The model's ``AuthenticationProfileId`` length limit.
MAX_PROFILE_ID_LENGTH = 100
#: UpdateAuthenticationProfile's string members: their length limits in the model.
_TEXT_LIMITS = {"Name": (1, 128), "Description": (1, 250)}
#: The model's ``IpCidr`` length limits (its pattern has no ``.``: an IPv4 range would fail it, so the
#: emulator checks that each entry is an IP address or CIDR range instead).
_IP_CIDR_LENGTH = (2, 50)


@cache
def minutes_range(member: str) -> tuple[int, int]:
    """The (min, max) minutes botocore's Connect model allows for ``member`` of ``AuthenticationProfile``:
    ``PeriodicSessionDuration``, ``MaxSessionDuration`` or ``SessionInactivityDuration``."""
    model = botocore.session.get_session().get_service_model("connect")
    profile = model.shape_for("AuthenticationProfile")
    assert isinstance(profile, StructureShape)
    metadata = profile.members[member].metadata
    return int(metadata["min"]), int(metadata["max"])


def check_minutes(name: str, value: object, member: str) -> int:
    """``value`` if it is a whole number of minutes in ``member``'s range; else ValueError naming ``name``."""
    low, high = minutes_range(member)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be a whole number of minutes from {low} to {high}, got {value!r}")
    return value


@dataclass(frozen=True)
class AuthenticationProfile:
    """One authentication profile, as DescribeAuthenticationProfile shows it (times in epoch seconds)."""

    id: str
    arn: str
    region: str
    created_time: float
    last_modified_time: float
    periodic_session_duration: int
    max_session_duration: int
    name: str = DEFAULT_NAME
    description: str | None = None
    allowed_ips: tuple[str, ...] = ()
    blocked_ips: tuple[str, ...] = ()
    session_inactivity_duration: int | None = None
    session_inactivity_handling_enabled: bool = False
    is_default: bool = True

    def description_json(self) -> dict[str, Any]:
        """The ``AuthenticationProfile`` of DescribeAuthenticationProfile's answer."""
        body: dict[str, Any] = {
            "Id": self.id,
            "Arn": self.arn,
            "Name": self.name,
            "AllowedIps": list(self.allowed_ips),
            "BlockedIps": list(self.blocked_ips),
            "IsDefault": self.is_default,
            "CreatedTime": self.created_time,
            "LastModifiedTime": self.last_modified_time,
            "LastModifiedRegion": self.region,
            "PeriodicSessionDuration": self.periodic_session_duration,
            "MaxSessionDuration": self.max_session_duration,
            "SessionInactivityHandlingEnabled": self.session_inactivity_handling_enabled,
        }
        if self.description is not None:
            body["Description"] = self.description
        if self.session_inactivity_duration is not None:
            body["SessionInactivityDuration"] = self.session_inactivity_duration
        return body

    def summary(self) -> dict[str, Any]:
        """The entry of ListAuthenticationProfiles' ``AuthenticationProfileSummaryList``."""
        return {
            "Id": self.id,
            "Arn": self.arn,
            "Name": self.name,
            "IsDefault": self.is_default,
            "LastModifiedTime": self.last_modified_time,
            "LastModifiedRegion": self.region,
        }


def profile_changes(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The profile fields an UpdateAuthenticationProfile body sets, checked as the model bounds them;
    ValueError naming the member and the value. Members left out (or null) stay as they are; members
    the model does not have are ignored, as AWS ignores them."""
    changes: dict[str, Any] = {}
    for member, (low, high) in _TEXT_LIMITS.items():
        value = payload.get(member)
        if value is None:
            continue
        if not isinstance(value, str) or not low <= len(value) <= high:
            raise ValueError(f"{member} must be a string of {low} to {high} characters, got {value!r}")
        changes[_field(member)] = value
    for member in ("AllowedIps", "BlockedIps"):
        value = payload.get(member)
        if value is not None:
            changes[_field(member)] = _ip_ranges(member, value)
    for member in ("PeriodicSessionDuration", "SessionInactivityDuration"):
        value = payload.get(member)
        if value is not None:
            changes[_field(member)] = check_minutes(member, value, member)
    enabled = payload.get("SessionInactivityHandlingEnabled")
    if enabled is not None:
        if not isinstance(enabled, bool):
            raise ValueError(f"SessionInactivityHandlingEnabled must be true or false, got {enabled!r}")
        changes["session_inactivity_handling_enabled"] = enabled
    return changes


class AuthenticationProfiles:
    """The default authentication profile of each instance, made on first use with the defaults given
    here (minutes, checked against the model's ranges). Thread-safe."""

    def __init__(
        self,
        periodic_session_duration: int = DEFAULT_PERIODIC_SESSION_DURATION,
        max_session_duration: int = DEFAULT_MAX_SESSION_DURATION,
    ) -> None:
        self._defaults = (
            check_minutes("periodic_session_duration", periodic_session_duration, "PeriodicSessionDuration"),
            check_minutes("max_session_duration", max_session_duration, "MaxSessionDuration"),
        )
        self._lock = threading.Lock()
        self._profiles: weakref.WeakKeyDictionary[Instance, AuthenticationProfile] = (
            weakref.WeakKeyDictionary()
        )

    def default(self, instance: Instance) -> AuthenticationProfile:
        """The instance's default profile."""
        with self._lock:
            return self._default(instance)

    def get(self, instance: Instance, profile_id: str) -> AuthenticationProfile | None:
        """The instance's profile with this id, or None."""
        profile = self.default(instance)
        return profile if profile.id == profile_id else None

    def update(
        self, instance: Instance, profile_id: str, changes: Mapping[str, Any]
    ) -> AuthenticationProfile | None:
        """Apply ``changes`` (``profile_changes``' fields) to the instance's profile with this id; the
        updated profile, or None when the instance has none with that id."""
        with self._lock:
            profile = self._default(instance)
            if profile.id != profile_id:
                return None
            updated = dataclasses.replace(profile, **changes, last_modified_time=self._now())
            self._profiles[instance] = updated
            return updated

    def set_session_durations(
        self,
        instance: Instance,
        *,
        periodic_session_duration: int | None = None,
        max_session_duration: int | None = None,
    ) -> AuthenticationProfile:
        """Set the instance's default profile's durations (minutes, in the model's ranges; ValueError
        naming the keyword otherwise); a duration left None stays. ``MaxSessionDuration`` can be set
        only here: AWS's UpdateAuthenticationProfile has no such member."""
        changes: dict[str, int] = {}
        if periodic_session_duration is not None:
            changes["periodic_session_duration"] = check_minutes(
                "periodic_session_duration", periodic_session_duration, "PeriodicSessionDuration"
            )
        if max_session_duration is not None:
            changes["max_session_duration"] = check_minutes(
                "max_session_duration", max_session_duration, "MaxSessionDuration"
            )
        if not changes:
            raise ValueError("give periodic_session_duration, max_session_duration or both; got neither")
        with self._lock:
            updated = dataclasses.replace(self._default(instance), **changes, last_modified_time=self._now())  # type: ignore[arg-type]
            self._profiles[instance] = updated
            return updated

    def clear(self) -> None:
        """Forget every profile (``ConnectEmulator.reset``)."""
        with self._lock:
            self._profiles.clear()

    def _default(self, instance: Instance) -> AuthenticationProfile:
        profile = self._profiles.get(instance)
        if profile is None:
            profile_id = str(uuid.uuid4())
            periodic, maximum = self._defaults
            created = round(instance.created_time.timestamp(), 3)
            profile = AuthenticationProfile(
                id=profile_id,
                arn=f"{instance.arn}/authentication-profile/{profile_id}",
                region=instance.arn.split(":")[3],
                created_time=created,
                last_modified_time=created,
                periodic_session_duration=periodic,
                max_session_duration=maximum,
            )
            self._profiles[instance] = profile
        return profile

    def _now(self) -> float:
        return round(time.time(), 3)


def _field(member: str) -> str:
    """``PeriodicSessionDuration`` -> ``periodic_session_duration``."""
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in member).lstrip("_")


def _ip_ranges(member: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{member} must be a list of IP address ranges (CIDR), got {value!r}")
    low, high = _IP_CIDR_LENGTH
    for i, entry in enumerate(value):
        if not _is_ip_range(entry):
            raise ValueError(
                f"{member}[{i}] must be an IP address range in CIDR notation ({low} to {high} characters, "
                f"e.g. 10.0.0.0/16), got {entry!r}"
            )
    return tuple(value)


def _is_ip_range(entry: object) -> bool:
    low, high = _IP_CIDR_LENGTH
    if not isinstance(entry, str) or not low <= len(entry) <= high:
        return False
    try:
        ipaddress.ip_network(entry, strict=False)
    except ValueError:
        return False
    return True
